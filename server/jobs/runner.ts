// The video job runner: probe the clip, decode frames through a pipe, send stateless frame windows through the
// Open Inference Protocol (the OIP client runtime pointed at this server, or at a gateway / Triton), and pipe the
// finished frames into the encoder. Each frame is one run of the video task's image task (video-tasks.ts): `upscale`
// (tiled by runTiled) for upscale-video, `restore` (tiles, tone harmonisation, local mean) for restore-video. It is
// the same code path as a single image on target 'server', so video and images give the same pixels. Frames take
// this path rather than the engine process that runs engine jobs: the server's inference pool already runs the models
// on onnxruntime-node with one loaded session shared by parallel frames, costs ≈1.1× a direct call for a MAXIM tile
// (bench/results/restore.md), and keeps windows stateless, so a gateway or Triton (jobs.inferUrl) can serve them.
import { stat } from 'node:fs/promises';
import { FrontierError, type Progress, type RgbaImage } from '../../worker/job.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { createOipRuntime } from '../../worker/runtime/oip.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import type { TaskContext } from '../../worker/tasks/task.ts';
import { encodedSize, FrameDecoder, FrameEncoder, probeClip, type VideoTools } from './ffmpeg.ts';
import type { Job, JobResult, JobSpec } from './job.ts';
import { videoTask } from './video-tasks.ts';
import { frameWindows } from './windows.ts';

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
}

export interface RunFiles {
  input: string;
  output: string;
}

/** Least time between two reports of the tiles inside a frame (a large restored frame takes minutes on a CPU). */
const TILE_PROGRESS_MS = 1000;

/** How messages name the input: a user knows the clip they uploaded, not where the server keeps it. */
const CLIP = 'the uploaded clip';

/** Packed RGB24 → straight RGBA with opaque alpha (what the image tasks take). */
function rgbToRgba(rgb: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    data[j] = rgb[i];
    data[j + 1] = rgb[i + 1];
    data[j + 2] = rgb[i + 2];
    data[j + 3] = 255;
  }
  return { width, height, data };
}

function rgbaToRgb(img: RgbaImage): Uint8Array {
  const out = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, j = 0; j < out.length; i += 4, j += 3) {
    out[j] = img.data[i];
    out[j + 1] = img.data[i + 1];
    out[j + 2] = img.data[i + 2];
  }
  return out;
}

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

/**
 * Runs the video job `spec` on the clip at `files.input` into `files.output`: every frame through the image task of
 * its video task with model `card`; progress (frames done) goes to `job`. Throws on failure or cancel.
 */
export async function runVideoJob(job: Job, spec: JobSpec, card: ModelCard, files: RunFiles, cfg: RunnerConfig): Promise<JobResult> {
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

  // Frames never reach the model locally: a remote runtime needs no model bytes.
  const runtime = createOipRuntime({ baseUrl: cfg.infer.baseUrl, token: cfg.infer.token });
  // Metadata requests take no signal: a server that does not answer must not hold up a cancel or a clean stop.
  const session: Session = await untilAborted(
    runtime.createSession(card, () => Promise.reject(new Error('the OIP runtime does not load model bytes'))),
    signal,
  );
  throwIfCancelled();

  const scale = task.scale(card);
  const outWidth = clip.width * scale;
  const outHeight = clip.height * scale;
  const params = task.frameParams(spec.params, card);
  let done = 0;
  let total = clip.frames;
  let lastTileReport = 0;
  // A frame of several tiles says which tile it is at (done and total stay frames), at most every TILE_PROGRESS_MS.
  const tileProgress = (index: number, p: Omit<Progress, 'jobId'>) => {
    const now = Date.now();
    if (signal.aborted || p.stage !== 'run' || p.total <= 1 || p.done >= p.total || now - lastTileReport < TILE_PROGRESS_MS) return;
    lastTileReport = now;
    job.setProgress('run', done, total, { message: `frame ${index + 1} / ${total}: tile ${p.done + 1} / ${p.total}` });
  };
  // One frame = one run of the image task, exactly as a single image on target 'server' runs it.
  const runFrame = async (rgb: Uint8Array, index: number): Promise<Uint8Array> => {
    const ctx: TaskContext = {
      job: { id: `${job.id}-frame-${index}`, task: task.frame.id, params, image: rgbToRgba(rgb, clip.width, clip.height) },
      params,
      model: card,
      target: 'server',
      session: async () => session,
      part: () => card,
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
    // Per-frame models: no temporal context. A video model would declare its context and get it here.
    for await (const window of frameWindows(decoder.frames(), cfg.windowFrames, 0)) {
      throwIfCancelled();
      const produce = window.frames.slice(window.keepFrom, window.keepTo);
      // Progress per frame as each one finishes (a restored frame can take seconds); the window is encoded in order.
      const made = await mapLimit(
        produce.map((rgb, i) => ({ rgb, index: window.first + i })),
        cfg.parallelFrames,
        async (frame) => {
          const out = await runFrame(frame.rgb, frame.index);
          throwIfCancelled();
          done++;
          total = Math.max(total, done);
          job.setProgress('run', done, total);
          return out;
        },
      );
      throwIfCancelled();
      for (const frame of made) await encoder.write(frame);
    }
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
