// The UI's handle on the engine worker. Comlink alone never rejects when the worker fails to load or
// crashes, so this wraps every call: a worker `error`/`messageerror` rejects all pending calls with
// 'worker-crashed' and the next call starts a fresh worker (re-sending the last init config).
// Free of Preact so it can be unit-tested in Node with a fake Worker.
import * as Comlink from 'comlink';
import type { Capabilities, EngineApi, EngineConfig, ModelStatus, ServerStatus, TargetChoice, WarmUpAnswer, WarmUpRequest } from '../worker/engine-api.ts';
import { fromWireError } from '../worker/job.ts';
import type { ErrorCode, Job, JobResult, Params, Progress, RgbaImage, Target } from '../worker/job.ts';
import type { TaskInfo } from '../worker/tasks/task.ts';

/** Inlined by the build (plugin/build.ts): the worker bundle's source text. */
declare const __WORKER_SOURCE__: string;

/** The part of `Worker` the client uses; a fake implements it in tests. */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  terminate(): void;
}

/** 'blob' is tried first; 'data' is the fallback for hosts that refuse blob: workers. */
export type WorkerUrlKind = 'blob' | 'data';
export type WorkerFactory = (kind: WorkerUrlKind) => WorkerLike;

/** Error shape every caller sees: the engine's code when it crossed Comlink, else 'run-failed'. */
export class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export type EngineState = 'stopped' | 'starting' | 'ready' | 'failed';

export interface EngineClientOptions {
  createWorker?: WorkerFactory;
  /** How long init may take before it is reported as failed (ms). */
  initTimeoutMs?: number;
  /** How long a cooperative cancel may take before the worker is terminated (ms). */
  hardCancelAfterMs?: number;
  onStateChange?: (state: EngineState) => void;
  /** Which URL kind to try first; defaults to preferredWorkerUrlKind(). */
  firstUrlKind?: WorkerUrlKind;
}

/**
 * In an opaque (null) origin, as in Figma's plugin iframe, a worker started from a blob: URL is not a secure
 * context: it has no WebGPU and no WebCrypto (checked in Chromium 156). A data: URL worker keeps both, so it goes
 * first there; elsewhere blob: is first (it avoids a second copy of the source in the URL).
 */
export function preferredWorkerUrlKind(): WorkerUrlKind {
  return typeof self !== 'undefined' && self.origin === 'null' ? 'data' : 'blob';
}

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'cancelled', 'bad-input', 'model-not-found', 'download-failed', 'hash-mismatch', 'model-load-failed',
  'run-failed', 'target-unavailable', 'worker-crashed', 'too-large',
]);

/**
 * Normalises whatever came back from the worker to an EngineError. Comlink keeps only an Error's name and
 * message, so the worker sends the code in the name ("FrontierError:<code>", worker/job.ts toWireError);
 * plain {code, message} objects keep theirs. Anything else becomes `fallback`.
 */
export function toEngineError(err: unknown, fallback: ErrorCode = 'run-failed'): EngineError {
  if (err instanceof EngineError) return err;
  const obj = err && typeof err === 'object' ? (err as { code?: unknown; name?: unknown; message?: unknown }) : null;
  const marked = typeof obj?.code === 'string' || (typeof obj?.name === 'string' && obj.name.startsWith('FrontierError:'));
  const wire = fromWireError(err);
  const code = marked && KNOWN_CODES.has(wire.code) ? wire.code : fallback;
  const message = typeof obj?.message === 'string' ? obj.message : String(err);
  return new EngineError(code, message);
}

/** Creates the engine worker from the inlined bundle: blob: URL first, data: URL as the fallback. */
export function defaultWorkerFactory(kind: WorkerUrlKind): WorkerLike {
  if (typeof __WORKER_SOURCE__ !== 'string') {
    throw new EngineError('worker-crashed', 'The engine worker source is missing from this build. Rebuild the plugin (npm run build).');
  }
  if (kind === 'blob') {
    try {
      const url = URL.createObjectURL(new Blob([__WORKER_SOURCE__], { type: 'text/javascript' }));
      return new Worker(url);
    } catch {
      // Some hosts refuse blob: workers from an opaque origin; the data: URL below still works there.
    }
  }
  return new Worker(`data:text/javascript;charset=utf-8,${encodeURIComponent(__WORKER_SOURCE__)}`);
}

interface PendingCall {
  reject(err: EngineError): void;
}

/** One live worker and the calls waiting on it. A crash ends the whole session. */
interface WorkerSession {
  worker: WorkerLike;
  kind: WorkerUrlKind;
  remote: Comlink.Remote<EngineApi>;
  pending: Set<PendingCall>;
  /** Resolves once init(config) succeeded on this worker. */
  ready: Promise<Capabilities>;
  /** Whether the worker ever answered a call. */
  answered: boolean;
  /** Set by an `error` event: the worker crashed or failed to load. */
  crashed: boolean;
  dead: boolean;
  /** Removes listeners and timers that belong to this worker. */
  detach(): void;
}

const CANCELLED_MESSAGE = 'Cancelled — nothing was placed.';

export class EngineClient {
  private readonly createWorker: WorkerFactory;
  private readonly initTimeoutMs: number;
  private readonly hardCancelAfterMs: number;
  private readonly stateListeners = new Set<(state: EngineState) => void>();
  private session: WorkerSession | null = null;
  private config: EngineConfig | null = null;
  private urlKind: WorkerUrlKind;
  private retriedUrlKind = false;
  /** Jobs the user asked to cancel: whatever their run rejects with is reported as 'cancelled'. */
  private readonly cancelling = new Set<string>();
  private readonly runs = new Map<string, Promise<JobResult>>();
  state: EngineState = 'stopped';

  constructor(options: EngineClientOptions = {}) {
    this.createWorker = options.createWorker ?? defaultWorkerFactory;
    this.initTimeoutMs = options.initTimeoutMs ?? 30_000;
    this.hardCancelAfterMs = options.hardCancelAfterMs ?? 1_500;
    this.urlKind = options.firstUrlKind ?? preferredWorkerUrlKind();
    if (options.onStateChange) this.stateListeners.add(options.onStateChange);
  }

  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onState(listener: (state: EngineState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** The kind of URL the current (or next) worker is created from. */
  get workerUrlKind(): WorkerUrlKind {
    return this.urlKind;
  }

  /** Starts a fresh worker with `config` (replacing any running one) and returns its capabilities. */
  async init(config: EngineConfig): Promise<Capabilities> {
    this.config = config;
    const session = this.start();
    try {
      return await session.ready;
    } catch (err) {
      // A worker that died before answering anything was probably refused by the host: retry once from the other URL kind.
      if (session.crashed && !session.answered && session.kind === this.urlKind && !this.retriedUrlKind) {
        this.retriedUrlKind = true;
        this.urlKind = session.kind === 'blob' ? 'data' : 'blob';
        return await this.start().ready;
      }
      throw err;
    }
  }

  /** Terminates the worker and starts a new one with the last config (the "Restart engine" action). */
  async restart(): Promise<Capabilities> {
    if (!this.config) throw new EngineError('worker-crashed', 'The engine was never started: wait for the plugin to finish loading.');
    return this.init(this.config);
  }

  capabilities(): Promise<Capabilities> {
    return this.call((api) => api.capabilities());
  }
  tasks(): Promise<TaskInfo[]> {
    return this.call((api) => api.tasks());
  }
  /** `reload`: read the server's model list again (after a model was installed or removed). */
  models(options?: { reload?: boolean }): Promise<ModelStatus[]> {
    return this.call((api) => (options ? api.models(options) : api.models()));
  }
  clearModels(ids?: string[]): Promise<void> {
    return this.call((api) => api.clearModels(ids));
  }
  testServer(url: string, token: string, options?: { models?: boolean }): Promise<ServerStatus> {
    return this.call((api) => api.testServer(url, token, options));
  }

  chooseTarget(task: string, model: string | undefined, requested: Target, params?: Params): Promise<TargetChoice> {
    return this.call((api) => api.chooseTarget(task, model, requested, params));
  }
  /** The model Automatic would run for these params (undefined: not installed); see EngineApi.defaultModelFor. */
  defaultModelFor(task: string, params?: Params): Promise<string | undefined> {
    return this.call((api) => api.defaultModelFor(task, params));
  }
  /** Warms the model of `request` up where it would run (EngineApi.warmUp); never downloads. */
  warmUp(request: WarmUpRequest): Promise<WarmUpAnswer> {
    return this.call((api) => api.warmUp(request));
  }
  decode(bytes: Uint8Array, mime?: string): Promise<RgbaImage> {
    return this.call((api) => api.decode(bytes, mime));
  }
  encodePng(image: RgbaImage): Promise<Uint8Array> {
    return this.call((api) => api.encodePng(image));
  }

  run(job: Job, onProgress: (p: Progress) => void): Promise<JobResult> {
    const progress = Comlink.proxy(onProgress);
    const promise = this.call((api) => api.run(job, progress)).catch((err: unknown) => {
      if (this.cancelling.has(job.id)) throw new EngineError('cancelled', CANCELLED_MESSAGE);
      throw err;
    });
    this.runs.set(job.id, promise);
    const forget = () => {
      this.runs.delete(job.id);
      this.cancelling.delete(job.id);
    };
    promise.then(forget, forget);
    return promise;
  }

  /**
   * Asks the engine to stop `jobId` at its next tile; if the run has not ended within hardCancelAfterMs,
   * terminates the worker (unless `hard` is false: a superseded preview must not cost the loaded sessions).
   * Resolves once the run has ended either way.
   */
  async cancel(jobId: string, opts: { hard?: boolean } = {}): Promise<void> {
    const run = this.runs.get(jobId);
    if (!run) return;
    this.cancelling.add(jobId);
    const ended = run.then(
      () => true,
      () => true,
    );
    const session = this.session;
    if (session && !session.dead) session.remote.cancel(jobId).catch(() => undefined);
    if (opts.hard === false) return void (await ended);
    const inTime = await withTimeout(ended, this.hardCancelAfterMs, { id: undefined }, () => false);
    if (!inTime) this.hardCancel();
    await ended;
  }

  /** Terminates the worker now: every pending call rejects with 'cancelled'; a new worker starts in the background. */
  hardCancel(): void {
    for (const id of this.runs.keys()) this.cancelling.add(id);
    this.stop(new EngineError('cancelled', CANCELLED_MESSAGE));
    if (this.config) this.start().ready.catch(() => undefined); // a later call reports the failure
  }

  /** Terminates the worker for good (plugin closing). */
  dispose(): void {
    this.config = null;
    this.stop(new EngineError('worker-crashed', 'The engine was shut down.'));
  }

  private setState(state: EngineState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  /** Runs `fn` on a ready worker, starting one with the last config when the previous one died. */
  private async call<T>(fn: (api: Comlink.Remote<EngineApi>) => Promise<T>): Promise<T> {
    let session = this.session;
    if (!session || session.dead) {
      if (!this.config) throw new EngineError('worker-crashed', 'The engine is not started yet: wait for the plugin to finish loading.');
      session = this.start();
    }
    await session.ready;
    return this.track(session, fn(session.remote) as Promise<T>, true);
  }

  /** Settles with `promise`, or rejects as soon as the session dies. */
  private track<T>(session: WorkerSession, promise: Promise<T>, fromWorker: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (session.dead) {
        reject(new EngineError('worker-crashed', 'The engine stopped before this call could run. Try again.'));
        return;
      }
      const entry: PendingCall = { reject };
      session.pending.add(entry);
      promise.then(
        (value) => {
          if (fromWorker) session.answered = true;
          session.pending.delete(entry);
          resolve(value);
        },
        (err: unknown) => {
          if (fromWorker) session.answered = true;
          session.pending.delete(entry);
          reject(toEngineError(err));
        },
      );
    });
  }

  /** Replaces any current worker with a fresh one and sends it the last config. */
  private start(): WorkerSession {
    const config = this.config;
    if (!config) throw new EngineError('worker-crashed', 'The engine has no configuration yet.');
    this.stop(new EngineError('worker-crashed', 'The engine was restarted before this finished. Try again.'));
    this.setState('starting');
    const kind = this.urlKind;
    let worker: WorkerLike;
    try {
      worker = this.createWorker(kind);
    } catch (err) {
      this.setState('failed');
      throw new EngineError(
        'worker-crashed',
        `The engine worker could not be created: ${toEngineError(err).message}. Reload the plugin; if it persists, this host blocks Web Workers.`,
      );
    }
    const onError = (event: Event) => {
      session.crashed = true;
      this.crash(session, describeWorkerError(event, session.answered));
    };
    const onMessageError = () =>
      this.crash(session, 'The engine worker sent a message that could not be read (messageerror). Click Restart engine.');
    worker.addEventListener('error', onError);
    worker.addEventListener('messageerror', onMessageError);
    const remote = Comlink.wrap<EngineApi>(worker as unknown as Comlink.Endpoint);
    const session: WorkerSession = {
      worker, kind, remote, pending: new Set(), ready: Promise.resolve({} as Capabilities),
      answered: false, crashed: false, dead: false,
      detach: () => {
        worker.removeEventListener('error', onError);
        worker.removeEventListener('messageerror', onMessageError);
      },
    };
    this.session = session;
    const seconds = Math.round(this.initTimeoutMs / 1000);
    const init = remote.init(config).then(
      (caps) => {
        session.answered = true;
        return caps;
      },
      (err: unknown) => {
        session.answered = true;
        throw err;
      },
    );
    const initTimer = { id: undefined as ReturnType<typeof setTimeout> | undefined };
    const detachListeners = session.detach;
    session.detach = () => {
      detachListeners();
      clearTimeout(initTimer.id);
    };
    const timedInit = withTimeout(init, this.initTimeoutMs, initTimer, () => {
      throw new EngineError(
        'worker-crashed',
        `The engine did not start within ${seconds} s (model host ${config.modelBaseUrl}). Check that the server is running (npm start), then click Restart engine.`,
      );
    });
    session.ready = this.track(session, timedInit, false);
    session.ready.then(
      () => {
        if (this.session === session) this.setState('ready');
      },
      (err: unknown) => {
        // A worker whose init failed or hung is not trusted: the next call starts a fresh one.
        this.kill(session, toEngineError(err));
        if (this.session === session) this.setState('failed');
      },
    );
    return session;
  }

  private crash(session: WorkerSession, message: string): void {
    if (session.dead) return;
    this.kill(session, new EngineError('worker-crashed', message));
    if (this.session === session) this.setState('failed');
  }

  /** Terminates `session`'s worker and rejects everything pending on it with `err`. */
  private kill(session: WorkerSession, err: EngineError): void {
    if (session.dead) return;
    session.dead = true;
    session.detach();
    session.worker.terminate();
    for (const entry of session.pending) entry.reject(err);
    session.pending.clear();
  }

  private stop(err: EngineError): void {
    const session = this.session;
    if (!session) return;
    this.kill(session, err);
    this.session = null;
    this.setState('stopped');
  }
}

function describeWorkerError(event: Event, answered: boolean): string {
  const detail = (event as ErrorEvent).message;
  const what = detail ? ` (${detail})` : '';
  return answered
    ? `The engine worker crashed${what}. Click Restart engine; if it happens again, try a smaller image or the WASM target.`
    : `The engine worker failed to start${what}. Click Restart engine; if it persists, rebuild the plugin (npm run build).`;
}

/**
 * Settles with `promise`, or with `onTimeout()` after `ms`. The timer id is put in `timer` so an owner
 * that gives up on the promise can clear it; it is cleared when the promise settles.
 */
function withTimeout<T>(promise: Promise<T>, ms: number, timer: { id: ReturnType<typeof setTimeout> | undefined }, onTimeout: () => T): Promise<T> {
  const timeout = new Promise<T>((resolve, reject) => {
    timer.id = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer.id));
}
