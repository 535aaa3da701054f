// The page script of test/e2e/wasm-pool.test.ts. It also runs as the page's Web Worker (where the plugin runs its
// engine) and, started again by the pool, as each pool worker. In the worker: two engines on the browser platform,
// one forced to single-worker WASM (wasmWorkers: 1) and one on the pool (wasmWorkers: 2), so the test compares them.
import * as Comlink from 'comlink';
import { Engine } from '../../worker/engine.ts';
import { createBrowserPlatform } from '../../worker/platform-browser.ts';
import { wasmPoolStats, type WasmPoolStats } from '../../worker/runtime/ort-web-pool.ts';
import type { Progress, RgbaImage } from '../../worker/job.ts';

export interface PoolJob {
  task: 'upscale';
  model: string;
  params: Record<string, number | string>;
  image: { width: number; height: number; data: number[] };
}

export interface Ran {
  runtime: string;
  target: string;
  width: number;
  height: number;
  /** The result's RGBA bytes (plain numbers over the page boundary). */
  data: number[];
  /** The run stage's progress, in order. */
  progress: [number, number, string][];
}

const engines = new Map<number, Engine>();
const engine = (workers: number) => {
  let e = engines.get(workers);
  if (!e) engines.set(workers, (e = new Engine(createBrowserPlatform({ modelBaseUrl: location.origin, wasmWorkers: workers }))));
  return e;
};
const imageOf = (img: PoolJob['image']): RgbaImage => ({ width: img.width, height: img.height, data: Uint8Array.from(img.data) });
let ids = 0;

async function run(job: PoolJob, workers: number): Promise<Ran> {
  const e = engine(workers);
  const choice = await e.chooseTarget(job.task, job.model, 'wasm', job.params);
  const progress: Ran['progress'] = [];
  const onProgress = (p: Progress) => void (p.stage === 'run' && progress.push([p.done, p.total, p.message ?? '']));
  const result = await e.run({ id: `job${ids++}`, task: job.task, model: job.model, params: job.params, image: imageOf(job.image), target: 'wasm' }, onProgress);
  const out = result.images[0];
  return { runtime: choice.runtime ?? '', target: result.meta.target, width: out.width, height: out.height, data: Array.from(out.data), progress };
}

/** Cancels the pool's job as soon as a first tile has finished (others are then in flight); returns what the pool is
 *  doing right after the job ended. */
async function cancelAfterFirstTile(job: PoolJob, workers: number): Promise<{ code: string; message: string; stats: WasmPoolStats[] }> {
  const e = engine(workers);
  const id = `cancel${ids++}`;
  const onProgress = (p: Progress) => {
    if (p.stage === 'run' && p.done >= 1) void e.cancel(id);
  };
  try {
    await e.run({ id, task: job.task, model: job.model, params: job.params, image: imageOf(job.image), target: 'wasm' }, onProgress);
    return { code: 'finished', message: 'the job was not cancelled', stats: wasmPoolStats() };
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    return { code: code ?? 'none', message, stats: wasmPoolStats() };
  }
}

const api = { run, cancelAfterFirstTile, stats: () => wasmPoolStats() };
export type PoolTestApi = typeof api;

if (typeof document === 'undefined') {
  Comlink.expose(api);
} else {
  (globalThis as unknown as { poolTest: Comlink.Remote<PoolTestApi> }).poolTest = Comlink.wrap<PoolTestApi>(new Worker('bench.js', { type: 'module' }));
}
