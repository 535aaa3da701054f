// Small helpers on straight-alpha RGBA images (worker/job.ts RgbaImage).
import { FrontierError, type RgbaImage } from '../job.ts';

export function createRgba(width: number, height: number): RgbaImage {
  return { width, height, data: new Uint8Array(width * height * 4) };
}

export function checkRgba(img: RgbaImage, what = 'image'): void {
  if (!img || !Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new FrontierError('bad-input', `The ${what} is empty: select something with pixels and try again.`);
  }
  if (!(img.data instanceof Uint8Array) || img.data.length !== img.width * img.height * 4) {
    throw new FrontierError('bad-input', `The ${what} data has ${img.data?.length ?? 0} bytes, expected ${img.width}×${img.height}×4.`);
  }
}

export function crop(img: RgbaImage, x: number, y: number, width: number, height: number): RgbaImage {
  const out = createRgba(width, height);
  for (let row = 0; row < height; row++) {
    const src = ((y + row) * img.width + x) * 4;
    out.data.set(img.data.subarray(src, src + width * 4), row * width * 4);
  }
  return out;
}

/** True when any pixel is not fully opaque (then alpha is carried through separately). */
export function hasTransparency(img: RgbaImage): boolean {
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i] !== 255) return true;
  return false;
}

/**
 * Resizes one channel (stride 4, offset `channel`) of `src` into `dst` with bilinear sampling
 * (pixel centres aligned, as image libraries do). Used to carry alpha through models that only see RGB.
 */
export function resizeChannelBilinear(src: RgbaImage, dst: RgbaImage, channel: number): void {
  const sx = src.width / dst.width;
  const sy = src.height / dst.height;
  for (let y = 0; y < dst.height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), src.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, src.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < dst.width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), src.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, src.width - 1);
      const wx = fx - x0;
      const p = (yy: number, xx: number) => src.data[(yy * src.width + xx) * 4 + channel];
      const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
      const bottom = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
      dst.data[(y * dst.width + x) * 4 + channel] = Math.round(top * (1 - wy) + bottom * wy);
    }
  }
}

/**
 * Bicubic resize (a = -0.5) of RGB + alpha, separable. When shrinking, the kernel is widened by the
 * shrink factor (antialiasing, as PIL and MATLAB's imresize do), which is how super-resolution training
 * pairs are made; when enlarging it is the classical baseline upscalers must beat.
 */
export function resizeBicubic(src: RgbaImage, width: number, height: number): RgbaImage {
  const horizontal = resample1d(src.data, src.width, src.height, width, true);
  const data = resample1d(horizontal, width, src.height, height, false);
  const out = createRgba(width, height);
  for (let i = 0; i < data.length; i++) out.data[i] = Math.min(255, Math.max(0, Math.round(data[i])));
  return out;
}

function cubic(t: number): number {
  const a = -0.5;
  const x = Math.abs(t);
  if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
  if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
  return 0;
}

/** Resamples RGBA rows (horizontal) or columns (vertical) from `from` to `to` samples; float output. */
function resample1d(data: ArrayLike<number>, width: number, height: number, to: number, horizontal: boolean): Float32Array {
  const from = horizontal ? width : height;
  const ratio = from / to;
  const support = ratio > 1 ? ratio : 1; // widen the kernel when shrinking
  const outW = horizontal ? to : width;
  const outH = horizontal ? height : to;
  const out = new Float32Array(outW * outH * 4);
  for (let j = 0; j < to; j++) {
    const centre = (j + 0.5) * ratio - 0.5;
    const lo = Math.floor(centre - 2 * support);
    const hi = Math.ceil(centre + 2 * support);
    const taps: [number, number][] = [];
    let sum = 0;
    for (let k = lo; k <= hi; k++) {
      const w = cubic((k - centre) / support);
      if (w === 0) continue;
      taps.push([Math.min(Math.max(k, 0), from - 1), w]);
      sum += w;
    }
    const lines = horizontal ? height : width;
    for (let line = 0; line < lines; line++) {
      for (let c = 0; c < 4; c++) {
        let acc = 0;
        for (const [k, w] of taps) acc += w * data[(horizontal ? line * width + k : k * width + line) * 4 + c];
        out[(horizontal ? line * outW + j : j * outW + line) * 4 + c] = acc / sum;
      }
    }
  }
  return out;
}

/** PSNR in dB over the RGB channels of two same-size images. */
export function psnr(a: RgbaImage, b: RgbaImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`psnr: sizes differ (${a.width}×${a.height} vs ${b.width}×${b.height})`);
  let se = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = a.data[i + c] - b.data[i + c];
      se += d * d;
    }
  }
  const mse = se / (a.width * a.height * 3);
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/**
 * `img` grown to at least `width`×`height` by mirroring its edges (…cba|abc…|cba…), placed at the top left:
 * models that take fixed-size tiles see natural-looking content instead of a flat border. Crop the result back.
 */
export function padMirror(img: RgbaImage, width: number, height: number): RgbaImage {
  const w = Math.max(width, img.width);
  const h = Math.max(height, img.height);
  if (w === img.width && h === img.height) return img;
  const mirror = (i: number, n: number): number => {
    if (n === 1) return 0;
    const period = 2 * n;
    const k = ((i % period) + period) % period;
    return k < n ? k : period - 1 - k;
  };
  const out = createRgba(w, h);
  for (let y = 0; y < h; y++) {
    const sy = mirror(y, img.height);
    for (let x = 0; x < w; x++) {
      const s = (sy * img.width + mirror(x, img.width)) * 4;
      out.data.set(img.data.subarray(s, s + 4), (y * w + x) * 4);
    }
  }
  return out;
}

/** Packed RGB24 → straight RGBA with opaque alpha (what the image tasks take). */
export function rgbToRgba(rgb: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    data[j] = rgb[i];
    data[j + 1] = rgb[i + 1];
    data[j + 2] = rgb[i + 2];
    data[j + 3] = 255;
  }
  return { width, height, data };
}

/** RGBA → packed RGB24 (alpha dropped), as ffmpeg's rawvideo rgb24 takes it. */
export function rgbaToRgb(img: RgbaImage): Uint8Array {
  const out = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, j = 0; j < out.length; i += 4, j += 3) {
    out[j] = img.data[i];
    out[j + 1] = img.data[i + 1];
    out[j + 2] = img.data[i + 2];
  }
  return out;
}
