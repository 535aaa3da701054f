// The restore bench's targets behind one interface, and the loop that interleaves them: every target of a group opens
// its session, runs once untimed, then the group takes turns run by run (round r starts at target r mod n), so a
// burst of load from another process on this shared machine falls on every target alike. A target that fails (a
// timeout, an out-of-memory wasm heap, a crashed renderer) becomes a row that says why; the others go on.
//   node   onnxruntime-node in a child process (bench/restore-node.ts): wall and CPU per run, maxRSS.
//   wasm / webgpu   onnxruntime-web in a fresh headless Chromium (bench/restore-browser.ts): wall per run from the
//          worker, CPU of the renderer process, renderer peak RSS and the wasm heap.
//   server the Frontier server (server/server.ts, in this process, on a model root of the bench's own cards) through
//          the product's Open Inference Protocol client (worker/runtime/oip.ts): wall per request, CPU and peak RSS
//          of the server's inference process.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../server/server.ts';
import type { ModelCard } from '../worker/models/card.ts';
import { createOipRuntime } from '../worker/runtime/oip.ts';
import type { Session } from '../worker/runtime/runtime.ts';
import { processCpuMs } from './common/chromium.ts';
import { median, maxAbsDiff } from './common/stats.ts';
import { browserHeap, browserPeaks, browserProfile, browserRuns, browserUpload, closeBrowserTarget, openBrowserTarget } from './restore-browser.ts';
import { NodeTarget } from './restore-node.ts';
import type { OpProfile } from './restore-profile.ts';

export interface Memory {
  /** What peakBytes is, in words. */
  measure: string;
  peakBytes: number;
  /** onnxruntime-web's wasm heap (WebAssembly.Memory byteLength) after the runs. */
  wasmHeapBytes?: number;
  /** WebGPU: the GPU process's peak RSS (SwiftShader's buffers live there). */
  gpuProcessBytes?: number;
}

export interface Handle {
  run(): Promise<{ ms: number; cpuMs?: number }>;
  /** Writes the last run's output (float32) to `path`. */
  output(path: string): Promise<void>;
  memory(): Promise<Memory>;
  /** Ends profiling (only for a target opened with profiling on); the session is gone afterwards. */
  profile?(skipRuns: number): Promise<OpProfile>;
  close(): Promise<void>;
}

export interface TargetSpec {
  /** Row id, unique in its group (e.g. "wasm-1", "wasm-1 +arena"). */
  id: string;
  runtime: string;
  /** Settings beyond the product's, in words ("product" when none). */
  config: string;
  /** Cap on opening (download + session) and on each run. */
  timeoutMs: number;
  open(): Promise<{ handle: Handle; sessionMs: number; downloadMs?: number }>;
}

export interface Row {
  id: string;
  runtime: string;
  config: string;
  size: number;
  model: string;
  sessionMs?: number;
  downloadMs?: number;
  warmupMs?: number;
  /** CPU time of the untimed first run (the only run of a correctness check). */
  warmupCpuMs?: number;
  runMs: number[];
  cpuMs: number[];
  medianMs?: number;
  medianCpuMs?: number;
  memory?: Memory;
  /** Max |output − reference output| (the group's reference row, normally onnxruntime-node 1 thread). */
  maxAbsDiff?: number;
  outputFile?: string;
  failed?: string;
  /** 1-minute load average when the row's target opened and when it closed. */
  loadAverage: [number, number];
}

export class Timeout extends Error {}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout(`${what} did not finish within ${(ms / 60_000).toFixed(0)} min (stopped)`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const message = (err: unknown) => ((err as Error).message ?? String(err)).split('\n')[0].slice(0, 300);

/**
 * Opens every target, one untimed run each, then `rounds` interleaved rounds; writes each output to
 * `outputs/<size>-<id>.f32`, reads memory, closes. `onOpen` sees each handle right after its warm-up (profiling).
 */
export async function runGroup(
  specs: TargetSpec[],
  rounds: number,
  meta: { size: number; model: string; outputs: string },
  log: (line: string) => void,
  after?: (spec: TargetSpec, handle: Handle, row: Row) => Promise<void>,
): Promise<Row[]> {
  type Live = { spec: TargetSpec; handle?: Handle; row: Row };
  const live: Live[] = [];
  for (const spec of specs) {
    const row: Row = { id: spec.id, runtime: spec.runtime, config: spec.config, size: meta.size, model: meta.model, runMs: [], cpuMs: [], loadAverage: [loadavg()[0], 0] };
    const l: Live = { spec, row };
    live.push(l);
    let opened: Awaited<ReturnType<TargetSpec['open']>> | undefined;
    const attempt = spec.open();
    try {
      opened = await withTimeout(attempt, spec.timeoutMs, `opening ${spec.id}`);
      l.handle = opened.handle;
      row.sessionMs = opened.sessionMs;
      row.downloadMs = opened.downloadMs;
      log(`${meta.model} ${spec.id}: session ${(opened.sessionMs / 1000).toFixed(1)} s`);
      const warm = await withTimeout(opened.handle.run(), spec.timeoutMs, `the first run of ${spec.id}`);
      row.warmupMs = warm.ms;
      row.warmupCpuMs = warm.cpuMs;
      log(`${meta.model} ${spec.id}: first run ${(warm.ms / 1000).toFixed(1)} s${warm.cpuMs !== undefined ? ` (CPU ${(warm.cpuMs / 1000).toFixed(1)} s)` : ''}`);
    } catch (err) {
      row.failed = message(err);
      log(`${meta.model} ${spec.id}: FAILED ${row.failed}`);
      if (l.handle) row.memory = await l.handle.memory().catch(() => undefined);
      attempt.then((o) => o.handle.close()).catch(() => {});
      await l.handle?.close().catch(() => {});
      l.handle = undefined;
      row.loadAverage[1] = loadavg()[0];
    }
  }
  for (let r = 0; r < rounds; r++) {
    const order = live.map((_, i) => live[(i + r) % live.length]).filter((l) => l.handle);
    for (const l of order) {
      try {
        const m = await withTimeout(l.handle!.run(), l.spec.timeoutMs, `a run of ${l.spec.id}`);
        l.row.runMs.push(m.ms);
        if (m.cpuMs !== undefined) l.row.cpuMs.push(m.cpuMs);
        log(`${meta.model} ${l.spec.id}: round ${r + 1}/${rounds} ${(m.ms / 1000).toFixed(2)} s${m.cpuMs !== undefined ? ` (CPU ${(m.cpuMs / 1000).toFixed(2)} s)` : ''}, load ${loadavg()[0].toFixed(1)}`);
      } catch (err) {
        l.row.failed = message(err);
        log(`${meta.model} ${l.spec.id}: FAILED ${l.row.failed}`);
        await l.handle!.close().catch(() => {});
        l.handle = undefined;
      }
    }
  }
  for (const l of live.filter((x) => x.handle)) {
    const h = l.handle!;
    try {
      const file = join(meta.outputs, `${meta.size}-${l.spec.id.replace(/[^A-Za-z0-9._-]+/g, '_')}.f32`);
      await h.output(file);
      l.row.outputFile = file;
      l.row.memory = await h.memory();
      await after?.(l.spec, h, l.row);
    } catch (err) {
      l.row.failed ??= `after the runs: ${message(err)}`;
    } finally {
      await h.close().catch(() => {});
      l.row.loadAverage[1] = loadavg()[0];
    }
  }
  for (const { row } of live) {
    if (row.runMs.length) row.medianMs = median(row.runMs);
    if (row.cpuMs.length && row.cpuMs.every(Number.isFinite)) row.medianCpuMs = median(row.cpuMs);
  }
  return live.map((l) => l.row);
}

/** Max |a − b| between two rows' output files (undefined when either is missing). */
export function outputDiff(a: Row | undefined, b: Row | undefined): number | undefined {
  if (!a?.outputFile || !b?.outputFile) return undefined;
  const read = (f: string) => {
    const buf = readFileSync(f);
    return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  };
  return maxAbsDiff(read(a.outputFile), read(b.outputFile));
}

// ---- onnxruntime-node --------------------------------------------------------------------------------------------

export const NODE_MEMORY = 'child process maxRSS (process.resourceUsage())';

export function nodeSpec(o: { id: string; config: string; model: string; threads: number; options: Record<string, unknown>; feed: string; size: number; timeoutMs: number }): TargetSpec {
  return {
    id: o.id,
    runtime: `onnxruntime-node CPU, ${o.threads} thread${o.threads > 1 ? 's' : ''}`,
    config: o.config,
    timeoutMs: o.timeoutMs,
    async open() {
      const { target, sessionMs } = await NodeTarget.open({ model: o.model, threads: o.threads, options: { graphOptimizationLevel: 'all', ...o.options }, feed: o.feed, dims: [1, o.size, o.size, 3] });
      const handle: Handle = {
        async run() {
          const r = await target.runs(1);
          return { ms: r.runMs[0], cpuMs: r.cpuMs[0] };
        },
        output: (path) => target.output(path),
        async memory() {
          const s = await target.stats();
          return { measure: NODE_MEMORY, peakBytes: s.maxRssBytes };
        },
        profile: (skip) => target.profile(skip),
        async close() {
          target.close();
        },
      };
      return { handle, sessionMs };
    },
  };
}

// ---- onnxruntime-web in Chromium ---------------------------------------------------------------------------------

export const BROWSER_MEMORY = 'renderer process peak RSS (VmHWM; the page, its worker and the wasm heap)';

export function browserSpec(o: { id: string; config: string; url: string; modelFile: string; ep: 'wasm' | 'webgpu'; threads: number; options: Record<string, unknown>; feed: string; size: number; timeoutMs: number; outputs: string }, log: (line: string) => void): TargetSpec {
  const runtime = o.ep === 'webgpu' ? 'onnxruntime-web WebGPU (SwiftShader, software)' : `onnxruntime-web WASM, ${o.threads} thread${o.threads > 1 ? 's (COOP/COEP)' : ''}`;
  return {
    id: o.id,
    runtime,
    config: o.config,
    timeoutMs: o.timeoutMs,
    async open() {
      const state = await openBrowserTarget(o.url, { modelUrl: `/models/${o.modelFile}`, ep: o.ep, threads: o.threads, options: { graphOptimizationLevel: 'all', ...o.options } }, { file: o.feed, dims: [1, o.size, o.size, 3] }, log, o.id);
      let closed = false;
      const handle: Handle = {
        async run() {
          const r = await browserRuns(state, 1);
          return { ms: r.runMs[0], cpuMs: r.cpuMs };
        },
        async output(path) {
          const name = `upload-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.f32`;
          await browserUpload(state, `${o.url}/outputs/${name}`);
          writeFileSync(path, readFileSync(join(o.outputs, name)));
        },
        async memory() {
          const heap = closed ? undefined : await browserHeap(state).catch(() => undefined);
          const peaks = await browserPeaks(state);
          return { measure: BROWSER_MEMORY, peakBytes: peaks.rendererBytes, wasmHeapBytes: heap, gpuProcessBytes: o.ep === 'webgpu' ? peaks.gpuBytes : undefined };
        },
        profile: (skip) => browserProfile(state, skip),
        async close() {
          closed = true;
          await closeBrowserTarget(state);
        },
      };
      return { handle, sessionMs: state.opened.sessionMs, downloadMs: state.opened.downloadMs };
    },
  };
}

// ---- The Frontier server through the Open Inference Protocol -------------------------------------------------------

/** This process's descendants running the server's inference processes (server/oip/ort-process.mjs). */
function inferencePids(): number[] {
  const out: number[] = [];
  const queue = [process.pid];
  while (queue.length) {
    const pid = queue.shift()!;
    let children: number[] = [];
    try {
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
      }
    } catch {
      children = [];
    }
    for (const c of children) {
      queue.push(c);
      try {
        if (readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('ort-process')) out.push(c);
      } catch {
        // gone
      }
    }
  }
  return out;
}

function peakRss(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const SERVER_MEMORY = "the server's inference process peak RSS (VmHWM; the process that runs the model)";

/** A fresh server (own inference processes, so its peak is this size's) on `root`, serving `card`. */
export function serverSpec(o: { id: string; root: string; card: ModelCard; feed: string; size: number; timeoutMs: number }): TargetSpec {
  return {
    id: o.id,
    runtime: 'Frontier server (onnxruntime-node) via Open Inference Protocol, binary tensors',
    config: 'npm start defaults (inference process per concurrent run, onnxruntime picks the threads)',
    timeoutMs: o.timeoutMs,
    async open() {
      const t0 = performance.now();
      const server: RunningServer = await startServer({ port: 0, root: o.root, requestTimeoutMs: o.timeoutMs, executionProvider: 'cpu' });
      const session: Session = await createOipRuntime({ baseUrl: server.url, token: server.token, timeoutMs: o.timeoutMs, retries: 0 }).createSession(o.card, async () => new Uint8Array());
      const bytes = readFileSync(o.feed);
      const feeds = { input: { dtype: 'float32' as const, dims: [1, o.size, o.size, 3], data: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) } };
      let last: Float32Array | undefined;
      const cpu = () => inferencePids().reduce((s, pid) => s + (processCpuMs(pid) ?? 0), 0);
      const handle: Handle = {
        async run() {
          const c0 = cpu();
          const t = performance.now();
          const out = await session.run(feeds);
          const ms = performance.now() - t;
          last = out.output.data as Float32Array;
          return { ms, cpuMs: cpu() - c0 };
        },
        async output(path) {
          if (!last) throw new Error('no output yet');
          writeFileSync(path, new Uint8Array(last.buffer, last.byteOffset, last.byteLength));
        },
        async memory() {
          return { measure: SERVER_MEMORY, peakBytes: Math.max(0, ...inferencePids().map(peakRss)) };
        },
        async close() {
          await session.dispose();
          await server.close();
        },
      };
      // The model loads in the inference process on the first request (the warm-up run), not here.
      return { handle, sessionMs: performance.now() - t0 };
    },
  };
}
