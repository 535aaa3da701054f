// `npm run bench`: ESRGAN ×4 upscaling speed on every runtime, side by side in one run, written to
// bench/results/upscale.{json,md}. Runtimes: onnxruntime-node (CPU), onnxruntime-web WASM with 1 thread and with
// 2 threads (a COOP/COEP page), and WebGPU on Chromium's SwiftShader (software: correctness only, far slower
// than a real GPU). Ratios are to onnxruntime-node on the same model and input.
// Env for debugging one case: BENCH_ONLY=<input label prefix>, BENCH_BROWSER=wasm-1,wasm-2,webgpu, BENCH_DEBUG=1.
// BENCH_RESULTS_DIR=DIR writes the results into DIR instead of bench/results (every bench; smoke runs).
import type { Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, basename } from 'node:path';
import { cpus } from 'node:os';
import { Engine } from '../worker/engine.ts';
import { createNodePlatform, MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../worker/platform-node.ts';
import { crop, psnr, resizeBicubic } from '../worker/image/rgba.ts';
import { nodeCodec } from '../worker/image/codec-node.ts';
import type { RgbaImage } from '../worker/job.ts';
import { launchBrowser } from '../test/browser.ts';
import { serveBenchPage } from './common/serve.ts';
import { runMain, writeResults } from './common/results.ts';
import { parseCli } from '../server/cli-args.ts';

// Arguments are checked first: this bench takes none (its settings come from the environment).
parseCli('npm run bench:upscale (no options; by environment: BENCH_ONLY=<input label prefix>, BENCH_BROWSER=wasm-1,wasm-2,webgpu, BENCH_DEBUG=1, BENCH_RESULTS_DIR=DIR)', {});

interface Row {
  model: string;
  input: string;
  runtime: string;
  msPerMp: number;
  runMs: number;
  ratioToNode?: number;
  note?: string;
}

/** The bench page (bench/common/serve.ts) with the model registry and files as the plugin fetches them. */
function benchServer(): Promise<{ url: string; server: Server }> {
  return serveBenchPage({
    entry: join(REPO_ROOT, 'bench', 'browser-entry.ts'),
    file(rel) {
      if (rel === '/models/registry.json') return REGISTRY_PATH;
      if (rel.startsWith('/models/files/')) return join(MODEL_FILES_DIR, basename(rel));
      return null;
    },
  });
}

type BenchFn = (
  c: { model: string; scale: number; target: string; image: { width: number; height: number; data: number[] }; runs: number },
  threads: number,
) => Promise<{ loadMs: number; runMs: number[]; target: string; threads: number; isolated: boolean }>;

const mp = (img: RgbaImage) => (img.width * img.height) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const photo = await nodeCodec.decode(new Uint8Array(await readFile(join(REPO_ROOT, 'test', 'fixtures', 'images', 'astronaut.png'))));
  const cases: { model: string; image: RgbaImage; label: string; runs: number; browser: string[] }[] = [
    { model: 'esrgan-slim-x4', image: photo, label: '512×512 astronaut', runs: 2, browser: ['wasm-1', 'wasm-2'] },
    { model: 'esrgan-thick-x4', image: crop(photo, 192, 64, 128, 128), label: '128×128 crop', runs: 1, browser: ['wasm-1', 'wasm-2'] },
    { model: 'esrgan-slim-x4', image: crop(photo, 224, 96, 64, 64), label: '64×64 crop', runs: 1, browser: ['wasm-1', 'webgpu'] },
  ];
  if (process.env.BENCH_ONLY) cases.splice(0, cases.length, ...cases.filter((c) => c.label.startsWith(process.env.BENCH_ONLY!)));
  const rows: Row[] = [];
  const { url, server } = await benchServer();
  const browser = await launchBrowser({ webgpu: true });
  try {
    for (const c of cases) {
      const engine = new Engine(createNodePlatform());
      const job = { task: 'upscale', model: c.model, params: { scale: 4 }, image: c.image };
      await engine.run({ ...job, id: 'warm' });
      const times: number[] = [];
      for (let i = 0; i < c.runs; i++) {
        const t = performance.now();
        await engine.run({ ...job, id: `n${i}` });
        times.push(performance.now() - t);
      }
      const nodeMs = median(times);
      rows.push({ model: c.model, input: c.label, runtime: `onnxruntime-node CPU (${cpus().length} threads)`, runMs: nodeMs, msPerMp: nodeMs / mp(c.image), ratioToNode: 1 });
      console.log(`${c.model} ${c.label} node: ${nodeMs.toFixed(0)} ms`);

      for (const which of process.env.BENCH_BROWSER ? process.env.BENCH_BROWSER.split(',') : c.browser) {
        const page = await browser.newPage();
        page.setDefaultTimeout(0);
        if (process.env.BENCH_DEBUG) page.on('console', (m) => console.log(`[page] ${m.text()}`));
        if (process.env.BENCH_DEBUG) page.context().on('response', (r) => console.log(`[http] ${r.status()} ${r.url()}`));
        await page.goto(`${url}${which === 'wasm-2' ? '/coi/' : '/'}`);
        const target = which === 'webgpu' ? 'webgpu' : 'wasm';
        const threads = which === 'wasm-2' ? 2 : 1;
        const r = await page.evaluate(
          ([model, img, target, threads, runs]) =>
            (globalThis as unknown as { frontierBench: BenchFn }).frontierBench({ model, scale: 4, target, image: img, runs }, threads),
          [c.model, { width: c.image.width, height: c.image.height, data: Array.from(c.image.data) }, target, threads, c.runs] as const,
        );
        await page.close();
        const ms = median(r.runMs);
        const runtime =
          which === 'webgpu' ? 'onnxruntime-web WebGPU (SwiftShader, software)' : `onnxruntime-web WASM, ${r.threads} thread${r.threads > 1 ? 's' : ''}${r.isolated ? ' (COOP/COEP)' : ''}`;
        if (which === 'wasm-2' && !r.isolated) throw new Error('the COOP/COEP bench page is not cross-origin isolated');
        rows.push({ model: c.model, input: c.label, runtime, runMs: ms, msPerMp: ms / mp(c.image), ratioToNode: ms / nodeMs, note: which === 'webgpu' ? 'correctness only: no GPU here' : undefined });
        console.log(`${c.model} ${c.label} ${runtime}: ${ms.toFixed(0)} ms`);
      }
    }
  } finally {
    await browser.close();
    server.close();
  }

  // Quality: PSNR gain over bicubic on real photos downscaled ×4 (antialiased bicubic, as SR training data is made).
  const quality: { photo: string; model: string; bicubicDb: number; modelDb: number; gainDb: number }[] = [];
  const engine = new Engine(createNodePlatform());
  for (const name of ['astronaut.png', 'chelsea.png']) {
    const img = await nodeCodec.decode(new Uint8Array(await readFile(join(REPO_ROOT, 'test', 'fixtures', 'images', name))));
    const w = img.width - (img.width % 4);
    const h = img.height - (img.height % 4);
    const original = crop(img, 0, 0, w, h);
    const small = resizeBicubic(original, w / 4, h / 4);
    const bicubicDb = psnr(original, resizeBicubic(small, w, h));
    for (const family of ['slim', 'medium', 'thick']) {
      const out = await engine.run({ id: `${name}-${family}`, task: 'upscale', model: `esrgan-${family}-x4`, params: { scale: 4 }, image: small });
      const modelDb = psnr(original, out.images[0]);
      quality.push({ photo: name, model: `esrgan-${family}-x4`, bicubicDb, modelDb, gainDb: modelDb - bicubicDb });
    }
  }

  const when = new Date().toISOString();
  const json = JSON.stringify({ when, machine: `${cpus().length}× ${cpus()[0]?.model}`, rows, quality }, null, 2) + '\n';
  const md = [
    `# Upscale ×4 benchmark (${when.slice(0, 10)})`,
    '',
    `Machine: ${cpus().length}× ${cpus()[0]?.model}, no GPU. Median of the timed runs after one warm-up run (which includes download and session creation).`,
    'ms/MP is per megapixel of INPUT. Ratio = time / onnxruntime-node time on the same model and input (higher is slower).',
    '',
    '| model | input | runtime | ms/run | ms/MP | × node |',
    '|---|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.model} | ${r.input} | ${r.runtime}${r.note ? ` — ${r.note}` : ''} | ${r.runMs.toFixed(0)} | ${r.msPerMp.toFixed(0)} | ${r.ratioToNode?.toFixed(1)} |`),
    '',
    '## Quality: PSNR against the original after a ×4 bicubic (antialiased) downscale',
    '',
    '| photo | model | bicubic dB | model dB | gain dB |',
    '|---|---|---:|---:|---:|',
    ...quality.map((q) => `| ${q.photo} | ${q.model} | ${q.bicubicDb.toFixed(2)} | ${q.modelDb.toFixed(2)} | ${q.gainDb >= 0 ? '+' : ''}${q.gainDb.toFixed(2)} |`),
    '',
  ].join('\n');
  await writeResults('upscale', json, md);
}

runMain(main);
