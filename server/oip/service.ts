// The Open Inference Protocol service: the loaded sessions, the inference limiter and the limits, shared by the
// /v2 routes. One per running server.
import type { ServerPaths } from '../paths.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_QUEUED, DEFAULT_REQUEST_TIMEOUT_MS, defaultMaxConcurrent, InferLimiter } from '../security.ts';
import { ModelSessions, type ExecutionProviderChoice } from './sessions.ts';

export interface OipOptions {
  /** Largest request body, in bytes (default 64 MB, as Triton). */
  maxBodyBytes?: number;
  /** Inference runs at once (default: the number of CPU cores). */
  maxConcurrentInfers?: number;
  /** Inference requests waiting beyond those (default 64); more get 503 + Retry-After. */
  maxQueuedInfers?: number;
  /** Deadline for one inference request, body upload included (default 120 s). */
  requestTimeoutMs?: number;
  /** 'auto' tries onnxruntime-node's CUDA EP once and falls back to the CPU (default); 'cpu' skips CUDA. */
  executionProvider?: ExecutionProviderChoice;
  /** onnxruntime intra-op threads per model session (default 0: onnxruntime decides). */
  threads?: number;
}

export class OipService {
  readonly sessions: ModelSessions;
  readonly limiter: InferLimiter;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;

  constructor(
    readonly paths: ServerPaths,
    options: OipOptions = {},
  ) {
    this.maxBodyBytes = positive(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes');
    this.requestTimeoutMs = positive(options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs');
    const concurrency = positive(options.maxConcurrentInfers, defaultMaxConcurrent(), 'maxConcurrentInfers');
    this.limiter = new InferLimiter(concurrency, options.maxQueuedInfers ?? DEFAULT_MAX_QUEUED);
    // One inference process per concurrent run: onnxruntime-node's run() blocks the thread it is called on.
    this.sessions = new ModelSessions(paths, { executionProvider: options.executionProvider, poolSize: concurrency, threads: options.threads });
  }

  close(): Promise<void> {
    return this.sessions.dispose();
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`${name} must be a positive number, got ${value}.`);
  return value;
}
