// keepLocalMean: a restorer's colour drift is taken out (the input's local averages come back) while the restorer's
// detail stays; the Gaussian is normalised and the mirrored borders hold on images smaller than the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianKernel, keepLocalMean } from '../../worker/image/local-mean.ts';
import type { RgbaImage } from '../../worker/job.ts';
import { Rng } from '../../worker/random.ts';

function image(width: number, height: number, value: (x: number, y: number, c: number) => number, alpha = 255): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 4; c++) data[(y * width + x) * 4 + c] = c === 3 ? alpha : value(x, y, c);
  return { width, height, data };
}
const channelMean = (img: RgbaImage, c: number): number => {
  let s = 0;
  for (let i = c; i < img.data.length; i += 4) s += img.data[i];
  return s / (img.width * img.height);
};

test('the Gaussian taps sum to one and are symmetric', () => {
  for (const sigma of [0.5, 1, 4, 7.3]) {
    const taps = gaussianKernel(sigma);
    assert.ok(Math.abs(taps.reduce((a, b) => a + b, 0) - 1) < 1e-6, `σ ${sigma}: sum`);
    for (let i = 0; i < taps.length; i++) assert.equal(taps[i], taps[taps.length - 1 - i]);
    assert.equal(taps.length, 2 * Math.ceil(3 * sigma) + 1);
  }
});

test('a restorer\'s colour drift is removed and its detail kept', () => {
  // Clean: a smooth red-to-blue gradient. Input: clean + noise (σ 20 levels). Restored: clean + a warm shift of
  // +12 red / −6 blue + a 1-px checkerboard of ±6 the restorer "added" (detail the blur must not touch).
  const w = 96;
  const h = 64;
  const clean = (x: number, _y: number, c: number): number => (c === 0 ? 60 + x : c === 1 ? 100 : 190 - x);
  const rng = new Rng(7);
  const input = image(w, h, (x, y, c) => Math.max(0, Math.min(255, Math.round(clean(x, y, c) + 20 * rng.normal()))));
  const checker = (x: number, y: number): number => ((x + y) % 2 ? 6 : -6);
  const restored = image(w, h, (x, y, c) => clean(x, y, c) + [12, 0, -6][c] + checker(x, y), 200);
  const out = keepLocalMean(restored, input, 4);
  for (let c = 0; c < 3; c++) {
    const drift = channelMean(out, c) - channelMean(image(w, h, clean), c);
    assert.ok(Math.abs(drift) < 1, `channel ${c}: ${drift.toFixed(2)} levels off the clean mean (restored was ${[12, 0, -6][c]})`);
  }
  // The checkerboard survives: neighbours in the middle still differ by about its 12 levels.
  let step = 0;
  let n = 0;
  for (let y = 16; y < 48; y++) for (let x = 16; x < 80; x++, n++) step += Math.abs(out.data[(y * w + x) * 4 + 1] - out.data[(y * w + x + 1) * 4 + 1]);
  assert.ok(Math.abs(step / n - 12) < 2, `neighbour difference ${(step / n).toFixed(1)} levels, the restorer's detail is 12`);
  for (let i = 3; i < out.data.length; i += 4) assert.equal(out.data[i], 200, 'alpha is the restored image\'s');
});

test('images smaller than the kernel are mirrored, not read out of bounds', () => {
  for (const [w, h] of [[1, 1], [2, 3], [5, 1]]) {
    const input = image(w, h, (x, y) => 40 + 10 * x + 5 * y);
    const restored = image(w, h, (x, y) => 60 + 10 * x + 5 * y); // a flat +20 shift
    const out = keepLocalMean(restored, input, 4);
    for (let i = 0; i < w * h; i++) {
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(out.data[i * 4 + c] - input.data[i * 4 + c]) <= 1, `${w}×${h}: pixel ${i} channel ${c}`);
    }
  }
});

test('sizes that differ are refused', () => {
  assert.throws(() => keepLocalMean(image(4, 4, () => 0), image(4, 5, () => 0), 2), /4×5 ≠ restored 4×4/);
});
