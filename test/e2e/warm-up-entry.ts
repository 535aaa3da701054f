// The page script of test/e2e/warm-up.test.ts. It also runs as the page's Web Worker (where the plugin runs its
// engine) and, started again by the pool, as each pool worker. In the worker: engines on the browser platform by name,
// each on a pool of 2 single-threaded WASM workers (as in Figma's iframe, which is not cross-origin isolated), so the
// test compares a job after a warm-up with the same job on an engine that was never warmed up.
import * as Comlink from 'comlink';
import { Engine } from '../../worker/engine.ts';
import type { WarmUpAnswer } from '../../worker/engine-api.ts';
import { createBrowserPlatform } from '../../worker/platform-browser.ts';
import { wasmPoolStats, type WasmPoolStats } from '../../worker/runtime/ort-web-pool.ts';
import type { RgbaImage } from '../../worker/job.ts';
import type { PoolJob } from './wasm-pool-entry.ts';

/** The job the pool test's page takes (plain data across page.evaluate). */
export type WarmJob = PoolJob;

export interface Ran {
  width: number;
  height: number;
  data: number[];
}

const engines = new Map<string, Engine>();
const engine = (name: string) => {
  let e = engines.get(name);
  if (!e) engines.set(name, (e = new Engine(createBrowserPlatform({ modelBaseUrl: location.origin, wasmWorkers: 2 }))));
  return e;
};
const imageOf = (img: WarmJob['image']): RgbaImage => ({ width: img.width, height: img.height, data: Uint8Array.from(img.data) });
let ids = 0;

async function run(name: string, job: WarmJob): Promise<Ran> {
  const result = await engine(name).run({ id: `job${ids++}`, task: job.task, model: job.model, params: job.params, image: imageOf(job.image), target: 'wasm' });
  const out = result.images[0];
  return { width: out.width, height: out.height, data: Array.from(out.data) };
}

function warmUp(name: string, job: WarmJob): Promise<WarmUpAnswer> {
  return engine(name).warmUp({ task: job.task, model: job.model, params: job.params, target: 'wasm' });
}

/** A warm-up and a run asked together (the designer presses Run while the model warms up). */
async function warmUpWhileRunning(name: string, job: WarmJob): Promise<{ answer: WarmUpAnswer; ran: Ran }> {
  const [answer, ran] = await Promise.all([warmUp(name, job), run(name, job)]);
  return { answer, ran };
}

/** Frees an engine's sessions (its pool leaves wasmPoolStats). */
async function dispose(name: string): Promise<void> {
  await engines.get(name)?.dispose();
  engines.delete(name);
}

const api = { run, warmUp, warmUpWhileRunning, dispose, stats: (): WasmPoolStats[] => wasmPoolStats() };
export type WarmUpTestApi = typeof api;

if (typeof document === 'undefined') {
  Comlink.expose(api);
} else {
  (globalThis as unknown as { warmUpTest: Comlink.Remote<WarmUpTestApi> }).warmUpTest = Comlink.wrap<WarmUpTestApi>(new Worker('bench.js', { type: 'module' }));
}
