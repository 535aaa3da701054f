// A pool of inference threads (ort-worker.mjs). onnxruntime-node's run() blocks its thread, so each run gets a
// worker of its own; the InferLimiter guarantees at most `size` runs at once, so an idle worker always exists.
// Workers start lazily and load a model on first use (from bytes the main thread has already verified).
import { Worker } from 'node:worker_threads';
import type { ExecutionProviderState } from './sessions.ts';
import { cudaLibraryPath } from '../../worker/runtime/ort-node.ts';

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
}

type Reply =
  | { type: 'loaded'; id: string; inputs: ValueMetadata[]; outputs: ValueMetadata[]; executionProvider: ExecutionProviderState | null }
  | { type: 'load-failed'; id: string; message: string }
  | { type: 'result'; seq: number; outputs: Record<string, PlainTensor> }
  | { type: 'run-failed'; seq: number; message: string };

class PoolWorker {
  readonly worker: Worker;
  readonly models = new Map<string, Promise<WorkerModelInfo & { executionProvider: ExecutionProviderState | null }>>();
  busy = false;
  dead: Error | null = null;
  private seq = 0;
  private readonly runs = new Map<number, { resolve(o: Record<string, PlainTensor>): void; reject(e: Error): void }>();
  private readonly loads = new Map<string, { resolve(v: WorkerModelInfo & { executionProvider: ExecutionProviderState | null }): void; reject(e: Error): void }>();
  private readonly idleWaiters: (() => void)[] = [];

  constructor(onDeath: (w: PoolWorker) => void) {
    this.worker = new Worker(new URL('./ort-worker.mjs', import.meta.url));
    this.worker.unref(); // an idle pool never keeps the process alive
    this.worker.on('message', (m: Reply) => this.onReply(m));
    const die = (err: Error) => {
      if (this.dead) return;
      this.dead = err;
      for (const r of this.runs.values()) r.reject(err);
      for (const l of this.loads.values()) l.reject(err);
      this.runs.clear();
      this.loads.clear();
      this.notifyIdle();
      onDeath(this);
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`the inference thread exited (code ${code})`)));
  }

  load(id: string, bytes: Uint8Array, executionProvider: string, threads: number): Promise<WorkerModelInfo & { executionProvider: ExecutionProviderState | null }> {
    let entry = this.models.get(id);
    if (!entry) {
      entry = new Promise((resolve, reject) => {
        this.loads.set(id, { resolve, reject });
        this.worker.postMessage({ type: 'load', id, bytes, executionProvider, threads, cudaLibrary: cudaLibraryPath() });
      });
      this.models.set(id, entry);
      entry.catch(() => this.models.delete(id));
    }
    return entry;
  }

  run(id: string, feeds: Record<string, PlainTensor>, fetches: string[]): Promise<Record<string, PlainTensor>> {
    if (this.dead) return Promise.reject(this.dead);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.runs.set(seq, { resolve, reject });
      // Request buffers are ours alone: move them instead of copying.
      const transfer = Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer);
      this.worker.postMessage({ type: 'run', seq, id, feeds, fetches }, transfer);
    });
  }

  /** Resolves once no load or run is in flight on this thread. */
  settled(): Promise<void> {
    if (this.runs.size === 0 && this.loads.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    if (this.runs.size > 0 || this.loads.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private onReply(m: Reply): void {
    try {
      this.handleReply(m);
    } finally {
      this.notifyIdle();
    }
  }

  private handleReply(m: Reply): void {
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
    else pending?.reject(new Error(m.message));
  }
}

export interface PoolOptions {
  size: number;
  /** onnxruntime intra-op threads per session (0 = onnxruntime decides). */
  threads: number;
}

export class InferencePool {
  private readonly workers: PoolWorker[] = [];
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  /** Loads `id` on one worker (starting one if needed) and returns the graph's metadata. */
  load(id: string, bytes: Uint8Array, executionProvider: string) {
    const worker =
      this.workers.find((w) => w.models.has(id)) ??
      this.workers.find((w) => !w.busy) ??
      (this.workers.length < this.options.size ? this.spawn() : this.workers[0]);
    return worker.load(id, bytes, executionProvider, this.options.threads);
  }

  /** Runs on an idle worker, preferring one that has the model loaded already. */
  async run(id: string, bytes: Uint8Array, executionProvider: string, feeds: Record<string, PlainTensor>, fetches: string[]): Promise<Record<string, PlainTensor>> {
    if (this.closed) throw new Error('the server is shutting down');
    const idle = this.workers.filter((w) => !w.busy);
    const worker = idle.find((w) => w.models.has(id)) ?? (this.workers.length < this.options.size ? this.spawn() : idle[0]);
    if (!worker) throw new Error('no idle inference thread (the limiter should prevent this)');
    worker.busy = true;
    try {
      await worker.load(id, bytes, executionProvider, this.options.threads);
      return await worker.run(id, feeds, fetches);
    } finally {
      worker.busy = false;
    }
  }

  /**
   * Stops taking runs, lets the ones in flight finish (up to `graceMs`), then ends the threads. Terminating a thread
   * in the middle of onnxruntime-node's run() aborts the whole process (a native exception), so a cancelled video
   * job's last window is waited for rather than cut.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.closed = true;
    const all = this.workers.splice(0);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(all.map((w) => w.settled())), grace]);
    clearTimeout(timer);
    await Promise.allSettled(all.map((w) => w.worker.terminate()));
  }

  private spawn(): PoolWorker {
    const worker = new PoolWorker((dead) => {
      const i = this.workers.indexOf(dead);
      if (i >= 0) this.workers.splice(i, 1); // a fresh one starts on demand
    });
    this.workers.push(worker);
    return worker;
  }
}
