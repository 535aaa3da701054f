// The job contract: what the UI, the CLI and the server ask the engine to do, and what comes back.
// Everything here is plain data so it crosses Comlink, the Figma/UXP bridges and HTTP unchanged.

/** Straight (non-premultiplied) 8-bit RGBA pixels, row-major, 4 bytes per pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array; // length = width * height * 4
}

/** The places a job can run (the runtimes that run there register in worker/runtime/registry.ts). */
export const RESOLVED_TARGETS = ['webgpu', 'wasm', 'node', 'server'] as const;
/** A concrete target after `auto` was resolved. */
export type ResolvedTarget = (typeof RESOLVED_TARGETS)[number];
/** Where a job runs. `auto` lets the engine pick and say why. */
export type Target = 'auto' | ResolvedTarget;
export const TARGETS: readonly Target[] = ['auto', ...RESOLVED_TARGETS];

export function isTarget(value: unknown): value is Target {
  return TARGETS.includes(value as Target);
}

/** An encoded video clip (MP4, QuickTime or WebM): what hosts export and place, and what video jobs send. */
export interface EncodedVideo {
  bytes: Uint8Array;
  /** e.g. video/mp4 */
  mime: string;
  width?: number;
  height?: number;
  frames?: number;
  fps?: number;
}

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface Job {
  /** Client-chosen id: used for cancel and to match progress events. */
  id: string;
  task: string;
  /** Model id from models/registry.json; the task's default for the target when omitted. */
  model?: string;
  params: Params;
  image?: RgbaImage;
  mask?: RgbaImage;
  /** How the selected results were made (their stored ResultMeta): the sources of variations, in-betweens, views. */
  sources?: ResultMeta[];
  /** The clip of a video task; it runs on a server (see TaskDef.targets). */
  video?: EncodedVideo;
  seed?: number;
  target?: Target;
}

export type Stage = 'download' | 'load' | 'run' | 'upload' | 'encode';

export interface Progress {
  jobId: string;
  stage: Stage;
  /** Units done of `total` within this stage (bytes for download and upload, tiles or frames for run). */
  done: number;
  total: number;
  message?: string;
  preview?: RgbaImage;
}

/** What the host stores on a placed result (Figma setPluginData, Photoshop layer metadata). */
export interface ResultMeta {
  task: string;
  model: string;
  modelVariant: 'full' | 'tiny';
  params: Params;
  seed?: number;
  target: ResolvedTarget;
  /** Frontier version that made the result. */
  version: string;
  /** Milliseconds spent in the run stage. */
  runMs: number;
  /** Generated results: the latent z (base64 of float32, worker/latent.ts), so variations, in-betweens and new views
   *  start from exactly this result in a later session. */
  latent?: string;
}

/** A stored ResultMeta (pluginData / layer metadata) read back, or undefined when absent or not Frontier's. */
export function parseResultMeta(text: string | undefined): ResultMeta | undefined {
  if (!text) return undefined;
  try {
    const meta = JSON.parse(text) as Partial<ResultMeta> | null;
    if (!meta || typeof meta !== 'object' || typeof meta.task !== 'string' || typeof meta.model !== 'string') return undefined;
    if (meta.latent !== undefined && typeof meta.latent !== 'string') return undefined;
    return meta as ResultMeta;
  } catch {
    return undefined;
  }
}

export interface JobResult {
  jobId: string;
  /** Image results (empty for a video task). */
  images: RgbaImage[];
  /** One per image when images differ in how they were made (seed, latent, params): `meta` with these merged in. */
  imageMeta?: ResultMeta[];
  /** The encoded result of a video task. */
  video?: EncodedVideo;
  meta: ResultMeta;
}

/** Error codes every layer understands; `message` always says what to do next. */
export type ErrorCode =
  | 'cancelled'
  | 'bad-input'
  | 'model-not-found'
  | 'download-failed'
  | 'hash-mismatch'
  | 'model-load-failed'
  | 'run-failed'
  | 'target-unavailable'
  | 'worker-crashed'
  | 'too-large';

export class FrontierError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FrontierError';
  }
}

/** Plain-data form of an error for crossing Comlink/postMessage (Error subclasses lose their fields). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof FrontierError) return { code: err.code, message: err.message };
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const e = err as { code: unknown; message: unknown };
    if (typeof e.code === 'string' && typeof e.message === 'string') return { code: e.code as ErrorCode, message: e.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'run-failed', message };
}

export function fromErrorInfo(info: ErrorInfo): FrontierError {
  return new FrontierError(info.code, info.message);
}

export const FRONTIER_VERSION = '0.1.0';

/**
 * Comlink rebuilds thrown errors from name, message and stack only, so the code travels in the name
 * ("FrontierError:hash-mismatch"). The UI turns it back with fromWireError.
 */
export function toWireError(err: unknown): Error {
  const info = toErrorInfo(err);
  const e = new Error(info.message);
  e.name = `FrontierError:${info.code}`;
  return e;
}

export function fromWireError(err: unknown): FrontierError {
  if (err instanceof FrontierError) return err;
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (typeof e?.code === 'string') return new FrontierError(e.code as ErrorCode, message);
  const match = typeof e?.name === 'string' ? /^FrontierError:([a-z-]+)$/.exec(e.name) : null;
  return new FrontierError(match ? (match[1] as ErrorCode) : 'run-failed', message);
}
