// The restore bench's page script (bench/restore.ts); it also runs as the page's Web Worker, where the model runs (as
// the plugin runs its engine in one). Unlike the other bench pages it opens onnxruntime-web sessions itself, so a run
// can try session options (profiling, memory arena, optimisation level) on the same wasm the product loads:
// configureOrtWeb (worker/runtime/ort-web.ts) sets the wasm files and threads exactly as the product does, and the
// "product" options are the ones createOrtWebRuntime passes ({ executionProviders: [ep], graphOptimizationLevel: 'all' }).
// Also measures the wasm heap: the byteLength of onnxruntime's WebAssembly.Memory (captured when the glue makes it;
// wasm memory only grows, so after a run it is the heap's high-water mark).
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { configureOrtWeb, probeWebGpu } from '../worker/runtime/ort-web.ts';
import { aggregateProfile, type OpProfile } from './restore-profile.ts';

export interface OpenSpec {
  modelUrl: string;
  ep: 'wasm' | 'webgpu';
  threads: number;
  /** Passed to InferenceSession.create besides executionProviders (the product passes graphOptimizationLevel 'all'). */
  options: Record<string, unknown>;
}

export interface OpenResult {
  downloadMs: number;
  sessionMs: number;
  threads: number;
  isolated: boolean;
  adapter?: string;
  heapBytes: number;
}

export interface RunsResult {
  runMs: number[];
  /** Wall-clock span of each run (epoch ms), to read the renderer's CPU time over it. */
  runSpans: [number, number][];
  heapBytes: number;
}

// ---- In the worker ----------------------------------------------------------------------------------------

const memories: WebAssembly.Memory[] = [];
if (typeof document === 'undefined') {
  const Native = WebAssembly.Memory;
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = new Proxy(Native, {
    construct(target, args) {
      const m = Reflect.construct(target, args) as WebAssembly.Memory;
      memories.push(m);
      return m;
    },
  });
}

/** The largest wasm memory made in this worker (onnxruntime's heap; 0 before it loads). */
const heapBytes = () => Math.max(0, ...memories.map((m) => m.buffer.byteLength));

// onnxruntime-web's profiler writes its events through the wasm's stdout (console.log in this worker).
const captured: string[] = [];
let capturing = false;
if (typeof document === 'undefined') {
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      if (capturing && args.length === 1 && typeof args[0] === 'string') {
        captured.push(args[0]);
        return;
      }
      original(...args);
    };
  }
}

let session: ort.InferenceSession | undefined;
let feeds: Record<string, ort.Tensor> = {};
let lastOutputs: Record<string, ort.Tensor> = {};

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function open(spec: OpenSpec, feedUrl: string, dims: number[]): Promise<OpenResult> {
  configureOrtWeb({ wasmBaseUrl: `${location.origin}/ort`, threads: spec.threads });
  const adapter = spec.ep === 'webgpu' ? (await probeWebGpu()).detail : undefined;
  const t0 = performance.now();
  const bytes = await fetchBytes(spec.modelUrl);
  const input = await fetchBytes(feedUrl);
  const downloadMs = performance.now() - t0;
  feeds = { input: new ort.Tensor('float32', new Float32Array(input.slice().buffer), dims) };
  capturing = Boolean(spec.options.enableProfiling);
  const t1 = performance.now();
  session = await ort.InferenceSession.create(bytes, { executionProviders: [spec.ep], ...spec.options } as ort.InferenceSession.SessionOptions);
  const sessionMs = performance.now() - t1;
  return { downloadMs, sessionMs, threads: ort.env.wasm.numThreads ?? 1, isolated: crossOriginIsolated, adapter, heapBytes: heapBytes() };
}

async function runs(count: number): Promise<RunsResult> {
  if (!session) throw new Error('no session');
  const runMs: number[] = [];
  const runSpans: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    lastOutputs = await session.run(feeds);
    const end = performance.now();
    runMs.push(end - t);
    runSpans.push([performance.timeOrigin + t, performance.timeOrigin + end]);
  }
  return { runMs, runSpans, heapBytes: heapBytes() };
}

/** POSTs the last run's output to `url` (float32 bytes). */
async function upload(url: string): Promise<void> {
  const t = lastOutputs.output;
  if (!t) throw new Error('no output yet');
  const data = (await t.getData()) as Float32Array;
  const response = await fetch(url, { method: 'POST', body: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
  if (!response.ok) throw new Error(`upload: HTTP ${response.status}`);
}

/** Ends profiling and sums the captured kernel events by op type (the first `skipRuns` runs left out). */
async function profile(skipRuns: number): Promise<OpProfile> {
  if (!session) throw new Error('no session');
  session.endProfiling();
  capturing = false;
  return aggregateProfile(captured.splice(0), skipRuns);
}

async function close(): Promise<void> {
  await session?.release();
  session = undefined;
}

const api = { open, runs, upload, profile, close, heap: async () => heapBytes() };
export type RestoreApi = typeof api;

if (typeof document === 'undefined') {
  Comlink.expose(api);
} else {
  const worker = new Worker('bench.js', { type: 'module' });
  const failed = new Promise<never>((_, reject) => worker.addEventListener('error', (e) => reject(new Error(`bench worker: ${e.message}`))));
  const remote = Comlink.wrap<RestoreApi>(worker);
  // Each call races the worker's error event, so a worker that fails to start does not hang the bench.
  const wrapped = Object.fromEntries(Object.keys(api).map((k) => [k, (...a: unknown[]) => Promise.race([(remote[k as keyof RestoreApi] as (...x: unknown[]) => Promise<unknown>)(...a), failed])]));
  (globalThis as unknown as { frontierRestore: unknown }).frontierRestore = wrapped;
}
