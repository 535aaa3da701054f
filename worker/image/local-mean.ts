// Keeping the input's local mean colour: for degradations that do not change it (zero-mean noise), the restored
// image should have the same local averages as its input. MAXIM's denoiser, trained on smartphone noise (SIDD),
// shifts colours on other noise: measured +6 levels of red on a coffee photo and +9 of blue on a dusk sky at
// Gaussian σ 25, +22 at σ 50 (bench/results/restore-quality.md). out = restored + G_σ(input − restored) puts the
// input's averages back (G a Gaussian blur, which also averages the noise away) and leaves the detail to the model.
import type { RgbaImage } from '../job.ts';
import { createRgba } from './rgba.ts';
import { clampByte } from './tensor.ts';

/** Normalised 1-D Gaussian taps over ±3σ. */
export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const taps = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += taps[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/** Index i mirrored into [0, n) without repeating the edge (…2 1 | 0 1 2 … n−1 | n−2…), for any i. */
function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Blurs a w×h plane in place with a separable kernel and mirrored borders; `scratch` is another w×h plane. */
export function blurPlane(plane: Float32Array, scratch: Float32Array, w: number, h: number, taps: Float32Array): void {
  const r = (taps.length - 1) / 2;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += taps[k + r] * plane[row + mirror(x + k, w)];
      scratch[row + x] = acc;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += taps[k + r] * scratch[mirror(y + k, h) * w + x];
      plane[y * w + x] = acc;
    }
  }
}

/** `restored` with the local mean colour (Gaussian σ in pixels) of `input`; alpha from `restored`. */
export function keepLocalMean(restored: RgbaImage, input: RgbaImage, sigma: number): RgbaImage {
  const { width: w, height: h } = restored;
  if (input.width !== w || input.height !== h) throw new Error(`keepLocalMean: input ${input.width}×${input.height} ≠ restored ${w}×${h}`);
  const taps = gaussianKernel(sigma);
  const out = createRgba(w, h);
  const diff = new Float32Array(w * h);
  const scratch = new Float32Array(w * h);
  for (let c = 0; c < 3; c++) {
    // The blur is linear: G(input) − G(restored) = G(input − restored), one plane per channel.
    for (let i = 0; i < w * h; i++) diff[i] = input.data[i * 4 + c] - restored.data[i * 4 + c];
    blurPlane(diff, scratch, w, h, taps);
    for (let i = 0; i < w * h; i++) out.data[i * 4 + c] = clampByte(restored.data[i * 4 + c] + diff[i]);
  }
  for (let i = 0; i < w * h; i++) out.data[i * 4 + 3] = restored.data[i * 4 + 3];
  return out;
}
