// Quality of an inpainted image against the original photo, over the hole's pixels and over the whole image:
// PSNR (RGB, 8-bit), mean absolute error (RGB, in 8-bit levels) and SSIM (Wang et al. 2004 on BT.601 luma,
// 11×11 Gaussian window σ 1.5, K1 0.01, K2 0.03; the hole's SSIM is the mean of the SSIM map over hole pixels).
import type { RgbaImage } from '../../../worker/job.ts';

export interface Scores {
  holePsnr: number;
  holeL1: number;
  holeSsim: number;
  wholePsnr: number;
  wholeSsim: number;
  /** Pixels outside the hole whose RGB differs from the original (a method should leave them alone). */
  changedOutside: number;
}

function luma(img: RgbaImage): Float64Array {
  const out = new Float64Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * img.data[i * 4] + 0.587 * img.data[i * 4 + 1] + 0.114 * img.data[i * 4 + 2];
  return out;
}

const KERNEL = (() => {
  const k = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
})();

/** Separable Gaussian blur, borders clamped. */
function blur(src: Float64Array, w: number, h: number): Float64Array {
  const tmp = new Float64Array(src.length);
  const out = new Float64Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -5; k <= 5; k++) acc += KERNEL[k + 5] * src[y * w + Math.min(w - 1, Math.max(0, x + k))];
      tmp[y * w + x] = acc;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -5; k <= 5; k++) acc += KERNEL[k + 5] * tmp[Math.min(h - 1, Math.max(0, y + k)) * w + x];
      out[y * w + x] = acc;
    }
  }
  return out;
}

export function ssimMap(a: RgbaImage, b: RgbaImage): Float64Array {
  const { width: w, height: h } = a;
  const x = luma(a);
  const y = luma(b);
  const mul = (p: Float64Array, q: Float64Array) => p.map((v, i) => v * q[i]);
  const mx = blur(x, w, h);
  const my = blur(y, w, h);
  const sxx = blur(mul(x, x), w, h);
  const syy = blur(mul(y, y), w, h);
  const sxy = blur(mul(x, y), w, h);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const out = new Float64Array(w * h);
  for (let i = 0; i < out.length; i++) {
    const vx = sxx[i] - mx[i] * mx[i];
    const vy = syy[i] - my[i] * my[i];
    const cxy = sxy[i] - mx[i] * my[i];
    out[i] = ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
  }
  return out;
}

const psnrOf = (se: number, n: number) => (se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n)));

export function score(original: RgbaImage, result: RgbaImage, mask: Uint8Array): Scores {
  if (original.width !== result.width || original.height !== result.height) {
    throw new Error(`result is ${result.width}×${result.height}, the photo ${original.width}×${original.height}`);
  }
  let holeSe = 0;
  let holeAbs = 0;
  let holeN = 0;
  let allSe = 0;
  let changedOutside = 0;
  for (let p = 0; p < mask.length; p++) {
    let se = 0;
    let abs = 0;
    for (let c = 0; c < 3; c++) {
      const d = original.data[p * 4 + c] - result.data[p * 4 + c];
      se += d * d;
      abs += Math.abs(d);
    }
    allSe += se;
    if (mask[p]) {
      holeSe += se;
      holeAbs += abs;
      holeN++;
    } else if (abs > 0) changedOutside++;
  }
  const map = ssimMap(original, result);
  let holeSsim = 0;
  let wholeSsim = 0;
  for (let p = 0; p < map.length; p++) {
    wholeSsim += map[p];
    if (mask[p]) holeSsim += map[p];
  }
  return {
    holePsnr: psnrOf(holeSe, holeN * 3),
    holeL1: holeAbs / (holeN * 3),
    holeSsim: holeSsim / holeN,
    wholePsnr: psnrOf(allSe, mask.length * 3),
    wholeSsim: wholeSsim / map.length,
    changedOutside,
  };
}

/** The mean-colour baseline: each connected hole region gets the mean RGB of the known pixels in a `band`-px ring around it. */
export function meanFill(holed: RgbaImage, mask: Uint8Array, band = 8): RgbaImage {
  const { width: w, height: h } = holed;
  const out = { width: w, height: h, data: holed.data.slice() };
  const label = new Int32Array(w * h).fill(-1);
  let regions = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start] >= 0) continue;
    const pixels: number[] = [start];
    label[start] = regions;
    for (let i = 0; i < pixels.length; i++) { // 4-connected flood fill
      const p = pixels[i];
      const x = p % w;
      const y = (p - x) / w;
      for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]]) {
        const q = ny * w + nx;
        if (nx >= 0 && ny >= 0 && nx < w && ny < h && mask[q] && label[q] < 0) {
          label[q] = regions;
          pixels.push(q);
        }
      }
    }
    let x0 = w, y0 = h, x1 = 0, y1 = 0;
    for (const p of pixels) {
      x0 = Math.min(x0, p % w); x1 = Math.max(x1, p % w);
      y0 = Math.min(y0, Math.floor(p / w)); y1 = Math.max(y1, Math.floor(p / w));
    }
    const sum = [0, 0, 0];
    let n = 0;
    for (let y = Math.max(0, y0 - band); y <= Math.min(h - 1, y1 + band); y++) {
      for (let x = Math.max(0, x0 - band); x <= Math.min(w - 1, x1 + band); x++) {
        const q = y * w + x;
        if (mask[q]) continue;
        for (let c = 0; c < 3; c++) sum[c] += holed.data[q * 4 + c];
        n++;
      }
    }
    for (const p of pixels) for (let c = 0; c < 3; c++) out.data[p * 4 + c] = Math.round(sum[c] / n);
    regions++;
  }
  return out;
}
