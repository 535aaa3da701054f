// harmonizeTones: tiles that each settled on their own tone are evened out by a whole-image run, keeping detail
// and the tiles' overall level.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harmonizeTones } from '../../worker/image/harmonize.ts';
import type { RgbaImage } from '../../worker/job.ts';

function image(width: number, height: number, value: (x: number, y: number, c: number) => number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 4; c++) data[(y * width + x) * 4 + c] = c === 3 ? 255 : value(x, y, c);
  return { width, height, data };
}
const mean = (img: RgbaImage, x0: number, x1: number, c = 0): number => {
  let s = 0;
  let n = 0;
  for (let y = 0; y < img.height; y++) for (let x = x0; x < x1; x++, n++) s += img.data[(y * img.width + x) * 4 + c];
  return s / n;
};

test('a tone step between two tiles is removed; fine detail and the overall level stay', () => {
  // Left tile 20 levels darker than the right one, plus a 1-px checkerboard of ±8 (detail).
  const detail = (x: number, y: number): number => ((x + y) % 2 ? 8 : -8);
  const tiled = image(128, 64, (x, y) => (x < 64 ? 100 : 120) + detail(x, y));
  const whole = image(32, 16, () => 105); // the shrunk whole-image run: one even tone, a bit darker overall
  const out = harmonizeTones(tiled, whole);
  const step = mean(out, 64, 128) - mean(out, 0, 64);
  assert.ok(Math.abs(step) < 4, `left/right step ${step.toFixed(1)} levels (was 20)`);
  assert.ok(Math.abs((mean(out, 0, 128) - mean(tiled, 0, 128))) < 0.5, 'the overall level is the tiles\' own');
  // Detail: neighbouring pixels far from the old step still differ by the checkerboard's 16 levels.
  const at = (x: number, y: number): number => out.data[(y * 128 + x) * 4];
  assert.equal(Math.abs(at(20, 30) - at(21, 30)), 16);
  assert.equal(Math.abs(at(110, 30) - at(111, 30)), 16);
});

test('tiles that already agree with the whole-image run are unchanged, alpha included', () => {
  const tiled = image(64, 64, (x, y, c) => 60 + c * 30 + ((x * 7 + y * 3) % 5));
  tiled.data[3] = 0;
  const whole = image(16, 16, (_x, _y, c) => 60 + c * 30 + 2);
  const out = harmonizeTones(tiled, whole);
  let max = 0;
  for (let i = 0; i < out.data.length; i++) max = Math.max(max, Math.abs(out.data[i] - tiled.data[i]));
  assert.ok(max <= 1, `changed by up to ${max} levels`);
  assert.equal(out.data[3], 0);
});
