// padMirror: how the restore task grows an image smaller than a model's fixed tile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { padMirror } from '../../worker/image/rgba.ts';
import type { RgbaImage } from '../../worker/job.ts';

/** A width×height image whose red channel is the column and green the row, alpha 200. */
function ramp(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7, 200], (y * width + x) * 4);
  return { width, height, data };
}

const at = (img: RgbaImage, x: number, y: number): number[] => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

test('padMirror reflects columns and rows (…cba|abc|cba…), keeps the original at the top left, alpha included', () => {
  const img = ramp(3, 2);
  const out = padMirror(img, 8, 5);
  assert.deepEqual([out.width, out.height], [8, 5]);
  const cols = Array.from({ length: 8 }, (_, x) => at(out, x, 0)[0]);
  assert.deepEqual(cols, [0, 1, 2, 2, 1, 0, 0, 1]);
  const rows = Array.from({ length: 5 }, (_, y) => at(out, 0, y)[1]);
  assert.deepEqual(rows, [0, 1, 1, 0, 0]);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) assert.deepEqual(at(out, x, y), at(img, x, y));
  assert.deepEqual(at(out, 7, 4), [1, 0, 7, 200]);
});

test('padMirror returns the image itself when it is already large enough, and handles a 1-pixel edge', () => {
  const img = ramp(4, 4);
  assert.equal(padMirror(img, 4, 2), img);
  const line = padMirror(ramp(1, 3), 3, 3);
  assert.deepEqual(Array.from({ length: 3 }, (_, x) => at(line, x, 2)), [[0, 2, 7, 200], [0, 2, 7, 200], [0, 2, 7, 200]]);
});
