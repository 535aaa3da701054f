// `npm run bench:peer`: Frontier against the peer a web developer would pick for upscaling in a browser, UpscalerJS
// (`upscaler` on TF.js 4.11's WASM backend), on the SAME ESRGAN weights (the `@upscalerjs/esrgan-*` packages; Frontier
// runs them converted to ONNX by models/convert/) and the same crops of a real photo, in Chromium, interleaved.
// Written to bench/results/peer.{json,md}.
//
// Engines, each in a browser of its own (so no two share a renderer process and each one's threads are its own):
//   peer        UpscalerJS + TF.js WASM on the page's main thread, the whole image at once (UpscalerJS's default);
//   peer tiled  the same with patches as many and as large as Frontier's tiles (only where Frontier tiles the image);
//   single      Frontier's engine, the product's upscale task end to end on single-worker WASM (wasmWorkers 1);
//   pool        the same on the WASM worker pool (runtime ort-web/wasm-pool, its own size unless BENCH_POOL_WORKERS),
//               which cuts an image of fewer tiles than workers into more (worker/image/tiling.ts laneGrid);
//   peer WebGL  UpscalerJS + TF.js WebGL where the browser has WebGL (see BENCH_WEBGL).
// None of the pages is cross-origin isolated (as Figma's iframe is not): every WASM engine computes on one thread.
// Per case each engine is warmed once (download, session / weights, kernels), its output is checked against
// Frontier's (PSNR > 40 dB, or the bench fails) and the pool's bytes against single-worker WASM's; then timed runs take
// turns, the order reversed every round, so load from other work falls on all. Per run: wall time in the page, the CPU
// time of every thread of the engine's browser (/proc), and the machine's CPU used by everything else (/proc/stat).
//
// Env: BENCH_RUNS=<timed runs per engine> (default 2); BENCH_SLIM_SIZES=<sizes, px> (default 64,128,256);
// BENCH_THICK_SIZES (default 64,128); BENCH_SLIM_SCALE=2|4 (default 4); BENCH_THICK_SCALE=2|4 (default 4);
// BENCH_ONLY=<case id prefix>; BENCH_POOL_WORKERS=N; BENCH_WEBGL=auto|all|off (auto: every case on a real GPU, only
// the smallest ESRGAN slim case on a software renderer such as SwiftShader); BENCH_RESULTS_DIR=DIR.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { crop } from '../worker/image/rgba.ts';
import { nodeCodec } from '../worker/image/codec-node.ts';
import { planTiles, takesAnySize } from '../worker/image/tiling.ts';
import type { RgbaImage } from '../worker/job.ts';
import type { Registry } from '../worker/models/card.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../worker/platform-node.ts';
import { parseCli } from '../server/cli-args.ts';
import { browserProcessMemory, launchBenchBrowser, openBenchPage } from './common/chromium.ts';
import { log } from './common/log.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { serveBenchPage } from './common/serve.ts';
import { median } from './common/stats.ts';
import type { FrontierBenchApi, FrontierRun } from './peer/frontier-entry.ts';
import type { PeerBenchApi, PeerInfo, PeerModel, PeerRun } from './peer/peer-entry.ts';
import { cpuBetween, machineTicks, threadCpu, type ThreadUse } from './common/proc.ts';
import { peerReport, type CaseResult, type EngineId, type TimedRun } from './peer/report.ts';

const USAGE =
  'npm run bench:peer (no options; by environment: BENCH_RUNS=N, BENCH_SLIM_SIZES=64,128,256, BENCH_THICK_SIZES=64,128, BENCH_SLIM_SCALE=2|4, BENCH_THICK_SCALE=2|4, BENCH_ONLY=<case id prefix>, BENCH_POOL_WORKERS=N, BENCH_WEBGL=auto|all|off, BENCH_RESULTS_DIR=DIR)';
parseCli(USAGE, {});

function envInt(name: string, fallback: number, ok: (n: number) => boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || !ok(n)) throw new Error(`${name}=${raw} is not allowed; usage: ${USAGE}`);
  return n;
}
function envSizes(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  if (raw.trim() === '') return [];
  const sizes = raw.split(',').map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 16 || s > 512)) throw new Error(`${name}=${raw}: sizes are whole pixels from 16 to 512; usage: ${USAGE}`);
  return sizes;
}

const RUNS = envInt('BENCH_RUNS', 2, (n) => n >= 1);
const POOL_WORKERS = process.env.BENCH_POOL_WORKERS ? envInt('BENCH_POOL_WORKERS', 0, (n) => n >= 2) : 0; // 0: the pool's own choice
const SLIM_SCALE = envInt('BENCH_SLIM_SCALE', 4, (n) => n === 2 || n === 4);
const THICK_SCALE = envInt('BENCH_THICK_SCALE', 4, (n) => n === 2 || n === 4);
const WEBGL = process.env.BENCH_WEBGL ?? 'auto';
if (!['auto', 'all', 'off'].includes(WEBGL)) throw new Error(`BENCH_WEBGL=${WEBGL} is not allowed; usage: ${USAGE}`);
/** The photo every case crops: astronaut.png (512², public domain), the face and the suit's edge. */
const PHOTO = 'astronaut.png';
const MIN_PSNR_DB = 40;

interface Case {
  id: string;
  model: PeerModel;
  scale: number;
  size: number;
}

const CASES: Case[] = [
  ...envSizes('BENCH_SLIM_SIZES', [64, 128, 256]).map((size) => ({ id: `slim-x${SLIM_SCALE}-${size}`, model: `esrgan-slim-x${SLIM_SCALE}` as PeerModel, scale: SLIM_SCALE, size })),
  ...envSizes('BENCH_THICK_SIZES', [64, 128]).map((size) => ({ id: `thick-x${THICK_SCALE}-${size}`, model: `esrgan-thick-x${THICK_SCALE}` as PeerModel, scale: THICK_SCALE, size })),
].filter((c) => !process.env.BENCH_ONLY || c.id.startsWith(process.env.BENCH_ONLY));

/** A size² crop of the photo around the face (astronaut.png, 512²). */
function cropOf(photo: RgbaImage, size: number): { image: RgbaImage; region: [number, number, number, number] } {
  const x = Math.min(176, photo.width - size);
  const y = Math.min(48, photo.height - size);
  return { image: crop(photo, x, y, size, size), region: [x, y, size, size] };
}

// ---- Pages -----------------------------------------------------------------------------------------------------


type Api = Record<string, (...a: unknown[]) => Promise<unknown>>;
const callIn =
  <A extends object>(global: string) =>
  <K extends keyof A & string>(page: Page, method: K, ...args: A[K] extends (...a: infer P) => unknown ? P : never): Promise<A[K] extends (...a: never[]) => Promise<infer R> ? R : never> =>
    page.evaluate(([g, m, a]) => ((globalThis as unknown as Record<string, Api>)[g][m] as (...x: unknown[]) => Promise<unknown>)(...a), [global, method, args] as const) as never;
const frontier = callIn<FrontierBenchApi>('frontierBench');
const peer = callIn<PeerBenchApi>('peerBench');

/** An engine's browser and page (the peer's serves both its runs); `gpu` adds the GPU process to the CPU it is
 *  charged (WebGL computes there). */
interface Side {
  browser: Browser;
  page: Page;
  gpu: boolean;
}

async function sidePids(side: Side): Promise<number[]> {
  return (await browserProcessMemory(side.browser)).filter((p) => p.type === 'renderer' || (side.gpu && p.type === 'GPU')).map((p) => p.pid);
}

/** The thread that computes for each engine: its CPU is the engine's "computing CPU". */
function computingThreads(engine: EngineId, threads: ThreadUse[], gpuPids: Set<number>): ThreadUse[] {
  if (engine === 'single') return threads.filter((t) => t.thread.startsWith('DedicatedWorker')).slice(0, 1);
  if (engine === 'pool') return threads.filter((t) => t.thread.startsWith('DedicatedWorker'));
  // The page's main thread (named as the process); WebGL computes in the GPU process, SwiftShader's threads included.
  if (engine === 'peer-webgl') return threads.filter((t) => (t.main && !gpuPids.has(t.pid)) || gpuPids.has(t.pid));
  return threads.filter((t) => t.main).slice(0, 1);
}

async function measured<R extends { ms: number; hash: string }>(engine: EngineId, side: Side, go: () => Promise<R>): Promise<{ run: TimedRun; result: R }> {
  const pids = await sidePids(side);
  const gpuPids = new Set(side.gpu ? (await browserProcessMemory(side.browser)).filter((p) => p.type === 'GPU').map((p) => p.pid) : []);
  const before = threadCpu(pids);
  const machine0 = machineTicks();
  const t0 = Date.now();
  const load0 = loadavg()[0];
  const result = await go();
  const machine1 = machineTicks();
  const windowMs = Date.now() - t0;
  const threads = cpuBetween(before, threadCpu(pids));
  const browserCpuMs = threads.reduce((s, t) => s + t.cpuMs, 0);
  const computing = computingThreads(engine, threads, gpuPids);
  return {
    result,
    run: {
      engine,
      wallMs: result.ms,
      computeCpuMs: computing.reduce((s, t) => s + t.cpuMs, 0),
      busiestThreadMs: computing[0]?.cpuMs ?? 0,
      browserCpuMs,
      threads: threads.filter((t) => t.cpuMs >= 0.05 * result.ms).map(({ thread, pid, cpuMs }) => ({ thread: gpuPids.has(pid) ? `GPU process: ${thread}` : thread, cpuMs })),
      windowMs,
      othersMs: Math.max(0, (machine1.busy - machine0.busy) * 10 - browserCpuMs),
      idleMs: (machine1.idle - machine0.idle) * 10,
      load: [load0, loadavg()[0]],
      hash: result.hash,
    },
  };
}

// ---- Output check ------------------------------------------------------------------------------------------------

/** PSNR (dB) of two RGBA byte images over their RGB channels, and their largest difference in 8-bit levels. */
function compare(a: Uint8Array, b: Uint8Array): { psnrDb: number; maxDiff: number; differing: number } {
  if (a.length !== b.length) return { psnrDb: Number.NaN, maxDiff: Number.NaN, differing: 1 };
  let se = 0;
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = a[i] - b[i];
    se += d * d;
    if (d !== 0) differing++;
    maxDiff = Math.max(maxDiff, Math.abs(d));
  }
  const n = (a.length / 4) * 3;
  return { psnrDb: se === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / (se / n)), maxDiff, differing: differing / n };
}
const bytesOf = (b64: string | undefined) => new Uint8Array(Buffer.from(b64 ?? '', 'base64'));

// ---- One case ------------------------------------------------------------------------------------------------

interface Sides {
  peer: Side;
  single: Side;
  pool: Side;
  webgl?: Side;
}

async function runCase(c: Case, sides: Sides, registry: Registry, photo: RgbaImage, webglHere: boolean): Promise<CaseResult> {
  const card = registry.models.find((m) => m.id === c.model);
  if (!card?.io.tile || card.io.scale !== c.scale) throw new Error(`${c.model}: no such upscaling model in ${REGISTRY_PATH}`);
  const { image, region } = cropOf(photo, c.size);
  const pixels = { width: image.width, height: image.height, rgba: Buffer.from(image.data).toString('base64') };
  const tile = card.io.tile;
  // As the upscale task plans them: ESRGAN takes any size, so its tiles are only as large as covering needs.
  const plan = planTiles(c.size, c.size, tile.size, tile.overlap, takesAnySize(card.io));
  const tiled = plan.tiles.length > 1;
  const tileSide = plan.xs[0].end - plan.xs[0].start;
  // UpscalerJS's patches: `size` input pixels each, `padding` on inner sides cut from the output. padding = half
  // Frontier's overlap gives as many patches of the same size as Frontier's tiles (checked below by counting).
  const patch = tiled ? { size: tileSide, padding: tile.overlap / 2 } : null;
  const engines: EngineId[] = ['peer', ...(patch ? (['peer-tiled'] as const) : []), 'single', 'pool'];

  log(`${c.id}: ${c.size}×${c.size} crop at (${region[0]}, ${region[1]}) of ${PHOTO}; Frontier ${plan.tiles.length} tile(s) of ≤ ${tile.size} px (overlap ${tile.overlap}); loading`);
  await frontier(sides.single.page, 'setJob', c.model, c.scale, pixels);
  await frontier(sides.pool.page, 'setJob', c.model, c.scale, pixels);
  const peerLoadMs = await peer(sides.peer.page, 'load', c.model);
  await peer(sides.peer.page, 'setJob', pixels);

  // Warm-up runs, with the pixels for the check.
  const go: Record<EngineId, (withPixels: boolean) => Promise<PeerRun | FrontierRun>> = {
    peer: (w) => peer(sides.peer.page, 'run', c.model, null, w),
    'peer-tiled': (w) => peer(sides.peer.page, 'run', c.model, patch, w),
    single: (w) => frontier(sides.single.page, 'run', 1, w),
    pool: (w) => frontier(sides.pool.page, 'run', POOL_WORKERS, w),
    'peer-webgl': (w) => peer(sides.webgl!.page, 'run', c.model, null, w),
  };
  const sideOf = (e: EngineId): Side => (e === 'peer' || e === 'peer-tiled' ? sides.peer : e === 'peer-webgl' ? sides.webgl! : sides[e]);
  const warm: Partial<Record<EngineId, { ms: number; result: PeerRun | FrontierRun }>> = {};
  for (const e of engines) {
    const result = await go[e](true);
    warm[e] = { ms: result.ms, result };
    log(`${c.id}: ${e} warm-up ${(result.ms / 1000).toFixed(2)} s`);
  }
  const tiledPeer = warm['peer-tiled']?.result as PeerRun | undefined;
  const singleRun = warm.single!.result as FrontierRun;
  const poolRun = warm.pool!.result as FrontierRun;
  if (poolRun.runtime !== 'ort-web/wasm-pool') throw new Error(`the pool did not take ${c.model}: ${poolRun.runtime} (${poolRun.reason})`);
  const reference = bytesOf(singleRun.rgba);
  const checks: CaseResult['checks'] = [];
  for (const e of engines.filter((x) => x.startsWith('peer'))) {
    const r = warm[e]!.result;
    checks.push({ what: `${e} vs Frontier`, ...compare(bytesOf(r.rgba), reference), size: `${r.width}×${r.height}` });
  }
  // The pool cuts an image with fewer tiles than workers into more (tiling.ts laneGrid, lanes = its workers): then its
  // result is one worker's uncut result blended from tiles, not the same bytes; checked within the seam tolerance.
  const poolPlan = planTiles(c.size, c.size, tile.size, tile.overlap, takesAnySize(card.io), poolRun.poolSize);
  const samePlan = poolPlan.tiles.length === plan.tiles.length;
  if (!samePlan) checks.push({ what: `pool (${poolPlan.tiles.length} tiles) vs 1 worker (${plan.tiles.length})`, ...compare(bytesOf(poolRun.rgba), reference), size: `${poolRun.width}×${poolRun.height}` });

  // WebGL (a browser of its own): warm-up and check; timed with the others where it runs.
  let webgl: CaseResult['webgl'];
  if (sides.webgl && webglHere) {
    await peer(sides.webgl.page, 'load', c.model);
    await peer(sides.webgl.page, 'setJob', pixels);
    const r = await go['peer-webgl'](true);
    log(`${c.id}: peer-webgl warm-up ${(r.ms / 1000).toFixed(2)} s`);
    checks.push({ what: 'peer-webgl vs Frontier', ...compare(bytesOf(r.rgba), reference), size: `${r.width}×${r.height}` });
    webgl = { warmMs: r.ms };
    engines.push('peer-webgl');
  }
  for (const k of checks) log(`${c.id}: ${k.what}: PSNR ${k.psnrDb.toFixed(1)} dB, max difference ${k.maxDiff} levels, ${(k.differing * 100).toFixed(2)} % of values differ`);

  const runs: TimedRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const e of i % 2 ? [...engines].reverse() : engines) {
      const { run } = await measured(e, sideOf(e), () => go[e](false));
      runs.push(run);
      log(`${c.id}: ${e} ${(run.wallMs / 1000).toFixed(2)} s wall, computing CPU ${(run.computeCpuMs / 1000).toFixed(2)} s (${run.threads.slice(0, 3).map((t) => `${t.thread} ${(t.cpuMs / 1000).toFixed(2)}`).join(', ')}); others ${(run.othersMs / 1000).toFixed(1)} s, idle ${(run.idleMs / 1000).toFixed(1)} s`);
    }
  }
  // Same plan: the pool's bytes are one worker's. A cut plan: each side repeats its own bytes run after run.
  const hashOf = (e: EngineId) => (e === 'pool' && !samePlan ? poolRun.hash : singleRun.hash);
  const identical = runs.filter((r) => r.engine === 'pool' || r.engine === 'single').every((r) => r.hash === hashOf(r.engine)) && (!samePlan || poolRun.hash === singleRun.hash);
  const summary = Object.fromEntries(
    engines.map((e) => {
      const of = runs.filter((r) => r.engine === e);
      return [e, { wallMs: median(of.map((r) => r.wallMs)), computeCpuMs: median(of.map((r) => r.computeCpuMs)), busiestThreadMs: median(of.map((r) => r.busiestThreadMs)), browserCpuMs: median(of.map((r) => r.browserCpuMs)) }];
    }),
  ) as CaseResult['summary'];
  return {
    id: c.id,
    model: c.model,
    scale: c.scale,
    size: c.size,
    region,
    output: `${singleRun.width}×${singleRun.height}`,
    frontierTiles: { count: plan.tiles.length, size: tileSide, overlap: tile.overlap, inputPixels: plan.tiles.reduce((s, t) => s + t.width * t.height, 0) },
    poolTiles: { count: poolPlan.tiles.length, width: poolPlan.tiles[0].width, height: poolPlan.tiles[0].height, inputPixels: poolPlan.tiles.reduce((s, t) => s + t.width * t.height, 0) },
    samePlan,
    peerPatches: patch && tiledPeer ? { count: tiledPeer.patches, size: patch.size, padding: patch.padding, inputPixels: tiledPeer.patchPixels } : null,
    single: { runtime: singleRun.runtime, reason: singleRun.reason, warmMs: warm.single!.ms },
    pool: { runtime: poolRun.runtime, reason: poolRun.reason, warmMs: warm.pool!.ms, workers: poolRun.poolSize, tilesPerWorker: poolRun.poolTiles },
    peer: { loadMs: peerLoadMs, warmMs: warm.peer!.ms },
    ...(webgl ? { webgl } : {}),
    checks,
    identical,
    runs,
    summary,
    othersCores: runs.reduce((s, r) => s + r.othersMs, 0) / runs.reduce((s, r) => s + r.windowMs, 0),
  };
}

// ---- Main ------------------------------------------------------------------------------------------------------

const PEER_MODEL_ROUTE = /^\/peer-models\/(esrgan-(?:slim|thick))\/(x[2-4])\/([\w.-]+\.(?:json|bin))$/;
const TFJS_WASM_ROUTE = /^\/tfjs-wasm\/(tfjs-backend-wasm(?:-simd|-threaded-simd)?\.wasm)$/;

async function main() {
  if (!CASES.length) throw new Error(`no case left (BENCH_ONLY=${process.env.BENCH_ONLY}); usage: ${USAGE}`);
  const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as Registry;
  const photo = await nodeCodec.decode(new Uint8Array(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'images', PHOTO))));
  const frontierServer = await serveBenchPage({
    entry: join(REPO_ROOT, 'bench', 'peer', 'frontier-entry.ts'),
    file(rel) {
      if (rel === '/models/registry.json') return REGISTRY_PATH;
      if (rel.startsWith('/models/files/')) return join(MODEL_FILES_DIR, basename(rel));
      return null;
    },
  });
  const peerServer = await serveBenchPage({
    entry: join(REPO_ROOT, 'bench', 'peer', 'peer-entry.ts'),
    file(rel) {
      const m = PEER_MODEL_ROUTE.exec(rel);
      if (m) return join(REPO_ROOT, 'node_modules', '@upscalerjs', m[1], 'models', m[2], m[3]);
      const w = TFJS_WASM_ROUTE.exec(rel);
      if (w) return join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist', w[1]);
      return null;
    },
  });
  const started = Date.now();
  const load0 = loadavg()[0];
  const open = async (url: string, global: string, gpu = false): Promise<Side> => {
    const browser = await launchBenchBrowser();
    return { browser, page: await openBenchPage(browser, url, global), gpu };
  };
  const sides: Sides = {
    peer: await open(peerServer.url, 'peerBench'),
    single: await open(frontierServer.url, 'frontierBench'),
    pool: await open(frontierServer.url, 'frontierBench'),
  };
  const results: CaseResult[] = [];
  let peerInfo: PeerInfo | undefined;
  let webglInfo: PeerInfo | undefined;
  let webglNote = '';
  try {
    peerInfo = await peer(sides.peer.page, 'init', 'wasm');
    log(`peer: TF.js ${peerInfo.tfjsVersion} ${peerInfo.backend} (SIMD ${peerInfo.wasmSimd}, threads ${peerInfo.wasmThreads}), cross-origin isolated ${peerInfo.crossOriginIsolated}, ${peerInfo.hardwareConcurrency} cores`);
    if (peerInfo.wasmThreads) throw new Error('the peer got WASM threads: the page is meant to be like Figma\'s (one thread)');
    if (WEBGL !== 'off') {
      sides.webgl = await open(peerServer.url, 'peerBench', true);
      try {
        webglInfo = await peer(sides.webgl.page, 'init', 'webgl');
      } catch (err) {
        webglNote = `TF.js WebGL did not start here: ${(err as Error).message.split('\n')[0]}`;
        await sides.webgl.browser.close();
        delete sides.webgl;
      }
    } else webglNote = 'TF.js WebGL not run (BENCH_WEBGL=off).';
    // On a software renderer, WebGL runs once, on the cheapest ESRGAN slim case (tens of times slower than WASM).
    const slimCases = CASES.filter((c) => c.model.startsWith('esrgan-slim'));
    const cheapest = slimCases.length ? slimCases.reduce((a, b) => (b.size < a.size ? b : a)) : undefined;
    const software = webglInfo ? /swiftshader|llvmpipe|software/i.test(webglInfo.webglRenderer ?? '') : false;
    if (webglInfo) {
      webglNote = software
        ? `WebGL here is ${webglInfo.webglRenderer}: a software renderer on the CPU, not a GPU. ${WEBGL === 'all' ? 'Run on every case (BENCH_WEBGL=all)' : `Run on ${cheapest ? `the cheapest ESRGAN slim case only (${cheapest.id})` : 'no case (no ESRGAN slim case in this run)'} (BENCH_WEBGL=auto)`}, as a record that it works and how slow software WebGL is; it says nothing about a real GPU.`
        : `WebGL here is ${webglInfo.webglRenderer}.`;
      log(`peer WebGL: ${webglNote}`);
    }
    for (const c of CASES) {
      const webglHere = !!webglInfo && (WEBGL === 'all' || !software || c === cheapest);
      results.push(await runCase(c, sides, registry, photo, webglHere));
    }
  } finally {
    await Promise.all(Object.values(sides).map((s: Side) => s.browser.close()));
    frontierServer.server.close();
    peerServer.server.close();
  }
  const when = new Date().toISOString();
  const machine = `${cpus().length}× ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const minutes = (Date.now() - started) / 60_000;
  const load: [number, number] = [load0, loadavg()[0]];
  const json = resultsJson({ when, machine, load, minutes, runsPerEngine: RUNS, photo: PHOTO, peer: peerInfo, webgl: webglInfo ?? null, webglNote, cases: results });
  await writeResults('peer', json, peerReport({ when, machine, load, minutes, runs: RUNS, photo: PHOTO, peer: peerInfo!, webglNote, cases: results }), minutes * 60);
  const bad = results.flatMap((r) => [...r.checks.filter((k) => !(k.psnrDb > MIN_PSNR_DB)).map((k) => `${r.id}: ${k.what}: PSNR ${k.psnrDb.toFixed(1)} dB ≤ ${MIN_PSNR_DB} dB`), ...(r.identical ? [] : [r.samePlan ? `${r.id}: the pool's output differs from single-worker WASM's on the same tiles` : `${r.id}: a run's output differs from its warm-up's`])]);
  if (bad.length) throw new Error(`outputs do not match:\n${bad.join('\n')}`);
}

runMain(main);
