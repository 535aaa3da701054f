// bench:gap's page script; it also runs as the page's Web Worker, where onnxruntime-web runs (as in the plugin).
// One session at a time, any number of inputs (raw files served by the bench), outputs uploaded back for the
// comparison with onnxruntime-node, and onnxruntime-web's own profiler captured from the wasm's stdout.
// configureOrtWeb sets the wasm files and the thread count exactly as the product does.
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { configureOrtWeb } from '../../worker/runtime/ort-web.ts';
import { aggregateProfile, type OpProfile } from '../restore-profile.ts';
import type { FeedFile } from '../common/feed-bench/spec.ts';
import { fileSafe } from './names.ts';

export interface GapOpen {
  /** URL of the ONNX file, and of external data files by the name the graph records. */
  modelUrl: string;
  externalData: { path: string; url: string }[];
  feeds: FeedFile[];
  threads: number;
  options: Record<string, unknown>;
}

export interface GapRuns {
  runMs: number[];
  spans: [number, number][];
}

// onnxruntime-web's profiler prints its events through the wasm's stdout (console.log in this worker).
const captured: string[] = [];
let capturing = false;
if (typeof document === 'undefined') {
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      if (capturing && args.length === 1 && typeof args[0] === 'string') captured.push(args[0]);
      else original(...args);
    };
  }
}

let session: ort.InferenceSession | undefined;
let feeds: Record<string, ort.Tensor> = {};
let last: Record<string, ort.Tensor> = {};

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function open(spec: GapOpen): Promise<{ sessionMs: number; threads: number }> {
  configureOrtWeb({ wasmBaseUrl: `${location.origin}/ort`, threads: spec.threads });
  feeds = {};
  for (const f of spec.feeds) {
    const bytes = (await fetchBytes(`/feeds/${f.file}`)).slice();
    feeds[f.name] = new ort.Tensor(f.dtype, f.dtype === 'int64' ? new BigInt64Array(bytes.buffer) : new Float32Array(bytes.buffer), f.dims);
  }
  const model = await fetchBytes(spec.modelUrl);
  capturing = Boolean(spec.options.enableProfiling);
  const t = performance.now();
  session = await ort.InferenceSession.create(model, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    externalData: spec.externalData.map((e) => ({ path: e.path, data: e.url })),
    ...spec.options,
  } as ort.InferenceSession.SessionOptions);
  return { sessionMs: performance.now() - t, threads: ort.env.wasm.numThreads ?? 1 };
}

async function runs(count: number): Promise<GapRuns> {
  if (!session) throw new Error('no session');
  const runMs: number[] = [];
  const spans: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    last = await session.run(feeds);
    const end = performance.now();
    runMs.push(end - t);
    spans.push([performance.timeOrigin + t, performance.timeOrigin + end]);
  }
  return { runMs, spans };
}

/** POSTs each float32 output of the last run to `${prefix}${name}.f32`; returns the names sent. */
async function upload(prefix: string): Promise<string[]> {
  const sent: string[] = [];
  for (const [name, t] of Object.entries(last)) {
    if (t.type !== 'float32') continue;
    const data = (await t.getData()) as Float32Array;
    const response = await fetch(`${prefix}${fileSafe(name)}.f32`, { method: 'POST', body: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    if (!response.ok) throw new Error(`upload ${name}: HTTP ${response.status}`);
    sent.push(name);
  }
  return sent;
}

/** Ends profiling and sums the captured kernel events by op type (the first `skipRuns` runs left out). */
async function profile(skipRuns: number, rawUrl?: string): Promise<OpProfile> {
  if (!session) throw new Error('no session');
  session.endProfiling();
  capturing = false;
  const lines = captured.splice(0);
  // The raw events too (one JSON object a line), for looking at single kernels.
  if (rawUrl) await fetch(rawUrl, { method: 'POST', body: lines.join('\n') });
  return aggregateProfile(lines, skipRuns);
}

async function close(): Promise<void> {
  await session?.release();
  session = undefined;
  last = {};
}

const api = { open, runs, upload, profile, close };
export type GapApi = typeof api;

if (typeof document === 'undefined') {
  Comlink.expose(api);
} else {
  const worker = new Worker('bench.js', { type: 'module' });
  const failed = new Promise<never>((_, reject) => worker.addEventListener('error', (e) => reject(new Error(`bench worker: ${e.message}`))));
  const remote = Comlink.wrap<GapApi>(worker);
  // Each call races the worker's error event, so a worker that fails to start does not hang the bench.
  const wrapped = Object.fromEntries(Object.keys(api).map((k) => [k, (...a: unknown[]) => Promise.race([(remote[k as keyof GapApi] as (...x: unknown[]) => Promise<unknown>)(...a), failed])]));
  (globalThis as unknown as { frontierGap: unknown }).frontierGap = wrapped;
}
