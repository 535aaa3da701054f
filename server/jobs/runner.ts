// The video job runner: probe the clip, decode frames through a pipe, send stateless frame windows through the
// Open Inference Protocol (the OIP client runtime pointed at this server, or at a gateway / Triton), and pipe the
// finished frames into the encoder. Each frame is one run of the video task's image task (video-tasks.ts): `upscale`
// (tiled by runTiled) for upscale-video, `restore` (tiles, tone harmonisation, local mean) for restore-video. It is
// the same code path as a single image on target 'server', so video and images give the same pixels. Frames take
// this path rather than the engine process that runs engine jobs: the server's inference pool already runs the models
// on onnxruntime-node with one loaded session shared by parallel frames, costs ≈1.1× a direct call for a MAXIM tile
// (bench/results/restore.md), and keeps windows stateless, so a gateway or Triton (jobs.inferUrl) can serve them.
//
// TTVSR (upscale-video with a TTVSR pipeline) is not a frame task: it is a recurrence over windows of frames with
// context (worker/video/ttvsr.ts; DEFAULT_WINDOW frames kept, DEFAULT_CONTEXT either side), whose state (keyframe
// token buffers [1,K,16C,H/4,W/4], hundreds of MB at 180p full width) must not cross HTTP or IPC at every step. On
// this server each window's whole recurrence runs inside one engine process with in-process onnxruntime-node
// sessions of the five parts (engine-runner.ts ttvsr(), ttvsr-window.ts): frames in, ×4 frames out; a cancel kills
// that process. Windows stay stateless, so any replica could serve one. With a gateway (jobs.inferUrl) the driver
// runs here and calls the five parts over OIP one by one, state included: correct, but every align call sends the
// token buffers (K·4·16C·H/4·W/4 floats: ≈350 MB at 320×180 full width, over Triton's default 64 MB input limit).
// TTVSR's memory grows with the frame's area (≈ 3 GB at 320×180, ≈ 110 GB at 1920×1080 on onnxruntime-node): a clip
// whose windows would need more than cfg.ttvsrMemoryBytes is refused before it runs (worker/video/ttvsr-memory.ts).
//
// Previews: the progress event of the frame that completes a window carries the window's last output frame, shrunk to
// ≤ 256 px and JPEG-encoded (preview.ts), for the first window and then at most every cfg.previewEveryMs of work.
import { stat } from 'node:fs/promises';
import { FrontierError, type Progress } from '../../worker/job.ts';
import { rgbaToRgb, rgbToRgba } from '../../worker/image/rgba.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { createOipRuntime } from '../../worker/runtime/oip.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import type { TaskContext } from '../../worker/tasks/task.ts';
import { DEFAULT_CONTEXT, DEFAULT_WINDOW, isTtvsrEntry, TTVSR_PARTS, ttvsrName, upscaleWindowRgb24, type RunPart, type TtvsrPart } from '../../worker/video/ttvsr.ts';
import { clipWindows, largestFitting, ttvsrChannels, windowsHeldBytes, type WindowBytes } from '../../worker/video/ttvsr-memory.ts';
import type { RunTtvsrWindow } from './engine-runner.ts';
import { encodedSize, FrameDecoder, FrameEncoder, probeClip, type ClipInfo, type VideoTools } from './ffmpeg.ts';
import type { Job, JobResult, JobSpec } from './job.ts';
import { framePreview } from './preview.ts';
import { videoTask } from './video-tasks.ts';
import { frameWindows } from '../../worker/video/windows.ts';

export interface RunnerConfig {
  tools: VideoTools;
  /** Where frames are inferred: an Open Inference Protocol server root, and its token. */
  infer: { baseUrl: string; token?: string };
  /** Frames per window. */
  windowFrames: number;
  /** Frames of one window inferred at the same time. */
  parallelFrames: number;
  maxDurationSeconds: number;
  /** Largest input frame, in pixels. */
  maxFramePixels: number;
  /**
   * Least time of work between two preview frames. Decided as each window ends, never per frame: the first window
   * always sends its last frame, a later one when this long has passed since the last preview (0: every window).
   */
  previewEveryMs: number;
  /** Memory a TTVSR job may take on this server, in bytes: a clip whose windows would need more is refused. */
  ttvsrMemoryBytes: number;
  /**
   * TTVSR on this server: holds an engine process for the job's windows (EngineJobRunner.ttvsr). Absent when frames
   * go to a gateway (the parts then run there, one OIP call each).
   */
  ttvsrProcess?: <T>(job: Job, work: (runWindow: RunTtvsrWindow) => Promise<T>) => Promise<T>;
}

/** A TTVSR job's five part cards (runVideoJob's `parts`). */
export type TtvsrCards = Record<TtvsrPart, ModelCard>;

/** Cards a per-frame model's task may ask for by part name (ctx.part): restore's 'largeTiles' (its 256-px build). */
export type FrameParts = Record<string, ModelCard>;

export interface RunFiles {
  input: string;
  output: string;
}

/** Least time between two reports of the tiles inside a frame (a large restored frame takes minutes on a CPU). */
const TILE_PROGRESS_MS = 1000;

/** How messages name the input: a user knows the clip they uploaded, not where the server keeps it. */
const CLIP = 'the uploaded clip';

/** Runs `work` over `items` with at most `limit` at once; results in input order. */
async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(lanes);
  return results;
}

function cancelled(): FrontierError {
  return new FrontierError('cancelled', 'The job was cancelled.');
}

/** `work`'s outcome, or a cancel error as soon as `signal` aborts (the work itself is left to settle). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Turns decoded frames (packed RGB24, clip order) into output frames, handed to `write` in clip order. */
type Produce = (frames: AsyncIterable<Uint8Array>, write: (rgb: Uint8Array) => Promise<void>) => Promise<void>;

/**
 * Counts a finished frame. The one that completes a window passes the window's last output frame (packed RGB24): the
 * latest finished frame, which may go out as a preview on that frame's own progress event.
 */
type FrameDone = (windowLast?: Uint8Array) => void;

/** Each frame one run of the video task's image task, through the OIP runtime (this server or a gateway). */
async function framesProducer(
  job: Job,
  spec: JobSpec,
  card: ModelCard,
  clip: ClipInfo,
  cfg: RunnerConfig,
  count: { done(): number; total(): number; frameDone: FrameDone },
  frameParts: FrameParts = {},
): Promise<Produce> {
  const task = videoTask(spec.task);
  const signal = job.abort.signal;
  const throwIfCancelled = () => {
    if (signal.aborted) throw cancelled();
  };
  // Frames never reach the model locally: a remote runtime needs no model bytes.
  const runtime = createOipRuntime({ baseUrl: cfg.infer.baseUrl, token: cfg.infer.token });
  // Metadata requests take no signal: a server that does not answer must not hold up a cancel or a clean stop.
  const session: Session = await untilAborted(
    runtime.createSession(card, () => Promise.reject(new Error('the OIP runtime does not load model bytes'))),
    signal,
  );
  throwIfCancelled();
  // The other cards a frame's task may ask for by part name (restore: its 256-px build), each one OIP session.
  const partSessions = new Map<string, Promise<Session>>();
  const part = (name?: string): ModelCard => {
    if (!name) return card;
    const found = frameParts[name];
    if (!found) throw new FrontierError('model-not-found', `${card.label} has no ${name} part on this server.`);
    return found;
  };
  const partSession = (name?: string): Promise<Session> => {
    if (!name) return Promise.resolve(session);
    const c = part(name);
    let s = partSessions.get(c.id);
    if (!s) {
      s = untilAborted(runtime.createSession(c, () => Promise.reject(new Error('the OIP runtime does not load model bytes'))), signal);
      s.catch(() => partSessions.delete(c.id)); // a failed one is asked for again by the next frame
      partSessions.set(c.id, s);
    }
    return s;
  };

  const outWidth = clip.width * task.scale(card);
  const outHeight = clip.height * task.scale(card);
  const params = task.frameParams(spec.params, card);
  let lastTileReport = 0;
  // A frame of several tiles says which tile it is at (done and total stay frames), at most every TILE_PROGRESS_MS.
  const tileProgress = (index: number, p: Omit<Progress, 'jobId'>) => {
    const now = Date.now();
    if (signal.aborted || p.stage !== 'run' || p.total <= 1 || p.done >= p.total || now - lastTileReport < TILE_PROGRESS_MS) return;
    lastTileReport = now;
    job.setProgress('run', count.done(), count.total(), { message: `frame ${index + 1} / ${count.total()}: tile ${p.done + 1} / ${p.total}` });
  };
  // One frame = one run of the image task, exactly as a single image on target 'server' runs it (its parts included:
  // restore takes its 256-px build for frames larger than one of its own tiles).
  const runFrame = async (rgb: Uint8Array, index: number): Promise<Uint8Array> => {
    const ctx: TaskContext = {
      job: { id: `${job.id}-frame-${index}`, task: task.frame.id, params, image: rgbToRgba(rgb, clip.width, clip.height) },
      params,
      model: card,
      target: 'server',
      session: partSession,
      part,
      file: () => Promise.reject(new Error(`${task.frame.label} models have no extra files`)),
      progress: (p) => tileProgress(index, p),
      throwIfCancelled,
      signal,
      jobServer: () => {
        throw new Error('a frame of a video job does not start other jobs');
      },
    };
    const {
      images: [out],
    } = await task.frame.run(ctx);
    if (!out || out.width !== outWidth || out.height !== outHeight) {
      throw new Error(`${task.frame.label} returned a ${out ? `${out.width}×${out.height}` : 'missing'} frame for a ${clip.width}×${clip.height} one (expected ${outWidth}×${outHeight}).`);
    }
    return rgbaToRgb(out);
  };

  return async (frames, write) => {
    // Per-frame models: no temporal context (TTVSR has its own producer below).
    for await (const window of frameWindows(frames, cfg.windowFrames, 0)) {
      throwIfCancelled();
      const produce = window.frames.slice(window.keepFrom, window.keepTo);
      // Progress per frame as each one finishes (a restored frame can take seconds); the window is encoded in order.
      const made: Uint8Array[] = [];
      let finished = 0;
      await mapLimit(
        produce.map((rgb, i) => ({ rgb, i })),
        cfg.parallelFrames,
        async (frame) => {
          made[frame.i] = await runFrame(frame.rgb, window.first + frame.i);
          throwIfCancelled();
          count.frameDone(++finished === produce.length ? made[produce.length - 1] : undefined);
        },
      );
      throwIfCancelled();
      for (const frame of made) await write(frame);
    }
  };
}

/**
 * TTVSR: windows of DEFAULT_WINDOW frames with DEFAULT_CONTEXT frames either side (worker/video/windows.ts), each
 * window's whole recurrence in this server's engine process (cfg.ttvsrProcess), or part by part over OIP at a
 * gateway. Each ×4 frame is written and counted as it comes.
 */
async function ttvsrProducer(job: Job, parts: TtvsrCards, clip: ClipInfo, cfg: RunnerConfig, frameDone: FrameDone): Promise<Produce> {
  const signal = job.abort.signal;
  const size = { width: clip.width, height: clip.height };
  const windows = (frames: AsyncIterable<Uint8Array>, write: (rgb: Uint8Array) => Promise<void>) => async (runWindow: RunTtvsrWindow) => {
    for await (const window of frameWindows(frames, DEFAULT_WINDOW, DEFAULT_CONTEXT)) {
      if (signal.aborted) throw cancelled();
      await runWindow({ parts, frames: window.frames, ...size, keepFrom: window.keepFrom, keepTo: window.keepTo }, async (index, rgb) => {
        if (signal.aborted) throw cancelled();
        await write(rgb);
        frameDone(index === window.keepTo - 1 ? rgb : undefined);
      });
    }
  };
  const inProcess = cfg.ttvsrProcess;
  if (inProcess) return async (frames, write) => inProcess(job, windows(frames, write));
  // A gateway: the driver here, each part one OIP call (the recurrent state crosses the network). The sessions are
  // made before decoding starts, as for frame models.
  const runtime = createOipRuntime({ baseUrl: cfg.infer.baseUrl, token: cfg.infer.token });
  const noBytes = () => Promise.reject(new Error('the OIP runtime does not load model bytes'));
  const sessions = Object.fromEntries(
    await untilAborted(Promise.all(TTVSR_PARTS.map(async (part) => [part, await runtime.createSession(parts[part], noBytes)] as const)), signal),
  ) as Record<TtvsrPart, Session>;
  const runPart: RunPart = (part, feeds, partSignal) => sessions[part].run(feeds, { signal: partSignal });
  return (frames, write) =>
    windows(frames, write)(async (window, onFrame) => {
      try {
        for await (const { index, rgb } of upscaleWindowRgb24(window.frames, window, window, runPart, { signal })) await onFrame(index, rgb);
      } catch (err) {
        if (signal.aborted) throw cancelled();
        throw err;
      }
    });
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes < 10e9 ? 1 : 0)} GB`;

export interface TtvsrFit {
  /** Whether the clip's windows fit the budget. */
  fits: boolean;
  /** What its windows need (the field that counts: `total` with the parts in this process, `driver` with a gateway). */
  need: WindowBytes;
  counted: 'total' | 'driver';
  /** The budget, in bytes. */
  budget: number;
  /** Frames in the largest window. */
  windowFrames: number;
  /** The largest frame size of the same aspect ratio that fits (null: not even the smallest frames). */
  largest: { width: number; height: number } | null;
}

/**
 * Whether a TTVSR clip of `frames` frames at width×height fits `budget` bytes (worker/video/ttvsr-memory.ts: the
 * driver's buffers plus the parts' working memory; with a gateway (`inProcess` false) the parts run there, so only the
 * driver's buffers count here), and the largest frames that would. The job's refusal and the clip-fit answer
 * (GET /jobs/fit) both ask this, so what the chooser warns of is what the job refuses.
 */
export async function ttvsrFit(clip: { width: number; height: number; frames: number }, parts: TtvsrCards, budget: number, inProcess: boolean): Promise<TtvsrFit> {
  const size = { width: clip.width, height: clip.height, channels: ttvsrChannels(parts.reconstruct) };
  const windows = await clipWindows(Math.max(1, clip.frames), DEFAULT_WINDOW, DEFAULT_CONTEXT);
  const counted = inProcess ? 'total' : 'driver';
  const need = windowsHeldBytes(size, windows);
  const fits = need[counted] <= budget;
  const largest = fits ? { width: clip.width, height: clip.height } : largestFitting(size, windows, budget, counted);
  return { fits, need, counted, budget, windowFrames: Math.max(...windows.map((w) => w.frames)), largest };
}

/**
 * Refuses a TTVSR clip whose windows would need more memory than cfg.ttvsrMemoryBytes (ttvsrFit), saying what would
 * fit and what to do instead.
 */
async function checkTtvsrMemory(clip: ClipInfo, parts: TtvsrCards, cfg: RunnerConfig): Promise<void> {
  const fit = await ttvsrFit(clip, parts, cfg.ttvsrMemoryBytes, cfg.ttvsrProcess !== undefined);
  if (fit.fits) return;
  const { need, largest } = fit;
  const smaller = largest ? `a smaller clip (frames up to about ${largest.width}×${largest.height} fit)` : 'a smaller clip';
  throw new Error(
    `${ttvsrName(parts.reconstruct)} needs about ${gb(need[fit.counted])} of memory for ${clip.width}×${clip.height} frames ` +
      `(a window holds ${fit.windowFrames} frames' features and ${need.keyframes} keyframes of tokens: ${gb(need.tokens)} of tokens alone), ` +
      `more than the ${gb(cfg.ttvsrMemoryBytes)} this server allows it. Upscale ${smaller}, choose an ESRGAN model (it upscales frame by frame), ` +
      `or use a server with more memory (its limit: FRONTIER_TTVSR_MEMORY_GB, by default half its memory).`,
  );
}

/**
 * Runs the video job `spec` on the clip at `files.input` into `files.output`: every frame through the image task of
 * its video task with model `card`, or, for TTVSR (`parts`: its five part cards), the clip through the recurrence in
 * windows; progress (frames done) goes to `job`. Throws on failure or cancel.
 */
export async function runVideoJob(job: Job, spec: JobSpec, card: ModelCard, files: RunFiles, cfg: RunnerConfig, parts?: TtvsrCards, frameParts?: FrameParts): Promise<JobResult> {
  if (isTtvsrEntry(card) && !parts) throw new Error(`${card.label} is a part of a TTVSR pipeline: the job needs its five parts.`);
  const task = videoTask(spec.task);
  const signal = job.abort.signal;
  const throwIfCancelled = () => {
    if (signal.aborted) throw cancelled();
  };

  job.setProgress('probe', 0, 0);
  const clip = await probeClip(cfg.tools, files.input, CLIP);
  throwIfCancelled();
  if (clip.durationSeconds > cfg.maxDurationSeconds) {
    throw new Error(`The clip is ${clip.durationSeconds.toFixed(1)} s long; this server ${task.does} clips up to ${cfg.maxDurationSeconds} s. Trim it and upload it again.`);
  }
  if (clip.width * clip.height > cfg.maxFramePixels) {
    throw new Error(`The clip's frames are ${clip.width}×${clip.height} (${(clip.width * clip.height / 1e6).toFixed(2)} MP); this server ${task.does} frames up to ${(cfg.maxFramePixels / 1e6).toFixed(2)} MP. Downscale it first.`);
  }
  if (parts) await checkTtvsrMemory(clip, parts, cfg);

  const scale = task.scale(card);
  const outWidth = clip.width * scale;
  const outHeight = clip.height * scale;
  let done = 0;
  let total = clip.frames;
  // The latest finished frame goes out as a small preview on the progress event of the frame that ends a window:
  // the first window's always, a later one's once previewEveryMs of work has passed since the last preview.
  let lastPreview: number | undefined;
  const frameDone: FrameDone = (windowLast) => {
    done++;
    total = Math.max(total, done);
    const now = performance.now();
    const due = windowLast && !signal.aborted && (lastPreview === undefined || now - lastPreview >= cfg.previewEveryMs);
    if (due) lastPreview = now;
    job.setProgress('run', done, total, due ? { preview: framePreview(windowLast, outWidth, outHeight) } : {});
  };
  const produce: Produce = parts
    ? await ttvsrProducer(job, parts, clip, cfg, frameDone)
    : await framesProducer(job, spec, card, clip, cfg, { done: () => done, total: () => total, frameDone }, frameParts);
  throwIfCancelled();

  const decoder = new FrameDecoder(cfg.tools, files.input, clip, CLIP);
  const encoder = new FrameEncoder(cfg.tools, {
    width: outWidth,
    height: outHeight,
    fpsText: clip.fpsText,
    audioFrom: clip.audioCodec ? { file: files.input, codec: clip.audioCodec, name: CLIP } : null,
    output: files.output,
  });
  try {
    job.setProgress('run', 0, total);
    await produce(decoder.frames(), (rgb) => encoder.write(rgb));
    if (done === 0) throw new Error(`The clip has no frames to ${task.verb}.`);
    job.setProgress('encode', done, done);
    await encoder.finish();
  } finally {
    await Promise.all([decoder.stop(), encoder.stop()]);
  }
  throwIfCancelled();

  const [made, info] = await Promise.all([probeClip(cfg.tools, files.output, 'the encoded result'), stat(files.output)]);
  const even = encodedSize(outWidth, outHeight);
  if (made.width !== even.width || made.height !== even.height) {
    throw new Error(`The encoded result is ${made.width}×${made.height}, expected ${even.width}×${even.height}.`);
  }
  return { url: `/jobs/${job.id}/result`, bytes: info.size, width: made.width, height: made.height, frames: made.frames, fps: made.fps };
}
