// `npm run bench:restore`: the MAXIM restoration models (converted from the @upscalerjs/maxim-* TF.js graphs by
// models/convert/maxim.ts) on every runtime, side by side in one run, written to bench/results/restore.{json,md}:
//  1. conversion: time and size of each of the 7 modes at the product's 128-px tile (and denoise at 256 and 512,
//     converted here into a temp folder for the speed rows), checked against the built files of the registry;
//  2. speed: maxim-denoise at 128×128 (the product's tile), 256×256 and 512×512 on onnxruntime-node 1 and 2 threads,
//     onnxruntime-web WASM 1 thread and 2 threads (COOP/COEP page) in Chromium, and the Frontier server through the
//     Open Inference Protocol; targets of a size take turns run by run (bench/restore-targets.ts); wall and CPU time,
//     ratio to node 1 thread, peak memory, output difference to node 1 thread;
//  3. WebGPU on SwiftShader: one correctness run at 128 against node;
//  4. profile: onnxruntime's per-node profiler on node 1 thread and WASM 1 thread at 128, time per op type;
//  5. experiments at 128: session options (memory arena, optimisation level, execution mode) and graph rewrites made
//     by post-processing the ONNX (bench/restore-rewrites.ts), each against the product settings in the same group.
// Env: RESTORE_PHASES=convert,speed,webgpu,profile,options,rewrites (default all), RESTORE_SIZES=128,256,512,
// RESTORE_ROUNDS=<timed rounds at 128> (default 5; 3 at 256, 2 at 512), RESTORE_EXP_ROUNDS (experiments, default 4),
// RESTORE_WEBGPU_MIN (cap of the WebGPU run, default 12),
// RESTORE_KEEP=DIR keeps the converted models in DIR. BENCH_RESULTS_DIR=DIR writes the results elsewhere.
// --report-only rewrites restore.md from restore.json (after a change to bench/restore-report.ts; nothing is measured).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { convertMaxim, describeMaximModel, MAXIM_MODELS, type MaximMode } from '../models/convert/maxim.ts';
import { encodeModel } from '../models/convert/onnx-proto.ts';
import { crop } from '../worker/image/rgba.ts';
import { nodeCodec } from '../worker/image/codec-node.ts';
import type { ModelCard, Registry } from '../worker/models/card.ts';
import { REGISTRY_PATH, REPO_ROOT } from '../worker/platform-node.ts';
import { Rng } from '../worker/random.ts';
import { launchBenchBrowser } from './common/chromium.ts';
import { benchSeconds, log } from './common/log.ts';
import { environment } from './common/report.ts';
import { resultsDir, resultsJson, runMain, writeResults } from './common/results.ts';
import { benchFolders } from './common/session.ts';
import { nodeBaselineBytes } from './common/targets.ts';
import { opCounts, readModel, readNodes } from './restore-onnx.ts';
import { restoreBenchServer } from './restore-browser.ts';
import type { OpProfile } from './restore-profile.ts';
import { rewrite, type RewriteName, type RewriteReport } from './restore-rewrites.ts';
import { browserSpec, nodeSpec, outputDiff, runGroup, serverSpec, type Row, type TargetSpec } from './restore-targets.ts';
import { restoreReport, type ConversionRow, type Experiment, type ProfileResult, type RestoreResults } from './restore-report.ts';

const PHASES = new Set((process.env.RESTORE_PHASES ?? 'convert,speed,webgpu,profile,options,rewrites').split(','));
const SIZES = (process.env.RESTORE_SIZES ?? '128,256,512').split(',').map(Number);
const ROUNDS_128 = Number(process.env.RESTORE_ROUNDS ?? 5);
const ROUNDS: Record<number, number> = { 128: ROUNDS_128, 256: 3, 512: 2 };
const WEBGPU_MIN = Number(process.env.RESTORE_WEBGPU_MIN ?? 12);
const EXP_ROUNDS = Number(process.env.RESTORE_EXP_ROUNDS ?? 4);
/** Time caps per open or run, by tile size. */
const TIMEOUT_MS: Record<number, number> = { 128: 10 * 60_000, 256: 15 * 60_000, 512: 20 * 60_000 };
const NOISE_SIGMA = 25 / 255;
/** Rewrites of "all": LayerNorm (a no-op once the converter fuses it), GELU in the form onnxruntime fuses, the sigmoids, the gating MatMuls. */
const ALL_REWRITES: RewriteName[] = ['layerNorm', 'geluPow', 'sigmoid', 'gatingMatMul'];
const ARENA = { enableCpuMemArena: true, enableMemPattern: true };
/** onnxruntime's intra-op threads wait for work without spinning (session config entry session.intra_op.allow_spinning). */
const NO_SPIN = { extra: { session: { intra_op: { allow_spinning: '0' } } } };

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A crop of the astronaut photo with seeded Gaussian noise (σ = 25/255), NHWC float32 in [0,1]: a denoising input. */
async function noisyTile(size: number): Promise<Float32Array> {
  const photo = await nodeCodec.decode(new Uint8Array(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'images', 'astronaut.png'))));
  const x0 = Math.floor((photo.width - size) / 2);
  const y0 = Math.floor((photo.height - size) / 2);
  const img = crop(photo, x0, y0, size, size);
  const rng = new Rng(size);
  const out = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.min(1, Math.max(0, img.data[i * 4 + c] / 255 + NOISE_SIGMA * rng.normal()));
  }
  return out;
}

function denoiseCard(size: number, file: string, bytes: Uint8Array): ModelCard {
  const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as Registry;
  const product = registry.models.find((m) => m.id === 'maxim-denoise');
  if (!product) throw new Error('models/registry.json has no maxim-denoise card');
  return {
    ...product,
    id: `maxim-denoise-${size}`,
    label: `${product.label} (${size}-px tile, bench)`,
    files: [{ name: file, sha256: sha256(bytes), bytes: bytes.length }],
    io: {
      ...product.io,
      inputs: [{ name: 'input', dtype: 'float32', shape: [1, size, size, 3] }],
      outputs: [{ name: 'output', dtype: 'float32', shape: [1, size, size, 3] }],
      tile: { size, overlap: product.io.tile?.overlap ?? 32 },
    },
    targets: [...new Set([...product.targets, 'server'])] as ModelCard['targets'],
  };
}

/** The commit and any uncommitted change under models/convert (the converter is being worked on in parallel). */
function converterState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', 'models/convert'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter((l) => l.trim()).map((l) => l.slice(3));
    return `commit ${head}${dirty.length ? ` with uncommitted changes in ${dirty.join(', ')}` : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

/** Transposes next to a convolution: feeding one (NHWC → NCHW) and fed by one (NCHW → NHWC). */
function convTransposes(nodes: { opType: string; inputs: string[]; outputs: string[] }[]): { total: number; intoConv: number; fromConv: number } {
  const isConv = (n: { opType: string }) => /^(Conv|FusedConv|ConvTranspose)$/.test(n.opType);
  const producer = new Map(nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const consumers = new Map<string, { opType: string }[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const t = nodes.filter((n) => n.opType === 'Transpose');
  return {
    total: t.length,
    intoConv: t.filter((n) => (consumers.get(n.outputs[0]) ?? []).some(isConv)).length,
    fromConv: t.filter((n) => { const p = producer.get(n.inputs[0]); return p !== undefined && isConv(p); }).length,
  };
}

async function main() {
  const folders = benchFolders(process.env.RESTORE_KEEP, 'frontier-restorebench');
  const models = folders.models;
  const feeds = join(folders.work, 'feeds');
  const outputs = join(folders.work, 'outputs');
  const uploads = join(folders.work, 'uploads');
  const serverRoot = join(folders.work, 'server-root');
  for (const d of [feeds, outputs, uploads, join(serverRoot, 'models', 'build', 'files')]) mkdirSync(d, { recursive: true });

  await folders.use(async () => {
    const results: RestoreResults = {
      when: new Date().toISOString(),
      durationSeconds: 0,
      environment: environment('', folders.loadStart, {}),
      phases: [...PHASES],
      conversions: [],
      speed: [],
      experiments: [],
      notes: [],
      converter: converterState(),
    };
    const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as Registry;

    // ---- 1. Conversion ------------------------------------------------------------------------------------------
    const modelFile: Record<number, string> = {};
    const convertOne = (mode: MaximMode, size: number, write: boolean): ConversionRow => {
      const described = describeMaximModel(mode);
      const c0 = cpuMs();
      const t0 = performance.now();
      const { bytes, stats } = convertMaxim(described, size);
      const ms = performance.now() - t0;
      const card = MAXIM_MODELS.find((m) => m.package === mode)!;
      const built = registry.models.find((m) => m.id === card.id)?.files[0];
      const hash = sha256(bytes);
      const file = `maxim-${mode}-${size}.onnx`;
      if (write) writeFileSync(join(models, file), bytes);
      const row: ConversionRow = {
        mode, cardId: card.id, size, ms, cpuMs: cpuMs() - c0, bytes: bytes.length, sha256: hash, tfNodes: stats.tfNodes, folded: stats.folded,
        onnxNodes: stats.onnxNodes, initializers: stats.initializers, ops: stats.ops,
        sameAsRegistry: size === card.tile.size && built ? built.sha256 === hash : undefined,
        file: write ? file : undefined,
      };
      log(`convert ${mode} @${size}: ${(ms / 1000).toFixed(1)} s, ${(bytes.length / 2 ** 20).toFixed(1)} MiB, ${stats.onnxNodes} nodes${row.sameAsRegistry !== undefined ? `, ${row.sameAsRegistry ? 'same bytes as' : 'DIFFERS from'} the registry's file` : ''}`);
      return row;
    };
    if (PHASES.has('convert')) {
      for (const spec of MAXIM_MODELS) results.conversions.push(convertOne(spec.package, 128, spec.package === 'denoising'));
    }
    const needSizes = new Set(PHASES.has('speed') ? SIZES : []);
    if (['webgpu', 'profile', 'options', 'rewrites'].some((p) => PHASES.has(p))) needSizes.add(128);
    for (const size of [...needSizes].sort((a, b) => a - b)) {
      const file = `maxim-denoising-${size}.onnx`;
      if (!existsSync(join(models, file))) {
        const row = convertOne('denoising', size, true);
        if (size !== 128 || !PHASES.has('convert')) results.conversions.push(row);
      }
      modelFile[size] = file;
      writeFileSync(join(feeds, `noisy-${size}.f32`), new Uint8Array((await noisyTile(size)).buffer));
      // The server's model root: a registry with this size's card, the file content-addressed as the build does.
      const bytes = new Uint8Array(readFileSync(join(models, file)));
      const served = `maxim-denoise-${size}.${sha256(bytes).slice(0, 16)}.onnx`;
      copyFileSync(join(models, file), join(serverRoot, 'models', 'build', 'files', served));
      results.serverCards ??= [];
      results.serverCards.push(denoiseCard(size, served, bytes));
      writeFileSync(join(serverRoot, 'models', 'registry.json'), JSON.stringify({ models: results.serverCards }, null, 2));
    }

    // Graph variants for the rewrite experiments (128), written next to the product graph.
    const variants: { name: string; rewrites: RewriteName[]; file: string; reports: RewriteReport[]; ms: number }[] = [];
    if (PHASES.has('rewrites') || PHASES.has('profile')) {
      const base = new Uint8Array(readFileSync(join(models, modelFile[128])));
      const plan: [string, RewriteName[]][] = [
        ['layerNorm', ['layerNorm']], ['layerNormUnfused', ['layerNormUnfused']], ['geluPow', ['geluPow']], ['geluSigmoid', ['geluSigmoid']], ['sigmoid', ['sigmoid']],
        ['gatingMatMul', ['gatingMatMul']], ['all', ALL_REWRITES],
      ];
      for (const [name, names] of plan) {
        const t0 = performance.now();
        const spec = readModel(base);
        const reports = rewrite(spec, names);
        if (!reports.some((r) => r.matched)) {
          log(`rewrite ${name}: nothing to rewrite in this converter's graph (${reports.map((r) => `${r.name} ${r.unmatched} not matched`).join(', ')})`);
          results.notes.push(`Rewrite ${name} found nothing to rewrite in this converter's graph (the converter already emits that form, or never had the pattern): no experiment row.`);
          continue;
        }
        const file = `maxim-denoising-128-${name}.onnx`;
        writeFileSync(join(models, file), encodeModel(spec));
        const ms = performance.now() - t0;
        variants.push({ name, rewrites: names, file, reports, ms });
        log(`rewrite ${name}: ${reports.map((r) => `${r.name} ${r.matched} matched, ${r.unmatched} not, nodes ${r.nodesBefore} → ${r.nodesAfter}`).join('; ')} (${(ms / 1000).toFixed(1)} s)`);
      }
      results.rewrites = variants.map(({ name, rewrites, reports, ms, file }) => ({ name, rewrites, reports, ms, bytes: statSync(join(models, file)).size }));
    }

    const { url, server } = await restoreBenchServer({ models, feeds, outputs: uploads });
    const probe = await launchBenchBrowser();
    results.environment.chromium = probe.version();
    await probe.close();
    results.environment.baselinePeakRss.nodeBytes = await nodeBaselineBytes();
    const feedOf = (size: number) => `noisy-${size}.f32`;
    const node = (size: number, id: string, threads: number, config = 'product', options: Record<string, unknown> = {}, file = modelFile[size]) =>
      nodeSpec({ id, config, model: join(models, file), threads, options, feed: join(feeds, feedOf(size)), size, timeoutMs: TIMEOUT_MS[size] });
    const wasm = (size: number, id: string, threads: number, config = 'product', options: Record<string, unknown> = {}, file = modelFile[size], ep: 'wasm' | 'webgpu' = 'wasm', timeoutMs = TIMEOUT_MS[size]) =>
      browserSpec({ id, config, url, modelFile: file, ep, threads, options, feed: feedOf(size), size, timeoutMs, outputs: uploads }, log);
    const server_ = (size: number) => serverSpec({ id: 'server', root: serverRoot, card: results.serverCards!.find((c) => c.id === `maxim-denoise-${size}`)!, feed: join(feeds, feedOf(size)), size, timeoutMs: TIMEOUT_MS[size] });
    const reference = new Map<number, Row>();
    const withDiffs = (rows: Row[], ref: Row | undefined) => {
      for (const r of rows) if (r !== ref) r.maxAbsDiff = outputDiff(r, ref);
      return rows;
    };

    try {
      // ---- 2. Speed ---------------------------------------------------------------------------------------------
      if (PHASES.has('speed')) {
        for (const size of SIZES) {
          const meta = { size, model: `maxim-denoise ${size}×${size}`, outputs };
          const specs: TargetSpec[] = [node(size, 'node-1', 1), node(size, 'node-2', 2), wasm(size, 'wasm-1', 1), wasm(size, 'wasm-2', 2), server_(size)];
          let rows: Row[];
          if (size <= 256) {
            rows = await runGroup(specs, ROUNDS[size] ?? 3, meta, log);
          } else {
            // ≈10 GB per onnxruntime-node session at 512: one target at a time. WASM-2 is tried only if WASM-1 fit.
            rows = [];
            for (const spec of specs) {
              const w1 = rows.find((r) => r.id === 'wasm-1');
              if (spec.id === 'wasm-2' && w1?.failed) {
                rows.push({ id: 'wasm-2', runtime: spec.runtime, config: spec.config, size, model: meta.model, runMs: [], cpuMs: [], loadAverage: [loadavg()[0], loadavg()[0]], failed: `not tried: WASM 1 thread failed at this size (${w1.failed}); 2 threads need the same 4 GiB wasm32 heap plus per-thread stacks` });
                continue;
              }
              rows.push(...(await runGroup([spec], ROUNDS[size] ?? 2, meta, log)));
            }
          }
          const ref = rows.find((r) => r.id === 'node-1' && !r.failed);
          if (ref) reference.set(size, ref);
          results.speed.push(...withDiffs(rows, ref));
        }
      }

      // ---- 3. WebGPU (SwiftShader): correctness only ---------------------------------------------------------------
      if (PHASES.has('webgpu')) {
        if (!reference.has(128)) {
          const [ref] = await runGroup([node(128, 'node-1', 1)], 1, { size: 128, model: 'maxim-denoise 128×128', outputs }, log);
          if (!ref.failed) reference.set(128, ref);
        }
        const spec = wasm(128, 'webgpu', 1, 'product', {}, modelFile[128], 'webgpu', WEBGPU_MIN * 60_000);
        const rows = await runGroup([spec], 0, { size: 128, model: 'maxim-denoise 128×128', outputs }, log);
        results.webgpu = withDiffs(rows, reference.get(128))[0];
      }

      // ---- 4. Profile -----------------------------------------------------------------------------------------------
      if (PHASES.has('profile')) {
        const profiles: ProfileResult[] = [];
        const collect = (model: string) => async (spec: TargetSpec, handle: { profile?(skip: number): Promise<OpProfile> }, row: Row) => {
          const p = await handle.profile!(1);
          profiles.push({ id: spec.id, model, runtime: spec.runtime, profile: p, medianMs: row.runMs.length ? row.runMs.slice().sort((a, b) => a - b)[Math.floor(row.runMs.length / 2)] : undefined, cpuMs: row.cpuMs });
          log(`profile ${spec.id} (${model}): ${p.events} events, ${p.runs} runs, ${Object.keys(p.kernelUs).length} op types`);
        };
        const profOpts = (id: string) => ({ enableProfiling: true, profileFilePrefix: join(folders.work, `profile-${id}`) });
        for (const [model, file] of [['product', modelFile[128]], ['all rewrites', variants.find((v) => v.name === 'all')?.file]] as const) {
          if (!file) continue;
          const tag = model === 'product' ? '' : '-rw';
          const specs = [node(128, `node-1${tag}`, 1, 'profiling on', profOpts(`node-1${tag}`), file), wasm(128, `wasm-1${tag}`, 1, 'profiling on', { enableProfiling: true }, file)];
          await runGroup(specs, 2, { size: 128, model: `profile ${model}`, outputs }, log, collect(model));
        }
        results.profiles = profiles;
      }

      // ---- 5. Experiments ---------------------------------------------------------------------------------------
      const experiment = async (name: string, question: string, specs: TargetSpec[], referenceId: string, rounds = EXP_ROUNDS) => {
        log(`experiment: ${name}`);
        const rows = await runGroup(specs, rounds, { size: 128, model: name, outputs }, log);
        const base = rows.find((r) => r.id === referenceId);
        withDiffs(rows, reference.get(128) ?? rows.find((r) => r.id.startsWith('node') && r.config === 'product'));
        results.experiments.push({ name, question, referenceId, rows } satisfies Experiment);
        return { rows, base };
      };
      if (PHASES.has('options')) {
        await experiment('Session options, WASM 1 thread', 'What do onnxruntime-web session options change? (The web API turns the CPU memory arena and memory pattern OFF unless they are set; onnxruntime-node keeps its defaults, both ON.)', [
          wasm(128, 'wasm-1', 1),
          wasm(128, 'wasm-1 arena+pattern', 1, 'enableCpuMemArena + enableMemPattern', ARENA),
          wasm(128, 'wasm-1 basic', 1, "graphOptimizationLevel 'basic'", { graphOptimizationLevel: 'basic' }),
        ], 'wasm-1');
        await experiment('Session options, 2 threads', 'With 2 threads on a loaded 2-core machine: spinning threads, the parallel executor, the arena.', [
          wasm(128, 'wasm-2', 2),
          wasm(128, 'wasm-2 no spinning', 2, 'session.intra_op.allow_spinning = 0', NO_SPIN),
          wasm(128, 'wasm-2 parallel', 2, "executionMode 'parallel'", { executionMode: 'parallel' }),
          node(128, 'node-2', 2),
          node(128, 'node-2 no spinning', 2, 'session.intra_op.allow_spinning = 0', NO_SPIN),
        ], 'wasm-2');
        await experiment('Session options, node 1 thread', "How much of node's lead is its NCHWc layout (level 'all' only) and its arena?", [
          node(128, 'node-1', 1),
          node(128, 'node-1 extended', 1, "graphOptimizationLevel 'extended' (no NCHWc layout)", { graphOptimizationLevel: 'extended' }),
          node(128, 'node-1 no arena', 1, 'enableCpuMemArena + enableMemPattern off (as the web API defaults)', { enableCpuMemArena: false, enableMemPattern: false }),
          node(128, 'node-1 basic', 1, "graphOptimizationLevel 'basic'", { graphOptimizationLevel: 'basic' }),
        ], 'node-1');
      }
      if (PHASES.has('rewrites')) {
        const v = (name: string) => variants.find((x) => x.name === name)?.file;
        const LABEL: Record<string, string> = {
          layerNorm: 'graph: LayerNormalization', layerNormUnfused: 'graph: LayerNormalization unfused (ReduceMean form)', geluPow: 'graph: GELU as Pow (→ FastGelu)',
          geluSigmoid: 'graph: GELU as x·Sigmoid', sigmoid: 'graph: Sigmoid', gatingMatMul: 'graph: gating MatMul without transposes', all: `graph: ${ALL_REWRITES.join(' + ')}`,
        };
        const rows = (make: (id: string, config: string, file: string) => TargetSpec, names: string[]) =>
          names.filter((n) => v(n)).map((n) => make(n, LABEL[n], v(n)!));
        const single = ['layerNorm', 'layerNormUnfused', 'gatingMatMul', 'geluPow', 'geluSigmoid', 'sigmoid'].filter((n) => v(n));
        await experiment('Graph rewrites, WASM 1 thread (a)', 'Which rewrite of the converted graph makes WASM faster?', [
          wasm(128, 'wasm-1', 1),
          ...rows((n, c, f) => wasm(128, `wasm-1 ${n}`, 1, c, {}, f), single.slice(0, 3)),
        ], 'wasm-1');
        await experiment('Graph rewrites, WASM 1 thread (b)', 'The others, all together, and together with the arena.', [
          wasm(128, 'wasm-1', 1),
          ...rows((n, c, f) => wasm(128, `wasm-1 ${n}`, 1, c, {}, f), [...single.slice(3), 'all']),
          ...(v('all') ? [wasm(128, 'wasm-1 all+arena', 1, `${LABEL.all}; enableCpuMemArena + enableMemPattern`, ARENA, v('all'))] : []),
        ], 'wasm-1');
        await experiment('Graph rewrites, node 1 thread', 'The same rewrites on onnxruntime-node (the server and CLI run the same file).', [
          node(128, 'node-1', 1),
          ...rows((n, c, f) => node(128, `node-1 ${n}`, 1, c, {}, f), [...single, 'all']),
        ], 'node-1');
        // What onnxruntime-node makes of the product graph and of the rewritten one (optimizedModelFilePath).
        results.optimized = [];
        for (const [name, file] of [['product', modelFile[128]], ['all rewrites', v('all')]] as const) {
          if (!file) continue;
          const out = join(folders.work, `optimized-${name.replace(/\s+/g, '-')}.onnx`);
          const ort = await import('onnxruntime-node');
          for (const level of ['extended', 'all'] as const) {
            const s = await ort.InferenceSession.create(join(models, file), { graphOptimizationLevel: level, optimizedModelFilePath: out, intraOpNumThreads: 1, logSeverityLevel: 3 });
            await s.release();
            const before = readModel(new Uint8Array(readFileSync(join(models, file)))).graph.nodes;
            const after = readNodes(new Uint8Array(readFileSync(out)));
            results.optimized.push({ model: name, level, before: opCounts(before), after: opCounts(after), convTransposes: { before: convTransposes(before), after: convTransposes(after) } });
          }
        }
      }
    } finally {
      server.close();
    }

    results.durationSeconds = benchSeconds();
    results.environment = { ...environment(results.environment.chromium, folders.loadStart, results.environment.baselinePeakRss) };
    results.machine = `${cpus().length}× ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
    await writeResults('restore', resultsJson({ ...results, serverCards: results.serverCards?.map((c) => ({ id: c.id, file: c.files[0] })) }), restoreReport(results), results.durationSeconds);
  });
}

/** `--report-only`: rewrites restore.md from the restore.json of the last run (no measuring). */
async function reportOnly() {
  const json = join(resultsDir(), 'restore.json');
  const results = JSON.parse(readFileSync(json, 'utf8')) as RestoreResults;
  writeFileSync(join(resultsDir(), 'restore.md'), restoreReport(results));
  log(`rewrote ${join(resultsDir(), 'restore.md')} from ${json}`);
}

runMain(process.argv.includes('--report-only') ? reportOnly : main);
