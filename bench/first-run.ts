// `npm run bench:first-run`: what a designer pays on the first jobs after opening the plugin. After onnxruntime-web's
// 28 MB wasm is instantiated, V8 runs it in baseline code (Liftoff) and compiles the hot functions again with TurboFan
// on background threads during the first runs (bench/gap/findings.md). This bench runs the same job again and again in
// a fresh page with the product's engine worker (bench/pool/browser-entry.ts: the engine on the browser platform,
// single-worker WASM or the pool of 2), and per run reads the wall time, the CPU of the workers' threads
// (DedicatedWorker: the engine worker and the pool's members) and of every other renderer thread (V8's compile
// threads, ThreadPool*, among them), until the other threads are quiet.
// Then it closes the browser and opens it again on the same profile folder and runs the same job again: Chromium keeps
// a streamed wasm module's optimized code in its code cache (Default/Code Cache/wasm) when the wasm came through its
// HTTP cache, so the second page load's first job shows whether that cache spared the compile. onnxruntime-web's files
// are served by the product's own /ort/ route (server/routes/static.ts), with its headers.
// Written to bench/results/first-run.{json,md}. Env: BENCH_ONLY=<case id prefix>, BENCH_ENGINES=single,pool,
// BENCH_LOADS=<page loads per engine on one profile, default 3>, BENCH_FRAME=sandboxed (the engine in a sandboxed
// iframe with an opaque origin, its worker from a blob: URL, as in Figma's plugin iframe: first-run-sandboxed.*),
// BENCH_ORT_CACHE_CONTROL=<Cache-Control for /ort/ in place of the route's: first-run-cache-control.*),
// BENCH_WARMUP=<px> (one warm-up job on a px² crop, then quiet, before the timed runs: first-run-warmup.*),
// BENCH_WARMUP=engine (the product's warm-up, Engine.warmUp as the panel asks for it, then quiet: first-run-warmup-engine.*;
// it warms only a model already in the browser's cache, so a fresh profile's first load gets none),
// BENCH_RESULTS_DIR=DIR.
import * as esbuild from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { crop } from '../worker/image/rgba.ts';
import { nodeCodec } from '../worker/image/codec-node.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../worker/platform-node.ts';
import { parseCli } from '../server/cli-args.ts';
import { folderBytes, openProfileBrowser, traceWasmEvents, type ProfileBrowser } from './first-run/browser.ts';
import { productOrtRoute, type OrtRequest } from './first-run/ort-route.ts';
import { log } from './common/log.ts';
import { cpuBetween, machineTicks, threadCpu } from './common/proc.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { serveBenchPage } from './common/serve.ts';
import { median } from './common/stats.ts';
import type { PoolBenchApi, PoolBenchJob } from './pool/browser-entry.ts';

parseCli('npm run bench:first-run (no options; by environment: BENCH_ONLY=<case id prefix>, BENCH_ENGINES=single,pool, BENCH_LOADS=N, BENCH_FRAME=sandboxed, BENCH_ORT_CACHE_CONTROL=VALUE, BENCH_WARMUP=PX|engine, BENCH_RESULTS_DIR=DIR)', {});

interface Case {
  id: string;
  label: string;
  job: Omit<PoolBenchJob, 'image'>;
  region: [number, number, number, number];
  /** Runs at most per page load (the heavy model's runs take seconds each). */
  maxRuns: number;
}

const CASES: Case[] = [
  { id: 'slim', label: 'ESRGAN slim ×4, 128×128 crop of astronaut.png', job: { task: 'upscale', model: 'esrgan-slim-x4', params: { scale: 4, quality: 'fast' } }, region: [176, 48, 128, 128], maxRuns: 24 },
  { id: 'thick', label: 'ESRGAN thick ×4, 96×96 crop of astronaut.png', job: { task: 'upscale', model: 'esrgan-thick-x4', params: { scale: 4, quality: 'best' } }, region: [176, 48, 96, 96], maxRuns: 12 },
];

const ENGINES = { single: 1, pool: 2 } as const;
/** The engine inside a sandboxed iframe (opaque origin), its worker from a blob: URL: as Figma runs the plugin. */
const SANDBOXED = process.env.BENCH_FRAME === 'sandboxed';
/** BENCH_WARMUP=<px>: a warm-up job on a px² crop before the timed runs (first-run-warmup.*). */
const WARMUP_ENGINE = process.env.BENCH_WARMUP === 'engine';
const WARMUP_PX = WARMUP_ENGINE ? 0 : Number(process.env.BENCH_WARMUP ?? 0);
/** Page loads per engine on one profile folder. */
const LOADS = Number(process.env.BENCH_LOADS ?? 3);
type EngineName = keyof typeof ENGINES;

// A run is settled when the renderer's other threads used at most QUIET_SHARE of the workers' CPU (or QUIET_MS: /proc
// counts 10 ms ticks, and the page's main thread and IPC cost a little every run): bench/gap/measure.ts's rule.
const QUIET_SHARE = 0.1;
const QUIET_MS = 40;
/** Quiet runs in a row that end a page load, after at least MIN_RUNS. */
const QUIET_STREAK = 3;
const MIN_RUNS = 5;

interface Run {
  wallMs: number;
  /** The workers' threads (DedicatedWorker: the engine worker; on the pool, also its members). */
  workerCpuMs: number;
  /** Every other renderer thread: V8's background compile (ThreadPool*), the page's main thread, IPC. */
  otherCpuMs: number;
  /** Of those, V8's thread pool (where it compiles wasm with TurboFan). */
  threadPoolCpuMs: number;
  /** CPU the rest of the machine used during the run, in cores on average (other people's work). */
  othersCores: number;
}

interface Load {
  runs: Run[];
  /** 1-based run from which every run was quiet; null when the load ended before that. */
  settledFrom: number | null;
  settled: { wallMs: number; workerCpuMs: number; otherCpuMs: number };
  first: { extraWallMs: number; extraWorkerCpuMs: number; extraOtherCpuMs: number };
  /** Σ over the load of each run's other-threads CPU above the settled runs': the background compile, in all. */
  backgroundCompileMs: number;
  /** Requests for onnxruntime's wasm during this load, as the product route answered them. */
  wasmRequests: OrtRequest[];
  /** Chromium's trace events about wasm compilation and its code cache over the load, counted by name
   *  (v8.wasm.moduleCacheHit: the compiled code came from the code cache; v8.wasm.cachedModule: code was stored). */
  wasmEvents: Record<string, number>;
  /** BENCH_WARMUP: the tiny job run once before the timed runs, and the background compile it set off (until quiet). */
  warmup?: { px: number; wallMs: number; workerCpuMs: number; otherCpuMs: number; backgroundAfterMs: number; quietAfterMs: number; answer?: string };
  /** Bytes in the profile's wasm code cache after the browser closed. */
  codeCacheBytes: number;
  runtime: string;
}

interface EngineResult {
  engine: EngineName;
  workers: number;
  /** The first on a fresh profile, then each on the same profile again. */
  loads: Load[];
}

/**
 * The warm-up the engine could run when a model loads: the same job on a `px`² crop, once, then a wait until the
 * renderer's threads are quiet (under 50 ms of CPU in a second, at most 60 s): a bench, so it waits on the clock.
 */
async function warmUp(b: ProfileBrowser, c: Case, job: PoolBenchJob, px: number, engine: EngineName): Promise<NonNullable<Load['warmup']>> {
  const w = job.image.width;
  const rows = Array.from({ length: px }, (_, y) => job.image.data.slice(y * w * 4, y * w * 4 + px * 4)).flat();
  await call(b, 'setJob', px ? { ...job, image: { width: px, height: px, data: rows } } : job);
  const total = () => [...threadCpu(b.rendererPids()).values()].reduce((s, t) => s + t.ms, 0);
  const before = threadCpu(b.rendererPids());
  // px 0: the product's warm-up (Engine.warmUp); it says what it did.
  let answer: string | undefined;
  const t0w = performance.now();
  const result = px ? await call(b, 'run', ENGINES[engine]) : await call(b, 'warmUp', ENGINES[engine]).then((a) => ((answer = a.warmed ? 'warmed' : (a.why ?? '?')), { ms: performance.now() - t0w }));
  const used = cpuBetween(before, threadCpu(b.rendererPids()));
  const workerCpuMs = used.filter((t) => t.thread.startsWith('DedicatedWorker')).reduce((s, t) => s + t.cpuMs, 0);
  const otherCpuMs = used.reduce((s, t) => s + t.cpuMs, 0) - workerCpuMs;
  const t0 = Date.now();
  const start = total();
  for (let last = start; Date.now() - t0 < 60_000; ) {
    await b.page.waitForTimeout(1000);
    const now = total();
    if (now - last < 50) break;
    last = now;
  }
  const out = { px, wallMs: result.ms, workerCpuMs, otherCpuMs, backgroundAfterMs: total() - start, quietAfterMs: Date.now() - t0, ...(answer ? { answer } : {}) };
  log(`${c.id} ${engine}: warm-up ${px ? `on ${px}²` : 'by Engine.warmUp'} ${JSON.stringify(out)}`);
  return out;
}

const quiet = (r: Run) => r.otherCpuMs <= Math.max(QUIET_MS, QUIET_SHARE * r.workerCpuMs);

const call = <K extends keyof PoolBenchApi>(b: ProfileBrowser, method: K, ...args: Parameters<PoolBenchApi[K]>): Promise<Awaited<ReturnType<PoolBenchApi[K]>>> =>
  b.target.evaluate(([m, a]) => (globalThis as unknown as { poolBench: Record<string, (...x: unknown[]) => Promise<unknown>> }).poolBench[m](...a), [method, args] as const) as never;

async function pageLoad(c: Case, job: PoolBenchJob, engine: EngineName, profileDir: string, url: string, requests: OrtRequest[]): Promise<Load> {
  const seen = requests.length;
  const b = await openProfileBrowser(profileDir, url, 'poolBench', SANDBOXED ? `/sandboxed.html` : '/', SANDBOXED);
  const runs: Run[] = [];
  let runtime = '';
  const trace = await traceWasmEvents(b);
  let wasmEvents: Record<string, number> = {};
  let warmup: Load['warmup'];
  try {
    if (WARMUP_PX || WARMUP_ENGINE) warmup = await warmUp(b, c, job, WARMUP_PX, engine);
    await call(b, 'setJob', job);
    let streak = 0;
    while (runs.length < c.maxRuns && !(runs.length >= MIN_RUNS && streak >= QUIET_STREAK)) {
      const pids = b.rendererPids();
      const before = threadCpu(pids);
      const m0 = machineTicks();
      const t0 = Date.now();
      const result = await call(b, 'run', ENGINES[engine]);
      const m1 = machineTicks();
      const windowMs = Date.now() - t0;
      const used = cpuBetween(before, threadCpu(b.rendererPids()));
      const workerCpuMs = used.filter((t) => t.thread.startsWith('DedicatedWorker')).reduce((s, t) => s + t.cpuMs, 0);
      const allMs = used.reduce((s, t) => s + t.cpuMs, 0);
      const run: Run = {
        wallMs: result.ms,
        workerCpuMs,
        otherCpuMs: allMs - workerCpuMs,
        threadPoolCpuMs: used.filter((t) => t.thread.startsWith('ThreadPool')).reduce((s, t) => s + t.cpuMs, 0),
        othersCores: Math.max(0, (m1.busy - m0.busy) * 10 - allMs) / Math.max(1, windowMs),
      };
      runtime = result.runtime;
      runs.push(run);
      streak = quiet(run) ? streak + 1 : 0;
      log(`${c.id} ${engine}: run ${runs.length} ${(run.wallMs / 1000).toFixed(2)} s wall, workers ${(run.workerCpuMs / 1000).toFixed(2)} s, other threads ${(run.otherCpuMs / 1000).toFixed(2)} s (thread pool ${(run.threadPoolCpuMs / 1000).toFixed(2)} s), others on the machine ${run.othersCores.toFixed(2)} cores`);
    }
    wasmEvents = await trace.stop();
    log(`${c.id} ${engine}: V8's wasm trace events ${JSON.stringify(wasmEvents)}`);
  } finally {
    await b.context.close();
  }
  const tail = runs.slice(-QUIET_STREAK);
  const settled = { wallMs: median(tail.map((r) => r.wallMs)), workerCpuMs: median(tail.map((r) => r.workerCpuMs)), otherCpuMs: median(tail.map((r) => r.otherCpuMs)) };
  let from = runs.length;
  while (from > 0 && quiet(runs[from - 1])) from--;
  return {
    runs,
    settledFrom: from < runs.length && runs.length - from >= QUIET_STREAK ? from + 1 : null,
    settled,
    first: { extraWallMs: runs[0].wallMs - settled.wallMs, extraWorkerCpuMs: runs[0].workerCpuMs - settled.workerCpuMs, extraOtherCpuMs: runs[0].otherCpuMs - settled.otherCpuMs },
    backgroundCompileMs: runs.reduce((s, r) => s + Math.max(0, r.otherCpuMs - settled.otherCpuMs), 0),
    wasmRequests: requests.slice(seen).filter((r) => r.path.endsWith('.wasm')),
    wasmEvents,
    ...(warmup ? { warmup } : {}),
    codeCacheBytes: folderBytes(join(profileDir, 'Default', 'Code Cache', 'wasm')),
    runtime,
  };
}

/** The engine worker as the plugin bundles it (plugin/build-ui.ts buildWorker): a classic script, for a blob: URL. */
async function bundleClassicWorker(entry: string): Promise<string> {
  const r = await esbuild.build({ entryPoints: [entry], bundle: true, conditions: ['onnxruntime-web-use-extern-wasm'], format: 'iife', platform: 'browser', write: false, minify: true, external: ['worker_threads', 'fs', 'path', 'url', 'module', 'os', 'crypto', 'perf_hooks'] });
  return r.outputFiles[0].text;
}

async function main() {
  const ort = productOrtRoute(process.env.BENCH_ORT_CACHE_CONTROL);
  let port = 0;
  const workerJs = SANDBOXED ? await bundleClassicWorker(join(REPO_ROOT, 'bench', 'first-run', 'sandboxed-worker.ts')) : '';
  const { url, server } = await serveBenchPage({
    entry: SANDBOXED ? join(REPO_ROOT, 'bench', 'first-run', 'sandboxed-entry.ts') : join(REPO_ROOT, 'bench', 'pool', 'browser-entry.ts'),
    file(rel) {
      if (rel === '/models/registry.json') return REGISTRY_PATH;
      if (rel.startsWith('/models/files/')) return join(MODEL_FILES_DIR, basename(rel));
      return null;
    },
    handle(req, res, rel) {
      if (!SANDBOXED) return ort.handle(req, res, rel);
      // The sandboxed frame's origin is opaque: everything it fetches is cross-origin (the product's server admits
      // origin null the same way).
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (rel === '/worker.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end(workerJs);
        return true;
      }
      if (rel === '/sandboxed.html' || rel === '/frame.html') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(rel === '/frame.html' ? '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>' : `<!doctype html><meta charset="utf-8"><iframe sandbox="allow-scripts" src="/frame.html?port=${port}"></iframe>`);
        return true;
      }
      return ort.handle(req, res, rel);
    },
  });
  port = Number(new URL(url).port);
  const cases = CASES.filter((c) => !process.env.BENCH_ONLY || c.id.startsWith(process.env.BENCH_ONLY));
  const engines = (process.env.BENCH_ENGINES?.split(',') ?? Object.keys(ENGINES)) as EngineName[];
  const photo = await nodeCodec.decode(new Uint8Array(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'images', 'astronaut.png'))));
  const started = Date.now();
  const load0 = loadavg()[0];
  const results: { id: string; label: string; engines: EngineResult[] }[] = [];
  try {
    for (const c of cases) {
      const image = crop(photo, ...c.region);
      const job: PoolBenchJob = { ...c.job, image: { width: image.width, height: image.height, data: Array.from(image.data) } };
      const out: EngineResult[] = [];
      for (const engine of engines) {
        const profileDir = mkdtempSync(join(tmpdir(), 'frontier-first-run-'));
        try {
          const loads: Load[] = [];
          for (let i = 0; i < LOADS; i++) {
            log(`${c.id} ${engine}: page load ${i + 1} on ${i ? 'the same profile' : 'a fresh profile'}${i ? ` (wasm code cache ${loads[i - 1].codeCacheBytes} bytes)` : ''}`);
            loads.push(await pageLoad(c, job, engine, profileDir, url, ort.requests));
          }
          out.push({ engine, workers: ENGINES[engine], loads });
        } finally {
          rmSync(profileDir, { recursive: true, force: true });
        }
      }
      results.push({ id: c.id, label: c.label, engines: out });
    }
  } finally {
    server.close();
  }
  const when = new Date().toISOString();
  const machine = `${cpus().length}× ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const minutes = (Date.now() - started) / 60_000;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const row = (c: { id: string }, e: EngineResult, l: Load, i: number) => {
    const r0 = l.runs[0];
    const wasm = l.wasmRequests.map((q) => `${q.status}${q.revalidated ? ' (revalidated)' : ''}`).join(', ') || 'none';
    return `| ${c.id} | ${e.engine === 'single' ? 'one worker' : `pool of ${e.workers}`} | ${i ? `${i + 1} (same profile)` : '1 (fresh profile)'} | ${s(r0.wallMs)} / ${s(l.settled.wallMs)} | ${s(l.first.extraWallMs)} | ${s(r0.workerCpuMs)} / ${s(l.settled.workerCpuMs)} | ${s(r0.otherCpuMs)} / ${s(l.settled.otherCpuMs)} | ${s(l.backgroundCompileMs)} | ${l.settledFrom ?? `not within ${l.runs.length}`} | ${wasm} | ${cacheWord(l.wasmEvents)} | ${(l.codeCacheBytes / 2 ** 20).toFixed(1)} |`;
  };
  const header = results[0]?.engines.flatMap((e) => e.loads.flatMap((l) => l.wasmRequests))[0]?.headers;
  const cacheWord = (ev: Record<string, number>) =>
    [ev['v8.wasm.moduleCacheHit'] ? 'hit' : ev['v8.wasm.moduleCacheInvalid'] ? 'invalid' : ev['v8.wasm.streamFromResponseCallback'] ? 'miss (streamed)' : 'not streamed', ev['v8.wasm.cachedModule'] ? `stored ×${ev['v8.wasm.cachedModule']}` : ''].filter(Boolean).join(', ');
  const md = [
    `# First jobs after opening the plugin: V8's background compile of onnxruntime's wasm (${when.slice(0, 10)})`,
    '',
    `Machine: ${machine}, **shared** (2 cores; other helpers' work and a CI run went on at the same time, load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end); the bench took ${minutes.toFixed(1)} min. Chromium headless on a profile folder of its own (playwright-core launchPersistentContext), ${SANDBOXED ? 'the engine in a sandboxed iframe (sandbox="allow-scripts": an opaque origin, as Figma\'s plugin iframe), its worker started from a blob: URL of the bundle (as ui/engine-client.ts does), everything fetched cross-origin from the local server' : 'a page that is not cross-origin isolated (as Figma\'s iframe: one WASM thread per worker)'}, the product's engine worker running the upscale task end to end; onnxruntime-web's files served by the product's /ort/ route (headers: ${header ? `Content-Type ${header.contentType}, Cache-Control ${header.cacheControl}, ETag ${header.etag ? 'yes' : 'no'}, Last-Modified ${header.lastModified ? 'yes' : 'no'}` : 'none seen'}).`,
    '',
    `Per engine: one page load on a fresh profile, runs of the same job until ${QUIET_STREAK} runs in a row were quiet (the renderer's other threads used ≤ ${QUIET_SHARE * 100} % of the workers' CPU, or ≤ ${QUIET_MS} ms), at least ${MIN_RUNS}; the browser closed; then the same profile opened again and the same runs, ${LOADS} page loads in all. "Code cache" reads Chromium's trace events for the streamed wasm (v8.wasm.moduleCacheHit: its compiled code came from the code cache; v8.wasm.cachedModule: code stored). "Settled" = median of the last ${QUIET_STREAK} runs. The first job includes what any first job pays (model download from the local server, session creation, the wasm's baseline compile); the other threads' CPU above the settled runs is V8's background compile.`,
    '',
    '| case | engine | page load | first job wall s / settled | first job extra wall s | workers\' CPU s: first / settled | other threads\' CPU s: first / settled | background compile over the load, CPU s | settled from run | wasm request (status) | code cache (Chromium trace) | wasm code cache after, MiB |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|',
    ...results.flatMap((c) => c.engines.flatMap((e) => e.loads.map((l, i) => row(c, e, l, i)))),
    '',
    ...(WARMUP_PX || WARMUP_ENGINE
      ? [
          WARMUP_ENGINE
            ? "## The product's warm-up before the timed runs (Engine.warmUp of the job's model, as the panel asks for it before Run: a 32×32 grey image once on the worker, or on every worker of the pool; only for a model already in the browser's cache), then a wait until the renderer was quiet"
            : `## Warm-up before the timed runs (the same job on a ${WARMUP_PX}×${WARMUP_PX} crop, once, then a wait until the renderer was quiet)`,
          '',
          `| case | engine | page load |${WARMUP_ENGINE ? ' engine\'s answer |' : ''} warm-up wall s | workers\' CPU s | other threads\' CPU s during it | background CPU s after it | quiet after s |`,
          `|---|---|---|${WARMUP_ENGINE ? '---|' : ''}---:|---:|---:|---:|---:|`,
          ...results.flatMap((c) => c.engines.flatMap((e) => e.loads.map((l, i) => (l.warmup ? `| ${c.id} | ${e.engine} | ${i + 1} |${WARMUP_ENGINE ? ` ${l.warmup.answer ?? ''} |` : ''} ${s(l.warmup.wallMs)} | ${s(l.warmup.workerCpuMs)} | ${s(l.warmup.otherCpuMs)} | ${s(l.warmup.backgroundAfterMs)} | ${s(l.warmup.quietAfterMs)} |` : '')))),
          '',
        ]
      : []),
    '## Runs',
    '',
    '| case | engine | page load | run: wall s (workers\' CPU s + other threads\' CPU s, thread pool s; others on the machine, cores) |',
    '|---|---|---|---|',
    ...results.flatMap((c) => c.engines.flatMap((e) => e.loads.map((l, w) => `| ${c.id} | ${e.engine} | ${w + 1} | ${l.runs.map((r, i) => `${i + 1}: ${s(r.wallMs)} (${s(r.workerCpuMs)} + ${s(r.otherCpuMs)}, ${s(r.threadPoolCpuMs)}; ${r.othersCores.toFixed(2)})`).join('; ')} |`))),
    '',
  ].join('\n');
  // Variants write results of their own, beside the product's.
  const name = ['first-run', SANDBOXED ? 'sandboxed' : '', WARMUP_PX ? 'warmup' : WARMUP_ENGINE ? 'warmup-engine' : '', process.env.BENCH_ORT_CACHE_CONTROL ? 'cache-control' : ''].filter(Boolean).join('-');
  await writeResults(name, resultsJson({ when, machine, load: [load0, loadavg()[0]], cases: results }), md, minutes * 60);
}

runMain(main);
