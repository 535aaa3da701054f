// `npm run bench:inpaint`: full-size SimMIM Swin-B 192 (random weights, exported at bench time into a temp folder,
// never committed) on every runtime, side by side in one run, the SAME model file and input bytes everywhere:
// onnxruntime-node CPU (2 and 1 threads, a child process each), onnxruntime-web WASM in Chromium (1 thread; 2 threads
// on a COOP/COEP page) and WebGPU on Chromium's SwiftShader (software: one correctness run, no speed claim).
// One run = one 192×192 tile (image [1,3,192,192] + token mask [1,48,48]). Per-run ms, peak memory, GMAC from the
// graph, output differences to onnxruntime-node. Written to bench/results/inpaint.{json,md}.
// Env: BENCH_INPAINT_MODELS=DIR exports into DIR and reuses what is there (kept; for reruns while debugging),
// BENCH_INPAINT_TARGETS=node-2,node-1,wasm-1,wasm-2,webgpu, BENCH_INPAINT_WEBGPU_MIN=<minutes> caps the WebGPU run
// (default 6; 0 skips it).
// BENCH_RESULTS_DIR=DIR writes the results into DIR instead of bench/results (every bench; smoke runs).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planTiles } from '../worker/image/tiling.ts';
import { Rng } from '../worker/random.ts';
import { environment, duration } from './common/report.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { benchSeconds, log } from './common/log.ts';
import { benchFolders, withBenchPage } from './common/session.ts';
import { ALL_TARGETS, type TargetId } from './common/targets.ts';
import { benchAll, type BenchModel, type Row } from './common/feed-bench/driver.ts';
import { countMacs, exportRandomModel } from './common/export.ts';
import { writeSpeedReport, type ModelInfo } from './common/feed-bench/report.ts';
import { benchServer } from './common/feed-bench/serve.ts';
import type { FeedFile } from './common/feed-bench/spec.ts';
import { READY } from './common/feed-bench/targets.ts';
import { parseCli } from '../server/cli-args.ts';

// Arguments are checked first: this bench takes none (its settings come from the environment).
parseCli('npm run bench:inpaint (no options; by environment: BENCH_INPAINT_MODELS=DIR, BENCH_INPAINT_TARGETS=…, BENCH_INPAINT_WEBGPU_MIN, BENCH_RESULTS_DIR=DIR)', {});

const MODEL_ID = 'simmim-swin-base-192';
const SIZE = 192;
const TOKENS = 48;
const CELL_TOKENS = 8; // a 32-px mask cell = 8×8 tokens of 4 px
const HIDDEN_CELLS = 22; // ceil(0.6 · 36): SimMIM's training mask ratio
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

const CHECKPOINT_PY = `
import sys, torch
import simmim
torch.manual_seed(0)
model = simmim.build(sys.argv[1], False)
simmim.randomize(model)
torch.save({'model': model.state_dict()}, sys.argv[2])
`;
const CHECKPOINT = "random {'model': state_dict} from simmim.build + simmim.randomize (seed 0), official key layout";

const TIMED: Record<TargetId, number> = { 'node-2': 5, 'node-1': 3, 'wasm-1': 3, 'wasm-2': 3, webgpu: 0 };

/** A smooth random RGB tile in [0, 1] (bilinear upsampling of a 12×12 random field), ImageNet-normalised, NCHW. */
function imageFeed(rng: Rng): Float32Array {
  const coarse = Array.from({ length: 3 * 13 * 13 }, () => rng.uniform());
  const out = new Float32Array(3 * SIZE * SIZE);
  const step = SIZE / 12;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < SIZE; y++) {
      const fy = y / step;
      const y0 = Math.floor(fy);
      const ty = fy - y0;
      for (let x = 0; x < SIZE; x++) {
        const fx = x / step;
        const x0 = Math.floor(fx);
        const tx = fx - x0;
        const at = (yy: number, xx: number) => coarse[c * 169 + yy * 13 + xx];
        const v = (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x0 + 1)) + ty * ((1 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1));
        out[c * SIZE * SIZE + y * SIZE + x] = (v - MEAN[c]) / STD[c];
      }
    }
  }
  return out;
}

/** SimMIM's training mask: HIDDEN_CELLS of the 6×6 32-px cells hidden (1), repeated to the 48×48 token grid. */
function maskFeed(rng: Rng): Float32Array {
  const cells = Array.from({ length: 36 }, (_, i) => i);
  for (let i = cells.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [cells[i], cells[j]] = [cells[j], cells[i]];
  }
  const hidden = new Set(cells.slice(0, HIDDEN_CELLS));
  const out = new Float32Array(TOKENS * TOKENS);
  for (let r = 0; r < TOKENS; r++) {
    for (let c = 0; c < TOKENS; c++) out[r * TOKENS + c] = hidden.has(Math.floor(r / CELL_TOKENS) * 6 + Math.floor(c / CELL_TOKENS)) ? 1 : 0;
  }
  return out;
}

function writeFeeds(dir: string): FeedFile[] {
  const rng = new Rng(1);
  const feeds: [FeedFile, Float32Array][] = [
    [{ name: 'image', dtype: 'float32', dims: [1, 3, SIZE, SIZE], file: 'simmim-image.f32' }, imageFeed(rng)],
    [{ name: 'mask', dtype: 'float32', dims: [1, TOKENS, TOKENS], file: 'simmim-mask.f32' }, maskFeed(rng)],
  ];
  for (const [f, data] of feeds) writeFileSync(join(dir, f.file), new Uint8Array(data.buffer));
  return feeds.map(([f]) => f);
}

function meaning(rows: Row[]): string[] {
  const at = (t: TargetId) => rows.find((r) => r.target === t && r.medianMs !== undefined);
  const tiles = (w: number, h: number) => planTiles(w, h, SIZE, 64).tiles.length;
  const out: string[] = [];
  const n2 = at('node-2');
  const w1 = at('wasm-1');
  const w2 = at('wasm-2');
  const n1 = at('node-1');
  if (n2 && w1) {
    out.push(`**One 192×192 tile**: ${duration(w1.medianMs)} in the plugin's single-threaded WASM, ${w2 ? `${duration(w2.medianMs)} with 2 wasm threads, ` : ''}${duration(n2.medianMs)} on the local companion server (onnxruntime-node, 2 threads)${n1 ? `; with 1 thread each, WASM is ${(w1.medianMs! / n1.medianMs!).toFixed(1)}× slower than native` : ''}.`);
    for (const [w, h] of [[512, 512], [1024, 1024]]) {
      const n = tiles(w, h);
      out.push(`A ${w}×${h} image tiled at 192 px with 64 px overlap is ${n} tiles: ≈${duration(w1.medianMs! * n)} on WASM-1, ≈${duration(n2.medianMs! * n)} on node 2 threads if every tile runs (estimated: median tile × tiles); an inpaint task that runs only the tiles touching the mask pays for those alone, and a hole that fits one tile costs one run.`);
    }
  }
  for (const [two, one] of [[n2, n1], [w2, w1]]) {
    if (two && one && two.medianMs! > one.medianMs!) {
      out.push(`**${two.runtime} was slower than 1 thread** (${duration(two.medianMs)} vs ${duration(one.medianMs)}; CPU ${two.medianCpuMs?.toFixed(0) ?? '–'} ms per run, load ${two.loadAverage?.map((l) => l.toFixed(1)).join('→')}): the second thread found no free core on this shared 2-core machine. Compare the 1-thread rows for a like-for-like ratio.`);
    }
  }
  const gpu = rows.find((r) => r.target === 'webgpu');
  if (gpu) out.push(gpu.failed ? `WebGPU (SwiftShader): ${gpu.failed}. Its speed on a real GPU is not measured here.` : 'WebGPU on SwiftShader is only a correctness check (output difference in the table); its speed on a real GPU is not measured by this bench.');
  out.push('The weights are random: the times and memory are those of the real Swin-B (same graph, same shapes), the reconstructions are noise. Inpainting quality is measured separately (bench/results/inpaint-quality.md).');
  return out;
}

async function main() {
  const targets = process.env.BENCH_INPAINT_TARGETS ? (process.env.BENCH_INPAINT_TARGETS.split(',') as TargetId[]) : ALL_TARGETS;
  const webgpuMinutes = Number(process.env.BENCH_INPAINT_WEBGPU_MIN ?? 6);
  const folders = benchFolders(process.env.BENCH_INPAINT_MODELS, 'frontier-inpaintbench');
  const { models: modelDir, work } = folders;
  const feedsDir = join(work, 'feeds');
  mkdirSync(feedsDir);
  await folders.use(async () => {
    const exported = await exportRandomModel(MODEL_ID, CHECKPOINT_PY, CHECKPOINT, modelDir, log);
    const feeds = writeFeeds(feedsDir);
    const macs = await countMacs(exported.onnxPath, { image: [1, 3, SIZE, SIZE], mask: [1, TOKENS, TOKENS] });
    log(`${MODEL_ID}: ${(macs.macs / 1e9).toFixed(1)} GMAC per tile${macs.uncounted.length ? ` (${macs.uncounted.length} nodes uncounted)` : ''}`);
    const model: BenchModel = {
      spec: { id: MODEL_ID, card: exported.card, modelFile: exported.card.files[0].name, feeds },
      macs: macs.macs,
      plan(target) {
        if (target === 'webgpu') {
          return webgpuMinutes > 0
            ? { timedRuns: 0, checkRuns: 1, timeoutMs: webgpuMinutes * 60_000 }
            : { skip: 'BENCH_INPAINT_WEBGPU_MIN=0', timedRuns: 0, checkRuns: 0, timeoutMs: 0 };
        }
        return { timedRuns: TIMED[target], checkRuns: 0, timeoutMs: 15 * 60_000 };
      },
    };
    await withBenchPage(() => benchServer({ models: modelDir, feeds: feedsDir, outputs: join(work, 'uploads') }), targets, READY, async ({ url, chromium, baselines }) => {
      const rows = await benchAll([model], targets, { models: modelDir, feeds: feedsDir, work }, url, log);
      const models: ModelInfo[] = [{
        id: MODEL_ID,
        files: exported.card.files.map((f) => ({ name: f.name, bytes: statSync(join(modelDir, f.name)).size })),
        checkpoint: exported.checkpoint,
        exportSeconds: exported.exportSeconds,
        macsPerRun: macs.macs,
        macsByOp: macs.byOp,
        macsUncounted: macs.uncounted.length,
        runUnit: 'one 192×192 tile at batch 1 (image [1,3,192,192] + token mask [1,48,48])',
        input: `a smooth random RGB tile (seeded), ImageNet-normalised; SimMIM's training mask (${HIDDEN_CELLS} of 36 32-px cells hidden, seeded)`,
      }];
      const durationSeconds = benchSeconds();
      const report = {
        title: 'Inpainting benchmark: SimMIM Swin-B 192, full size, random weights',
        when: new Date().toISOString(),
        durationSeconds,
        partial: targets.length < ALL_TARGETS.length,
        environment: environment(chromium, folders.loadStart, baselines),
        models,
        rows,
        webgpuMinutes,
        notes: [
          'Same ONNX file and the same input bytes on every target, exported at bench time by models/export/export.py from a random checkpoint with the official key layout (never committed). The weights are random, scaled as simmim.randomize does (unit-gain layers, so activations stay O(1) like trained ones): time and memory do not depend on the weight values.',
          'Sessions through the product runtimes (worker/runtime/ort-node.ts with intraOpNumThreads 1 or 2, in a child process per row; ort-web.ts in a Web Worker, as the plugin runs). One untimed warm-up run, then the median of the timed runs; "ms per run" times `session.run` including tensor wrapping.',
          '"CPU ms per run" = CPU time of the whole process (all threads) over each timed run, median: Node from `process.cpuUsage()`, Chromium from the renderer\'s /proc/PID/stat sampled every 200 ms. For 2-thread rows CPU ≈ 2 × wall means both threads were busy. "load" = the 1-minute load average at the row\'s start → end: above ≈2 other processes competed for the 2 cores.',
          `Peak memory: Node = the child's maxRSS (a child that only loads onnxruntime-node: ${baselines.nodeBytes ? `${(baselines.nodeBytes / 2 ** 20).toFixed(0)} MiB` : 'not measured'}). Chromium = VmHWM (peak RSS) of the renderer process that holds the page and its worker, fresh browser per row (the bench page before loading a model: ${baselines.rendererBytes ? `${(baselines.rendererBytes / 2 ** 20).toFixed(0)} MiB` : 'not measured'}); it includes the fetched model bytes and the wasm heap. WebGPU: the GPU process (SwiftShader) peak too. "page estimate" = performance.measureUserAgentSpecificMemory() on the cross-origin-isolated page.`,
          'GMAC counted from the exported graph at batch 1 (MatMul/Gemm/Conv output shapes × reduction size; bench/generation/macs.py), elementwise ops, softmax and norms not counted.',
          `WebGPU is Chromium's SwiftShader (a CPU implementation of Vulkan): one run of the same input (${webgpuMinutes} min cap), compared with onnxruntime-node; its time includes shader compilation and says nothing about a real GPU.`,
          'Output differences: max |target − onnxruntime-node 2 threads| of the reconstruction, in ImageNet-normalised units (one 8-bit level ≈ 0.017 of them).',
        ],
        meaning: meaning(rows),
      };
      await writeResults('inpaint', resultsJson({ ...report, notes: undefined, meaning: undefined }), writeSpeedReport(report), durationSeconds);
    });
  });
}

runMain(main);
