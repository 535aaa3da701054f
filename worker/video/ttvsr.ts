// TTVSR ×4 video super-resolution driven as the recurrence of its five exported parts (flow, features, align,
// refine, reconstruct); the contract and the pass order are models/export/ttvsr.py's docstring, whose drive() is the
// Python twin of runWindow() here. Runtime-agnostic: every model call goes through `runPart`, so the same code drives
// onnxruntime-node sessions on our server or an Open Inference Protocol server (Triton) later. No DOM, no host APIs.
//
// Long clips run in stateless windows with overlap (worker/video/windows.ts): each window runs the full
// bidirectional recurrence on its frames from empty state and keeps only its middle frames, so memory is bounded by
// the window and any window can be retried or served elsewhere. The recurrence then sees `context` frames of the
// past and future instead of the whole clip: outputs differ from one pass over the clip by an amount the tests
// measure (test/export/ttvsr-windows.test.ts).
import type { ModelCard, Registry } from '../models/card.ts';
import { TTVSR_PARTS, type TtvsrPart } from './ttvsr-card.ts';
import type { Tensor } from '../runtime/runtime.ts';
import { frameWindows } from './windows.ts';

export { isTtvsrEntry, ttvsrName, TTVSR_PARTS, type TtvsrPart } from './ttvsr-card.ts';

/** Runs one part; `outputs` names the outputs the driver reads (a runner may compute only those). */
export type RunPart = (
  part: TtvsrPart,
  feeds: Record<string, Tensor>,
  signal?: AbortSignal,
  outputs?: readonly string[],
) => Promise<Record<string, Tensor>>;

/** One frame, planar RGB [3, height, width] in [0, 1]. Outputs are not clamped (the official result is clamped
 *  only when written: toRgb24 does that). */
export interface VideoFrame {
  width: number;
  height: number;
  data: Float32Array;
}

export const SCALE = 4;
/** 4×4 pixels per token: frame sides must be multiples of it. */
export const TOKEN = 4;
/** The official forward asserts both sides are at least 64. */
export const MIN_SIZE = 64;
export const KEYFRAME_STRIDE = 3;
/** Product defaults: of the pairs measured in test/export/ttvsr-windows.test.ts, (8, 4) came closest to one pass
 *  over the clip; a window then holds 16 frames (at most 6 keyframes) and costs ≈1.5× one pass's refine calls. */
export const DEFAULT_WINDOW = 8;
export const DEFAULT_CONTEXT = 4;

const TOKEN_NAMES = ['tokens_s1', 'tokens_s2', 'tokens_s3', 'tokens_index'] as const;

export interface WindowOptions {
  /** Frames each window produces. */
  window?: number;
  /** Extra frames on either side that the recurrence sees but whose outputs are dropped. */
  context?: number;
  keyframeStride?: number;
  /** The clip's frame count, when known (progress totals). */
  total?: number;
}

export interface Progress {
  done: number;
  total?: number;
}

function aborted(signal: AbortSignal | undefined): Error {
  const err = new Error('The video upscale was cancelled.', { cause: signal?.reason });
  err.name = 'AbortError';
  return err;
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw aborted(signal);
}

const f32 = (dims: number[], data?: Float32Array): Tensor => ({
  dtype: 'float32', dims, data: data ?? new Float32Array(dims.reduce((a, b) => a * b, 1)),
});

/** Concatenation along axis 1 of tensors [N, K_i, ...rest]. */
export function cat1(parts: Tensor[]): Tensor {
  const [n, , ...rest] = parts[0].dims;
  const inner = rest.reduce((a, b) => a * b, 1);
  const k = parts.reduce((s, p) => s + p.dims[1], 0);
  const data = new Float32Array(n * k * inner);
  let offset = 0;
  for (let b = 0; b < n; b++) {
    for (const p of parts) {
      const block = p.dims[1] * inner;
      data.set((p.data as Float32Array).subarray(b * block, (b + 1) * block), offset);
      offset += block;
    }
  }
  return f32([n, k, ...rest], data);
}

/** One keyframe's trajectory map [N,1,2,h,w]: (x, y) = (column, row) of each token. */
export function tokenGrid(n: number, h: number, w: number): Tensor {
  const data = new Float32Array(n * 2 * h * w);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        data[(b * 2 * h + y) * w + x] = x;
        data[((b * 2 + 1) * h + y) * w + x] = y;
      }
    }
  }
  return f32([n, 1, 2, h, w], data);
}

/** Keyframes of a pass over t frames, relative to the window: backward {t−1, t−1−stride, …} above 0, forward
 *  {0, stride, …}. */
export function keyframes(t: number, backward: boolean, stride = KEYFRAME_STRIDE): Set<number> {
  const keys = new Set<number>();
  if (backward) for (let i = t - 1; i > 0; i -= stride) keys.add(i);
  else for (let i = 0; i < t; i += stride) keys.add(i);
  return keys;
}

/**
 * The recurrence over one window of frames [N,3,H,W] (H, W multiples of 4, at least 64): backward pass, then forward
 * pass with reconstruction, each from empty state. Yields the images [N,3,4H,4W] of frames[keepFrom, keepTo) in
 * order, as the forward pass makes them. Steps that cannot reach a kept frame are skipped (the backward pass stops at
 * keepFrom, the forward pass at keepTo): the kept images are the same as a full run's.
 *
 * `onHeld` (a meter, for tests and budgets): after every part call and every keyframe token append, the bytes of
 * every tensor the driver holds at that moment (the window's frames, features, backward features, keyframe token
 * buffers, trajectory maps, the propagated and aligned features, and the call's inputs and outputs), each buffer
 * once. windowHeldBytes() computes its largest value from the sizes alone.
 */
export async function* runWindow(
  frames: Tensor[],
  runPart: RunPart,
  options: { keepFrom?: number; keepTo?: number; keyframeStride?: number; signal?: AbortSignal; onHeld?: (bytes: number) => void } = {},
): AsyncGenerator<{ index: number; image: Tensor }> {
  const t = frames.length;
  const { keepFrom = 0, keepTo = t, keyframeStride = KEYFRAME_STRIDE, signal, onHeld } = options;
  if (!(t > 0 && 0 <= keepFrom && keepFrom < keepTo && keepTo <= t)) {
    throw new Error(`runWindow: keep [${keepFrom}, ${keepTo}) of ${t} frames`);
  }
  const [n, , h, w] = frames[0].dims;

  // The driver's state. Features of every frame (the forward pass releases each once used); the backward pass's
  // output for each kept frame; within a pass, the propagated feature, the trajectory maps and the keyframe tokens
  // [N,K,F,h,w], concatenated once per keyframe rather than at every align call.
  const features: (Tensor | undefined)[] = [];
  const backward = new Map<number, Tensor>();
  const grid = tokenGrid(n, h / TOKEN, w / TOKEN);
  let propagated: Tensor | undefined;
  let location: Tensor | undefined;
  let aligned: Tensor | undefined;
  let tokens: Partial<Record<string, Tensor>> = {};
  const held = onHeld
    ? (also: (Tensor | undefined)[]) => {
        const seen = new Set<unknown>();
        let bytes = 0;
        const add = (x: Tensor | undefined) => {
          if (!x || seen.has(x.data)) return;
          seen.add(x.data);
          bytes += (x.data as Float32Array).byteLength;
        };
        for (const list of [frames, features, backward.values(), Object.values(tokens), [grid, propagated, location, aligned], also]) for (const x of list) add(x);
        onHeld(bytes);
      }
    : undefined;

  const call = async (part: TtvsrPart, feeds: Record<string, Tensor>, outputs?: readonly string[]) => {
    checkSignal(signal);
    const out = await runPart(part, feeds, signal, outputs);
    held?.([...Object.values(feeds), ...(outputs ? outputs.map((name) => out[name]) : Object.values(out))]);
    return out;
  };
  const one = async (part: TtvsrPart, feeds: Record<string, Tensor>, name: string) => {
    const out = (await call(part, feeds, [name]))[name];
    if (!out) throw new Error(`TTVSR ${part} returned no ${name}`);
    return out;
  };

  for (const frame of frames) features.push(await one('features', { frame }, 'feature'));

  for (const isBackward of [true, false]) {
    const keys = keyframes(t, isBackward, keyframeStride);
    const [start, stop, delta] = isBackward ? [t - 1, keepFrom - 1, -1] : [0, keepTo, 1];
    propagated = undefined;
    location = undefined;
    tokens = {};
    for (let i = start; i !== stop; i += delta) {
      const feature = features[i]!;
      aligned = undefined;
      if (i === start) {
        aligned = f32(feature.dims);
        location = grid;
      } else {
        const flow = await one('flow', { reference: frames[i], supporting: frames[i - delta] }, 'flow');
        const feeds: Record<string, Tensor> = { feature, propagated: propagated!, flow, location: location! };
        for (const name of TOKEN_NAMES) feeds[name] = tokens[name]!;
        const out = await call('align', feeds, ['aligned', 'location_out']);
        aligned = out.aligned;
        location = keys.has(i) ? cat1([out.location_out, grid]) : out.location_out;
      }
      // Tokens are kept only at keyframes: elsewhere ask only for the propagated feature.
      const isKey = keys.has(i);
      const out = await call('refine', { feature, aligned }, isKey ? ['propagated', ...TOKEN_NAMES] : ['propagated']);
      propagated = out.propagated;
      if (isKey) {
        for (const name of TOKEN_NAMES) {
          const tok = out[name];
          const slot = f32([tok.dims[0], 1, ...tok.dims.slice(1)], tok.data as Float32Array);
          const next = tokens[name] ? cat1([tokens[name], slot]) : slot;
          held?.([next, out.propagated, ...TOKEN_NAMES.map((k) => out[k])]);
          tokens[name] = next;
        }
      }
      if (isBackward) {
        if (i < keepTo) backward.set(i, propagated);
      } else {
        features[i] = undefined;
        if (i >= keepFrom) {
          const image = await one('reconstruct', { frame: frames[i], backward: backward.get(i)!, feature, forward: propagated }, 'image');
          backward.delete(i);
          yield { index: i, image };
        }
      }
    }
  }
}

/** Padded size: sides rounded up to multiples of TOKEN, at least MIN_SIZE. */
export function paddedSize(width: number, height: number): { width: number; height: number } {
  const up = (v: number) => Math.max(MIN_SIZE, Math.ceil(v / TOKEN) * TOKEN);
  return { width: up(width), height: up(height) };
}

/** A frame as a tensor [1,3,H',W'], edge-replicated on the right and bottom up to paddedSize. */
export function padFrame(frame: VideoFrame): Tensor {
  const { width: w, height: h, data } = frame;
  if (data.length !== 3 * w * h) throw new Error(`a ${w}×${h} frame needs ${3 * w * h} values, got ${data.length}`);
  const p = paddedSize(w, h);
  if (p.width === w && p.height === h) return f32([1, 3, h, w], data);
  const out = new Float32Array(3 * p.width * p.height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < p.height; y++) {
      const src = (c * h + Math.min(y, h - 1)) * w;
      const dst = (c * p.height + y) * p.width;
      out.set(data.subarray(src, src + w), dst);
      out.fill(data[src + w - 1], dst + w, dst + p.width);
    }
  }
  return f32([1, 3, p.height, p.width], out);
}

/** The top-left SCALE·width × SCALE·height of an output image [1,3,H,W]: what the unpadded frame upscales to. */
export function cropImage(image: Tensor, width: number, height: number): VideoFrame {
  const [, c, ih, iw] = image.dims;
  const ow = SCALE * width;
  const oh = SCALE * height;
  if (c !== 3 || ih < oh || iw < ow) throw new Error(`TTVSR output ${image.dims.join('×')} is smaller than ${ow}×${oh}`);
  const src = image.data as Float32Array;
  if (iw === ow && ih === oh) return { width: ow, height: oh, data: src };
  const out = new Float32Array(3 * ow * oh);
  for (let ch = 0; ch < 3; ch++) {
    for (let y = 0; y < oh; y++) out.set(src.subarray((ch * ih + y) * iw, (ch * ih + y) * iw + ow), (ch * oh + y) * ow);
  }
  return { width: ow, height: oh, data: out };
}

/**
 * Upscales a clip of any length ×4 in windows of `window` frames, each with `context` frames either side
 * (frameWindows), holding at most window + 2·context input frames plus their features. Yields the output frames
 * in clip order. Cancel: `signal` is checked before every part call (and rejects with an AbortError). Progress:
 * frames done / total (options.total when the caller knows the clip's length).
 */
export async function* upscaleClipInWindows(
  frames: AsyncIterable<VideoFrame>,
  options: WindowOptions,
  runPart: RunPart,
  signal?: AbortSignal,
  onProgress?: (progress: Progress) => void,
): AsyncGenerator<VideoFrame> {
  const { window = DEFAULT_WINDOW, context = DEFAULT_CONTEXT, keyframeStride = KEYFRAME_STRIDE, total } = options;
  if (!(Number.isInteger(keyframeStride) && keyframeStride >= 1)) throw new Error(`keyframe stride must be a whole number ≥ 1 (got ${keyframeStride})`);
  let size: { width: number; height: number } | undefined;
  let read = 0;
  let done = 0;
  // Each frame is padded once as it arrives; windows share the padded tensors.
  async function* padded(): AsyncGenerator<Tensor> {
    for await (const frame of frames) {
      checkSignal(signal);
      size ??= { width: frame.width, height: frame.height };
      if (frame.width !== size.width || frame.height !== size.height) {
        throw new Error(`frame ${read} is ${frame.width}×${frame.height}; the clip's first frame is ${size.width}×${size.height}`);
      }
      read++;
      yield padFrame(frame);
    }
  }
  for await (const win of frameWindows(padded(), window, context)) {
    checkSignal(signal);
    for await (const { image } of runWindow(win.frames, runPart, { keepFrom: win.keepFrom, keepTo: win.keepTo, keyframeStride, signal })) {
      const out = cropImage(image, size!.width, size!.height);
      done++;
      onProgress?.({ done, total: total === undefined ? undefined : Math.max(total, done) });
      yield out;
    }
  }
}

/**
 * One stateless window of a clip, as a server process runs it: packed RGB24 frames in (the window's context frames
 * included), the ×4 RGB24 frames of frames[keepFrom, keepTo) out, in order, as the forward pass makes them. Each
 * window pads, runs and crops on its own: the same frames as upscaleClipInWindows gives for the same windows.
 */
export async function* upscaleWindowRgb24(
  frames: Uint8Array[],
  size: { width: number; height: number },
  keep: { keepFrom: number; keepTo: number },
  runPart: RunPart,
  options: { keyframeStride?: number; signal?: AbortSignal } = {},
): AsyncGenerator<{ index: number; rgb: Uint8Array }> {
  const tensors = frames.map((rgb) => padFrame(fromRgb24(rgb, size.width, size.height)));
  for await (const { index, image } of runWindow(tensors, runPart, { ...keep, ...options })) {
    yield { index, rgb: toRgb24(cropImage(image, size.width, size.height)) };
  }
}

/** The five part cards of the pipeline whose reconstruct part is `entry`, or which parts `registry` lacks. */
export function ttvsrParts(entry: ModelCard, registry: Registry): { parts: Record<TtvsrPart, ModelCard> } | { missing: string[] } {
  const parts: Partial<Record<TtvsrPart, ModelCard>> = {};
  const missing: string[] = [];
  for (const part of TTVSR_PARTS) {
    const id = entry.pipeline?.[part];
    const card = id ? registry.models.find((m) => m.id === id) : undefined;
    if (card) parts[part] = card;
    else missing.push(id ?? part);
  }
  return missing.length ? { missing } : { parts: parts as Record<TtvsrPart, ModelCard> };
}

/** Interleaved 8-bit RGB (ffmpeg's rgb24) → VideoFrame. */
export function fromRgb24(rgb: Uint8Array, width: number, height: number): VideoFrame {
  const plane = width * height;
  if (rgb.length !== 3 * plane) throw new Error(`a ${width}×${height} rgb24 frame has ${3 * plane} bytes, got ${rgb.length}`);
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    data[i] = rgb[3 * i] / 255;
    data[plane + i] = rgb[3 * i + 1] / 255;
    data[2 * plane + i] = rgb[3 * i + 2] / 255;
  }
  return { width, height, data };
}

/** VideoFrame → interleaved 8-bit RGB, clamped to [0, 1] and rounded (as the official result is written). */
export function toRgb24(frame: VideoFrame): Uint8Array {
  const plane = frame.width * frame.height;
  const out = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(Math.min(1, Math.max(0, frame.data[c * plane + i])) * 255);
  }
  return out;
}
