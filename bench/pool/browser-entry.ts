// The page script of `npm run bench:pool` (bench/pool.ts). It also runs as the page's Web Worker, where the engine
// runs as in the plugin, and, started again by the WASM pool, as each pool worker (which only serves the pool there).
// In the engine worker: one Engine per worker count on the browser platform (wasmWorkers 1: single-worker WASM in this
// worker; 2 or more: the pool), the product's upscale and restore tasks end to end.
import * as Comlink from 'comlink';
import { Engine } from '../../worker/engine.ts';
import { createBrowserPlatform } from '../../worker/platform-browser.ts';
import { wasmPoolStats, type WasmPoolStats } from '../../worker/runtime/ort-web-pool.ts';
import type { Params } from '../../worker/job.ts';
import type { WarmUpAnswer } from '../../worker/engine-api.ts';

export interface PoolBenchJob {
  task: 'upscale' | 'restore';
  model: string;
  params: Params;
  image: { width: number; height: number; data: number[] };
}

export interface PoolBenchRun {
  /** Wall time of the job (engine.run), ms; `startedAt`/`endedAt`: epoch ms, to read CPU time over the run. */
  ms: number;
  startedAt: number;
  endedAt: number;
  runtime: string;
  reason: string;
  /** FNV-1a of the result's bytes: equal results have equal hashes. */
  hash: string;
  width: number;
  height: number;
  pools: WasmPoolStats[];
  hardwareConcurrency: number;
  deviceMemory?: number;
  crossOriginIsolated: boolean;
}

/** onnxruntime's wasm heap in this worker (single-worker WASM): WebAssembly.Memory objects made here. */
const memories: WebAssembly.Memory[] = [];
if (typeof document === 'undefined') {
  const Native = WebAssembly.Memory;
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = new Proxy(Native, {
    construct(target, args: [WebAssembly.MemoryDescriptor]) {
      const memory = new target(...args);
      memories.push(memory);
      return memory;
    },
  });
}

const engines = new Map<number, Engine>();
const engineFor = (workers: number) => {
  let e = engines.get(workers);
  // 0: the pool sizes itself (wasmWorkers unset), as in the plugin.
  if (!e) engines.set(workers, (e = new Engine(createBrowserPlatform({ modelBaseUrl: location.origin, ...(workers ? { wasmWorkers: workers } : {}) }))));
  return e;
};

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

let ids = 0;
/** The job the runs repeat, set once (so a timed run carries no image across the page boundary). */
let job: (Omit<PoolBenchJob, 'image'> & { image: { width: number; height: number; data: Uint8Array } }) | undefined;

async function setJob(spec: PoolBenchJob): Promise<void> {
  job = { ...spec, image: { width: spec.image.width, height: spec.image.height, data: Uint8Array.from(spec.image.data) } };
}

async function run(workers: number): Promise<PoolBenchRun> {
  if (!job) throw new Error('setJob first');
  const engine = engineFor(workers);
  const choice = await engine.chooseTarget(job.task, job.model, 'wasm', job.params);
  const image = { ...job.image, data: job.image.data.slice() };
  const startedAt = Date.now();
  const t = performance.now();
  const result = await engine.run({ id: `bench${ids++}`, task: job.task, model: job.model, params: job.params, image, target: 'wasm' });
  const ms = performance.now() - t;
  const endedAt = Date.now();
  const out = result.images[0];
  const nav = navigator as Navigator & { deviceMemory?: number };
  return {
    ms,
    startedAt,
    endedAt,
    runtime: choice.runtime ?? '',
    reason: choice.reason,
    hash: fnv1a(out.data),
    width: out.width,
    height: out.height,
    pools: wasmPoolStats(),
    hardwareConcurrency: nav.hardwareConcurrency,
    ...(nav.deviceMemory ? { deviceMemory: nav.deviceMemory } : {}),
    crossOriginIsolated,
  };
}

/** The product's warm-up of the job's model (Engine.warmUp), as the panel asks for it before Run. */
async function warmUp(workers: number): Promise<WarmUpAnswer> {
  if (!job) throw new Error('setJob first');
  return engineFor(workers).warmUp({ task: job.task, model: job.model, params: job.params, target: 'wasm' });
}

const api = {
  setJob,
  run,
  warmUp,
  /** The largest wasm heap made in this (the engine's) worker: single-worker WASM's. */
  heapBytes: async () => Math.max(0, ...memories.map((m) => m.buffer.byteLength)),
};
export type PoolBenchApi = typeof api;

if (typeof document === 'undefined') {
  Comlink.expose(api);
} else {
  (globalThis as unknown as { poolBench: Comlink.Remote<PoolBenchApi> }).poolBench = Comlink.wrap<PoolBenchApi>(new Worker('bench.js', { type: 'module' }));
}
