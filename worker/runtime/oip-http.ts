// HTTP for the Open Inference Protocol client: fetch with a deadline, cancel, bearer token and retries with
// exponential backoff + jitter. Only the WHATWG fetch API is used, so the same code runs in the browser worker
// and in Node. Error messages never contain the token.
import { FrontierError } from '../job.ts';

export interface OipClientOptions {
  /** The server's root, e.g. http://gpu-box:8000 (Triton) or https://gateway/ (KServe); paths /v2/… are added. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
  fetch?: typeof fetch;
  /** Extra attempts after the first one for retryable failures (default 3). */
  retries?: number;
  /** Deadline of one call, retries and waits included (default 120 s). */
  timeoutMs?: number;
}

export interface OipResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

export interface OipRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /**
   * 'always': safe to repeat on any connection failure or 502/503/504 (GETs).
   * 'before-response': repeat only when no response arrived at all, or on 503 (inference on stateless models).
   */
  retry: 'always' | 'before-response';
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
  /** What the call was for, in error messages ("run esrgan-slim-x2"). */
  what: string;
}

const DEFAULT_RETRIES = 3;
const DEFAULT_TIMEOUT_MS = 120_000;
const BACKOFF_BASE_MS = 200;
const BACKOFF_MAX_MS = 5_000;

export class OipHttp {
  /** The server as shown to users: no credentials, no query. */
  readonly where: string;
  private readonly root: string;
  private readonly fetchFn: typeof fetch;
  private readonly token: string | undefined;
  readonly retries: number;
  readonly timeoutMs: number;

  constructor(opts: OipClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new FrontierError('target-unavailable', `"${opts.baseUrl}" is not a server URL: enter one like http://127.0.0.1:8740 or https://gpu.example.com in Settings.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FrontierError('target-unavailable', `The server URL must start with http:// or https:// (got ${url.protocol}).`);
    }
    // fetch refuses URLs with user:password; the token is the way to authenticate.
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    this.root = url.href.replace(/\/+$/, '');
    this.where = this.root;
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.token = opts.token || undefined;
    this.retries = Math.max(0, Math.floor(opts.retries ?? DEFAULT_RETRIES));
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** Removes the token from text that came from elsewhere (a gateway may echo request headers in its errors). */
  redact(text: string): string {
    return this.token ? text.split(this.token).join('[token]') : text;
  }

  /**
   * Sends the request, retrying as `req.retry` allows, and returns the last response whatever its status.
   * Throws FrontierError: 'cancelled' (signal), 'run-failed' (deadline), 'target-unavailable' (no response).
   */
  async send(req: OipRequest): Promise<OipResponse> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const call = new CallSignal(req.signal, timeoutMs);
    const failure = (err: unknown): FrontierError => {
      if (call.reason === 'cancelled') return new FrontierError('cancelled', `Cancelled: the request to ${this.where} (${req.what}) was stopped.`);
      if (call.reason === 'timeout') {
        return new FrontierError('run-failed', `The server at ${this.where} timed out: no answer to "${req.what}" within ${Number((timeoutMs / 1000).toFixed(1))} s. It may be overloaded or the job too large; try again or use smaller tiles.`);
      }
      return unreachable(this.where, err, this.redact.bind(this));
    };
    try {
      for (let attempt = 0; ; attempt++) {
        const canRetry = attempt < this.retries;
        let res: Response;
        try {
          res = await this.fetchFn(this.root + req.path, {
            method: req.method,
            headers: this.headers(req.headers),
            body: req.body as BodyInit | undefined,
            signal: call.signal,
          });
        } catch (err) {
          if (call.reason || !canRetry) throw failure(err);
          await call.sleep(backoffMs(attempt), deadline);
          continue;
        }
        let body: Uint8Array;
        try {
          body = new Uint8Array(await res.arrayBuffer());
        } catch (err) {
          // The connection died mid-answer: the server did get the request, so inference is not repeated.
          if (call.reason || !canRetry || req.retry !== 'always') throw failure(err);
          await call.sleep(backoffMs(attempt), deadline);
          continue;
        }
        if (canRetry && isRetryableStatus(res.status, req.retry, body)) {
          const wait = retryAfterMs(res.headers.get('retry-after')) ?? backoffMs(attempt);
          if (Date.now() + wait >= deadline) return { status: res.status, headers: res.headers, body };
          await call.sleep(wait, deadline);
          continue;
        }
        return { status: res.status, headers: res.headers, body };
      }
    } catch (err) {
      if (err instanceof FrontierError) throw err;
      throw failure(err);
    } finally {
      call.dispose();
    }
  }

  /** The URL of `path` on this server (for callers that stream with fetch themselves). */
  url(path: string): string {
    return this.root + path;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { Accept: 'application/json, application/octet-stream', ...extra };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  }
}

function isRetryableStatus(status: number, retry: OipRequest['retry'], body: Uint8Array): boolean {
  // Triton answers 503 for a model it does not know: waiting will not make it appear.
  if (status === 503 && /unknown model|not found/i.test(errorText(body))) return false;
  if (status === 503) return true;
  return retry === 'always' && (status === 502 || status === 504);
}

/** Exponential backoff with jitter (50–100 % of the step) so many clients do not retry in lockstep. */
export function backoffMs(attempt: number): number {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return step * (0.5 + Math.random() * 0.5);
}

/** Retry-After as seconds or an HTTP date, in milliseconds; null when absent or unreadable. */
export function retryAfterMs(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** The `error` of an OIP error body `{ "error": "…" }`, or a short plain-text body; '' otherwise. */
export function errorText(body: Uint8Array): string {
  if (body.length === 0) return '';
  const text = new TextDecoder().decode(body.length > 4096 ? body.subarray(0, 4096) : body).trim();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return clip((parsed as { error: string }).error);
    }
  } catch {
    // not JSON: fall through
  }
  return text.startsWith('<') ? '' : clip(text); // an HTML error page says nothing useful
}

function clip(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function unreachable(where: string, err: unknown, redact: (s: string) => string): FrontierError {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  return new FrontierError(
    'target-unavailable',
    `Cannot reach the server at ${where} (${redact(detail)}). Check the URL in Settings, that the server is running and reachable from this machine, and — for a remote server in the browser — that it (or its gateway) allows this origin with CORS.`,
  );
}

/** One AbortSignal for a call: the caller's cancel plus the deadline, remembering which one fired. */
class CallSignal {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly onAbort = () => this.abort('cancelled');
  reason: 'cancelled' | 'timeout' | null = null;

  constructor(
    private readonly outer: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => this.abort('timeout'), timeoutMs);
    if (outer?.aborted) this.abort('cancelled');
    else outer?.addEventListener('abort', this.onAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private abort(reason: 'cancelled' | 'timeout'): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller.abort();
  }

  /** Waits `ms` (never past the deadline); rejects as soon as the call is cancelled or times out. */
  sleep(ms: number, deadline: number): Promise<void> {
    const wait = Math.max(0, Math.min(ms, deadline - Date.now()));
    return new Promise((resolve, reject) => {
      if (this.reason) return reject(new Error(this.reason));
      const onAbort = () => {
        clearTimeout(t);
        reject(new Error(this.reason ?? 'aborted'));
      };
      const t = setTimeout(() => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      }, wait);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }
}
