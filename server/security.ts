// Secure by default: the server binds to loopback unless it is given a token on purpose; every route that computes,
// changes state or shows a user's data needs that token (server/access.ts); bounded bodies; a concurrency limit with
// a bounded queue for inference; per-request deadlines. Comparable servers (ComfyUI, A1111) shipped without any of
// this and ended up exposed on the internet by the hundreds.
import { availableParallelism } from 'node:os';
import { HttpError } from './http-util.ts';

export const DEFAULT_MAX_BODY_BYTES = 64 * 2 ** 20; // Triton's default --http-max-input-size
export const DEFAULT_MAX_QUEUED = 64;
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
export const defaultMaxConcurrent = (): number => availableParallelism();

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

// --- binding ---------------------------------------------------------------------------------------------------------

/** Throws (saying why and how) when `host` would expose the server to the network without a token. */
export function assertBindAllowed(host: string, token: string | undefined): void {
  if (isLoopbackHost(host) || token) return;
  throw new Error(
    `Refusing to listen on ${host} without a token: anyone on the network could run models and read files on this server. ` +
      'Without a token it binds to loopback only (127.0.0.1, ::1, localhost). To serve other machines, start it with ' +
      '--token <secret> (or set FRONTIER_TOKEN) and enter the same token in the plugin\'s Settings.',
  );
}

// --- configured CORS origins ----------------------------------------------------------------------------------------

/** Normalizes an --allow-origin value to the form browsers send ("https://app.example.com", no path). */
export function parseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--allow-origin ${value} is not an origin such as https://app.example.com.`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new Error(`--allow-origin ${value} is not an origin such as https://app.example.com (scheme, host and port only).`);
  }
  return url.origin;
}

// --- inference admission and queue ----------------------------------------------------------------------------------

export interface LimiterStats {
  /** Requests admitted and not finished (reading their body, queued or running). */
  admitted: number;
  /** Model runs in progress (a run whose request gave up counts until its work has stopped). */
  running: number;
  /** Runs waiting for a slot. */
  waiting: number;
  /** Runs started since the server started (a request that gave up while queued never starts one). */
  started: number;
}

export interface Admission {
  /**
   * Runs `work` when a slot is free. When `signal` aborts, a waiting request leaves the queue, and a running one is
   * answered at once while `work` (which gets the signal) stops its run; the slot is held until `work` settles.
   */
  run<T>(work: (signal?: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Ends the admission (idempotent); call it when the response is done. */
  release(): void;
}

/**
 * At most `maxRunning` runs at once; at most `maxRunning + maxQueued` requests in flight. A request beyond that is
 * refused before its body is read (503 + Retry-After), so memory stays bounded under load.
 */
export class InferLimiter {
  private admitted = 0;
  private running = 0;
  private started = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly maxRunning: number,
    readonly maxQueued: number,
  ) {
    if (!(maxRunning >= 1) || !(maxQueued >= 0)) throw new Error(`Concurrency must be at least 1 and the queue at least 0 (got ${maxRunning}, ${maxQueued}).`);
  }

  get stats(): LimiterStats {
    return { admitted: this.admitted, running: this.running, waiting: this.waiters.length, started: this.started };
  }

  admit(): Admission {
    if (this.admitted >= this.maxRunning + this.maxQueued) {
      throw new HttpError(
        503,
        `The server is busy: ${this.maxRunning} inference(s) running and ${this.maxQueued} queued. Retry in a moment.`,
        { 'Retry-After': '1' },
      );
    }
    this.admitted++;
    let released = false;
    return {
      run: (work, signal) => this.runWhenFree(work, signal),
      release: () => {
        if (released) return;
        released = true;
        this.admitted--;
      },
    };
  }

  private async runWhenFree<T>(work: (signal?: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.running < this.maxRunning) {
      this.running++;
    } else {
      // `next` takes the slot on our behalf before waking us, so nothing can slip in between.
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          // Leave the queue: this work never starts.
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason);
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (signal?.aborted) {
        this.finished();
        throw signal.reason;
      }
    }
    // Hold the slot until the work settles, even if the request gives up on it first (the work stops its run on the
    // signal, which takes a moment): the count never drops below what the machine is actually running.
    this.started++;
    const done = Promise.resolve()
      .then(() => work(signal))
      .finally(() => this.finished());
    return raceAbort(done, signal);
  }

  private finished(): void {
    this.running--;
    while (this.running < this.maxRunning && this.waiters.length > 0) {
      this.running++;
      this.waiters.shift()?.();
    }
  }
}

/** `promise`, or the abort reason as soon as `signal` aborts (the promise's own outcome is then ignored). */
export function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => {}); // an abandoned promise must not become an unhandled rejection
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

// --- deadlines -------------------------------------------------------------------------------------------------------

/** An AbortSignal that fires with a 504 after `ms`, and with a 499-style error when the client leaves. */
export function requestDeadline(ms: number, what: string): { signal: AbortSignal; clientGone(): void; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new HttpError(504, `${what} did not finish within ${ms / 1000} s: send a smaller input (tile it), or raise the server's --timeout.`),
    );
  }, ms);
  (timer as unknown as { unref(): void }).unref(); // never keeps the process alive
  return {
    signal: controller.signal,
    clientGone: () => controller.abort(new HttpError(499, 'The client closed the connection.')),
    dispose: () => clearTimeout(timer),
  };
}
