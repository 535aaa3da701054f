// The engine's Comlink surface, as the UI sees it. Implemented in worker/engine.ts (browser worker) and
// usable in Node by the CLI and server through the same Engine class.
import type { Job, JobResult, Params, Progress, ResolvedTarget, RgbaImage, Target } from './job.ts';
import type { ModelCard } from './models/card.ts';
import type { TaskInfo } from './tasks/task.ts';
import type { ProbeResult } from './runtime/oip.ts';

/** The answer to "Test connection": reachable, ready, which models it has, or what went wrong and what to do. */
export type ServerStatus = ProbeResult;

export interface EngineConfig {
  /** Where registry.json, model files and onnxruntime's wasm are served from (no trailing slash). */
  modelBaseUrl: string;
  /** Bearer token sent to the model host when set. */
  token?: string;
  /** Force a wasm thread count (defaults to 1 unless crossOriginIsolated). */
  wasmThreads?: number;
  /** Force the number of single-threaded WASM workers that share a job's tiles where the page gets one WASM thread
   *  (1: no pool; default: from the cores and memory, worker/runtime/ort-web-pool.ts). */
  wasmWorkers?: number;
}

export interface Capabilities {
  webgpu: { available: boolean; detail: string };
  wasm: { available: boolean; threads: number; crossOriginIsolated: boolean; detail: string };
  cache: { available: boolean; detail: string };
}

export interface TargetChoice {
  target: ResolvedTarget;
  /** Shown to the user: why this target ("auto: WebGPU adapter found", "WebGPU unavailable: …"). */
  reason: string;
  /** The runtime that runs it, e.g. 'ort-web/wasm', 'oip' (engine words: details and tests). */
  runtime?: string;
  /** Under `auto`: the runtimes asked before this one that did not take the job, highest priority first. */
  skipped?: SkippedRuntime[];
}

/** A runtime `auto` passed over, and why. */
export interface SkippedRuntime {
  target: ResolvedTarget;
  runtime: string;
  /** In designers' words, to follow "Not on <place>: ". */
  why: string;
  /** In the engine's words. */
  detail: string;
}

export interface ModelStatus {
  card: ModelCard;
  cached: boolean;
  /** Bytes stored in the Cache API for this model (0 when not cached or unknown). */
  cachedBytes: number;
  /** Whether it is loaded in this machine's memory now (a session on the server does not count). */
  loaded: boolean;
}

/** What a warm-up is asked for: what a run would be, without its inputs. */
export type WarmUpRequest = Pick<Job, 'task' | 'model' | 'params' | 'target'>;

/** Why a warm-up did nothing: 'no-warm-up' the task has none; 'remote' the job would run on a server; 'not-cached'
 *  the model's files are not on this computer (a warm-up never downloads); 'already-warm' it was warmed up before. */
export type WarmUpSkip = 'no-warm-up' | 'remote' | 'not-cached' | 'already-warm';

export interface WarmUpAnswer {
  /** The model and place a run with this request would use. */
  model: string;
  target: ResolvedTarget;
  /** True when the model ran its warm-up now; else `why` it did nothing. */
  warmed: boolean;
  why?: WarmUpSkip;
  /** How long it took, loading the model included (ms). */
  ms: number;
}

export interface EngineApi {
  init(config: EngineConfig): Promise<Capabilities>;
  capabilities(): Promise<Capabilities>;
  tasks(): Promise<TaskInfo[]>;
  /** Model statuses; `reload` reads the registry again first (a model was installed or removed on the server). */
  models(options?: { reload?: boolean }): Promise<ModelStatus[]>;
  /** Remove cached model files (all when ids is omitted) and dispose their sessions. */
  clearModels(ids?: string[]): Promise<void>;
  /** Which target a job with these params would run on, and why. `params` pick the default model (e.g. by scale). */
  chooseTarget(task: string, model: string | undefined, requested: Target, params?: Params): Promise<TargetChoice>;
  /** The model Automatic would run for a job of `task` with these params (when no model is chosen), or undefined when
   *  it is not installed: the UI's time hint asks it per choice (ui/cost-prior.ts) instead of bundling the task table. */
  defaultModelFor(task: string, params?: Params): Promise<string | undefined>;
  run(job: Job, onProgress: (p: Progress) => void): Promise<JobResult>;
  /**
   * Loads the model a run of `request` would use, where it would run, and runs it once on tiny inputs, so the first
   * real job does not pay the browser's compile of the runtime's code. Only for a model already on this computer and a
   * place on this computer; it shares the run's session (a run asked meanwhile waits for the same load, then queues).
   */
  warmUp(request: WarmUpRequest): Promise<WarmUpAnswer>;
  /** Cooperative cancel: the job stops at its next tile/step boundary with a 'cancelled' error. */
  cancel(jobId: string): Promise<void>;
  /**
   * Checks an inference server (ours, Triton, KServe) at `url`: health, metadata, whether it takes the pairing code,
   * and which known models are ready (unless `models` is false: asking loads each model on the server).
   */
  testServer(url: string, token: string, options?: { models?: boolean }): Promise<ServerStatus>;
  decode(bytes: Uint8Array, mime?: string): Promise<RgbaImage>;
  encodePng(image: RgbaImage): Promise<Uint8Array>;
}
