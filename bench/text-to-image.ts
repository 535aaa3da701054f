// `npm run bench:text-to-image`: VQ-Diffusion ITHQ's three graphs at full width with random weights (exported at
// bench time by models/export/export.py into a temp folder, never committed) on every runtime, side by side, the
// SAME files and input bytes everywhere: the CLIP text encoder once (batch 1), ONE denoising step of the
// transformer at batch 2 (prompt + learned null text: classifier-free guidance), and the VQ-VAE decoder once.
// Targets: onnxruntime-node CPU (2 and 1 threads), onnxruntime-web WASM in Chromium (1 and 2 threads), WebGPU on
// SwiftShader (correctness only, where it finishes in minutes).
//
// The full ITHQ transformer (36 blocks, 1.36 B parameters, 5.4 GB of float32 weights in ONNX external data) cannot
// be exported on the 2-core, 23 GB development machine: export.py ran its PyTorch reference (807 s) and
// torch.onnx.export (819 s), then the kernel killed it (out of memory) in the onnxruntime-node check, where the
// Python process still holds the 5.4 GB model while onnxruntime-node loads and prepacks it again. So the default
// run exports the transformer with BENCH_T2I_BLOCKS (default 2) of its 36 identical blocks at full width (d 1408, 16
// heads, 1024 tokens, 4096 codes) and estimates the 36-block step from the graph's MACs per block.
// BENCH_T2I_BLOCKS=36 measures the real one on a machine with more memory (Node only: its weights do not fit
// WebAssembly's 4 GiB) and writes text-to-image-full.{json,md} instead of text-to-image.{json,md}.
// Env: BENCH_T2I_MODELS=DIR exports into DIR and reuses what is there (kept), BENCH_T2I_ONLY=text,transformer,decoder,
// BENCH_T2I_TARGETS=node-2,node-1,wasm-1,wasm-2,webgpu, BENCH_T2I_WEBGPU_MIN=<minutes> caps each WebGPU run (default
// 6), BENCH_T2I_WEBGPU_DECODER=<minutes> / BENCH_T2I_WEBGPU_TRANSFORMER=<minutes> also try those on WebGPU.
// BENCH_RESULTS_DIR=DIR writes the results into DIR instead of bench/results (every bench; smoke runs).
import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { environment, duration } from './common/report.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { benchSeconds, log } from './common/log.ts';
import { benchFolders, withBenchPage } from './common/session.ts';
import { ALL_TARGETS, type TargetId } from './common/targets.ts';
import { benchAll, type BenchModel, type Row, type TargetPlan } from './common/feed-bench/driver.ts';
import { exportRandomModel, type ExportedModel } from './common/export.ts';
import { mib, writeSpeedReport, type ModelInfo } from './common/feed-bench/report.ts';
import { benchServer } from './common/feed-bench/serve.ts';
import type { FeedFile } from './common/feed-bench/spec.ts';
import { READY } from './common/feed-bench/targets.ts';
import { blocksPatch, CHECKPOINT, CHECKPOINT_PY, countMacs, feedsFor, FULL_BLOCKS, IDS, PARTS, SHAPES, STEPS, WASM_MEMORY, type BlockMacs, type Part } from './text-to-image/parts.ts';
import { parseCli } from '../server/cli-args.ts';

// Arguments are checked first: this bench takes none (its settings come from the environment).
parseCli('npm run bench:text-to-image (no options; by environment: BENCH_T2I_BLOCKS, BENCH_T2I_ONLY, BENCH_T2I_TARGETS, BENCH_T2I_MODELS=DIR, BENCH_T2I_WEBGPU_MIN, BENCH_T2I_WEBGPU_DECODER, BENCH_T2I_WEBGPU_TRANSFORMER, BENCH_RESULTS_DIR=DIR)', {});

const TIMED: Record<Part, Record<TargetId, number>> = {
  text: { 'node-2': 5, 'node-1': 3, 'wasm-1': 3, 'wasm-2': 3, webgpu: 0 },
  transformer: { 'node-2': 3, 'node-1': 2, 'wasm-1': 2, 'wasm-2': 2, webgpu: 0 },
  decoder: { 'node-2': 3, 'node-1': 2, 'wasm-1': 2, 'wasm-2': 2, webgpu: 0 },
};
/** The full transformer: one warm-up and one timed step per target (each step takes minutes on 2 cores). */
const TIMED_FULL_TRANSFORMER = 1;
/** vqdiffusion.build('vqdiffusion-ithq-transformer') at full size, counted on the development machine. */
const FULL_TRANSFORMER_PARAMS = 1_359_314_048;

interface Measured {
  part: Part;
  label: string;
  exported: ExportedModel;
  /** The graph's files on disk, relative to the models folder. */
  files: { name: string; bytes: number }[];
  macs: BlockMacs;
  /** MACs of one 36-block step, from the measured graph's per-block count (the blocks are identical). */
  fullStepMacs?: number;
  input: string;
  feeds: FeedFile[];
}

function fileBytes(files: { bytes: number }[]): number {
  return files.reduce((a, f) => a + f.bytes, 0);
}

function planFor(m: Measured, target: TargetId, blocks: number, env: { webgpuMinutes: number; decoderWebgpu: number; transformerWebgpu: number }): TargetPlan {
  const skip = (why: string): TargetPlan => ({ skip: why, timedRuns: 0, checkRuns: 0, timeoutMs: 0 });
  const bytes = fileBytes(m.files);
  const node = target === 'node-1' || target === 'node-2';
  if (!node && bytes > WASM_MEMORY) {
    return skip(`cannot run in onnxruntime-web: the weights alone are ${mib(bytes)}, above the 4 GiB that 32-bit WebAssembly can address (onnxruntime-web holds the model in its wasm memory, WebGPU included); this graph needs onnxruntime-node or a GPU server`);
  }
  const gmac = (m.macs.macs / 1e9).toFixed(0);
  if (target === 'webgpu') {
    const minutes = m.part === 'decoder' ? env.decoderWebgpu : m.part === 'transformer' ? env.transformerWebgpu : env.webgpuMinutes;
    if (!minutes) {
      return skip(`${gmac} GMAC per run: far too long on SwiftShader (a CPU Vulkan), which did not finish StyleSwin's 96 GMAC in 25 min (bench/results/generation.md); set BENCH_T2I_WEBGPU_${m.part.toUpperCase()}=<minutes> to try`);
    }
    return { timedRuns: 0, checkRuns: 1, timeoutMs: minutes * 60_000 };
  }
  const timed = m.part === 'transformer' && blocks === FULL_BLOCKS ? TIMED_FULL_TRANSFORMER : TIMED[m.part][target];
  return { timedRuns: timed, checkRuns: 0, timeoutMs: (node ? 30 : 15) * 60_000 };
}

interface PerImage {
  target: TargetId;
  /** Text encoder + STEPS steps + decoder. */
  ms: number;
  stepsMs: number;
  estimated: boolean;
}

function perImage(rows: Row[], measured: Measured[], blocks: number): PerImage[] {
  const out: PerImage[] = [];
  const transformer = measured.find((m) => m.part === 'transformer');
  for (const target of ALL_TARGETS) {
    const ms = (part: Part) => rows.find((r) => r.target === target && r.model === measured.find((m) => m.part === part)?.label)?.medianMs;
    const [t, s, d] = [ms('text'), ms('transformer'), ms('decoder')];
    if (t === undefined || s === undefined || d === undefined || !transformer) continue;
    const step = blocks === FULL_BLOCKS ? s : (s * transformer.fullStepMacs!) / transformer.macs.macs;
    out.push({ target, ms: t + STEPS * step + d, stepsMs: STEPS * step, estimated: blocks !== FULL_BLOCKS });
  }
  return out;
}

async function main() {
  const blocks = Number(process.env.BENCH_T2I_BLOCKS ?? 2);
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > FULL_BLOCKS) throw new Error(`BENCH_T2I_BLOCKS must be 1..${FULL_BLOCKS} (got ${process.env.BENCH_T2I_BLOCKS})`);
  const only = process.env.BENCH_T2I_ONLY?.split(',') as Part[] | undefined;
  const parts = PARTS.filter((p) => !only || only.includes(p));
  const targets = process.env.BENCH_T2I_TARGETS ? (process.env.BENCH_T2I_TARGETS.split(',') as TargetId[]) : ALL_TARGETS;
  const env = {
    webgpuMinutes: Number(process.env.BENCH_T2I_WEBGPU_MIN ?? 6),
    decoderWebgpu: Number(process.env.BENCH_T2I_WEBGPU_DECODER ?? 0),
    transformerWebgpu: Number(process.env.BENCH_T2I_WEBGPU_TRANSFORMER ?? 0),
  };
  const folders = benchFolders(process.env.BENCH_T2I_MODELS, 'frontier-t2ibench', `transformer with ${blocks} of ${FULL_BLOCKS} blocks; `);
  const { models: modelDir, work } = folders;
  const feedsDir = join(work, 'feeds');
  mkdirSync(feedsDir);
  const outName = blocks === FULL_BLOCKS ? 'text-to-image-full' : 'text-to-image';
  await folders.use(async () => {
    const measured: Measured[] = [];
    for (const part of parts) {
      const truncated = part === 'transformer' && blocks !== FULL_BLOCKS;
      // A truncated transformer lives in its own folder, so a reused folder never mistakes it for the full one.
      const dir = truncated ? join(modelDir, `blocks-${blocks}`) : modelDir;
      mkdirSync(dir, { recursive: true });
      const exported = await exportRandomModel(IDS[part], CHECKPOINT_PY, CHECKPOINT, dir, log, truncated ? blocksPatch(blocks) : '');
      const files = exported.card.files.filter((f) => f.name.endsWith('.onnx') || f.kind === 'onnx-external-data')
        .map((f) => ({ name: relative(modelDir, join(dir, f.name)), bytes: statSync(join(dir, f.name)).size }));
      const macs = await countMacs(exported.onnxPath, SHAPES[part]);
      const perBlock = Object.values(macs.perBlock);
      const fullStepMacs = part === 'transformer' ? macs.outsideBlocks + FULL_BLOCKS * Math.max(...perBlock) : undefined;
      if (part === 'transformer' && (perBlock.length !== blocks || new Set(perBlock).size !== 1)) throw new Error(`expected ${blocks} identical blocks in the transformer graph, counted ${JSON.stringify(macs.perBlock)}`);
      const label = truncated ? `${IDS[part]} (${blocks} of ${FULL_BLOCKS} blocks)` : IDS[part];
      const { feeds, input } = feedsFor(part, exported.card, dir, feedsDir);
      measured.push({ part, label, exported, files, macs, fullStepMacs, input, feeds });
      log(`${label}: ${(macs.macs / 1e9).toFixed(1)} GMAC per run${fullStepMacs ? ` (36 blocks: ${(fullStepMacs / 1e9).toFixed(0)} GMAC)` : ''}${macs.uncounted.length ? `, ${macs.uncounted.length} nodes uncounted` : ''}`);
    }
    const models: BenchModel[] = measured.map((m) => ({
      spec: { id: m.label, card: m.exported.card, modelFile: m.files[0].name, feeds: m.feeds },
      macs: m.macs.macs,
      plan: (target: TargetId) => planFor(m, target, blocks, env),
    }));
    await withBenchPage(() => benchServer({ models: modelDir, feeds: feedsDir, outputs: join(work, 'uploads') }), targets, READY, async ({ url, chromium, baselines }) => {
      const rows = await benchAll(models, targets, { models: modelDir, feeds: feedsDir, work }, url, log);
      const images = perImage(rows, measured, blocks);
      const transformer = measured.find((m) => m.part === 'transformer');
      const infos: ModelInfo[] = measured.map((m) => ({
        id: m.label,
        files: m.files,
        checkpoint: m.exported.checkpoint + (m.part === 'transformer' && blocks !== FULL_BLOCKS ? `, vqdiffusion.FULL['transformer']['layers'] set to ${blocks} (all other sizes as ITHQ)` : ''),
        exportSeconds: m.exported.exportSeconds,
        macsPerRun: m.macs.macs,
        macsByOp: m.macs.byOp,
        macsUncounted: m.macs.uncounted.length,
        runUnit: m.part === 'text' ? 'one prompt (tokens [1,77])' : m.part === 'decoder' ? 'one 256×256 image (tokens [1,1024])' : `one denoising step at batch 2 (classifier-free guidance: prompt + null text), ${blocks} of ${FULL_BLOCKS} blocks`,
        input: m.input,
      }));
      const durationSeconds = benchSeconds();
      const notes = [
        'Same ONNX files and the same input bytes on every target, exported at bench time by models/export/export.py from random checkpoints in the official DALLE key layout (never committed). Random weights scaled as vqdiffusion.randomize does (unit-gain layers): time and memory do not depend on the weight values.',
        blocks === FULL_BLOCKS
          ? 'The transformer is the full ITHQ one: 36 blocks, d 1408, 16 heads, 1024 image tokens, 4096 codes + mask, 77 text tokens; its weights are ONNX external data in one file beside the graph, which onnxruntime-node loads by path (worker/runtime/ort-node.ts).'
          : `**The transformer is ITHQ's with ${blocks} of its 36 blocks** (every size as ITHQ: d 1408, 16 heads, 1024 image tokens, 4096 codes + mask, 77 text tokens; built by export.py with vqdiffusion.FULL['transformer']['layers'] patched to ${blocks}). The blocks are identical, so the graph counts the same MACs in each (checked): one full 36-block step = the measured graph's MACs outside the blocks + 36 × one block = ${transformer?.fullStepMacs ? `${(transformer.fullStepMacs / 1e9).toFixed(0)} GMAC` : '–'} at batch 2. **Estimated** full-step times scale the measured step by that MAC ratio (${transformer?.fullStepMacs ? `×${(transformer.fullStepMacs / transformer.macs.macs).toFixed(1)}` : '–'}); the embedding, the 4096-way logits and the log-softmax are in both. Why not the full one: on this machine (2 cores, 23 GB, shared) export.py on the full transformer ran its PyTorch reference (807 s) and torch.onnx.export (819 s), then was killed by the kernel for lack of memory in its onnxruntime-node check (the Python process still holds the 5.4 GB model while onnxruntime-node loads it again); BENCH_T2I_BLOCKS=36 measures the real step on a machine with more memory (text-to-image-full.md).`,
        'Sessions through the product runtimes (worker/runtime/ort-node.ts with intraOpNumThreads 1 or 2, a child process per row; ort-web.ts in a Web Worker, as the plugin runs). One untimed warm-up run, then the median of the timed runs; "ms per run" times `session.run` including tensor wrapping.',
        '"CPU ms per run" = CPU time of the whole process (all threads) over each timed run: Node from `process.cpuUsage()`, Chromium from the renderer\'s /proc/PID/stat sampled every 200 ms. "load" = the 1-minute load average at the row\'s start → end: above ≈2, other processes competed for the 2 cores.',
        `Peak memory: Node = the child's maxRSS (a child that only loads onnxruntime-node: ${baselines.nodeBytes ? mib(baselines.nodeBytes) : 'not measured'}). Chromium = VmHWM (peak RSS) of the renderer process holding the page and its worker, a fresh browser per row (the bench page before loading a model: ${baselines.rendererBytes ? mib(baselines.rendererBytes) : 'not measured'}); it includes the fetched model bytes and the wasm heap. "page estimate" = performance.measureUserAgentSpecificMemory() on the cross-origin-isolated page (it answers only after Chromium's 60 s timeout there; not in any timing).`,
        'GMAC counted from the exported graphs (MatMul/Gemm/Conv output shapes × reduction size, bench/text-to-image/macs_by_block.py after bench/generation/macs.py), elementwise ops, softmax and norms not counted.',
        `WebGPU is Chromium's SwiftShader (a CPU implementation of Vulkan): a correctness run where one finishes in minutes (${env.webgpuMinutes} min cap), compared with onnxruntime-node; its time includes shader compilation and says nothing about a real GPU.`,
        'Output differences: max |target − onnxruntime-node 2 threads| on the same input: text features (unit-norm per token), log-probabilities (log p, mean ≈ −8.3), decoder pixels in [−1, 1] (one 8-bit level = 0.0078).',
      ];
      const meaning: string[] = [];
      if (images.length) {
        meaning.push(`**One 256×256 image** = text encoder once + ${STEPS} guided steps + decoder once${blocks === FULL_BLOCKS ? '' : ' (steps estimated at 36 blocks from the measured truncated step)'}: ${images.map((i) => `${i.target} ≈${duration(i.ms)}`).join(', ')}; the ${STEPS} steps are ${(100 * images[0].stepsMs / images[0].ms).toFixed(1)}% of it (${images[0].target}).`);
      }
      const stepRows = rows.filter((r) => transformer && r.model === transformer.label && r.medianMs !== undefined);
      if (transformer && stepRows.length) {
        const scale = blocks === FULL_BLOCKS ? 1 : transformer.fullStepMacs! / transformer.macs.macs;
        meaning.push(`**One full ITHQ step** (36 blocks, batch 2 with guidance, ${((transformer.fullStepMacs ?? transformer.macs.macs) / 1e12).toFixed(2)} TMAC)${blocks === FULL_BLOCKS ? '' : ', estimated'}: ${stepRows.map((r) => `${r.target} ${duration(r.medianMs! * scale)}`).join(', ')}; ×${STEPS} steps per image.`);
      }
      // Counted by build() of the full model on the development machine (its random checkpoint script).
      const fullBytes = transformer && blocks === FULL_BLOCKS ? fileBytes(transformer.files) : FULL_TRANSFORMER_PARAMS * 4;
      meaning.push(`The full ITHQ transformer cannot run in the plugin on onnxruntime-web at all: its float32 weights (${FULL_TRANSFORMER_PARAMS.toLocaleString('en')} parameters, ${(fullBytes / 1e9).toFixed(2)} GB = ${mib(fullBytes)}; 2.7 GB even in float16) exceed WebAssembly's 4 GiB memory. Full VQ-Diffusion belongs on the companion server or a GPU server (DESIGN.md: auto chooses the server for it); the tiny variant runs anywhere for tests.`);
      meaning.push('The text encoder and the decoder are small enough for the browser; a split (text and decoder local, the steps remote) saves little, because the steps are nearly all of the work.');
      const report = {
        title: `Text-to-image benchmark: VQ-Diffusion ITHQ, full width, random weights${blocks === FULL_BLOCKS ? ' (full 36-block transformer)' : ` (transformer: ${blocks} of 36 blocks, full step estimated)`}`,
        when: new Date().toISOString(),
        durationSeconds,
        partial: parts.length < PARTS.length || targets.length < ALL_TARGETS.length,
        environment: environment(chromium, folders.loadStart, baselines),
        models: infos,
        rows,
        notes,
        meaning,
      };
      await writeResults(outName, resultsJson({ ...report, notes: undefined, meaning: undefined, blocks, steps: STEPS, fullStepMacs: transformer?.fullStepMacs, perImage: images }), writeSpeedReport(report), durationSeconds);
    });
  });
}

runMain(main);
