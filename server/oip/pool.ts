// A pool of inference processes (ort-process.mjs, each a WorkProcess). onnxruntime-node's run() blocks the thread
// it runs on and cannot be stopped safely inside the server, so each run gets a process of its own; the InferLimiter
// guarantees at most `size` runs at once, so an idle process always exists. A run whose request gives up (deadline,
// client gone) is stopped for real: its process is killed, and a fresh one starts on demand. Processes start lazily
// and load a model on first use, from the bytes the server has verified (sha256), sent once per process and model.
import { cudaLibraryPath } from '../../worker/runtime/ort-node.ts';
import { WorkProcess } from '../work-process.ts';
import { ortRunFailure, RunFailure } from './run-errors.ts';
import type { ExecutionProviderState } from './sessions.ts';

export interface PlainTensor {
  type: string;
  data: Float32Array | Uint16Array | Uint8Array | BigInt64Array;
  dims: number[];
}

export interface ValueMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}

export interface WorkerModelInfo {
  inputs: ValueMetadata[];
  outputs: ValueMetadata[];
  executionProvider: ExecutionProviderState | null;
}

/** A verified model as the processes load it: the graph, and the weight files it names (ONNX external data). */
export interface ModelBytes {
  bytes: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

type Request =
  | { type: 'load'; id: string; bytes: Uint8Array; externalData: ModelBytes['externalData']; executionProvider: string; threads: number; cudaLibrary: string | null }
  | { type: 'run'; seq: number; id: string; feeds: Record<string, PlainTensor>; fetches: string[] };

type Reply =
  | { type: 'loaded'; id: string; inputs: ValueMetadata[]; outputs: ValueMetadata[]; executionProvider: ExecutionProviderState | null }
  | { type: 'load-failed'; id: string; message: string }
  | { type: 'result'; seq: number; outputs: Record<string, PlainTensor> }
  | { type: 'run-failed'; seq: number; message: string; source: 'onnxruntime' | 'process' };

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

class InferenceProcess {
  readonly process: WorkProcess<Request, Reply>;
  readonly models = new Map<string, Promise<WorkerModelInfo>>();
  busy = false;
  private seq = 0;
  private readonly runs = new Map<number, Waiter<Record<string, PlainTensor>>>();
  private readonly loads = new Map<string, Waiter<WorkerModelInfo>>();

  constructor(onExit: (p: InferenceProcess) => void) {
    this.process = new WorkProcess(new URL('./ort-process.mjs', import.meta.url), 'the inference process', (m) => this.onReply(m));
    void this.process.exited.then((why) => {
      // Loads and runs in flight fail; a signal nobody here sent is most likely the system's out-of-memory killer.
      const outside = this.process.signalFromOutside;
      const failure =
        outside === 'SIGKILL'
          ? new RunFailure('memory', `${why.message}, which usually means the machine ran out of memory`)
          : new RunFailure('crashed', why.message);
      for (const r of this.runs.values()) r.reject(failure);
      for (const l of this.loads.values()) l.reject(why);
      this.runs.clear();
      this.loads.clear();
      onExit(this);
    });
  }

  get alive(): boolean {
    return this.process.endedWith === null;
  }

  /** Alive, not taken for a run, nothing in flight. */
  get idle(): boolean {
    return this.alive && !this.busy && this.runs.size === 0 && this.loads.size === 0;
  }

  load(id: string, model: ModelBytes, executionProvider: string, threads: number): Promise<WorkerModelInfo> {
    let entry = this.models.get(id);
    if (!entry) {
      entry = this.request(() => new Promise<WorkerModelInfo>((resolve, reject) => {
        this.loads.set(id, { resolve, reject });
        this.process.send({ type: 'load', id, bytes: model.bytes, externalData: model.externalData, executionProvider, threads, cudaLibrary: cudaLibraryPath() });
      }));
      this.models.set(id, entry);
      entry.catch(() => this.models.delete(id));
    }
    return entry;
  }

  run(id: string, feeds: Record<string, PlainTensor>, fetches: string[]): Promise<Record<string, PlainTensor>> {
    const seq = ++this.seq;
    return this.request(() => new Promise((resolve, reject) => {
      this.runs.set(seq, { resolve, reject });
      this.process.send({ type: 'run', seq, id, feeds, fetches });
    }));
  }

  /** Holds the server's event loop for the request's duration; a process already gone rejects with why. */
  private async request<T>(start: () => Promise<T>): Promise<T> {
    this.process.hold();
    try {
      return await start();
    } finally {
      this.process.release();
    }
  }

  private onReply(m: Reply): void {
    if (m.type === 'loaded' || m.type === 'load-failed') {
      const pending = this.loads.get(m.id);
      this.loads.delete(m.id);
      if (m.type === 'loaded') pending?.resolve({ inputs: m.inputs, outputs: m.outputs, executionProvider: m.executionProvider });
      else pending?.reject(new Error(m.message));
      return;
    }
    const pending = this.runs.get(m.seq);
    this.runs.delete(m.seq);
    if (m.type === 'result') pending?.resolve(m.outputs);
    else pending?.reject(m.source === 'onnxruntime' ? ortRunFailure(m.message) : new RunFailure('internal', m.message));
  }
}

export interface PoolOptions {
  size: number;
  /** onnxruntime intra-op threads per session (0 = onnxruntime decides). */
  threads: number;
}

export class InferencePool {
  private readonly processes: InferenceProcess[] = [];
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  /**
   * Loads `id` in one process and returns the graph's metadata. It never waits behind a run (which may last until its
   * deadline): with every process busy, a process beyond `size` starts for it, and goes again once idle.
   */
  load(id: string, model: ModelBytes, executionProvider: string): Promise<WorkerModelInfo> {
    if (this.closed) return Promise.reject(new Error('the server is shutting down'));
    const target = this.processes.find((p) => p.alive && p.models.has(id)) ?? this.processes.find((p) => p.idle) ?? this.spawn();
    const loaded = target.load(id, model, executionProvider, this.options.threads);
    void loaded.then(
      () => this.trim(),
      () => this.trim(),
    );
    return loaded;
  }

  /**
   * Runs on an idle process, preferring one that has the model loaded already. When `signal` aborts first, the
   * process is killed (the native run stops with it) and this rejects with the signal's reason once it is gone.
   */
  async run(
    id: string,
    model: ModelBytes,
    executionProvider: string,
    feeds: Record<string, PlainTensor>,
    fetches: string[],
    signal?: AbortSignal,
  ): Promise<Record<string, PlainTensor>> {
    if (this.closed) throw new Error('the server is shutting down');
    signal?.throwIfAborted();
    const idle = this.processes.filter((p) => !p.busy && p.alive);
    const target = idle.find((p) => p.models.has(id)) ?? (this.processes.length < this.options.size ? this.spawn() : idle[0]);
    if (!target) throw new RunFailure('internal', 'no idle inference process (the limiter should prevent this)');
    target.busy = true;
    const stop = () => void target.process.kill();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      await target.load(id, model, executionProvider, this.options.threads);
      return await target.run(id, feeds, fetches);
    } catch (err) {
      if (signal?.aborted) {
        await target.process.exited; // the slot is given back only once the work has really stopped
        throw signal.reason;
      }
      if (this.closed) throw new Error('the server is shutting down'); // close() killed the process
      throw err;
    } finally {
      signal?.removeEventListener('abort', stop);
      target.busy = false;
      this.trim();
    }
  }

  /** Stops taking runs and kills every process (safe at any time: only those processes die). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.processes.splice(0).map((p) => p.process.kill()));
  }

  /** Ends idle processes beyond `size` (started for a load while every process was busy). */
  private trim(): void {
    while (this.processes.length > this.options.size) {
      const extra = this.processes.find((p) => p.idle);
      if (!extra) return;
      this.processes.splice(this.processes.indexOf(extra), 1);
      void extra.process.kill();
    }
  }

  private spawn(): InferenceProcess {
    const p = new InferenceProcess((gone) => {
      const i = this.processes.indexOf(gone);
      if (i >= 0) this.processes.splice(i, 1); // a fresh one starts on demand
    });
    this.processes.push(p);
    return p;
  }
}
