// Short real clips for the restore-video tests and the flicker bench: a real photo (test/fixtures/images) seen
// through a window that pans a few pixels per frame, optionally degraded per frame (seeded Gaussian noise that differs
// from frame to frame, or a uniform haze), encoded with the real ffmpeg; and frames decoded back from any clip.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import type { RgbaImage } from '../../worker/job.ts';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import { mulberry32 } from '../../worker/random.ts';

const run = promisify(execFile);

export interface PhotoClipOptions {
  /** A file in test/fixtures/images. */
  photo: string;
  width: number;
  height: number;
  frames: number;
  fps: number;
  /** Pixels the window moves right per frame (and down by half as much). */
  panPx: number;
  /** Where the window starts in the photo. */
  x0?: number;
  y0?: number;
  /** Per-frame Gaussian noise of this standard deviation, in levels (0–255); each frame gets its own. */
  noiseSigma?: number;
  /** A uniform haze: out = clean × t + airlight × (1 − t). */
  haze?: { t: number; airlight: number };
  seed?: number;
}

export interface PhotoClip {
  /** The clean frames (packed RGB24) before any degradation or encoding. */
  clean: Uint8Array[];
  /** The frames as written to the encoder (degraded). */
  degraded: Uint8Array[];
  /** Where each frame's window lies in the photo: frame t+1 moved by offsets[t+1] − offsets[t]. */
  offsets: { x: number; y: number }[];
}

function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

export async function loadPhoto(name: string): Promise<RgbaImage> {
  return nodeCodec.decode(new Uint8Array(await readFile(join(REPO_ROOT, 'test', 'fixtures', 'images', name))));
}

function window(photo: RgbaImage, x: number, y: number, width: number, height: number): Uint8Array {
  if (x + width > photo.width || y + height > photo.height) throw new Error(`the pan leaves the photo (${photo.width}×${photo.height}) at frame offset ${x},${y}`);
  const out = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const i = ((y + r) * photo.width + x + c) * 4;
      const o = (r * width + c) * 3;
      out[o] = photo.data[i];
      out[o + 1] = photo.data[i + 1];
      out[o + 2] = photo.data[i + 2];
    }
  }
  return out;
}

/** Makes the clip's frames and writes them to `path` as H.264 (crf 12, yuv420p): returns the frames it made. */
export async function makePhotoClip(path: string, o: PhotoClipOptions): Promise<PhotoClip> {
  const photo = await loadPhoto(o.photo);
  const noise = gaussian(mulberry32(o.seed ?? 1));
  const clean: Uint8Array[] = [];
  const degraded: Uint8Array[] = [];
  const offsets: { x: number; y: number }[] = [];
  for (let t = 0; t < o.frames; t++) {
    const at = { x: (o.x0 ?? 0) + t * o.panPx, y: (o.y0 ?? 0) + Math.floor((t * o.panPx) / 2) };
    offsets.push(at);
    const frame = window(photo, at.x, at.y, o.width, o.height);
    clean.push(frame);
    const out = new Uint8Array(frame.length);
    for (let i = 0; i < frame.length; i++) {
      let v = frame[i];
      if (o.haze) v = v * o.haze.t + o.haze.airlight * (1 - o.haze.t);
      if (o.noiseSigma) v += o.noiseSigma * noise();
      out[i] = Math.max(0, Math.min(255, Math.round(v)));
    }
    degraded.push(out);
  }
  await encodeFrames(path, degraded, o.width, o.height, o.fps, 12);
  return { clean, degraded, offsets };
}

/** Writes packed RGB24 frames to `path` as H.264 (yuv420p) at constant quality `crf` (the server encodes at 18). */
export async function encodeFrames(path: string, frames: Uint8Array[], width: number, height: number, fps: number, crf: number): Promise<void> {
  const args = ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0', '-c:v', 'libx264', '-crf', String(crf), '-pix_fmt', 'yuv420p', path];
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = once(ffmpeg, 'close');
  for (const frame of frames) if (!ffmpeg.stdin.write(frame)) await once(ffmpeg.stdin, 'drain');
  ffmpeg.stdin.end();
  const [code] = (await exit) as [number | null];
  if (code !== 0) throw new Error(`ffmpeg could not encode the frames (${code}): ${stderr}`);
}

/** Every frame of the clip at `path`, decoded to packed RGB24. */
export async function decodeFrames(path: string, width: number, height: number): Promise<Uint8Array[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 30 });
  const size = width * height * 3;
  if (stdout.length % size !== 0) throw new Error(`${path} decoded to ${stdout.length} bytes, not whole ${width}×${height} frames`);
  return Array.from({ length: stdout.length / size }, (_, i) => new Uint8Array(stdout.subarray(i * size, (i + 1) * size)));
}

/** Mean absolute difference of two frames of the same layout, in levels. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`frames differ in size: ${a.length} and ${b.length} bytes`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/**
 * Mean |next − prev| over the part of the picture both frames show, `next` (packed RGB24, `width`×`height`) being
 * `prev` with the camera moved by (dx, dy) ≥ 0 pixels: the frame-to-frame change that motion does not explain. Zero
 * for two windows of the same still photo.
 */
export function motionCompensatedDiff(prev: Uint8Array, next: Uint8Array, width: number, height: number, dx: number, dy: number): number {
  if (dx < 0 || dy < 0 || dx >= width || dy >= height) throw new Error(`a move of ${dx},${dy} leaves nothing in common`);
  let sum = 0;
  for (let r = 0; r < height - dy; r++) {
    for (let c = 0; c < width - dx; c++) {
      const a = (r * width + c) * 3;
      const b = ((r + dy) * width + c + dx) * 3;
      sum += Math.abs(next[a] - prev[b]) + Math.abs(next[a + 1] - prev[b + 1]) + Math.abs(next[a + 2] - prev[b + 2]);
    }
  }
  return sum / ((height - dy) * (width - dx) * 3);
}


// The frame conversions the server's runner uses, so the tests convert frames the same way.
export { rgbaToRgb as rgbOf, rgbToRgba } from '../../worker/image/rgba.ts';
