// `npm run bench:pool`: the WASM worker pool (worker/runtime/ort-web-pool.ts) against single-worker WASM, in Chromium
// on a page that is NOT cross-origin isolated (as Figma's iframe): the product's upscale and restore tasks end to end
// (tiling, blending, the engine) on real photos and the converted pretrained weights. Written to
// bench/results/pool.{json,md}.
//
// Speed: per case, two browsers, one per engine (single-worker WASM, wasmWorkers 1; the pool, its own size): they
// never share a renderer process, where V8 would share onnxruntime's compiled wasm between them. Each is warmed once
// (download, sessions, the pool's workers), then timed runs take turns (single, pool, pool, single, …) so load from
// other work on the machine falls on both. Per run: wall time, the CPU time of every renderer thread (/proc/PID/task),
// so per-worker CPU shows whether each worker had a core, and the machine's CPU used by everything else (/proc/stat).
// Outputs are hashed: the pool's must equal single-worker WASM's where it ran the same tiles (an any-size model's image
// with fewer tiles than the pool has workers is cut into more on the pool: worker/image/tiling.ts laneGrid).
// Memory: per model, fresh browsers run the same job on 1 worker, on a pool of 2 and on a pool of 4 and read the
// renderers' resident memory with the sessions loaded, once V8's background threads are quiet; a pool worker's cost is
// (pool 4 − pool 2) / 2. The pool's estimate (worker/runtime/ort-web-pool.ts workerBytes) is printed beside it.
// Env: BENCH_ONLY=<case id prefix>, BENCH_RUNS=<timed runs per engine> (default 2), BENCH_SKIP_MEMORY=1, BENCH_SKIP_SPEED=1,
// BENCH_POOL_WORKERS=<pool size for the speed runs> (default: the pool's own choice), BENCH_RESULTS_DIR=DIR.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { crop } from '../worker/image/rgba.ts';
import { planTiles, takesAnySize } from '../worker/image/tiling.ts';
import { nodeCodec } from '../worker/image/codec-node.ts';
import type { RgbaImage } from '../worker/job.ts';
import type { ModelCard, Registry } from '../worker/models/card.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../worker/platform-node.ts';
import { modelBytes, workerBytes } from '../worker/runtime/ort-web-pool.ts';
import { parseCli } from '../server/cli-args.ts';
import { browserProcessMemory, launchBenchBrowser, openBenchPage } from './common/chromium.ts';
import { log } from './common/log.ts';
import { cpuBetween, machineTicks, threadCpu, type ThreadUse } from './common/proc.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { serveBenchPage } from './common/serve.ts';
import { median } from './common/stats.ts';
import type { PoolBenchApi, PoolBenchJob, PoolBenchRun } from './pool/browser-entry.ts';

parseCli('npm run bench:pool (no options; by environment: BENCH_ONLY=<case id prefix>, BENCH_RUNS=N, BENCH_SKIP_MEMORY=1, BENCH_SKIP_SPEED=1, BENCH_POOL_WORKERS=N, BENCH_RESULTS_DIR=DIR)', {});

const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const POOL_WORKERS = process.env.BENCH_POOL_WORKERS ? Number(process.env.BENCH_POOL_WORKERS) : undefined;
const MiB = 2 ** 20;

interface Case {
  id: string;
  label: string;
  job: Omit<PoolBenchJob, 'image'>;
  photo: 'astronaut.png' | 'chelsea.png';
  region?: [number, number, number, number];
  tiles: number;
}

const CASES: Case[] = [
  { id: 'slim', label: 'ESRGAN slim ×4, 512×512 astronaut (25 tiles of 128 px)', job: { task: 'upscale', model: 'esrgan-slim-x4', params: { scale: 4, quality: 'fast' } }, photo: 'astronaut.png', tiles: 25 },
  { id: 'thick', label: 'ESRGAN thick ×4, 160×160 crop (4 tiles of 96 px)', job: { task: 'upscale', model: 'esrgan-thick-x4', params: { scale: 4, quality: 'best' } }, photo: 'astronaut.png', region: [176, 48, 160, 160], tiles: 4 },
  { id: 'maxim', label: 'MAXIM remove rain, 256×192 crop of chelsea (6 tiles of 128 px)', job: { task: 'restore', model: 'maxim-derain', params: { mode: 'derain' } }, photo: 'chelsea.png', region: [100, 60, 256, 192], tiles: 6 },
];

// ---- /proc: renderer threads' CPU time (bench/common/proc.ts) and resident memory ------------------------------

const renderers = async (browser: Browser) => (await browserProcessMemory(browser)).filter((p) => p.type === 'renderer');

// ---- The page --------------------------------------------------------------------------------------------------


const call = <K extends keyof PoolBenchApi>(page: Page, method: K, ...args: Parameters<PoolBenchApi[K]>): Promise<Awaited<ReturnType<PoolBenchApi[K]>>> =>
  page.evaluate(([m, a]) => (globalThis as unknown as { poolBench: Record<string, (...x: unknown[]) => Promise<unknown>> }).poolBench[m](...a), [method, args] as const) as never;

// ---- Speed -----------------------------------------------------------------------------------------------------


interface TimedRun {
  engine: 'single' | 'pool';
  wallMs: number;
  /** CPU time of the engine's browser (all its renderer threads) over the run. */
  cpuMs: number;
  /** Threads that computed (≥ 5 % of the wall time), busiest first. */
  threads: ThreadUse[];
  /** The whole machine over the run (`windowMs` as Node saw it): CPU time used by everything but this browser, and
   *  idle, in ms (2 cores give 2 × windowMs in all). */
  windowMs: number;
  othersMs: number;
  idleMs: number;
  load: [number, number];
  hash: string;
}

interface SpeedResult {
  id: string;
  label: string;
  model: string;
  modelMB: number;
  tiles: number;
  output: string;
  single: { runtime: string; reason: string; warmMs: number };
  pool: { runtime: string; reason: string; warmMs: number; workers: number; tilesPerWorker: number[] };
  identical: boolean;
  /** The pool's tile count, where it cut the image into more tiles than one worker (then its bytes are its own). */
  poolTiles?: number;
  runs: TimedRun[];
  summary: {
    singleWallMs: number;
    poolWallMs: number;
    speedup: number;
    perWorkerScaling: number;
    singleCpuMs: number;
    poolCpuMs: number;
    /** The engine worker's CPU in a single run (it computes every tile). */
    singleBusiestThreadMs: number;
    /** The pool's workers' CPU in a pool run, busiest first. */
    poolWorkerThreadMs: number[];
    /** single busiest thread ÷ the pool's busiest worker: the speed-up with a free core per worker. */
    cpuBoundSpeedup: number;
    /** Other work's share of the machine during the runs (cores busy with it, on average). */
    othersCores: number;
  };
}

interface Side {
  browser: Browser;
  page: Page;
  workers: number;
}

/** One browser per engine: single-worker WASM and the pool never share a renderer (see the note in the results). */
async function openSide(url: string, workers: number): Promise<Side> {
  const browser = await launchBenchBrowser();
  return { browser, page: await openBenchPage(browser, url, 'poolBench'), workers };
}

async function timedRun(side: Side, engine: 'single' | 'pool'): Promise<{ run: TimedRun; result: PoolBenchRun }> {
  const pids = async () => (await renderers(side.browser)).map((p) => p.pid);
  const before = threadCpu(await pids());
  const machine0 = machineTicks();
  const t0 = Date.now();
  const load0 = loadavg()[0];
  const result = await call(side.page, 'run', side.workers);
  const machine1 = machineTicks();
  const windowMs = Date.now() - t0;
  const threads = cpuBetween(before, threadCpu(await pids()));
  const cpuMs = threads.reduce((s, t) => s + t.cpuMs, 0);
  const run: TimedRun = {
    engine,
    wallMs: result.ms,
    cpuMs,
    threads: threads.filter((t) => t.cpuMs >= 0.05 * result.ms),
    windowMs,
    othersMs: Math.max(0, (machine1.busy - machine0.busy) * 10 - cpuMs),
    idleMs: (machine1.idle - machine0.idle) * 10,
    load: [load0, loadavg()[0]],
    hash: result.hash,
  };
  return { run, result };
}

async function speed(c: Case, image: RgbaImage, url: string, card: ModelCard): Promise<SpeedResult> {
  const job: PoolBenchJob = { ...c.job, image: { width: image.width, height: image.height, data: Array.from(image.data) } };
  const single = await openSide(url, 1);
  const pool = await openSide(url, POOL_WORKERS ?? 0); // 0: the pool's own choice (wasmWorkers unset)
  try {
    log(`${c.id}: warming single-worker WASM`);
    await call(single.page, 'setJob', job);
    await call(pool.page, 'setJob', job);
    const warmSingle = await call(single.page, 'run', single.workers);
    log(`${c.id}: single warm-up ${(warmSingle.ms / 1000).toFixed(1)} s (${warmSingle.runtime}); warming the pool`);
    const warmPool = await call(pool.page, 'run', pool.workers);
    log(`${c.id}: pool warm-up ${(warmPool.ms / 1000).toFixed(1)} s (${warmPool.runtime}: ${warmPool.reason})`);
    if (warmPool.runtime !== 'ort-web/wasm-pool') throw new Error(`the pool did not take ${c.job.model}: ${warmPool.reason}`);
    const runs: TimedRun[] = [];
    let last = warmPool;
    const order: ('single' | 'pool')[] = [];
    for (let i = 0; i < RUNS; i++) order.push(...(i % 2 ? (['pool', 'single'] as const) : (['single', 'pool'] as const)));
    for (const engine of order) {
      const { run, result } = await timedRun(engine === 'single' ? single : pool, engine);
      runs.push(run);
      if (engine === 'pool') last = result;
      log(`${c.id}: ${engine} ${(run.wallMs / 1000).toFixed(2)} s wall; threads ${run.threads.slice(0, 4).map((t) => `${t.thread} ${(t.cpuMs / 1000).toFixed(2)} s`).join(', ')}; others ${(run.othersMs / 1000).toFixed(1)} s, idle ${(run.idleMs / 1000).toFixed(1)} s`);
    }
    const of = (engine: 'single' | 'pool') => runs.filter((r) => r.engine === engine);
    const singleWallMs = median(of('single').map((r) => r.wallMs));
    const poolWallMs = median(of('pool').map((r) => r.wallMs));
    const stats = last.pools.find((p) => p.model === c.job.model);
    const workers = stats?.size ?? 0;
    // The pool's workers are its busiest threads (the engine worker only crops, converts and blends); in a single run
    // the busiest thread is the engine worker itself, computing every tile.
    const poolThreads = of('pool').map((r) => r.threads.filter((t) => t.thread.startsWith('DedicatedWorker')).slice(0, workers).map((t) => t.cpuMs));
    const poolWorkerThreadMs = [...Array(workers).keys()].map((k) => median(poolThreads.map((ts) => ts[k] ?? 0)));
    const singleBusiestThreadMs = median(of('single').map((r) => r.threads[0]?.cpuMs ?? 0));
    // The tiles each side ran, as the task plans them (lanes = the session's workers).
    const tilesFor = (lanes: number) => (card.io.tile ? planTiles(image.width, image.height, card.io.tile.size, card.io.tile.overlap, takesAnySize(card.io), lanes).tiles.length : 1);
    const poolTiles = tilesFor(workers);
    const samePlan = poolTiles === tilesFor(1);
    const identical = samePlan
      ? runs.every((r) => r.hash === warmSingle.hash) && warmPool.hash === warmSingle.hash
      : runs.every((r) => r.hash === (r.engine === 'pool' ? warmPool.hash : warmSingle.hash));
    return {
      id: c.id,
      label: c.label,
      model: c.job.model,
      modelMB: 0,
      tiles: c.tiles,
      output: `${warmSingle.width}×${warmSingle.height}`,
      single: { runtime: warmSingle.runtime, reason: warmSingle.reason, warmMs: warmSingle.ms },
      pool: { runtime: warmPool.runtime, reason: warmPool.reason, warmMs: warmPool.ms, workers, tilesPerWorker: stats?.workers.map((w) => w.runs) ?? [] },
      identical,
      ...(samePlan ? {} : { poolTiles }),
      runs,
      summary: {
        singleWallMs,
        poolWallMs,
        speedup: singleWallMs / poolWallMs,
        perWorkerScaling: singleWallMs / poolWallMs / Math.max(1, workers),
        singleCpuMs: median(of('single').map((r) => r.cpuMs)),
        poolCpuMs: median(of('pool').map((r) => r.cpuMs)),
        singleBusiestThreadMs,
        poolWorkerThreadMs,
        cpuBoundSpeedup: singleBusiestThreadMs / Math.max(1, poolWorkerThreadMs[0] ?? 0),
        othersCores: runs.reduce((s, r) => s + r.othersMs, 0) / runs.reduce((s, r) => s + r.windowMs, 0),
      },
    };
  } finally {
    await single.browser.close();
    await pool.browser.close();
  }
}

// ---- Memory ----------------------------------------------------------------------------------------------------

interface MemoryResult {
  model: string;
  modelMB: number;
  /** Renderer resident memory (MiB) with the page open and nothing loaded, then after the job on each engine, once
   *  the background threads were quiet; and the peak (VmHWM) of each. */
  blankMiB: number;
  singleMiB: number;
  pool2MiB: number;
  pool4MiB: number;
  peak: { single: number; pool2: number; pool4: number };
  /** V8's background threads' CPU over each job and after it (s): compiling the wasm again in the background. */
  backgroundCpuS: { single: number; pool2: number; pool4: number };
  /** Single-worker WASM's wasm heap (MiB): onnxruntime's WebAssembly.Memory after the job. */
  singleHeapMiB: number;
  perWorkerMiB: number;
  perWorkerPeakMiB: number;
  estimateMiB: number;
}

/** CPU time of the renderers' background threads (V8's compile and GC threads: ThreadPool*), ms. */
const backgroundCpuMs = (pids: number[]) => [...threadCpu(pids).values()].filter((t) => t.name.startsWith('ThreadPool')).reduce((s, t) => s + t.ms, 0);

/**
 * Runs `job` on a fresh browser and reads the renderers' resident memory once their background threads are quiet
 * (no CPU for 5 s: V8 may still be compiling onnxruntime's wasm in the background after the job, holding transient
 * memory), and their peak (VmHWM). A bench, so it waits on the clock.
 */
async function residentAfter(url: string, job: PoolBenchJob | null, workers: number): Promise<{ rssMiB: number; peakMiB: number; heapMiB: number; workers: number; settleS: number; backgroundCpuS: number }> {
  const browser = await launchBenchBrowser();
  try {
    const page = await openBenchPage(browser, url, 'poolBench');
    const pids = (await renderers(browser)).map((p) => p.pid);
    const cpu0 = backgroundCpuMs(pids);
    let started = 0;
    if (job) {
      await call(page, 'setJob', job);
      const r = await call(page, 'run', workers);
      started = r.pools.find((p) => p.model === job.model)?.live ?? 1;
      if (workers > 1 && started !== workers) log(`  (the pool had ${started} workers loaded, not ${workers})`);
    }
    const jobEnd = Date.now();
    for (let last = backgroundCpuMs(pids), quiet = 0; quiet < 5 && Date.now() - jobEnd < 180_000; ) {
      await page.waitForTimeout(1000);
      const now = backgroundCpuMs(pids);
      quiet = now - last < 50 ? quiet + 1 : 0;
      last = now;
    }
    const processes = await renderers(browser);
    const heap = await call(page, 'heapBytes');
    return {
      rssMiB: processes.reduce((s, p) => s + p.rssBytes, 0) / MiB,
      peakMiB: processes.reduce((s, p) => s + p.peakRssBytes, 0) / MiB,
      heapMiB: heap / MiB,
      workers: started,
      settleS: (Date.now() - jobEnd) / 1000 - 5,
      backgroundCpuS: (backgroundCpuMs(pids) - cpu0) / 1000,
    };
  } finally {
    await browser.close();
  }
}

async function memory(c: Case, image: RgbaImage, url: string, card: ModelCard): Promise<MemoryResult> {
  const job: PoolBenchJob = { ...c.job, image: { width: image.width, height: image.height, data: Array.from(image.data) } };
  const blank = await residentAfter(url, null, 1);
  const single = await residentAfter(url, job, 1);
  const pool2 = await residentAfter(url, job, 2);
  const pool4 = await residentAfter(url, job, 4);
  const perWorkerMiB = (pool4.rssMiB - pool2.rssMiB) / (pool4.workers - pool2.workers);
  const result = {
    model: c.job.model,
    modelMB: modelBytes(card) / 1e6,
    blankMiB: blank.rssMiB,
    singleMiB: single.rssMiB,
    pool2MiB: pool2.rssMiB,
    pool4MiB: pool4.rssMiB,
    peak: { single: single.peakMiB, pool2: pool2.peakMiB, pool4: pool4.peakMiB },
    backgroundCpuS: { single: single.backgroundCpuS, pool2: pool2.backgroundCpuS, pool4: pool4.backgroundCpuS },
    singleHeapMiB: single.heapMiB,
    perWorkerMiB,
    perWorkerPeakMiB: (pool4.peakMiB - pool2.peakMiB) / (pool4.workers - pool2.workers),
    estimateMiB: workerBytes(card) / MiB,
  };
  log(`${c.id}: memory ${JSON.stringify(result)}`);
  return result;
}

// ---- Main ------------------------------------------------------------------------------------------------------

async function main() {
  const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as Registry;
  const cases = CASES.filter((c) => !process.env.BENCH_ONLY || c.id.startsWith(process.env.BENCH_ONLY));
  const { url, server } = await serveBenchPage({
    entry: join(REPO_ROOT, 'bench', 'pool', 'browser-entry.ts'),
    file(rel) {
      if (rel === '/models/registry.json') return REGISTRY_PATH;
      if (rel.startsWith('/models/files/')) return join(MODEL_FILES_DIR, basename(rel));
      return null;
    },
  });
  const started = Date.now();
  const load0 = loadavg()[0];
  const speeds: SpeedResult[] = [];
  const memories: MemoryResult[] = [];
  try {
    for (const c of cases) {
      const photo = await nodeCodec.decode(new Uint8Array(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'images', c.photo))));
      const image = c.region ? crop(photo, ...c.region) : photo;
      const card = registry.models.find((m) => m.id === c.job.model)!;
      if (!process.env.BENCH_SKIP_SPEED) {
        const s = await speed(c, image, url, card);
        s.modelMB = modelBytes(card) / 1e6;
        speeds.push(s);
      }
      if (!process.env.BENCH_SKIP_MEMORY) memories.push(await memory(c, image, url, card));
    }
  } finally {
    server.close();
  }
  const when = new Date().toISOString();
  const machine = `${cpus().length}× ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const minutes = (Date.now() - started) / 60_000;
  const json = resultsJson({ when, machine, load: [load0, loadavg()[0]], runsPerEngine: RUNS, speeds, memories });
  const s1 = (ms: number) => (ms / 1000).toFixed(2);
  const md = [
    `# WASM worker pool vs one worker (${when.slice(0, 10)})`,
    '',
    `Machine: ${machine}; Chromium headless (bench/common/chromium.ts), a page that is not cross-origin isolated (as Figma's iframe), so onnxruntime-web runs one WASM thread per worker. Load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end; the bench took ${minutes.toFixed(1)} min. **The machine is shared** (other work ran at the same time): timed runs take turns (single, pool, pool, single, …), ${RUNS} per engine, after one warm-up each (download, session, the pool's workers).`,
    '',
    'The product end to end: the engine\'s upscale / restore task (tiling, blending) on `wasm`, once with `wasmWorkers: 1` (single-worker WASM in the engine worker, `ort-web/wasm`) and once on the pool (`ort-web/wasm-pool`, its own size unless BENCH_POOL_WORKERS). CPU times are read per thread from /proc over each run (all renderer threads).',
    '',
    '## Speed',
    '',
    '| case | model MB | pool workers | single wall s | pool wall s | speed-up (wall) | per worker | single: engine worker CPU s | pool: workers\' CPU s | speed-up with a free core per worker (CPU) | other work on the machine (cores) | identical bytes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...speeds.map((s) => `| ${s.label} | ${s.modelMB.toFixed(1)} | ${s.pool.workers} | ${s1(s.summary.singleWallMs)} | ${s1(s.summary.poolWallMs)} | ${s.summary.speedup.toFixed(2)}× | ${(s.summary.perWorkerScaling * 100).toFixed(0)} % | ${s1(s.summary.singleBusiestThreadMs)} | ${s.summary.poolWorkerThreadMs.map(s1).join(' + ')} | ${s.summary.cpuBoundSpeedup.toFixed(2)}× | ${s.summary.othersCores.toFixed(2)} | ${s.poolTiles ? `the pool cut it into ${s.poolTiles} tiles: its own bytes each run ${s.identical ? 'yes' : '**NO**'}` : s.identical ? 'yes' : '**NO**'} |`),
    '',
    'Speed-up (wall) = median single wall ÷ median pool wall; per worker = that ÷ workers (100 % = perfect scaling). CPU columns: medians of the thread CPU time read from /proc over each run: the engine worker computes every tile in a single run; in a pool run each worker computes its share. Speed-up with a free core per worker = single engine-worker CPU ÷ the busiest pool worker\'s CPU: what the wall-clock speed-up would be if each worker had a core to itself (no other work). Other work = CPU time the rest of the machine used during the runs (other people\'s jobs on this shared machine), in cores on average: with 2 cores, every core it takes is one the pool cannot use.',
    '',
    '### Runs',
    '',
    '| case | engine | wall s | browser CPU s | threads that computed (CPU s) | other work CPU s | idle CPU s | load |',
    '|---|---|---:|---:|---|---:|---:|---|',
    ...speeds.flatMap((s) => s.runs.map((r) => `| ${s.id} | ${r.engine} | ${s1(r.wallMs)} | ${s1(r.cpuMs)} | ${r.threads.map((t) => `${t.thread}: ${s1(t.cpuMs)}`).join(', ')} | ${s1(r.othersMs)} | ${s1(r.idleMs)} | ${r.load[0].toFixed(1)}→${r.load[1].toFixed(1)} |`)),
    '',
    ...speeds.map((s) => `- ${s.id}: single ${s.single.runtime} ("${s.single.reason}"); pool ${s.pool.runtime} ("${s.pool.reason}"), tiles per worker in the last run: ${s.pool.tilesPerWorker.join(', ')}; warm-ups ${s1(s.single.warmMs)} s / ${s1(s.pool.warmMs)} s.`),
    '',
    ...(memories.length
      ? [
          '## Memory per worker',
          '',
          'Renderer resident memory (VmRSS, all renderer processes) after the job with the sessions loaded, once V8\'s background threads had been quiet for 5 s; one fresh browser per column. A pool worker\'s cost = (pool of 4 − pool of 2) ÷ 2, steady and at the peak (VmHWM). Background CPU = V8\'s ThreadPool threads over the job and after it. The estimate is what the pool assumes when it sizes itself (worker/runtime/ort-web-pool.ts: workerBytes).',
          '',
          '| model | model MB | blank page MiB | single MiB (wasm heap) | pool 2 MiB | pool 4 MiB | per worker MiB | peak: single / pool 2 / pool 4 MiB | per worker at the peak MiB | background CPU s: single / pool 2 / pool 4 | estimate MiB |',
          '|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|',
          ...memories.map((m) => `| ${m.model} | ${m.modelMB.toFixed(1)} | ${m.blankMiB.toFixed(0)} | ${m.singleMiB.toFixed(0)} (${m.singleHeapMiB.toFixed(0)}) | ${m.pool2MiB.toFixed(0)} | ${m.pool4MiB.toFixed(0)} | ${m.perWorkerMiB.toFixed(0)} | ${m.peak.single.toFixed(0)} / ${m.peak.pool2.toFixed(0)} / ${m.peak.pool4.toFixed(0)} | ${m.perWorkerPeakMiB.toFixed(0)} | ${m.backgroundCpuS.single.toFixed(1)} / ${m.backgroundCpuS.pool2.toFixed(1)} / ${m.backgroundCpuS.pool4.toFixed(1)} | ${m.estimateMiB.toFixed(0)} |`),
          '',
        ]
      : []),
  ].join('\n');
  await writeResults('pool', json, md, minutes * 60);
}

runMain(main);
