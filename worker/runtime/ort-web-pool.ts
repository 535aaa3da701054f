// Runtime `ort-web/wasm-pool`: several Web Workers, each running onnxruntime-web's single-threaded WASM with its own
// session of the same model, sharing a job's tiles. It is for pages that are not cross-origin isolated (Figma's
// iframe, Photoshop's webview): there onnxruntime-web gets no SharedArrayBuffer, so one worker computes on one core.
// Each worker holds its own copy of the model, so their number is capped by a memory budget per model as well as by
// the cores. Results record the 'wasm' target: the place is the same computer's processor.
//
// The pool's workers run this very bundle: the engine worker's own script, started again under a name that marks it
// a member. At import this module sees that name, serves the pool's messages and keeps them from the engine's Comlink
// endpoint; nothing else in the bundle runs there. Results are those of one worker byte for byte: every member runs
// the same wasm with the same session options as `ort-web/wasm`, and tiled tasks blend tiles in tile order whatever
// the order they finish in (worker/image/tiling.ts), for the same tiles. But the tiles are not always the same: an
// upscale whose image has fewer tiles than the pool has workers is cut into more (tiling.ts laneGrid, lanes = this
// session's concurrency), so a small image's result differs from one worker's uncut result by the blending of tiles.
//
// Workers start lazily: a session starts with one (a task that runs one call at a time never costs more), and another
// starts whenever runs wait and the pool is below its size. A cancelled job's runs stop at once: those waiting are
// dropped and the workers computing them are terminated (a WASM call cannot be interrupted); the next runs start
// fresh workers from the model bytes the pool keeps.
import * as ort from 'onnxruntime-web';
import { FrontierError } from '../job.ts';
import type { ModelCard } from '../models/card.ts';
import { wrapOrtSession } from './ort-common.ts';
import { createOrtWebRuntime, ORT_MJS_FILE, ORT_WASM_FILE, wasmEntry } from './ort-web.ts';
import { no, yes, type RuntimeEntry } from './registry.ts';
import { planPool } from './pool-size.ts';
import type { Runtime, Session, Tensor } from './runtime.ts';

/** The name a member worker is started with (`self.name` there). */
export const POOL_MEMBER_NAME = 'frontier-wasm-pool-member';

// The pool's size rule (cores, MAX_WORKERS, the memory budget) lives in pool-size.ts, free of onnxruntime, so that the
// UI's time estimate counts the same workers (ui/cost-prior.ts) without bundling the runtime.
export { browserMachine, DEFAULT_BUDGET_BYTES, MAX_WORKERS, MEMORY_SHARE, modelBytes, planPool, poolBudget, WORKER_BASE_BYTES, WORKER_BYTES_PER_MODEL_BYTE, workerBytes } from './pool-size.ts';

// ---------------------------------------------------------------------------------------------------------------
// Messages between the pool (in the engine worker) and a member.

type WasmPaths = typeof ort.env.wasm.wasmPaths;
type ToMember =
  | { type: 'load'; member: string; wasmPaths: WasmPaths; model: Uint8Array; externalData: { path: string; data: Uint8Array }[] }
  | { type: 'run'; id: number; feeds: Record<string, Tensor> };
type FromMember =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, Tensor>; ms: number }
  | { type: 'run-failed'; id: number; message: string };

interface MemberScope {
  name?: string;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  postMessage(message: FromMember, transfer?: Transferable[]): void;
}

/** `module` with a custom section (inert: no instruction reads it) named `name` holding `payload`. */
export function withCustomSection(module: Uint8Array, name: string, payload: string): Uint8Array {
  const leb128 = (n: number) => {
    const out: number[] = [];
    do {
      out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n);
    return out;
  };
  const text = new TextEncoder();
  const nameBytes = text.encode(name);
  const content = [...leb128(nameBytes.length), ...nameBytes, ...text.encode(payload)];
  const section = Uint8Array.from([0, ...leb128(content.length), ...content]);
  const out = new Uint8Array(module.length + section.length);
  out.set(module);
  out.set(section, module.length);
  return out;
}

/**
 * onnxruntime's wasm for one member, made unique to it. V8 shares a compiled module between the workers of a process
 * that compile the same bytes (its native module cache); shared by three or more workers, onnxruntime's 28 MB module
 * then costs ≈ 40 s of CPU on V8's background threads after every start, and higher peaks (measured in Chromium 156 with
 * 4 workers: bench/results/pool.md, notes; not with the cache switched off, --no-wasm-native-module-cache). A custom
 * section with the member's name makes each member's bytes its own: each compiles lazily what it runs, as one worker does.
 */
async function memberWasm(paths: WasmPaths, member: string): Promise<Uint8Array> {
  const url = typeof paths === 'string' ? `${paths}${ORT_WASM_FILE}` : String(paths?.wasm ?? ORT_WASM_FILE);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return withCustomSection(new Uint8Array(await response.arrayBuffer()), 'frontier-pool-member', member);
}

/** Member side: one single-threaded session, one run at a time, outputs transferred back. */
function serveAsMember(scope: MemberScope): void {
  let session: Session | undefined;
  const post = (message: FromMember, transfer: Transferable[] = []) => scope.postMessage(message, transfer);
  const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
  const handle = async (msg: ToMember) => {
    if (msg.type === 'load') {
      try {
        ort.env.wasm.wasmPaths = msg.wasmPaths;
        ort.env.wasm.wasmBinary = await memberWasm(msg.wasmPaths, msg.member);
        ort.env.wasm.numThreads = 1;
        ort.env.wasm.proxy = false;
        ort.env.logLevel = 'error';
        // The options of createOrtWebRuntime('wasm') (worker/runtime/ort-web.ts): same graph, same kernels, same bytes.
        const created = await ort.InferenceSession.create(msg.model, {
          executionProviders: ['wasm'],
          graphOptimizationLevel: 'all',
          ...(msg.externalData.length ? { externalData: msg.externalData } : {}),
        });
        session = wrapOrtSession(created, ort.Tensor as never);
        ort.env.wasm.wasmBinary = undefined; // instantiated: this worker's copy of the bytes may go
        post({ type: 'ready', inputNames: [...session.inputNames], outputNames: [...session.outputNames] });
      } catch (err) {
        post({ type: 'load-failed', message: messageOf(err) });
      }
      return;
    }
    const started = performance.now();
    try {
      if (!session) throw new Error('the pool worker has no session');
      const outputs = await session.run(msg.feeds);
      const transfer: Transferable[] = [];
      for (const [name, t] of Object.entries(outputs)) {
        // A view into a larger buffer is copied out, so only the tensor's own bytes travel.
        const whole = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength ? t.data : t.data.slice();
        outputs[name] = { ...t, data: whole };
        transfer.push(whole.buffer as ArrayBuffer);
      }
      post({ type: 'result', id: msg.id, outputs, ms: performance.now() - started }, transfer);
    } catch (err) {
      post({ type: 'run-failed', id: msg.id, message: messageOf(err) });
    }
  };
  scope.addEventListener('message', (event: MessageEvent) => {
    // Ours alone: the bundle's own Comlink endpoint (the engine API) must not answer the pool's messages.
    event.stopImmediatePropagation();
    void handle(event.data as ToMember);
  });
}

{
  const here = globalThis as unknown as Partial<MemberScope> & { WorkerGlobalScope?: unknown };
  if (typeof here.WorkerGlobalScope === 'function' && here.name === POOL_MEMBER_NAME) serveAsMember(here as MemberScope);
}

// ---------------------------------------------------------------------------------------------------------------
// Pool side.

/** How to start a member: this worker's own script, as a classic or a module worker (as this one was started). */
interface MemberScript {
  url: string;
  type: WorkerType;
}

/** The member script here, or why there is none (not in a browser worker). */
function memberScript(): MemberScript | string {
  const g = globalThis as { Worker?: unknown; WorkerGlobalScope?: unknown; location?: { href: string }; importScripts?: () => void };
  if (typeof g.Worker !== 'function') return 'no Web Workers here';
  if (typeof g.WorkerGlobalScope !== 'function' || !g.location) return 'the engine is not running in a Web Worker';
  // importScripts() with no script is a no-op in a classic worker and throws in a module worker.
  let type: WorkerType = 'classic';
  try {
    g.importScripts?.();
  } catch {
    type = 'module';
  }
  return { url: g.location.href, type };
}

const cancelled = () => new FrontierError('cancelled', 'Cancelled: nothing was placed.');

interface PendingRun {
  feeds: Record<string, Tensor>;
  member?: Member;
  /** A warm-up's run: only this member may take it (each member compiles its own copy of the wasm). */
  pinned?: Member;
  resolve(outputs: Record<string, Tensor>): void;
  reject(err: Error): void;
}

interface Member {
  worker: Worker;
  state: 'loading' | 'idle' | 'busy' | 'gone';
  run?: PendingRun;
  /** Settles when the member's session is loaded (or failed to load: `started` says whether the worker ever answered). */
  loaded: { resolve(): void; reject(err: MemberError): void };
  runs: number;
  busyMs: number;
}

/** A member that did not load: `started` is false when the worker itself never ran (the browser refused it). */
class MemberError extends Error {
  constructor(
    message: string,
    readonly started: boolean,
  ) {
    super(message);
  }
}

/** What a pool did, for tests and the bench (wasmPoolStats). */
export interface WasmPoolStats {
  model: string;
  /** The most workers it may run. */
  size: number;
  /** Workers now loaded or loading. */
  live: number;
  /** Workers computing a run now. */
  busy: number;
  /** Runs waiting for a worker. */
  waiting: number;
  /** Workers started so far, and stopped by a cancel. */
  started: number;
  stoppedOnCancel: number;
  /** Per worker ever started: runs it finished and the time it spent in them (ms). */
  workers: { runs: number; busyMs: number; state: Member['state'] }[];
}

const livePools = new Set<WasmPool>();
/** Members started by this engine worker: a member's name (with a random part, for other engines in the same process)
 *  makes its wasm bytes its own (memberWasm). */
let membersStarted = 0;

/** The live pools of this engine (tests and benches read which workers ran what). */
export function wasmPoolStats(): WasmPoolStats[] {
  return [...livePools].map((p) => p.stats());
}

interface PoolSpec {
  card: ModelCard;
  script: MemberScript;
  wasmPaths: WasmPaths;
  model: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
  size: number;
}

class WasmPool implements Session {
  inputNames: readonly string[] = [];
  outputNames: readonly string[] = [];
  readonly concurrency: number;
  private readonly members = new Set<Member>();
  private readonly everStarted: Member[] = [];
  private readonly queue: PendingRun[] = [];
  /** Lowered to the workers that loaded when one fails to load or crashes (it was probably memory). */
  private size: number;
  private stoppedOnCancel = 0;
  private nextRunId = 1;
  private disposed = false;

  constructor(private readonly spec: PoolSpec) {
    this.size = spec.size;
    this.concurrency = spec.size;
  }

  /** Starts the first member; resolves once its session is loaded. */
  async start(): Promise<void> {
    await this.spawn();
    livePools.add(this);
  }

  run(feeds: Record<string, Tensor>, options?: { signal?: AbortSignal }): Promise<Record<string, Tensor>> {
    if (this.disposed) return Promise.reject(new FrontierError('run-failed', `${this.spec.card.label} was unloaded: run the job again.`));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise((resolve, reject) => {
      const onAbort = () => this.abort(run);
      const done = () => signal?.removeEventListener('abort', onAbort);
      const run: PendingRun = {
        feeds,
        resolve: (outputs) => (done(), resolve(outputs)),
        reject: (err) => (done(), reject(err)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(run);
      this.pump();
    });
  }

  /**
   * Runs `feeds` once on every member the pool may run, starting those a job would start (all of its size): each
   * member compiles its own copy of onnxruntime's wasm (memberWasm), so each pays V8's compile on its first runs. A
   * job's runs that come meanwhile queue with these as usual. A member lost meanwhile (a job's cancel stopped it) is
   * not warmed: a fresh one starts for the next job.
   */
  async warmUp(feeds: Record<string, Tensor>): Promise<void> {
    const starting: Promise<void>[] = [];
    for (let n = this.size - this.members.size; n > 0; n--) starting.push(this.grow());
    await Promise.all(starting);
    const runs = [...this.members].map(
      (member) =>
        new Promise<void>((resolve, reject) => {
          this.queue.push({ feeds, pinned: member, resolve: () => resolve(), reject: (err) => (member.state === 'gone' ? resolve() : reject(err)) });
        }),
    );
    this.pump();
    await Promise.all(runs);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    livePools.delete(this);
    for (const member of [...this.members]) this.drop(member);
    for (const run of this.queue.splice(0)) run.reject(new FrontierError('run-failed', `${this.spec.card.label} was unloaded while a run waited: run the job again.`));
  }

  stats(): WasmPoolStats {
    const members = [...this.members];
    return {
      model: this.spec.card.id,
      size: this.size,
      live: members.length,
      busy: members.filter((m) => m.state === 'busy').length,
      waiting: this.queue.length,
      started: this.everStarted.length,
      stoppedOnCancel: this.stoppedOnCancel,
      workers: this.everStarted.map((m) => ({ runs: m.runs, busyMs: m.busyMs, state: m.state })),
    };
  }

  /** A cancelled run: dropped if waiting; if computing, its worker is terminated (WASM cannot be interrupted). */
  private abort(run: PendingRun): void {
    const waiting = this.queue.indexOf(run);
    if (waiting >= 0) this.queue.splice(waiting, 1);
    else if (run.member?.run === run) {
      this.drop(run.member);
      this.stoppedOnCancel++;
    }
    run.reject(cancelled());
    // After every listener of this abort ran: the job's other runs leave the queue before the pool grows for them.
    queueMicrotask(() => this.pump());
  }

  /** Gives waiting runs to idle workers (a warm-up's run to its own), and starts another worker while runs that any
   *  worker may take wait and the pool is below its size. */
  private pump(): void {
    if (this.disposed) return;
    for (const member of this.members) {
      if (member.state !== 'idle') continue;
      const next = this.queue.findIndex((run) => !run.pinned || run.pinned === member);
      if (next >= 0) this.dispatch(member, this.queue.splice(next, 1)[0]);
    }
    const loading = [...this.members].filter((m) => m.state === 'loading').length;
    const open = this.queue.filter((run) => !run.pinned).length;
    if (open > loading && this.members.size < this.size) void this.grow();
  }

  /** Starts one more worker; settles once it loaded or failed (then the pool keeps to the workers that loaded). */
  private grow(): Promise<void> {
    return this.spawn().then(
      () => this.pump(),
      (err: MemberError) => {
        // Keep to the workers that loaded; with none, the waiting runs cannot run.
        this.size = Math.max(1, this.members.size);
        if (this.members.size) return this.pump();
        const error = new FrontierError('model-load-failed', `onnxruntime-web could not load ${this.spec.card.label} in a worker (${err.message}).`);
        for (const run of this.queue.splice(0)) run.reject(error);
      },
    );
  }

  private dispatch(member: Member, run: PendingRun): void {
    member.state = 'busy';
    member.run = run;
    run.member = member;
    member.worker.postMessage({ type: 'run', id: this.nextRunId++, feeds: run.feeds } satisfies ToMember);
  }

  private spawn(): Promise<void> {
    const { script, wasmPaths, model, externalData } = this.spec;
    let worker: Worker;
    try {
      worker = new Worker(script.url, { name: POOL_MEMBER_NAME, type: script.type });
    } catch (err) {
      return Promise.reject(new MemberError(`the browser would not start a worker: ${(err as Error).message}`, false));
    }
    let answered = false;
    return new Promise<void>((resolve, reject) => {
      const member: Member = { worker, state: 'loading', loaded: { resolve, reject }, runs: 0, busyMs: 0 };
      this.members.add(member);
      this.everStarted.push(member);
      worker.addEventListener('message', (event: MessageEvent) => {
        answered = true;
        this.onMessage(member, event.data as FromMember);
      });
      worker.addEventListener('error', (event: ErrorEvent) => {
        event.preventDefault();
        this.lost(member, new MemberError(event.message || 'the worker stopped', answered));
      });
      worker.addEventListener('messageerror', () => this.lost(member, new MemberError('a message from the worker could not be read', answered)));
      // Each member gets its own copy of the weights (structured clone); the pool keeps its own to start more later.
      worker.postMessage({ type: 'load', member: `${this.spec.card.id}#${++membersStarted}.${Math.random().toString(36).slice(2, 10)}`, wasmPaths, model, externalData } satisfies ToMember);
    });
  }

  private onMessage(member: Member, msg: FromMember): void {
    if (member.state === 'gone') return;
    switch (msg.type) {
      case 'ready':
        if (!this.inputNames.length) {
          this.inputNames = msg.inputNames;
          this.outputNames = msg.outputNames;
        }
        member.state = 'idle';
        member.loaded.resolve();
        this.pump();
        return;
      case 'load-failed':
        this.drop(member);
        member.loaded.reject(new MemberError(msg.message, true));
        return;
      case 'result':
      case 'run-failed': {
        const run = member.run;
        member.run = undefined;
        member.state = 'idle';
        if (msg.type === 'result') {
          member.runs++;
          member.busyMs += msg.ms;
          run?.resolve(msg.outputs);
        } else {
          run?.reject(new Error(msg.message));
        }
        this.pump();
        return;
      }
    }
  }

  /** A member that crashed: its run fails, and the pool keeps to the workers it has. */
  private lost(member: Member, err: MemberError): void {
    if (member.state === 'gone') return;
    const { state, run } = member;
    this.drop(member);
    if (state === 'loading') return member.loaded.reject(err);
    this.size = Math.max(1, this.members.size);
    run?.reject(new FrontierError('run-failed', `A worker running ${this.spec.card.label} stopped (${err.message}). Run again; if it happens again, close other tabs or documents to free memory.`));
    this.pump();
  }

  private drop(member: Member): void {
    member.state = 'gone';
    member.worker.terminate();
    this.members.delete(member);
    // A warm-up's run waiting for this member has no one left to run it.
    for (const run of this.queue.filter((r) => r.pinned === member)) {
      this.queue.splice(this.queue.indexOf(run), 1);
      run.reject(new FrontierError('run-failed', 'the worker to warm up stopped'));
    }
  }
}

export interface WasmPoolOptions {
  /** Force the number of workers (EngineConfig.wasmWorkers; 1 declines, so single-worker WASM runs the model). */
  workers?: number;
}

/** `ort-web/wasm-pool`: the processor, on several single-threaded workers, where the page gets one WASM thread. */
export function wasmPoolEntry(options: WasmPoolOptions = {}): RuntimeEntry {
  const script = memberScript();
  /** Set when the browser would not start a member: single-worker WASM takes the models from then on. */
  let refused: string | undefined;
  /** The size resolve() gave each card: createSession() makes its pool that large. */
  const planned = new Map<string, number>();

  const runtime: Runtime = {
    name: 'ort-web/wasm-pool',
    async createSession(card, loadBytes, more) {
      if (typeof script === 'string') throw new FrontierError('target-unavailable', `The WASM pool cannot run here: ${script}.`);
      const model = await loadBytes();
      const externalData = (await more?.externalData?.()) ?? [];
      const pool = new WasmPool({ card, script, wasmPaths: ort.env.wasm.wasmPaths, model, externalData, size: planned.get(card.id) ?? 2 });
      try {
        await pool.start();
        return pool;
      } catch (err) {
        await pool.dispose();
        if (err instanceof MemberError && !err.started) {
          // The browser refused a worker started from this script (some hosts refuse nested blob: workers): the
          // model runs in this worker as single-worker WASM does, now and from now on.
          refused = err.message;
          return createOrtWebRuntime('wasm').createSession(card, async () => model, { externalData: async () => externalData });
        }
        const msg = (err as Error).message ?? String(err);
        throw new FrontierError('model-load-failed', `onnxruntime-web could not load the model (${msg}). Check that the server serves /ort/${ORT_WASM_FILE} and /ort/${ORT_MJS_FILE}.`);
      }
    },
  };

  return {
    name: 'ort-web/wasm-pool',
    target: 'wasm',
    async resolve(card, caps) {
      // What single-worker WASM refuses (a card not for the browser, no WebAssembly), the pool refuses in its words.
      const single = await wasmEntry.resolve(card, caps);
      if (!single.ok) return single;
      if (typeof script === 'string') return no('this browser can’t split the work across its cores', script);
      if (refused) return no('this browser would not start more workers', `a pool worker did not start (${refused}): one worker runs the model`);
      const plan = planPool(card, caps, options.workers);
      if (!plan.ok) return no(plan.why, plan.detail);
      planned.set(card.id, plan.workers);
      return yes(plan.detail);
    },
    create: () => runtime,
  };
}
