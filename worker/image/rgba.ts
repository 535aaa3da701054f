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

/** Bicubic (Catmull-Rom-like, a = -0.5) resize of RGB + alpha: the classical baseline upscalers must beat. */
export function resizeBicubic(src: RgbaImage, width: number, height: number): RgbaImage {
  const dst = createRgba(width, height);
  const kernel = (t: number): number => {
    const a = -0.5;
    const x = Math.abs(t);
    if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
    if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
    return 0;
  };
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = (y + 0.5) * sy - 0.5;
    const iy = Math.floor(fy);
    for (let x = 0; x < width; x++) {
      const fx = (x + 0.5) * sx - 0.5;
      const ix = Math.floor(fx);
      const acc = [0, 0, 0, 0];
      let wsum = 0;
      for (let m = -1; m <= 2; m++) {
        const yy = Math.min(Math.max(iy + m, 0), src.height - 1);
        const wy = kernel(fy - (iy + m));
        for (let n = -1; n <= 2; n++) {
          const xx = Math.min(Math.max(ix + n, 0), src.width - 1);
          const w = wy * kernel(fx - (ix + n));
          const o = (yy * src.width + xx) * 4;
          for (let c = 0; c < 4; c++) acc[c] += w * src.data[o + c];
          wsum += w;
        }
      }
      const o = (y * width + x) * 4;
      for (let c = 0; c < 4; c++) dst.data[o + c] = Math.min(255, Math.max(0, Math.round(acc[c] / wsum)));
    }
  }
  return dst;
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
