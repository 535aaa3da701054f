// Secure by default: every route that computes, changes state or reveals a user's data needs the bearer token, even
// on loopback (any web page can reach 127.0.0.1, and Figma's plugin iframe has the same origin "null" as any
// sandboxed iframe, so no origin check can tell the plugin from a stranger). The token is compared in constant
// time and never logged; remote addresses that keep guessing wrong are locked out for a while; the server binds to
// loopback unless it is given a token on purpose; bounded bodies; a concurrency limit with a bounded queue for
// inference; per-request deadlines. Comparable servers (ComfyUI, A1111) shipped without any of this and ended up
// exposed on the internet by the hundreds.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
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

/** Refuses tokens an Authorization header cannot carry unchanged. */
export function validateToken(token: string): string {
  if (token.length === 0) throw new Error('The token is empty: pass a secret with --token <secret> or FRONTIER_TOKEN.');
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new Error('The token must be printable ASCII without spaces (it travels in an Authorization: Bearer header).');
  }
  return token;
}

// --- bearer token ----------------------------------------------------------------------------------------------------

/** A fresh random token: 160 bits, URL- and header-safe (used for the pairing token and for servers started without one). */
export function generateToken(): string {
  return randomBytes(20).toString('base64url');
}

/** The token from an Authorization header, or null when there is none in the Bearer form. */
export function bearerOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  const m = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return m ? m[1] : null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class BearerAuth {
  // Only a digest is kept: comparing fixed-length digests makes timingSafeEqual leak neither content nor length.
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(validateToken(token));
  }

  /** Whether `token` is the server's token (constant time). */
  matches(token: string): boolean {
    return timingSafeEqual(digest(token), this.expected);
  }

  /** Throws 401 (with WWW-Authenticate) unless the request carries the token. `where` says where the user finds it. */
  check(req: IncomingMessage, where = PAIRING_HINT): void {
    const token = bearerOf(req);
    // API clients learn the scheme from WWW-Authenticate; the message is for the designer reading it in the plugin.
    if (token === null) {
      throw new HttpError(401, `This server asks for its pairing code. ${where}`, { 'WWW-Authenticate': 'Bearer realm="frontier"' });
    }
    if (!this.matches(token)) {
      throw new HttpError(401, `That is not this server's pairing code. ${where}`, { 'WWW-Authenticate': 'Bearer realm="frontier", error="invalid_token"' });
    }
  }
}

/** Where a user finds the token, for 401 messages (servers started with an explicit token refine it). */
export const PAIRING_HINT = "The server prints it when it starts (npm start): enter it in the plugin's Settings → Pairing code.";

// --- wrong-token backoff ---------------------------------------------------------------------------------------------

export interface BackoffOptions {
  /** Wrong tokens an address may send within `windowMs` before it is locked out (default 10). */
  maxFailures?: number;
  windowMs?: number;
  /** First lockout; each further one doubles, up to `maxLockMs` (defaults 30 s and 15 min). */
  lockMs?: number;
  maxLockMs?: number;
  /** Addresses tracked at once; the oldest entry is dropped beyond this (default 10,000), so memory stays bounded. */
  maxTracked?: number;
  now?: () => number;
}

interface Strikes {
  failures: number[];
  lockedUntil: number;
  lockouts: number;
}

/**
 * Locks out a remote address that keeps sending wrong tokens: after `maxFailures` within `windowMs` every request
 * from it is refused with 429 before its token is even compared (so guessing cannot go on at full speed), for a time
 * that doubles with each lockout. Loopback peers are never locked out: every web page a designer visits reaches the
 * server from 127.0.0.1 too, so a lockout there would let any page shut the designer out of their own server; the
 * pairing token (160 random bits) is what protects loopback, and guessing it is hopeless at any rate.
 */
export class WrongTokenBackoff {
  private readonly strikes = new Map<string, Strikes>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockMs: number;
  private readonly maxLockMs: number;
  private readonly maxTracked: number;
  private readonly now: () => number;

  constructor(options: BackoffOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.lockMs = options.lockMs ?? 30_000;
    this.maxLockMs = options.maxLockMs ?? 15 * 60_000;
    this.maxTracked = options.maxTracked ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Throws 429 with Retry-After while `address` is locked out. */
  assertAllowed(address: string): void {
    const entry = this.strikes.get(address);
    const now = this.now();
    if (!entry || entry.lockedUntil <= now) return;
    const seconds = Math.ceil((entry.lockedUntil - now) / 1000);
    throw new HttpError(429, `Too many wrong pairing codes from this address: try again in ${seconds} s with the right code.`, { 'Retry-After': String(seconds) });
  }

  /** Counts a wrong token from `address`. */
  failed(address: string): void {
    const now = this.now();
    let entry = this.strikes.get(address);
    if (!entry) {
      if (this.strikes.size >= this.maxTracked) this.strikes.delete(this.strikes.keys().next().value as string);
      entry = { failures: [], lockedUntil: 0, lockouts: 0 };
    }
    this.strikes.delete(address);
    this.strikes.set(address, entry); // most recent last: the oldest is dropped first
    entry.failures = entry.failures.filter((t) => now - t < this.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.maxFailures) {
      entry.lockedUntil = now + Math.min(this.maxLockMs, this.lockMs * 2 ** entry.lockouts);
      entry.lockouts++;
      entry.failures = [];
    }
  }

  /** A right token resets the address's count (not its lockout history). */
  succeeded(address: string): void {
    const entry = this.strikes.get(address);
    if (entry) entry.failures = [];
  }
}

/** Whether a socket's peer address is this machine (IPv4, IPv6 and IPv4-mapped loopback). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** The credential check every protected route passes before any work: lockout, token, count. */
export class AccessGate {
  readonly backoff: WrongTokenBackoff;

  constructor(
    readonly auth: BearerAuth,
    backoff: BackoffOptions = {},
    /** Where a user finds the token, for 401 messages. */
    private readonly hint = PAIRING_HINT,
  ) {
    this.backoff = new WrongTokenBackoff(backoff);
  }

  /** Throws 429 (locked out) or 401 (no or wrong token); returns when the request carries the token. */
  check(req: IncomingMessage): void {
    const address = req.socket.remoteAddress ?? '';
    const loopback = isLoopbackAddress(address);
    if (!loopback) this.backoff.assertAllowed(address);
    try {
      this.auth.check(req, this.hint);
    } catch (err) {
      if (!loopback && bearerOf(req) !== null) this.backoff.failed(address);
      throw err;
    }
    if (!loopback) this.backoff.succeeded(address);
  }

  /** Whether the request carries the token (no error, no counting): for routes that are public in part. */
  admits(req: IncomingMessage): boolean {
    const token = bearerOf(req);
    return token !== null && this.auth.matches(token);
  }
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
