// bench/results/restore.md from the restore bench's results (bench/restore.ts): where WASM stands against the 4× goal,
// the speed table, conversion, WebGPU, the per-op profile, the experiments, and the recommendations they support.
import { duration, type Environment } from './common/report.ts';
import type { ModelCard } from '../worker/models/card.ts';
import type { OpProfile } from './restore-profile.ts';
import type { RewriteName, RewriteReport } from './restore-rewrites.ts';
import type { Row } from './restore-targets.ts';
import { planTiles } from '../worker/image/tiling.ts';

export interface ConversionRow {
  mode: string;
  cardId: string;
  size: number;
  ms: number;
  cpuMs: number;
  bytes: number;
  sha256: string;
  tfNodes: number;
  folded: number;
  onnxNodes: number;
  initializers: number;
  ops: Record<string, number>;
  /** At the card's tile size: whether the bytes equal the registry's built file. */
  sameAsRegistry?: boolean;
  file?: string;
}

export interface ConvTransposes {
  total: number;
  intoConv: number;
  fromConv: number;
}

export interface ProfileResult {
  id: string;
  /** 'product' or 'all rewrites'. */
  model: string;
  runtime: string;
  profile: OpProfile;
  medianMs?: number;
  cpuMs: number[];
}

export interface Experiment {
  name: string;
  question: string;
  referenceId: string;
  rows: Row[];
}

export interface RestoreResults {
  when: string;
  durationSeconds: number;
  machine?: string;
  environment: Environment;
  phases: string[];
  conversions: ConversionRow[];
  serverCards?: ModelCard[];
  speed: Row[];
  webgpu?: Row;
  profiles?: ProfileResult[];
  rewrites?: { name: string; rewrites: RewriteName[]; reports: RewriteReport[]; ms: number; bytes: number }[];
  experiments: Experiment[];
  optimized?: {
    model: string;
    level: string;
    before: Record<string, number>;
    after: Record<string, number>;
    /** Transposes feeding a convolution / fed by one (Conv, FusedConv, ConvTranspose in any domain). */
    convTransposes?: { before: ConvTransposes; after: ConvTransposes };
  }[];
  notes: string[];
  /** The converter's git state when the bench ran. */
  converter?: string;
}

const mib = (b?: number) => (b ? (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`) : '–');
const s1 = (ms?: number) => (ms === undefined ? '–' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`);
const x = (v?: number) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}×`);
const pct = (v?: number) => (v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(0)}%`);
const cell = (s: string) => s.replace(/\|/g, '\\|');
const load = (r: Row) => `${r.loadAverage[0].toFixed(1)}→${r.loadAverage[1].toFixed(1)}`;
const diff = (r: Row) => (r.maxAbsDiff === undefined ? '–' : r.maxAbsDiff.toExponential(1));

function memoryCell(r: Row): string {
  const m = r.memory;
  if (!m) return '–';
  const parts = [mib(m.peakBytes)];
  if (m.wasmHeapBytes) parts.push(`wasm heap ${mib(m.wasmHeapBytes)}`);
  if (m.gpuProcessBytes) parts.push(`GPU process ${mib(m.gpuProcessBytes)}`);
  return parts.join('; ');
}

/** wasm-1 / node-1 at a size: wall and CPU medians. */
function ratio(rows: Row[], a: string, b: string, size: number): { wall?: number; cpu?: number; aRow?: Row; bRow?: Row } {
  const aRow = rows.find((r) => r.id === a && r.size === size && r.medianMs !== undefined);
  const bRow = rows.find((r) => r.id === b && r.size === size && r.medianMs !== undefined);
  return {
    wall: aRow && bRow ? aRow.medianMs! / bRow.medianMs! : undefined,
    cpu: aRow?.medianCpuMs && bRow?.medianCpuMs ? aRow.medianCpuMs / bRow.medianCpuMs : undefined,
    aRow,
    bRow,
  };
}

function speedTable(rows: Row[]): string[] {
  const out = [
    '| tile | target | timed runs | wall ms: median (best) | CPU ms: median | × node 1 thr (wall) | × node 1 thr (CPU) | peak memory | max abs diff vs node 1 thr | load |',
    '|---|---|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const r of rows) {
    const ref = rows.find((n) => n.id === 'node-1' && n.size === r.size && n.medianMs !== undefined);
    const label = `${r.runtime}${r.config !== 'product' && !r.runtime.startsWith('Frontier') ? ` (${r.config})` : ''}`;
    if (r.failed && !r.runMs.length) {
      out.push(`| ${r.size}² | ${cell(label)} | – | **${cell(r.failed)}** | – | – | – | ${memoryCell(r)} | – | ${load(r)} |`);
      continue;
    }
    const wall = r.medianMs !== undefined ? `${r.medianMs.toFixed(0)} (${Math.min(...r.runMs).toFixed(0)})` : r.warmupMs !== undefined ? `check run ${r.warmupMs.toFixed(0)}` : '–';
    const rw = ref && r.medianMs !== undefined ? r.medianMs / ref.medianMs! : undefined;
    const rc = ref?.medianCpuMs && r.medianCpuMs ? r.medianCpuMs / ref.medianCpuMs : undefined;
    out.push(`| ${r.size}² | ${cell(label)}${r.failed ? ` — then failed: ${cell(r.failed)}` : ''} | ${r.runMs.length} | ${wall} | ${r.medianCpuMs?.toFixed(0) ?? '–'} | ${r.id === 'node-1' ? '1 (reference)' : x(rw)} | ${r.id === 'node-1' ? '1' : x(rc)} | ${memoryCell(r)} | ${r.id === 'node-1' ? 'reference' : diff(r)} | ${load(r)} |`);
  }
  return out;
}

function firstUse(rows: Row[]): string[] {
  const out = ['| tile | target | fetch | session | first run (untimed) |', '|---|---|---:|---:|---:|'];
  for (const r of rows) out.push(`| ${r.size}² | ${cell(r.runtime)} | ${s1(r.downloadMs)} | ${s1(r.sessionMs)} | ${s1(r.warmupMs)} |`);
  return out;
}

/** Per-op table: node and WASM side by side, ms per run, share, node count. */
function profileTable(node: ProfileResult | undefined, wasm: ProfileResult | undefined): string[] {
  if (!node || !wasm) return ['(profile phase not run or failed)'];
  const per = (p: OpProfile, op: string) => (p.kernelUs[op] ?? 0) / 1000 / Math.max(1, p.runs);
  const total = (p: OpProfile) => Object.values(p.kernelUs).reduce((a, b) => a + b, 0) / 1000 / Math.max(1, p.runs);
  const nt = total(node.profile);
  const wt = total(wasm.profile);
  const ops = [...new Set([...Object.keys(node.profile.kernelUs), ...Object.keys(wasm.profile.kernelUs)])].sort((a, b) => per(wasm.profile, b) - per(wasm.profile, a));
  const out = [
    `| op type | node 1 thr: ms/run | share | nodes | WASM 1 thr: ms/run | share | nodes | WASM ÷ node | share of the WASM−node gap |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const op of ops) {
    const n = per(node.profile, op);
    const w = per(wasm.profile, op);
    out.push(`| ${op} | ${n.toFixed(0)} | ${((100 * n) / nt).toFixed(1)}% | ${node.profile.nodes[op] ?? 0} | ${w.toFixed(0)} | ${((100 * w) / wt).toFixed(1)}% | ${wasm.profile.nodes[op] ?? 0} | ${n > 0 ? `${(w / n).toFixed(1)}×` : '–'} | ${(((w - n) / (wt - nt)) * 100).toFixed(0)}% |`);
  }
  const nn = Object.values(node.profile.nodes).reduce((a, b) => a + b, 0);
  const wn = Object.values(wasm.profile.nodes).reduce((a, b) => a + b, 0);
  out.push(`| **all kernels** | **${nt.toFixed(0)}** | | ${nn} | **${wt.toFixed(0)}** | | ${wn} | **${(wt / nt).toFixed(1)}×** | 100% |`);
  return out;
}

/** The row with the product settings and the same runtime in `rows` (each row is compared with it). */
const baseOf = (rows: Row[], r: Row) => rows.find((b) => b.config === 'product' && b.runtime === r.runtime && b.medianMs !== undefined);

function experimentTable(e: Experiment): string[] {
  const out = [
    `**${e.name}.** ${e.question}`,
    '',
    '| row | setting | timed runs | wall ms: median | CPU ms: median | wall vs product row | CPU vs product row | peak memory | max abs diff vs node 1 thr (product) | load |',
    '|---|---|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const r of e.rows) {
    if (r.failed && !r.runMs.length) {
      out.push(`| ${r.id} | ${cell(r.config)} | – | **${cell(r.failed)}** | – | – | – | ${memoryCell(r)} | – | ${load(r)} |`);
      continue;
    }
    const base = baseOf(e.rows, r);
    const dw = base?.medianMs && r.medianMs !== undefined ? r.medianMs / base.medianMs - 1 : undefined;
    const dc = base?.medianCpuMs && r.medianCpuMs !== undefined ? r.medianCpuMs / base.medianCpuMs - 1 : undefined;
    out.push(`| ${r.id} | ${cell(r.config)} | ${r.runMs.length} | ${r.medianMs?.toFixed(0) ?? '–'} | ${r.medianCpuMs?.toFixed(0) ?? '–'} | ${r === base ? 'reference' : pct(dw)} | ${r === base ? 'reference' : pct(dc)} | ${memoryCell(r)} | ${diff(r)} | ${load(r)} |`);
  }
  return out;
}

/** Median change of row `id` against the product row of the same runtime in the experiment that holds it. */
export function change(results: RestoreResults, id: string): { wall?: number; cpu?: number; row?: Row; base?: Row } {
  for (const e of results.experiments) {
    const row = e.rows.find((r) => r.id === id && r.medianMs !== undefined);
    const base = row && baseOf(e.rows, row);
    if (row && base && row !== base) {
      return { wall: row.medianMs! / base.medianMs! - 1, cpu: row.medianCpuMs && base.medianCpuMs ? row.medianCpuMs / base.medianCpuMs - 1 : undefined, row, base };
    }
  }
  return {};
}

const CATEGORIES: [string, RegExp, string][] = [
  ['matrix products and convolutions', /^(MatMul|FusedMatMul|Conv|FusedConv|ConvTranspose|Gemm)$/, 'compute-bound: MLAS runs them with AVX-512/AVX2 FMA kernels natively, with 128-bit wasm SIMD without FMA in the browser (the shipped wasm uses no relaxed-SIMD instructions: it validates on V8 11.3, which has none)'],
  ['normalisation and transcendental math', /^(LayerNormalization|Tanh|FastGelu|Sigmoid|Exp|Sqrt|Reciprocal|Div|Erf)$/, 'per-element math that onnxruntime vectorises with x86 intrinsics natively; in wasm it runs as narrower or scalar code'],
  ['data movement and simple elementwise', /^(Transpose|Add|Mul|Sub|Concat|Split|Slice|Reshape|Where|Max|Min|Neg|GreaterOrEqual|ReduceSum|Gather|ReorderInput|ReorderOutput)$/, 'memory-bound: about as fast in wasm as natively'],
];

/** The profile's op types in three groups: their share of the WASM − node gap and their WASM ÷ node ratio. */
function categorySummary(node: ProfileResult | undefined, wasm: ProfileResult | undefined): string[] {
  if (!node || !wasm) return [];
  const per = (p: OpProfile, re: RegExp) => Object.entries(p.kernelUs).filter(([op]) => re.test(op)).reduce((a, [, us]) => a + us, 0) / 1000 / Math.max(1, p.runs);
  const total = (p: OpProfile) => Object.values(p.kernelUs).reduce((a, b) => a + b, 0) / 1000 / Math.max(1, p.runs);
  const gap = total(wasm.profile) - total(node.profile);
  return [
    'By kind of work:',
    '',
    ...CATEGORIES.map(([name, re, why]) => {
      const n = per(node.profile, re);
      const w = per(wasm.profile, re);
      return `- **${name}**: ${((100 * w) / total(wasm.profile)).toFixed(0)}% of WASM's kernel time, WASM ÷ node ${(w / n).toFixed(1)}×, ${((100 * (w - n)) / gap).toFixed(0)}% of the gap — ${why}.`;
    }),
  ];
}

/** The costliest kernels by (op, input shapes), WASM beside node. */
function shapeTable(node: ProfileResult | undefined, wasm: ProfileResult | undefined, top = 20): string[] {
  if (!node || !wasm) return [];
  const nodeBy = new Map(node.profile.byShape.map((b) => [`${b.op} ${b.shapes}`, b]));
  const out = ['| op | input shapes | kernels per run | WASM ms/run | node ms/run | WASM ÷ node |', '|---|---|---:|---:|---:|---:|'];
  for (const b of wasm.profile.byShape.slice(0, top)) {
    const n = nodeBy.get(`${b.op} ${b.shapes}`);
    const w = b.us / 1000 / Math.max(1, wasm.profile.runs);
    const nm = n ? n.us / 1000 / Math.max(1, node.profile.runs) : undefined;
    out.push(`| ${b.op} | ${b.shapes} | ${b.count} | ${w.toFixed(0)} | ${nm?.toFixed(0) ?? '– (fused or reordered there)'} | ${nm ? `${(w / nm).toFixed(1)}×` : '–'} |`);
  }
  return out;
}

export function restoreReport(r: RestoreResults): string {
  const env = r.environment;
  const lines: string[] = [
    `# Restore benchmark: MAXIM (converted from TF.js) on every runtime (${r.when.slice(0, 10)})`,
    '',
    `Machine: ${r.machine ?? env.machine}, no GPU; Node ${env.node}, onnxruntime-node ${env.onnxruntimeNode}, onnxruntime-web ${env.onnxruntimeWeb}, Chromium ${env.chromium || '–'}. ` +
      `The whole bench took ${(r.durationSeconds / 60).toFixed(1)} min (phases: ${r.phases.join(', ')}). Converter: ${r.converter ?? '–'}. 1-minute load average ${env.loadAverageStart[0].toFixed(1)} at the start, ${env.loadAverageEnd[0].toFixed(1)} at the end.`,
    '',
    '**The machine is shared (2 cores; other benches and conversions ran at the same time: the load column shows it).** Wall-clock times are inflated by waiting for a core, unevenly. Two defences: targets of a group take turns run by run (each round starts at the next target) so load bursts fall on all of them, and CPU time per run is reported beside wall time. For 1-thread targets CPU time is what the run would take on an idle core (± cache effects), so **the CPU column is the like-for-like comparison**; for 2-thread targets CPU ≈ 2 × wall means both threads had a core.',
    '',
  ];

  // Where it stands.
  lines.push('## The goal: WASM single-thread within 4× of onnxruntime-node single-thread', '');
  for (const size of [...new Set(r.speed.map((s) => s.size))]) {
    const q = ratio(r.speed, 'wasm-1', 'node-1', size);
    if (q.aRow && q.bRow) {
      lines.push(`- **${size}×${size}**: WASM 1 thread ${s1(q.aRow.medianMs)} wall / ${s1(q.aRow.medianCpuMs)} CPU, node 1 thread ${s1(q.bRow.medianMs)} / ${s1(q.bRow.medianCpuMs)}: **${x(q.cpu)} by CPU time**, ${x(q.wall)} by wall time — ${q.cpu !== undefined ? (q.cpu <= 4 ? 'within' : 'outside') : '?'} the 4× goal.`);
    } else {
      const w = r.speed.find((s) => s.id === 'wasm-1' && s.size === size);
      if (w?.failed) lines.push(`- **${size}×${size}**: WASM 1 thread: ${w.failed}.`);
    }
  }
  const w1 = r.speed.find((s) => s.id === 'wasm-1' && s.size === 128);
  const n1 = r.speed.find((s) => s.id === 'node-1' && s.size === 128);
  if (w1?.medianCpuMs && n1?.medianCpuMs) {
    const est = [[512, 512], [1024, 1024], [2048, 2048]].map(([w, h]) => ({ w, h, tiles: planTiles(w, h, 128, 32).tiles.length }));
    lines.push(`- What it means for a designer (the plugin runs WASM on 1 thread; the product tiles at 128 px with 32 px overlap): ${est.map((e) => `${e.w}×${e.h} = ${e.tiles} tiles ≈ ${duration(e.tiles * w1.medianCpuMs!)} in WASM vs ≈ ${duration(e.tiles * n1.medianCpuMs!)} on node 1 thread`).join('; ')} (estimated: tiles × the median tile's CPU time).`);
  }
  const tw2 = r.experiments.flatMap((e) => e.rows).find((row) => row.id === 'wasm-2' && row.medianMs !== undefined);
  const tn2 = r.experiments.flatMap((e) => e.rows).find((row) => row.id === 'node-2' && row.medianMs !== undefined);
  const tw1 = r.experiments.flatMap((e) => e.rows).find((row) => row.id === 'wasm-1' && row.medianMs !== undefined);
  if (tw2 && tn2 && tw1) lines.push(`- 2 threads need a free core: in the speed table they ran beside three other targets (load column) and gained little or lost. In the 2-thread experiment at load ${tw2.loadAverage.map((l) => l.toFixed(1)).join('→')}: WASM 2 threads ${s1(tw2.medianMs)} wall per 128 tile (WASM 1 thread in the options experiment: ${s1(tw1.medianMs)}), node 2 threads ${s1(tn2.medianMs)}.`);
  const tried = r.experiments.flatMap((e) => e.rows).filter((row) => row.id.startsWith('wasm-1 ')).map((row) => ({ id: row.id, config: row.config, ...change(r, row.id) })).filter((c) => c.cpu !== undefined);
  const best = tried.sort((a, b) => a.cpu! - b.cpu!)[0];
  if (best) {
    const nodeSame = change(r, best.id.replace(/^wasm-1/, 'node-1'));
    const ratios = nodeSame.row && nodeSame.base ? ` — against node 1 thread in its rewrite group: ${x(best.row!.medianCpuMs! / nodeSame.base.medianCpuMs!)} the product node row, ${x(best.row!.medianCpuMs! / nodeSame.row.medianCpuMs!)} node with the same rewrites` : '';
    lines.push(`- Fastest WASM 1-thread variant tried at 128 (by CPU): **${best.id}** (${best.config}): ${s1(best.row?.medianCpuMs)} CPU per tile, ${pct(best.cpu)} against the product settings in the same interleaved group${ratios}.`);
  }
  const heap512 = r.speed.find((s) => s.id === 'wasm-1' && s.size === 512)?.memory?.wasmHeapBytes;
  if (heap512) lines.push(`- Memory: at 512×512 onnxruntime-web's wasm heap reached **${mib(heap512)} of the 4 GiB wasm32 maximum** — it fits, barely (onnxruntime-node, whose arena keeps what it once allocated, peaked at ${mib(r.speed.find((s) => s.id === 'node-1' && s.size === 512)?.memory?.peakBytes)}). A larger tile would not fit in WASM; the product's 128 tile uses ${mib(r.speed.find((s) => s.id === 'wasm-1' && s.size === 128)?.memory?.wasmHeapBytes)}.`);
  lines.push('');

  // Speed.
  if (r.speed.length) {
    lines.push('## Speed and memory: maxim-denoise, one tile (NHWC float32 [1,S,S,3])', '');
    lines.push(...speedTable(r.speed), '');
    lines.push('Ratios are median ÷ median of onnxruntime-node 1 thread on the same tile (higher = slower). Output difference = max |output − node 1 thread output| on the same input (values in [0, 1]; one 8-bit level is 0.0039).', '');
    lines.push('### First use (not in the medians)', '', ...firstUse(r.speed), '');
  }
  if (r.webgpu) {
    const w = r.webgpu;
    lines.push('## WebGPU (Chromium SwiftShader: correctness only)', '');
    lines.push(w.failed
      ? `128×128: **${w.failed}** (renderer peak ${mib(w.memory?.peakBytes)}${w.memory?.gpuProcessBytes ? `, GPU process ${mib(w.memory.gpuProcessBytes)}` : ''}). No speed or correctness claim.`
      : `128×128: one run took ${s1(w.warmupMs)} wall, ${s1(w.warmupCpuMs)} CPU of the renderer and GPU processes (shader compilation included; SwiftShader is a CPU implementation of Vulkan, so this says nothing about a real GPU). Output vs onnxruntime-node 1 thread: max abs diff **${diff(w)}** — ${w.maxAbsDiff !== undefined && w.maxAbsDiff < 1e-3 ? 'equal within 1e-3 (a quarter of an 8-bit level)' : 'NOT within 1e-3'}. Session ${s1(w.sessionMs)}; renderer peak ${mib(w.memory?.peakBytes)}, GPU process peak ${mib(w.memory?.gpuProcessBytes)}.`);
    lines.push(`256×256 and 512×512 were not run on WebGPU: at 4× and 16× the pixels of the 128 tile they would take ≈${w.warmupMs ? `${((w.warmupMs * 4) / 60_000).toFixed(0)} and ${((w.warmupMs * 16) / 60_000).toFixed(0)}` : '4× and 16× as many'} minutes on SwiftShader, and a SwiftShader run proves nothing more about correctness than the 128 tile does (same graph, same kernels).`, '');
  }

  // Conversion.
  if (r.conversions.length) {
    lines.push('## Conversion (models/convert/maxim.ts convertMaxim, in this process)', '');
    lines.push('| mode | card | tile | wall | CPU | ONNX size | TF nodes | folded | ONNX nodes | initializers | same bytes as the registry\'s built file |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const c of r.conversions) {
      lines.push(`| ${c.mode} | ${c.cardId} | ${c.size} | ${s1(c.ms)} | ${s1(c.cpuMs)} | ${mib(c.bytes)} (${c.bytes.toLocaleString('en-US')} B) | ${c.tfNodes} | ${c.folded} | ${c.onnxNodes} | ${c.initializers} | ${c.sameAsRegistry === undefined ? '–' : c.sameAsRegistry ? 'yes' : '**no**'} |`);
    }
    lines.push('');
  }

  // Profile.
  const prof = (id: string) => r.profiles?.find((p) => p.id === id);
  if (r.profiles?.length) {
    const np = prof('node-1');
    const wp = prof('wasm-1');
    lines.push('## Where WASM loses: onnxruntime profiler, time per op type (128 tile, product graph)', '');
    lines.push(`onnxruntime's own profiler (\`enableProfiling\`), kernel time summed per op type, mean of ${wp?.profile.runs ?? '?'} profiled runs after one unprofiled-in-the-sums warm-up; node and WASM took turns. "nodes" = kernels executed per run after onnxruntime's graph optimisations (so fusions show: FusedMatMul, the NCHWc nodes, FastGelu, ...). Kernel times are wall-clock inside each kernel: on this shared machine they are inflated by waiting like the run times, so read the shares and the WASM ÷ node column, not the absolute ms. Profiled run CPU (median): node ${s1(np?.cpuMs.length ? [...np.cpuMs].sort((a, b) => a - b)[Math.floor(np.cpuMs.length / 2)] : undefined)}, WASM ${s1(wp?.cpuMs.length ? [...wp.cpuMs].sort((a, b) => a - b)[Math.floor(wp.cpuMs.length / 2)] : undefined)}.`, '');
    lines.push(...profileTable(np, wp), '');
    lines.push(...categorySummary(np, wp), '');
    lines.push('The 20 costliest kernels in WASM by op type and input shapes (product graph), with the same kernels on node:', '', ...shapeTable(np, wp), '');
    const nr = prof('node-1-rw');
    const wr = prof('wasm-1-rw');
    if (nr && wr) {
      lines.push(`### The same with all rewrites applied (${(r.rewrites?.find((v) => v.name === 'all')?.rewrites ?? []).join(' + ')})`, '');
      lines.push(...profileTable(nr, wr), '');
    }
  }

  // What onnxruntime-node's optimiser makes of the graph.
  if (r.optimized?.length) {
    lines.push('## What onnxruntime\'s graph optimiser does with the converted graph (onnxruntime-node, optimizedModelFilePath)', '');
    const ops = [...new Set(r.optimized.flatMap((o) => [...Object.keys(o.before), ...Object.keys(o.after)]))];
    const cols = r.optimized.map((o) => `${o.model} @ '${o.level}'`);
    lines.push(`| op | ${[...new Set(r.optimized.map((o) => o.model))].map((m) => `${m}: as converted`).join(' | ')} | ${cols.join(' | ')} |`);
    lines.push(`|---|${[...new Set(r.optimized.map((o) => o.model))].map(() => '---:').join('|')}|${cols.map(() => '---:').join('|')}|`);
    const models = [...new Set(r.optimized.map((o) => o.model))];
    for (const op of ops.sort((a, b) => (r.optimized![0].before[b] ?? 0) - (r.optimized![0].before[a] ?? 0))) {
      lines.push(`| ${op} | ${models.map((m) => r.optimized!.find((o) => o.model === m)!.before[op] ?? '').join(' | ')} | ${r.optimized.map((o) => o.after[op] ?? '').join(' | ')} |`);
    }
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    lines.push(`| **nodes** | ${models.map((m) => sum(r.optimized!.find((o) => o.model === m)!.before)).join(' | ')} | ${r.optimized.map((o) => sum(o.after)).join(' | ')} |`);
    const ct = (o: (typeof r.optimized)[number], when: 'before' | 'after', k: keyof ConvTransposes) => o.convTransposes?.[when][k] ?? '–';
    lines.push(`| Transpose → Conv* (into a convolution) | ${models.map((m) => ct(r.optimized!.find((o) => o.model === m)!, 'before', 'intoConv')).join(' | ')} | ${r.optimized.map((o) => ct(o, 'after', 'intoConv')).join(' | ')} |`);
    lines.push(`| Conv* → Transpose (out of a convolution) | ${models.map((m) => ct(r.optimized!.find((o) => o.model === m)!, 'before', 'fromConv')).join(' | ')} | ${r.optimized.map((o) => ct(o, 'after', 'fromConv')).join(' | ')} |`, '');
    lines.push("Conv* = Conv, FusedConv or ConvTranspose in any domain (com.microsoft.nchwc.Conv included). At 'all' on x86 the NCHWc pass turns the convolutions' layout changes into ReorderInput/ReorderOutput nodes instead.", '');
    lines.push("WASM runs the same optimiser minus the NCHWc layout pass (no MLAS NCHWc kernels in wasm): its executed kernels per run are the \"nodes\" columns of the profile tables above.", '');
  }

  // Experiments.
  if (r.experiments.length) {
    lines.push('## Experiments at 128 (each group interleaved; "vs first row" compares medians inside the group)', '');
    if (r.rewrites?.length) {
      lines.push('Graph variants, made by post-processing the converted ONNX in the bench (bench/restore-rewrites.ts, models/convert untouched):', '');
      lines.push('| variant | rewrites | matched (not matched) | nodes | ONNX size | rewrite time |', '|---|---|---|---:|---:|---:|');
      for (const v of r.rewrites) {
        lines.push(`| ${v.name} | ${v.rewrites.join(' + ')} | ${v.reports.map((p) => `${p.name} ${p.matched} (${p.unmatched})`).join(', ')} | ${v.reports[0].nodesBefore} → ${v.reports[v.reports.length - 1].nodesAfter} | ${mib(v.bytes)} | ${s1(v.ms)} |`);
      }
      lines.push('');
    }
    for (const e of r.experiments) lines.push(...experimentTable(e), '');
  }

  lines.push(...recommendations(r), '');
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  lines.push('## How it was measured', '');
  lines.push(...[
    'Input: a 128/256/512 crop of test/fixtures/images/astronaut.png with seeded Gaussian noise (σ = 25/255), NHWC float32 in [0,1]; the same bytes on every target.',
    `Models: maxim-denoise converted by convertMaxim at each tile size into a temp folder (the 128 file is byte-compared with the registry's built file above). The server gets a model root of its own (a registry with one card per size, content-addressed files), started in this process (server/server.ts startServer) as npm start would, except for a longer request deadline; the client is the product's OIP runtime (worker/runtime/oip.ts, binary tensors).`,
    "Sessions: onnxruntime-node with { executionProviders: ['cpu'], intraOpNumThreads, graphOptimizationLevel: 'all' } in a child process per target (bench/restore-node.ts), as worker/runtime/ort-node.ts; onnxruntime-web in a Web Worker of a fresh headless Chromium per target with { executionProviders: [ep], graphOptimizationLevel: 'all' } and the product's wasm files and thread setting (configureOrtWeb), as worker/runtime/ort-web.ts — the bench page opens the session itself (bench/restore-entry.ts) only so experiments can add options. 2 wasm threads: the COOP/COEP page (crossOriginIsolated checked).",
    'Timing: one untimed first run per target, then rounds in which every target of the group runs once (the first target rotates). Wall = session.run in the worker / child / the OIP call (the server row includes HTTP and tensor encoding). CPU: node child = process.cpuUsage() over the run (all threads); Chromium = utime+stime of the renderer process (page + worker + wasm threads) from /proc over the call; server = CPU of its inference process(es) from /proc.',
    `Memory: node = the child's maxRSS (a child that only loads onnxruntime-node peaks at ${mib(env.baselinePeakRss.nodeBytes)}); Chromium = VmHWM of the renderer process, and onnxruntime-web's wasm heap = byteLength of its WebAssembly.Memory after the runs (wasm memory never shrinks: the heap's high-water mark; wasm32 caps it at 4 GiB); server = VmHWM of the inference process that ran the model (the server process itself is this bench's).`,
    '512×512 runs one target at a time (≈10 GB per onnxruntime-node session would not fit three at once in this machine\'s memory); 128 and 256 interleave all five targets.',
    'Profiles: onnxruntime-node writes its profile JSON when the session is released; onnxruntime-web prints the same events through the wasm\'s stdout, captured in the worker. Profiling costs time itself (one event per kernel).',
  ].map((n) => `- ${n}`), '');
  return lines.join('\n');
}

/** Changes within ±NOISE of the product row are not told apart from run-to-run noise here (product rows of different groups differ by ≈2%). */
const NOISE = 0.03;

function verdict(c: ReturnType<typeof change>, n: ReturnType<typeof change>): 'do' | 'no effect' | 'mixed' | 'worse' | '?' {
  const v = [c.cpu, n.cpu].filter((d): d is number => d !== undefined);
  if (!v.length) return '?';
  if (v.every((d) => Math.abs(d) < NOISE)) return 'no effect';
  if (v.some((d) => d <= -NOISE) && v.every((d) => d < NOISE)) return 'do';
  if (v.every((d) => d > -NOISE)) return 'worse';
  return 'mixed';
}

const VERDICT: Record<ReturnType<typeof verdict>, string> = {
  do: '**Do it**',
  'no effect': 'No measurable effect (within ±3%)',
  mixed: 'Mixed',
  worse: 'Slower: do not',
  '?': 'Not measured',
};

function recommendations(r: RestoreResults): string[] {
  const out = ['## Recommendations, with the evidence above', '', `Effects are CPU-time medians against the product row of the same runtime in the same interleaved group; changes within ±${NOISE * 100}% are not told apart from noise (the product rows of different groups differ by about 2%).`, '', '### Converter (models/convert)', ''];
  const variant = (name: string) => r.rewrites?.find((v) => v.name === name)?.reports;
  const nodes = (name: string) => {
    const rep = variant(name);
    return rep ? `${rep[0].nodesBefore} → ${rep[rep.length - 1].nodesAfter} nodes` : '';
  };
  const measured = (c: ReturnType<typeof change>, n: ReturnType<typeof change>) =>
    `WASM 1 thread CPU ${pct(c.cpu)} (wall ${pct(c.wall)}), node 1 thread CPU ${pct(n.cpu)} (wall ${pct(n.wall)})`;
  const items: { rank: number; text: string }[] = [];
  const item = (id: string, text: (c: ReturnType<typeof change>, n: ReturnType<typeof change>, v: string) => string) => {
    const c = change(r, `wasm-1 ${id}`);
    const n = change(r, `node-1 ${id}`);
    if (c.row || n.row) items.push({ rank: Math.min(c.cpu ?? 0, n.cpu ?? 0) + (c.cpu ?? 0), text: `- ${text(c, n, VERDICT[verdict(c, n)])}` });
  };
  item('gatingMatMul', (c, n, v) => `${v}: **lower MAXIM's spatial gating without transposes.** The grid and block gating units are Transpose(mixed axis to the end) → MatMul(W) → Add(b) → Transpose back (${variant('gatingMatMul')?.[0].matched ?? '?'} units, ${2 * (variant('gatingMatMul')?.[0].matched ?? 0)} transposes; onnxruntime fuses the block units' input transpose into FusedMatMul and keeps most of the rest: Transpose and FusedMatMul rows of the optimiser table). Emit one MatMul with the weight on the left: block units (perm [0,1,3,2], mixing axis 2) MatMul(Wᵀ, x) broadcast over [n, A], bias as an [f,1] column; grid units (perm [0,3,2,1], mixing axis 1) Reshape [n, A, B·C] → MatMul(Wᵀ, ·) → + [f,1] bias → Reshape [n, f, B, C]. In the converter: the Einsum lowering, or a pass like onnx-fuse.ts (bench/restore-rewrites.ts gatingMatMul is a working matcher with a shape inference). Measured: ${measured(c, n)}; max abs diff ${n.row?.maxAbsDiff?.toExponential(1) ?? '–'}.`);
  item('geluPow', (c, n, v) => `${v}: **write GELU so onnxruntime fuses it.** jax's tanh GELU reaches the graph as 0.5x·(1 + tanh(0.79788·(x + (0.044715x)·(x·x)))) (${variant('geluPow')?.[0].matched ?? '?'} times); onnxruntime's FastGeluFusion does not recognise x³ written as (c·x)·(x·x). Emitting Pow(x, 3) → ·0.044715 → + x → ·0.79788 → Tanh → + 1 → ·(0.5·x) (FastGeluFusion's second formula; constants as float32 0.044714998453855515 and 0.7978845834732056) makes onnxruntime fuse every one into com.microsoft FastGelu, in onnxruntime-node and in onnxruntime-web's wasm alike (FastGelu rows of the optimiser table and of the rewritten profile). Measured: ${measured(c, n)}; ${nodes('geluPow')}.`);
  item('geluSigmoid', (c, n) => `Alternative to the FastGelu form, not better: GELU as x·Sigmoid(1.59577·(x + 0.044715·x³)) in plain opset-17 ops (exact: ½(1 + tanh z) = sigmoid(2z)); needs no fusion, gains less: ${measured(c, n)}.`);
  item('sigmoid', (c, n, v) => `${v}: Sigmoid for 1/(1 + exp(−x)) (${variant('sigmoid')?.[0].matched ?? '?'} times, written Neg → Exp → Add 1 → Reciprocal): ${measured(c, n)}. Tidier graph, no speed to gain.`);
  item('layerNormUnfused', (c, n) => `LayerNormalization (the converter already emits it, ${variant('layerNormUnfused')?.[0].matched ?? '?'} per graph) against the same normalisation unfused into 10 plain ops (ReduceMean form, bench/restore-rewrites.ts layerNormUnfused): unfusing is ${measured(c, n)} — ${verdict(c, n) === 'no effect' ? 'no difference either way' : (c.cpu ?? 0) < 0 && (n.cpu ?? 0) > 0 ? 'keep the fused op (node and the server gain); onnxruntime-web\'s LayerNormalization kernel is the slowest op relative to node in the profile (WASM ÷ node column), so the fused form costs WASM a little' : 'see the rows'}.`);
  items.sort((a, b) => a.rank - b.rank);
  out.push(...items.map((i) => i.text));
  const all = { c: change(r, 'wasm-1 all'), n: change(r, 'node-1 all') };
  if (all.c.row || all.n.row) out.push(`- Together (${(r.rewrites?.find((v) => v.name === 'all')?.rewrites ?? []).join(' + ')}; ${nodes('all')}): ${measured(all.c, all.n)}. In those groups: WASM 1 thread ${s1(all.c.row?.medianCpuMs)} and node 1 thread ${s1(all.n.row?.medianCpuMs)} CPU per 128 tile: the WASM ÷ node ratio rises (node gains more), both get faster.`);
  out.push('', '### Runtime (worker/runtime, server): session options', '');
  const arena = change(r, 'wasm-1 arena+pattern');
  if (arena.row) {
    out.push(`- onnxruntime-web passes \`!!options.enableCpuMemArena\` and \`!!options.enableMemPattern\` to the wasm, so the product (which sets neither) runs WITHOUT the CPU memory arena and memory pattern, unlike onnxruntime-node. Turning both on: CPU ${pct(arena.cpu)}, wall ${pct(arena.wall)}, renderer peak ${mib(arena.base?.memory?.peakBytes)} → ${mib(arena.row.memory?.peakBytes)}, wasm heap ${mib(arena.base?.memory?.wasmHeapBytes)} → ${mib(arena.row.memory?.wasmHeapBytes)}. ${Math.abs(arena.cpu ?? 0) < NOISE && (arena.row.memory?.peakBytes ?? 0) >= (arena.base?.memory?.peakBytes ?? 0) ? '**Leave them off**: no speed gain, more memory (and at 512 the heap is already near the 4 GiB limit).' : 'See the row.'}`);
  }
  const basic = change(r, 'wasm-1 basic');
  if (basic.row) out.push(`- graphOptimizationLevel 'basic' instead of 'all' in WASM: CPU ${pct(basic.cpu)} — the extended fusions onnxruntime finds in this graph (FusedMatMul, Split) do not matter to WASM; keep 'all'.`);
  const par = change(r, 'wasm-2 parallel');
  if (par.row) out.push(`- executionMode 'parallel' with 2 wasm threads: CPU ${pct(par.cpu)}, wall ${pct(par.wall)}: no gain (the graph is one long chain).`);
  const spinNode = change(r, 'node-2 no spinning');
  const spinWasm = change(r, 'wasm-2 no spinning');
  if (spinNode.row) out.push(`- session.intra_op.allow_spinning = 0 (worker threads sleep instead of spinning while they wait): node 2 threads CPU ${pct(spinNode.cpu)}, wall ${pct(spinNode.wall)}; WASM 2 threads CPU ${pct(spinWasm.cpu)}, wall ${pct(spinWasm.wall)} (load ${spinNode.row.loadAverage.map((l) => l.toFixed(1)).join('→')}). The server's inference processes and the CLI use onnxruntime's default threads (all cores) with spinning: on a designer's machine busy with Figma or Photoshop the spinning threads burn CPU for nothing. Worth setting for the server ${(spinNode.cpu ?? 0) <= -NOISE && (spinNode.wall ?? 0) < NOISE ? '(less CPU at the same wall time here)' : '(check the rows)'}.`);
  const nchwc = change(r, 'node-1 extended');
  if (nchwc.row) out.push(`- Node's NCHWc layout (level 'all' on x86) is not its edge here: node 1 thread at 'extended' (no NCHWc) is CPU ${pct(nchwc.cpu)}.`);
  const opt = (level: string) => r.optimized?.find((o) => o.model === 'product' && o.level === level)?.convTransposes;
  const ext = opt('extended');
  const allLevel = opt('all');
  if (ext) {
    out.push('', '### Transposes around the NHWC convolutions (asked: does onnxruntime cancel them, in WASM vs node?)', '');
    out.push(`- The converted graph has ${ext.before.intoConv} Transposes into a Conv/ConvTranspose and ${ext.before.fromConv} out of one. onnxruntime's optimiser leaves ${ext.after.intoConv} and ${ext.after.fromConv} at 'extended', which is what WASM runs (no NCHWc kernels in wasm: the profile's WASM node counts match 'extended')${allLevel ? `; at 'all' on x86 (node) ${allLevel.after.intoConv} and ${allLevel.after.fromConv} remain and the NCHWc pass adds ReorderInput/ReorderOutput nodes for the rest` : ''}. So about half the pairs cancel in both runtimes, the rest stay in both. Transpose runs at about node speed in WASM (WASM ÷ node column of the profile), so these pairs are not where WASM loses; removing them would speed up node and WASM alike.`);
  }
  return out;
}
