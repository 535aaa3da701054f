// bench:webgpu — WebGPU as it would run on a real graphics card, and the server's native runtimes beside it.
// Per model: session creation, the first run (on WebGPU: shader compilation and pipeline creation happen there) and
// steady runs; float32 weights against fp16 weights (models/convert/fp16.ts), with the output difference; WebGPU with
// and without GPU-resident feeds (worker/runtime/ort-web-resident.ts); onnxruntime-node on the CPU, and on CUDA where
// its CUDA provider is installed. The variants of one model run one after another in alternating order per round.
//
// Here (no GPU) Chromium's WebGPU is SwiftShader, a software imitation ≈100× slower than WASM: its figures check
// correctness and show shape only, inputs are shrunk, and MAXIM stays out of the browser. On a machine with a GPU,
// bench/gpu/run-on-device.sh runs this with BENCH_WEBGPU_GPU=1 (Chromium on the real adapter, full tile sizes).
//
// Options (environment): BENCH_WEBGPU_GPU=1 (real adapter: Vulkan flags, full sizes), BENCH_WEBGPU_MODELS=a,b (ids
// below), BENCH_WEBGPU_ROUNDS (default 1; 2 on a GPU), BENCH_WEBGPU_RUNS (runs per variant, default 3; 6 on a GPU),
// BENCH_WEBGPU_NO_BROWSER=1 (native runtimes only), BENCH_WEBGPU_NODE_WEBGPU=1 (also onnxruntime-node's WebGPU
// provider), BENCH_RESULTS_DIR (where webgpu.json/.md go).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import './../worker/runtime/no-telemetry.mjs';
import * as ort from 'onnxruntime-node';
import type { Browser, Page } from 'playwright-core';
import { loadPhoto } from '../test/node/helpers.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../worker/platform-node.ts';
import { cudaLibraryPath } from '../worker/runtime/ort-node.ts';
import type { ModelCard } from '../worker/models/card.ts';
import { toFp16Weights } from '../models/convert/fp16.ts';
import { median } from './common/stats.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { parseCli } from '../server/cli-args.ts';
import type { DiffusionRun, ModelRun, PlainTensor, WebGpuBenchApi } from './gpu/webgpu-entry.ts';

const GPU = process.env.BENCH_WEBGPU_GPU === '1';
const ROUNDS = Number(process.env.BENCH_WEBGPU_ROUNDS ?? (GPU ? 2 : 1));
const RUNS = Number(process.env.BENCH_WEBGPU_RUNS ?? (GPU ? 6 : 3));
const NO_BROWSER = process.env.BENCH_WEBGPU_NO_BROWSER === '1';

type Feeds = Record<string, PlainTensor>;
interface BenchModel {
  id: string;
  /** The feeds: a real photo crop for the image models, seeded values for the generators. */
  feeds(): Promise<Feeds>;
  /** Whether the browser runs it (MAXIM at 128 px takes many minutes on SwiftShader). */
  browser: boolean;
  /** The output's value range, for PSNR (image outputs); absent: max abs only. */
  range?: [number, number];
}

/** A seeded stream in [−1, 1) (same inputs every run and every machine). */
function seeded(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** `size`² pixels of chelsea.png from (x, y) as NHWC float32 [1, size, size, 3] in 0..scale. */
async function photoCrop(size: number, scale: number): Promise<PlainTensor> {
  const photo = await loadPhoto('chelsea.png');
  const data: number[] = [];
  const x0 = 180, y0 = 60;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) data.push((photo.data[((y0 + y) * photo.width + x0 + x) * 4 + c] / 255) * scale);
  return { dtype: 'float32', dims: [1, size, size, 3], data };
}

const ESRGAN_TILE = GPU ? 128 : 24;
const MODELS: BenchModel[] = [
  { id: 'esrgan-slim-x2', browser: true, range: [0, 255], feeds: async () => ({ input: await photoCrop(ESRGAN_TILE, 255) }) },
  { id: 'esrgan-medium-x2', browser: true, range: [0, 255], feeds: async () => ({ input: await photoCrop(ESRGAN_TILE, 255) }) },
  { id: 'esrgan-thick-x2', browser: true, range: [0, 255], feeds: async () => ({ input: await photoCrop(GPU ? 128 : 16, 255) }) },
  { id: 'maxim-denoise', browser: GPU, range: [0, 1], feeds: async () => ({ input: await photoCrop(128, 1) }) },
  { id: 'styleswin-ffhq-256-tiny', browser: true, range: [0, 1], feeds: async () => ({ z: { dtype: 'float32', dims: [1, 32], data: seeded(32, 1) }, truncation: { dtype: 'float32', dims: [1], data: [0.7] } }) },
  {
    id: 'gram-ffhq-256-tiny', browser: true, range: [-1, 1],
    feeds: async () => {
      const rays = GPU ? 64 * 64 : 16 * 16;
      const dirs = seeded(rays * 3, 3).map((v, i) => (i % 3 === 2 ? -1 : v * 0.2));
      return {
        z: { dtype: 'float32', dims: [1, 256], data: seeded(256, 2) },
        truncation: { dtype: 'float32', dims: [1], data: [0.7] },
        ray_origins: { dtype: 'float32', dims: [1, rays, 3], data: Array.from({ length: rays * 3 }, (_, i) => (i % 3 === 2 ? 2.7 : 0)) },
        ray_directions: { dtype: 'float32', dims: [1, rays, 3], data: dirs },
      };
    },
  },
  {
    id: 'simmim-swin-base-192-tiny', browser: true, range: [0, 1],
    feeds: async () => ({
      image: { dtype: 'float32', dims: [1, 3, 192, 192], data: seeded(3 * 192 * 192, 4) },
      mask: { dtype: 'float32', dims: [1, 48, 48], data: Array.from({ length: 48 * 48 }, (_, i) => (i % 7 < 3 ? 1 : 0)) },
    }),
  },
  { id: 'vqdiffusion-ithq-decoder-tiny', browser: true, range: [-1, 1], feeds: async () => ({ tokens: { dtype: 'int64', dims: [1, 64], data: Array.from({ length: 64 }, (_, i) => (i * 37) % 64) } }) },
];
/** The VQ-Diffusion loop (text encoder once, the transformer at every step): GPU-resident condition on and off. */
const DIFFUSION = { text: 'vqdiffusion-ithq-text-tiny', transformer: 'vqdiffusion-ithq-transformer-tiny', steps: GPU ? 50 : 8 };
const PROMPT_IDS = [49406, 320, 1929, 3095, 49407, ...Array(72).fill(0)];

const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as { models: ModelCard[] };
const cardOf = (id: string) => registry.models.find((m) => m.id === id) ?? (() => { throw new Error(`${id} is not in models/registry.json`); })();
const graphFile = (card: ModelCard) => card.files.find((f) => f.name.endsWith('.onnx'))!.name;
const externalFile = (card: ModelCard) => card.files.find((f) => f.kind === 'onnx-external-data')?.name;

// ---------------------------------------------------------------------------------------------------------------
// Output differences

export interface Difference {
  maxAbs: number;
  /** 10·log10(range² / MSE), in dB; Infinity when equal. */
  psnr?: number;
}

function difference(a: ArrayLike<number>, b: ArrayLike<number>, range?: [number, number]): Difference {
  if (a.length !== b.length) return { maxAbs: NaN };
  let worst = 0, sq = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = d;
    sq += d * d;
  }
  if (!range) return { maxAbs: worst };
  const span = range[1] - range[0];
  return { maxAbs: worst, psnr: sq === 0 ? Infinity : 10 * Math.log10((span * span) / (sq / a.length)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Native runtimes: onnxruntime-node CPU (every core), CUDA where installed

interface Timing {
  createMs: number;
  firstRunMs: number;
  steadyMs: number;
}

interface NativeRow extends Timing {
  model: string;
  runtime: string;
  weights: 'fp32' | 'fp16';
  fileBytes: number;
  /** fp16 only: the output against fp32 on the same runtime. */
  vsFp32?: Difference;
}

async function nativeRun(model: Uint8Array | string, providers: string[], feeds: Feeds): Promise<Timing & { output: Float32Array }> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model as Uint8Array, { executionProviders: providers, graphOptimizationLevel: 'all' });
  const createMs = performance.now() - t0;
  const tensors = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(t.data, (v) => BigInt(v)), t.dims) : new ort.Tensor('float32', Float32Array.from(t.data), t.dims)]));
  const times: number[] = [];
  let output: Float32Array | undefined;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const out = await session.run(tensors);
    times.push(performance.now() - t);
    output = out[session.outputNames[0]].data as Float32Array;
  }
  await session.release();
  return { createMs, firstRunMs: times[0], steadyMs: median(times.slice(1)), output: output! };
}

// ---------------------------------------------------------------------------------------------------------------
// The browser

// The browser's modules load only when the browser runs: the GPU machine's bundle runs without them
// (bench/gpu/pack.sh).
async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const { CHROMIUM_ARGS, findChromium } = await import('../test/browser.ts');
  const webgpu = GPU
    // The real adapter through Vulkan, headless (no display): Dawn on the NVIDIA Vulkan driver.
    ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan', '--use-angle=vulkan', '--use-vulkan=native', '--ignore-gpu-blocklist', '--disable-vulkan-surface', '--enable-gpu']
    : ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader'];
  const extra = process.env.BENCH_CHROMIUM_ARGS?.split(' ').filter(Boolean) ?? [];
  return chromium.launch({ executablePath: findChromium(), headless: true, args: [...CHROMIUM_ARGS, ...webgpu, ...extra] });
}

interface BrowserRow extends Timing {
  model: string;
  weights: 'fp32' | 'fp16';
  resident: boolean;
  adapter: string;
  reused?: number;
  vsFp32?: Difference;
  vsNativeCpu?: Difference;
}

function timing(r: { createMs: number; firstRunMs: number; steadyMs: number[] }): Timing {
  return { createMs: r.createMs, firstRunMs: r.firstRunMs, steadyMs: r.steadyMs.length ? median(r.steadyMs) : NaN };
}

const ENV_NAMES = 'BENCH_WEBGPU_GPU, BENCH_WEBGPU_MODELS, BENCH_WEBGPU_NODE_WEBGPU, BENCH_WEBGPU_NO_BROWSER, BENCH_WEBGPU_REPORT_FROM, BENCH_WEBGPU_ROUNDS, BENCH_WEBGPU_RUNS';
const USAGE = `bench:webgpu (no options; settings in the environment: ${ENV_NAMES})`;

async function main(): Promise<void> {
  parseCli(USAGE, {}); // strict: an option or argument is a usage error (exit 2), as every bench entry
  const started = performance.now();
  const load0 = loadavg();
  const wanted = process.env.BENCH_WEBGPU_MODELS?.split(',').filter(Boolean);
  const models = MODELS.filter((m) => !wanted || wanted.includes(m.id));
  const work = mkdtempSync(join(tmpdir(), 'bench-webgpu-'));

  // fp16 copies of every model, written where the page server finds them.
  const fp16Bytes = new Map<string, Uint8Array>();
  const fp32Bytes = (id: string) => readFileSync(join(MODEL_FILES_DIR, graphFile(cardOf(id))));
  for (const id of [...models.map((m) => m.id), ...(wanted && !wanted.includes(DIFFUSION.transformer) ? [] : [DIFFUSION.text, DIFFUSION.transformer])]) {
    const card = cardOf(id);
    const ext = externalFile(card);
    const converted = toFp16Weights(fp32Bytes(id), { externalData: () => readFileSync(join(MODEL_FILES_DIR, ext!)) });
    fp16Bytes.set(id, converted.model);
    writeFileSync(join(work, `fp16-${graphFile(card)}`), converted.model);
    console.log(`${id}: ${converted.converted} weights stored as fp16, ${converted.kept.length} kept float32; weights ${(converted.weightBytesBefore / 2 ** 20).toFixed(1)} → ${(converted.weightBytesAfter / 2 ** 20).toFixed(1)} MiB`);
  }

  // Native: CPU, and CUDA when onnxruntime-node's CUDA provider is installed.
  const cuda = cudaLibraryPath();
  const nativeProviders: [string, string[]][] = [
    ['ort-node/cpu', ['cpu']],
    ...(cuda && existsSync(cuda) ? [['ort-node/cuda', ['cuda']] as [string, string[]]] : []),
    // onnxruntime-node's own WebGPU provider (Dawn on Vulkan; needs VK_ICD_FILENAMES and a Vulkan loader): WebGPU
    // kernels on the real GPU where no Chromium can run (the GPU machine).
    ...(process.env.BENCH_WEBGPU_NODE_WEBGPU === '1' ? [['ort-node/webgpu (Dawn)', ['webgpu']] as [string, string[]]] : []),
  ];
  const native: NativeRow[] = [];
  const failures: { model: string; runtime: string; weights: string; error: string }[] = [];
  const cpuOutputs = new Map<string, Float32Array>();
  const feedsOf = new Map<string, Feeds>();
  for (const m of models) {
    const feeds = await m.feeds();
    feedsOf.set(m.id, feeds);
    const card = cardOf(m.id);
    const ext = externalFile(card);
    const fp32: Uint8Array | string = ext ? join(MODEL_FILES_DIR, graphFile(card)) : fp32Bytes(m.id);
    const fileBytes32 = fp32Bytes(m.id).byteLength + (ext ? readFileSync(join(MODEL_FILES_DIR, ext)).byteLength : 0);
    for (const [runtime, providers] of nativeProviders) {
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 ? (['fp16', 'fp32'] as const) : (['fp32', 'fp16'] as const);
        const outs: Partial<Record<'fp32' | 'fp16', Float32Array>> = {};
        for (const weights of order) {
          // A provider that cannot start here (no Vulkan driver for Dawn, say) is reported, not fatal.
          const r = await nativeRun(weights === 'fp32' ? fp32 : fp16Bytes.get(m.id)!, providers, feeds).catch((err: Error) => {
            console.log(`${m.id} ${runtime} ${weights}: failed: ${err.message.split('\n')[0]}`);
            failures.push({ model: m.id, runtime, weights, error: err.message.split('\n')[0] });
            return null;
          });
          if (!r) continue;
          outs[weights] = r.output;
          native.push({ model: m.id, runtime, weights, fileBytes: weights === 'fp32' ? fileBytes32 : fp16Bytes.get(m.id)!.byteLength, createMs: r.createMs, firstRunMs: r.firstRunMs, steadyMs: r.steadyMs });
          console.log(`${m.id} ${runtime} ${weights}: create ${r.createMs.toFixed(0)} ms, first ${r.firstRunMs.toFixed(0)} ms, steady ${r.steadyMs.toFixed(1)} ms`);
        }
        const last16 = native.filter((n) => n.model === m.id && n.runtime === runtime && n.weights === 'fp16').at(-1);
        if (last16 && outs.fp32 && outs.fp16) last16.vsFp32 = difference(outs.fp32, outs.fp16, m.range);
        if (runtime === 'ort-node/cpu' && outs.fp32) cpuOutputs.set(m.id, outs.fp32);
      }
    }
  }

  const browserRows: BrowserRow[] = [];
  const diffusionRows: (Timing & { resident: boolean; weights: string; adapter: string; steps: number; reused?: number; sameTokens?: boolean; logProbsVsUploaded?: number })[] = [];
  let adapter = 'not run';
  if (!NO_BROWSER) {
    const { serveBenchPage } = await import('./common/serve.ts');
    const { server, url } = await serveBenchPage({
      entry: join(REPO_ROOT, 'bench', 'gpu', 'webgpu-entry.ts'),
      file: (rel) => (rel.startsWith('/models/files/') ? join(MODEL_FILES_DIR, basename(rel)) : rel.startsWith('/fp16/') ? join(work, basename(rel)) : null),
    });
    const browser = await launch();
    try {
      // Each variant in a fresh page (a fresh worker, wasm and WebGPU device): its warm-up pays its own shader
      // compilation instead of finding the previous variant's pipelines in onnxruntime-web's cache.
      const call = async <K extends keyof WebGpuBenchApi>(method: K, ...args: Parameters<WebGpuBenchApi[K]>) => {
        const page: Page = await browser.newPage();
        try {
          page.setDefaultTimeout(0);
          page.on('console', (m) => console.log(`[page] ${m.text()}`));
          await page.goto(`${url}/`);
          await page.waitForFunction(() => 'webgpuBench' in globalThis, undefined, { timeout: 60_000 });
          return (await page.evaluate(([m, a]) => (globalThis as unknown as { webgpuBench: Record<string, (...x: unknown[]) => Promise<unknown>> }).webgpuBench[m](...a), [method, args] as const)) as Awaited<ReturnType<WebGpuBenchApi[K]>>;
        } finally {
          await page.close();
        }
      };
      const urlOf = (card: ModelCard, weights: 'fp32' | 'fp16') => (weights === 'fp32' ? `${url}/models/files/${graphFile(card)}` : `${url}/fp16/fp16-${graphFile(card)}`);

      for (const m of models.filter((x) => x.browser)) {
        const card = cardOf(m.id);
        const ext = externalFile(card);
        const variants = [['fp32', false], ['fp32', true], ['fp16', false], ['fp16', true]] as const;
        for (let round = 0; round < ROUNDS; round++) {
          const outs = new Map<string, number[]>();
          for (const [weights, resident] of round % 2 ? [...variants].reverse() : variants) {
            const external = weights === 'fp32' && ext ? { path: ext, url: `${url}/models/files/${ext}` } : undefined;
            const r: ModelRun = await call('model', card, urlOf(card, weights), 'webgpu', resident, feedsOf.get(m.id)!, RUNS, external);
            adapter = r.adapter;
            outs.set(`${weights}/${resident}`, r.output);
            browserRows.push({ model: m.id, weights, resident, adapter: r.adapter, ...timing(r), reused: r.resident?.reused, vsNativeCpu: difference(r.output, cpuOutputs.get(m.id)!, m.range) });
            console.log(`${m.id} webgpu ${weights}${resident ? ' resident' : ''}: create ${r.createMs.toFixed(0)} ms, first ${r.firstRunMs.toFixed(0)} ms, steady ${timing(r).steadyMs.toFixed(1)} ms`);
          }
          for (const row of browserRows.slice(-4)) if (row.weights === 'fp16') row.vsFp32 = difference(outs.get(`fp16/${row.resident}`)!, outs.get(`fp32/${row.resident}`)!, m.range);
        }
      }

      if (!wanted || wanted.includes(DIFFUSION.transformer)) {
        const parts = { text: cardOf(DIFFUSION.text), transformer: cardOf(DIFFUSION.transformer) };
        const nullText = `${url}/models/files/${parts.transformer.files.find((f) => f.kind === 'null-text-embedding')!.name}`;
        for (let round = 0; round < ROUNDS; round++) {
          const runs: DiffusionRun[] = [];
          for (const resident of round % 2 ? [true, false] : [false, true]) {
            const r = await call('diffusion', parts, { text: urlOf(parts.text, 'fp32'), transformer: urlOf(parts.transformer, 'fp32'), nullText }, 'webgpu', resident, PROMPT_IDS, { steps: DIFFUSION.steps, guidance: 5, seed: 1 });
            runs.push(r);
            diffusionRows.push({ resident, weights: 'fp32', adapter: r.adapter, steps: DIFFUSION.steps, ...timing(r), reused: r.resident?.reused });
            console.log(`VQ-Diffusion loop webgpu${resident ? ' resident' : ''}: first step ${r.firstRunMs.toFixed(0)} ms, steady ${timing(r).steadyMs.toFixed(1)} ms/step`);
          }
          const [a, b] = runs;
          const row = diffusionRows.at(-1)!;
          row.sameTokens = a.tokens.join() === b.tokens.join();
          row.logProbsVsUploaded = difference(a.logProbs, b.logProbs).maxAbs;
        }
      }
    } finally {
      await browser.close();
      server.close();
    }
  }

  const environment = {
    date: new Date().toISOString(),
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    loadAverageStart: load0,
    loadAverageEnd: loadavg(),
    adapter,
    software: /software adapter|swiftshader/i.test(adapter),
    gpuMode: GPU,
    rounds: ROUNDS,
    runsPerVariant: RUNS,
    nativeRuntimes: nativeProviders.map(([n]) => n),
  };
  await writeResults('webgpu', resultsJson({ environment, native, failures, browser: browserRows, diffusion: diffusionRows }), report(environment, native, browserRows, diffusionRows, failures), (performance.now() - started) / 1000);
}

// ---------------------------------------------------------------------------------------------------------------
// The report

const wrong = (d?: Difference) => !!d && (d.maxAbs === null || Number.isNaN(d.maxAbs) || (typeof d.psnr === 'number' && d.psnr < 40));
const ms = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–');
const diffText = (d?: Difference) => (!d ? '' : `${d.maxAbs.toPrecision(2)}${d.psnr === undefined ? '' : ` / ${Number.isFinite(d.psnr) ? d.psnr.toFixed(1) : '∞'} dB`}`);

function report(env: Record<string, unknown>, native: NativeRow[], browser: BrowserRow[], diffusion: { resident: boolean; steps: number; createMs: number; firstRunMs: number; steadyMs: number; reused?: number; sameTokens?: boolean; logProbsVsUploaded?: number; adapter: string }[], failures: { model: string; runtime: string; weights: string; error: string }[]): string {
  const lines: string[] = ['# bench:webgpu', ''];
  lines.push(`Run ${env.date} on ${env.cpus}; load average ${(env.loadAverageStart as number[]).map((v) => v.toFixed(1)).join(' ')} at the start, ${(env.loadAverageEnd as number[]).map((v) => v.toFixed(1)).join(' ')} at the end.`);
  lines.push(`WebGPU adapter: ${env.adapter}. ${env.software ? '**SwiftShader (software WebGPU, no GPU on this machine): the browser figures check correctness and show relative shape only, never speed.** Inputs are shrunk (ESRGAN tiles 24 px, thick 16 px; GRAM 16² rays; 8 diffusion steps) and MAXIM is left out of the browser.' : 'A real GPU.'}`);
  lines.push(`Rounds ${env.rounds} (variants in alternating order), ${env.runsPerVariant} runs per variant: steady = median of runs 2…${env.runsPerVariant}. Native runtimes: ${(env.nativeRuntimes as string[]).join(', ')} (onnxruntime-node, every core).`, '');

  lines.push('## fp16 weights: output difference against float32', '');
  lines.push('Weights stored as float16 behind Cast nodes (models/convert/fp16.ts); inputs, outputs and arithmetic stay float32. Max abs difference / PSNR in the output\'s own range (0–255 for ESRGAN, 0–1 or −1–1 for the others), same runtime, same input.', '');
  lines.push('| model | file fp32 → fp16 | ort-node CPU: max abs / PSNR | WebGPU: max abs / PSNR |', '|---|---|---|---|');
  for (const id of [...new Set(native.map((n) => n.model))]) {
    const f32 = native.find((n) => n.model === id && n.weights === 'fp32')!;
    const f16 = native.filter((n) => n.model === id && n.weights === 'fp16' && n.runtime === 'ort-node/cpu').at(-1)!;
    const gpu = browser.filter((b) => b.model === id && b.weights === 'fp16' && b.vsFp32).at(-1);
    lines.push(`| ${id} | ${(f32.fileBytes / 2 ** 20).toFixed(1)} → ${(f16.fileBytes / 2 ** 20).toFixed(1)} MiB | ${diffText(f16.vsFp32)} | ${gpu ? diffText(gpu.vsFp32) : 'not run'} |`);
  }
  lines.push('');

  lines.push('## Native runtimes (ms)', '', '| model | runtime | weights | create | first run | steady run |', '|---|---|---|---|---|---|');
  for (const n of native) lines.push(`| ${n.model} | ${n.runtime} | ${n.weights} | ${ms(n.createMs)} | ${ms(n.firstRunMs)} | ${ms(n.steadyMs)} |`);
  for (const f of failures) lines.push(`| ${f.model} | ${f.runtime} | ${f.weights} | failed: ${f.error.replace(/\|/g, '/')} | | |`);
  lines.push('');
  const dawn = native.filter((n) => n.runtime.includes('webgpu'));
  if (dawn.length) lines.push('onnxruntime-node/webgpu is onnxruntime\'s own WebGPU provider (Dawn, native), not the browser\'s: same kind of WGSL kernels, no browser around them.', '');

  if (browser.length) {
    lines.push('## WebGPU in Chromium (ms)', '', 'Each variant runs in a fresh page (worker, wasm, WebGPU device). Create = session creation including the WebGPU device; first run = warm-up: WebGPU compiles its shaders and builds its pipelines there. "resident": feeds that repeat unchanged are kept on the GPU (here every run feeds the same input, so from run 3 on every input of ≥ 4 KiB is read from the GPU). Output vs ort-node CPU fp32: max abs / PSNR.', '');
    lines.push('| model | weights | resident | create | first run (warm-up) | steady run | warm-up − steady | GPU reuses | vs CPU fp32 |', '|---|---|---|---|---|---|---|---|---|');
    for (const b of browser) lines.push(`| ${b.model} | ${b.weights} | ${b.resident ? 'yes' : 'no'} | ${ms(b.createMs)} | ${ms(b.firstRunMs)} | ${ms(b.steadyMs)} | ${ms(b.firstRunMs - b.steadyMs)} | ${b.reused ?? '–'} | ${diffText(b.vsNativeCpu)}${wrong(b.vsNativeCpu) ? ' **wrong output**' : ''} |`);
    lines.push('');
    const broken = [...new Set(browser.filter((b) => wrong(b.vsNativeCpu)).map((b) => b.model))];
    if (broken.length) lines.push(`**Wrong output on this adapter: ${broken.join(', ')}** (below 40 dB against onnxruntime-node CPU). Look for WebGPU validation errors in the bench's log (e.g. a Concat of more inputs than the adapter's maxStorageBuffersPerShaderStage).`, '');
  }
  if (diffusion.length) {
    lines.push('## VQ-Diffusion loop on WebGPU (tiny, guided: the [text, null text] condition fed at every step)', '');
    lines.push('| resident condition | steps | transformer create | first step | steady step | GPU reuses | same tokens as uploaded | log_probs max abs vs uploaded |', '|---|---|---|---|---|---|---|---|');
    for (const d of diffusion) lines.push(`| ${d.resident ? 'yes' : 'no'} | ${d.steps} | ${ms(d.createMs)} | ${ms(d.firstRunMs)} | ${ms(d.steadyMs)} | ${d.reused ?? '–'} | ${d.sameTokens === undefined ? '' : d.sameTokens ? 'yes' : 'NO'} | ${d.logProbsVsUploaded ?? ''} |`);
    lines.push('');
  }
  lines.push(...RESIDENCY_NOTES);
  return lines.join('\n') + '\n';
}

/** Where the design lets tensors stay on the GPU, and where it does not (read from the tasks, issue 16 part 4). */
const RESIDENCY_NOTES = [
  '## Where tensors stay on the GPU, and where they cannot', '',
  '- **Weights**: on the GPU for the life of a session; the engine keeps one session per model and target, so tiles, steps and jobs reuse them.',
  '- **VQ-Diffusion text condition** ([text, null text], 2×77×512 float32 = 315 KB for ITHQ): the same at every one of the ~100 transformer steps. Kept on the GPU (worker/runtime/ort-web-resident.ts): uploaded at the second step, fed from the GPU after; equal outputs checked by test/e2e/webgpu-resident.test.ts.',
  '- **VQ-Diffusion log_probs**: read on the CPU at every step by design: the sampler (worker/diffusion/sampler.ts) applies guidance, truncation and seeded Gumbel noise in float64 so a seed gives the same tokens on every target; the new tokens go back as int64 (16 KB per step at ITHQ size) and change every step.',
  '- **Text encoder → transformer**: with guidance the encoder output is joined with the null text on the CPU, once per image (one 158 KB download); without guidance it is fed unchanged. preferredOutputLocation \'gpu-buffer\' would save that one download per image and would make tasks handle GPU tensors (against the runtime contract): not done.',
  '- **Decoder**: its input tokens come from the CPU sampler and its output becomes pixels (and previews) on the CPU.',
  '- **Tiles** (upscale, restore, inpaint): every tile feeds a different crop and its output is blended with its neighbours\' overlap on the CPU (weights per pixel): read back by design. A tile fed again (a repeated run) reuses its GPU copy.',
  '- **GRAM** (rotate view): the latent and truncation repeat at every tile but are 1 KB: below the 4 KiB at which residency pays; the rays differ per tile.',
  '- **StyleSwin**: one run per image; nothing repeats.',
  '',
];

// BENCH_WEBGPU_REPORT_FROM=webgpu.json: writes the markdown again from a run's JSON (after a change to the report).
const reportFrom = process.env.BENCH_WEBGPU_REPORT_FROM;
runMain(reportFrom
  ? async () => {
    const r = JSON.parse(readFileSync(reportFrom, 'utf8')) as { environment: Record<string, unknown>; native: NativeRow[]; failures?: Parameters<typeof report>[4]; browser: BrowserRow[]; diffusion: Parameters<typeof report>[3] };
    await writeResults('webgpu', resultsJson(r), report(r.environment, r.native, r.browser, r.diffusion, r.failures ?? []));
  }
  : main);
