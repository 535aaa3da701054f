// Frontier's page script for `npm run bench:peer` (bench/peer.ts). As in bench/pool/browser-entry.ts it also runs as
// the page's Web Worker, where the engine runs as in the plugin, and, started again by the WASM pool, as each pool
// worker. In the engine worker: one Engine per worker count (wasmWorkers 1: single-worker WASM in this worker; 0: the
// pool at its own size), the product's upscale task end to end (tiling, blending, the engine).
import * as Comlink from 'comlink';
import { Engine } from '../../worker/engine.ts';
import { createBrowserPlatform } from '../../worker/platform-browser.ts';
import { wasmPoolStats } from '../../worker/runtime/ort-web-pool.ts';
import { base64ToBytes, bytesToBase64, fnv1a, type PixelsIn } from './pixels.ts';

export interface FrontierRun {
  /** Wall time of the job (engine.run), ms. */
  ms: number;
  runtime: string;
  reason: string;
  /** FNV-1a of the result's RGBA bytes. */
  hash: string;
  width: number;
  height: number;
  /** The result's RGBA bytes in base64, when asked for (the output check). */
  rgba?: string;
  /** Tiles each pool worker has computed so far (empty off the pool). */
  poolTiles: number[];
  poolSize: number;
}

const engines = new Map<number, Engine>();
const engineFor = (workers: number) => {
  let e = engines.get(workers);
  // 0: the pool sizes itself (wasmWorkers unset), as in the plugin.
  if (!e) engines.set(workers, (e = new Engine(createBrowserPlatform({ modelBaseUrl: location.origin, ...(workers ? { wasmWorkers: workers } : {}) }))));
  return e;
};

let ids = 0;
/** The job the runs repeat, set once per case (a timed run carries no image across the page boundary). */
let job: { model: string; scale: number; image: { width: number; height: number; data: Uint8Array } } | undefined;

async function setJob(model: string, scale: number, image: PixelsIn): Promise<void> {
  job = { model, scale, image: { width: image.width, height: image.height, data: base64ToBytes(image.rgba) } };
}

async function run(workers: number, withPixels: boolean): Promise<FrontierRun> {
  if (!job) throw new Error('setJob first');
  const engine = engineFor(workers);
  const params = { scale: job.scale };
  const choice = await engine.chooseTarget('upscale', job.model, 'wasm', params);
  const image = { ...job.image, data: job.image.data.slice() };
  const t = performance.now();
  const result = await engine.run({ id: `peer-bench${ids++}`, task: 'upscale', model: job.model, params, image, target: 'wasm' });
  const ms = performance.now() - t;
  const out = result.images[0];
  const pool = wasmPoolStats().find((p) => p.model === job!.model);
  return {
    ms,
    runtime: choice.runtime ?? '',
    reason: choice.reason,
    hash: fnv1a(out.data),
    width: out.width,
    height: out.height,
    ...(withPixels ? { rgba: bytesToBase64(out.data) } : {}),
    poolTiles: pool?.workers.map((w) => w.runs) ?? [],
    poolSize: pool?.size ?? 0,
  };
}

const api = { setJob, run };
export type FrontierBenchApi = typeof api;

if (typeof document === 'undefined') {
  Comlink.expose(api);
} else {
  (globalThis as unknown as { frontierBench: Comlink.Remote<FrontierBenchApi> }).frontierBench = Comlink.wrap<FrontierBenchApi>(new Worker('bench.js', { type: 'module' }));
}
