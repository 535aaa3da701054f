// RGBA pixels ↔ model tensors, per the model card's layout and value range. RGB only: alpha never enters a model.
import type { ImageIo } from '../models/card.ts';
import type { Tensor } from '../runtime/runtime.ts';
import type { RgbaImage } from '../job.ts';

/** RGB of `img` as a float32 tensor [1,3,H,W] (NCHW) or [1,H,W,3] (NHWC), mapped from 0..255 to io.range (then
 *  normalised when io.normalize is set). */
export function rgbaToTensor(img: RgbaImage, io: ImageIo): Tensor {
  const { width: w, height: h, data } = img;
  const [lo, hi] = io.range;
  const k = (hi - lo) / 255;
  const out = new Float32Array(w * h * 3);
  const plane = w * h;
  // Normalised models (ImageNet mean/std) take (value − mean)/std of the value in range.
  const mean = io.normalize?.mean ?? [0, 0, 0];
  const std = io.normalize?.std ?? [1, 1, 1];
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = (data[i * 4 + c] * k + lo - mean[c]) / std[c];
      if (io.layout === 'NHWC') out[i * 3 + c] = v;
      else out[c * plane + i] = v;
    }
  }
  return { dtype: 'float32', dims: io.layout === 'NHWC' ? [1, h, w, 3] : [1, 3, h, w], data: out };
}

/** Height and width of an image tensor per the layout. */
export function tensorSize(t: Tensor, io: ImageIo): { width: number; height: number } {
  const [, a, b, c] = t.dims;
  return io.layout === 'NHWC' ? { height: a, width: b } : { height: b, width: c };
}

/** Reads channel c at pixel index i of an image tensor as a 0..255 float (not rounded, not clamped). */
export function tensorReader(t: Tensor, io: ImageIo): (i: number, c: number) => number {
  const { width, height } = tensorSize(t, io);
  const plane = width * height;
  const [lo, hi] = io.range;
  const k = 255 / (hi - lo);
  const data = t.data as Float32Array;
  if (t.dtype !== 'float32') throw new Error(`expected a float32 image tensor, got ${t.dtype}`);
  const norm = io.normalize;
  if (norm) {
    const scale = norm.std.map((s) => s * k);
    const offset = norm.mean.map((m) => (m - lo) * k);
    return io.layout === 'NHWC' ? (i, c) => data[i * 3 + c] * scale[c] + offset[c] : (i, c) => data[c * plane + i] * scale[c] + offset[c];
  }
  return io.layout === 'NHWC' ? (i, c) => (data[i * 3 + c] - lo) * k : (i, c) => (data[c * plane + i] - lo) * k;
}

/** Tensor → opaque RGBA, clamped and rounded to 0..255. */
export function tensorToRgba(t: Tensor, io: ImageIo): RgbaImage {
  const { width, height } = tensorSize(t, io);
  const read = tensorReader(t, io);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) data[i * 4 + c] = clampByte(read(i, c));
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

export function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
