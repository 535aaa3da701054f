// bench:gap's tables: per model WASM-1 and node-1 time and their ratio, the output check, and the profiles.
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { median } from '../common/stats.ts';
import type { OpProfile } from '../restore-profile.ts';
import type { Measured, Profiled } from './measure.ts';
import type { GapModel } from './models.ts';

export interface GapRow {
  id: string;
  family: string;
  model?: Omit<GapModel, 'externalData'> & { externalData: string[] };
  measured?: Measured;
  profile?: Profiled;
  error?: string;
}

export interface GapResults {
  date: string;
  machine: string;
  endLoad: string;
  rounds: number;
  /** Untimed runs per side before the rounds (absent: 1). */
  warmup?: number;
  seconds: number;
  rows: GapRow[];
  /** Later runs (bench:gap --merge) whose rows replaced these models' rows. */
  reruns?: (Omit<GapResults, 'rows' | 'reruns'> & { ids: string[] })[];
}

export const GOAL = 2.5;

export function machineLine(): string {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${load}`;
}

/** WASM ÷ node of the median CPU time per run (the like-for-like figure for one thread on a loaded machine). */
export const cpuRatio = (m: Measured) => median(m.wasm.cpuMs) / median(m.node.cpuMs);
export const wallRatio = (m: Measured) => median(m.wasm.runMs) / median(m.node.runMs);
/** The same on the worker thread alone (results from before the split have none). */
const workerRatio = (m: Measured) => (m.wasm.workerCpuMs?.length ? median(m.wasm.workerCpuMs) / median(m.node.cpuMs) : undefined);

function warmupCell(m: Measured, fixed: number): string {
  const w = m.wasmWarmup;
  if (!w) return `${m.warmup ?? fixed} (fixed)`;
  const bg = m.wasm.backgroundCpuMs?.length ? median(m.wasm.backgroundCpuMs) : 0;
  return `${w.runs}${w.settled ? '' : ' (not settled)'}; then ${bg.toFixed(0)} ms`;
}

const ms = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)}`);
const sci = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : String(v));

function opTable(p: Profiled): string[] {
  const runsN = Math.max(1, p.node.runs);
  const runsW = Math.max(1, p.wasm.runs);
  const ops = new Set([...Object.keys(p.node.kernelUs), ...Object.keys(p.wasm.kernelUs)]);
  const rows = [...ops].map((op) => ({ op, n: (p.node.kernelUs[op] ?? 0) / runsN / 1000, w: (p.wasm.kernelUs[op] ?? 0) / runsW / 1000, nn: p.node.nodes[op] ?? 0, nw: p.wasm.nodes[op] ?? 0 }));
  const totalN = rows.reduce((s, r) => s + r.n, 0);
  const totalW = rows.reduce((s, r) => s + r.w, 0);
  const gap = totalW - totalN;
  rows.sort((a, b) => b.w - a.w);
  const out = [
    `Kernel time summed per op type (ms per run; ${p.node.runs} node and ${p.wasm.runs} WASM profiled run(s) after the warm-up run(s) left out). Node ran its NCHWc/fusion passes, so op types differ: compare families of ops (Conv vs FusedConv + NchwcConv + ReorderInput/Output).`,
    '',
    `Total kernel time: node ${totalN.toFixed(0)} ms, WASM ${totalW.toFixed(0)} ms (${(totalW / totalN).toFixed(1)}×).`,
    '',
    '| op type | node ms | nodes | WASM ms | nodes | WASM ÷ node | share of the gap |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows.slice(0, 14)) out.push(`| ${r.op} | ${r.n.toFixed(1)} | ${r.nn} | ${r.w.toFixed(1)} | ${r.nw} | ${r.n > 0 ? (r.w / r.n).toFixed(1) : '–'} | ${gap > 0 ? `${(((r.w - r.n) / gap) * 100).toFixed(0)}%` : '–'} |`);
  const rest = rows.slice(14);
  if (rest.length) out.push(`| (${rest.length} other op types) | ${rest.reduce((s, r) => s + r.n, 0).toFixed(1)} | | ${rest.reduce((s, r) => s + r.w, 0).toFixed(1)} | | | |`);
  out.push('', 'Costliest WASM kernels by input shape:', '', '| op | input shapes | WASM ms/run | per run |', '|---|---|---:|---:|');
  for (const s of p.wasm.byShape.slice(0, 6)) out.push(`| ${s.op} | ${s.shapes.slice(0, 90)} | ${(s.us / runsW / 1000).toFixed(1)} | ${s.count} |`);
  return out;
}

export function gapReport(r: GapResults): string {
  const lines = [
    `# WASM one thread vs onnxruntime-node one thread, per model (${r.date.slice(0, 10)})`,
    '',
    `Machine: ${r.machine} at the start (${r.endLoad.split('; ')[1]} at the end). **2 shared cores, loaded by other helpers' jobs during the run**: wall times wait for a core unevenly, so the ratio is taken on **CPU time per run** of the computing process (Chromium's renderer for WASM, the onnxruntime-node child), which is what one thread costs; wall-time ratios are beside it. Each model: ${r.warmup ?? 1} untimed warm-up run(s) per side, then ${r.rounds} rounds of one run per side, interleaved (the side that goes first alternates); medians. Rows with a number of WASM warm-up runs (not "(fixed)") were warmed up until V8 had stopped compiling the wasm in the background (a run in which the renderer's other threads used at most 10 % of the worker's CPU, or 20 ms; item 3 below), and give the worker thread's own CPU beside the renderer's: "then N ms" is the renderer's CPU outside the worker per timed run. Same ONNX file, same input bytes; onnxruntime-web ${pkgVersion('onnxruntime-web')} (wasm EP, numThreads 1, graphOptimizationLevel all, in a Web Worker in Chromium) and onnxruntime-node ${pkgVersion('onnxruntime-node')} (CPU EP, intraOpNumThreads 1, interOpNumThreads 1, sequential). The bench took ${(r.seconds / 60).toFixed(1)} min.`,
    ...(r.reruns?.length && r.rows.every((row) => r.reruns!.some((x) => x.ids.includes(row.id))) ? ['', 'No row of that run is left: every row below was re-measured later, as follows (the last run of a model is its row).'] : []),
    ...(r.reruns ?? []).flatMap((x) => ['', `Re-measured later (bench:gap --merge), replacing their rows: ${x.ids.join(', ')}, on ${x.date.slice(0, 16).replace('T', ' ')} UTC; machine: ${x.machine} at the start (${x.endLoad.split('; ')[1]} at the end); ${x.warmup ?? 1} warm-up run(s) per side (WASM: then until settled), ${x.rounds} rounds; ${(x.seconds / 60).toFixed(1)} min.`]),
    '',
    `Goal (issue 16): WASM-1 within ${GOAL}× of node-1 on every shipped model.`,
    '',
    '| model | graph | one run | WASM-1 CPU ms | node-1 CPU ms | **ratio (CPU)** | WASM worker thread ms (ratio) | WASM-1 wall ms | node-1 wall ms | ratio (wall) | ≤ 2.5× | WASM warm-up runs; background CPU | output: max diff / max value | load |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|---|---|---|',
  ];
  for (const row of r.rows) {
    const m = row.measured;
    if (!m || !row.model) {
      lines.push(`| ${row.id} | – | – | – | – | – | – | – | – | – | – | – | ${row.error ?? ''} | |`);
      continue;
    }
    const ratio = cpuRatio(m);
    const check = m.outputs.map((o) => `${m.outputs.length > 1 ? `${o.name} ` : ''}${sci(o.maxAbsDiff)} / ${o.maxAbs.toPrecision(2)}${o.nonFinite ? ` (${o.nonFinite} non-finite)` : ''}`).join('; ');
    lines.push(`| ${row.id} | ${row.model.fullSize ? 'full size' : 'reduced (see below)'} | ${row.model.input} | ${ms(median(m.wasm.cpuMs))} | ${ms(median(m.node.cpuMs))} | **${ratio.toFixed(1)}×** | ${workerRatio(m) === undefined ? '–' : `${ms(median(m.wasm.workerCpuMs!))} (${workerRatio(m)!.toFixed(1)}×)`} | ${ms(median(m.wasm.runMs))} | ${ms(median(m.node.runMs))} | ${wallRatio(m).toFixed(1)}× | ${ratio <= GOAL ? 'yes' : 'no'} | ${warmupCell(m, r.warmup ?? 1)} | ${check} | ${m.load.map((x) => x.toFixed(1)).join('→')} |`);
  }
  lines.push('', '## Models and weights', '');
  for (const row of r.rows) if (row.model) lines.push(`- **${row.id}** (${row.family}): \`${row.model.modelPath}\`${row.model.externalData.length ? ` + ${row.model.externalData.join(', ')}` : ''}; weights: ${row.model.weights}.${row.model.note ? ` ${row.model.note}.` : ''}`);
  const profiled = r.rows.filter((x) => x.profile);
  if (profiled.length) {
    lines.push('', '## Where WASM loses: onnxruntime\'s profiler', '', 'Profiled separately after the timed runs (profiling adds time per kernel): `enableProfiling` on both sides; onnxruntime-node writes its chrome-trace JSON when the session ends, onnxruntime-web prints the same events through the wasm\'s stdout. Kernel times are wall clock inside each kernel on a loaded machine: read the shares and the WASM ÷ node column.');
    for (const row of profiled) lines.push('', `### ${row.id}`, '', ...opTable(row.profile!));
  }
  const notes = new URL('findings.md', import.meta.url);
  if (existsSync(notes)) lines.push('', readFileSync(notes, 'utf8').trim());
  return lines.join('\n') + '\n';
}

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export type { OpProfile };
