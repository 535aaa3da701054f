// The engine worker of `npm run bench:first-run` with BENCH_FRAME=sandboxed, bundled as a classic (iife) script and
// started from a blob: URL inside a sandboxed iframe, as the plugin starts its engine (plugin/build-ui.ts,
// ui/engine-client.ts): Chromium refuses module workers from blob: URLs of an opaque origin. Started again by the WASM
// pool, it is a pool member (worker/runtime/ort-web-pool.ts sees that at import).
import * as Comlink from 'comlink';
import { Engine } from '../../worker/engine.ts';
import { createBrowserPlatform } from '../../worker/platform-browser.ts';
import type { PoolBenchJob } from '../pool/browser-entry.ts';
import type { WarmUpAnswer } from '../../worker/engine-api.ts';

const engines = new Map<number, Engine>();
let base = '';
let job: (Omit<PoolBenchJob, 'image'> & { image: { width: number; height: number; data: Uint8Array } }) | undefined;
let ids = 0;

const api = {
  /** `serverBase`: the server's origin (a blob: worker of an opaque origin has none: location.origin is "null"). */
  async setJob(spec: PoolBenchJob, serverBase: string): Promise<void> {
    base = serverBase;
    job = { ...spec, image: { width: spec.image.width, height: spec.image.height, data: Uint8Array.from(spec.image.data) } };
  },
  async run(workers: number): Promise<{ ms: number; runtime: string; reason: string; origin: string }> {
    if (!job) throw new Error('setJob first');
    let engine = engines.get(workers);
    if (!engine) engines.set(workers, (engine = new Engine(createBrowserPlatform({ modelBaseUrl: base, wasmWorkers: workers }))));
    const choice = await engine.chooseTarget(job.task, job.model, 'wasm', job.params);
    const t = performance.now();
    await engine.run({ id: `first${ids++}`, task: job.task, model: job.model, params: job.params, image: { ...job.image, data: job.image.data.slice() }, target: 'wasm' });
    return { ms: performance.now() - t, runtime: choice.runtime ?? '', reason: choice.reason, origin: String(self.origin) };
  },
  /** The product's warm-up (Engine.warmUp); here, with no Cache API in an opaque origin, it answers 'not-cached'. */
  async warmUp(workers: number): Promise<WarmUpAnswer> {
    if (!job) throw new Error('setJob first');
    let engine = engines.get(workers);
    if (!engine) engines.set(workers, (engine = new Engine(createBrowserPlatform({ modelBaseUrl: base, wasmWorkers: workers }))));
    return engine.warmUp({ task: job.task, model: job.model, params: job.params, target: 'wasm' });
  },
};
export type SandboxedApi = typeof api;

// In a pool member the pool keeps the messages from this endpoint (as in worker/worker.ts).
Comlink.expose(api);
