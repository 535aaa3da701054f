import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planSpans, spanWeights, planTiles, runTiled, takesAnySize } from '../../worker/image/tiling.ts';
import { createRgba } from '../../worker/image/rgba.ts';
import type { RgbaImage } from '../../worker/job.ts';

test('spans cover the axis, stay within the tile size and overlap by at least the overlap', () => {
  for (const length of [1, 63, 64, 65, 113, 200, 1000]) {
    const spans = planSpans(length, 64, 16);
    assert.equal(spans[0].start, 0);
    assert.equal(spans[spans.length - 1].end, length);
    for (const s of spans) assert.ok(s.end - s.start <= 64 && s.end - s.start > 0);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i - 1].end - spans[i].start >= 16, `overlap at ${length}`);
  }
});

test('blending weights sum to exactly 1 at every output position, even where three tiles overlap', () => {
  for (const length of [64, 113, 200, 517]) {
    const spans = planSpans(length, 64, 16);
    const weights = spanWeights(spans, 2, 32);
    const sum = new Float64Array(length * 2);
    spans.forEach((s, i) => weights[i].forEach((w, k) => (sum[s.start * 2 + k] += w)));
    for (const v of sum) assert.ok(Math.abs(v - 1) < 1e-5, `sum ${v} at length ${length}`);
  }
});

function gradient(width: number, height: number): RgbaImage {
  const img = createRgba(width, height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      img.data.set([(x * 7) % 256, (y * 5) % 256, (x + y) % 256, 255], o);
    }
  return img;
}

test('a pointwise model tiled gives exactly the untiled result (no seams)', async () => {
  const img = gradient(150, 97);
  // "Model": nearest-neighbour ×2 with a per-pixel transform; identical in every tile, so tiling must be invisible.
  const out = await runTiled(img, {
    tile: 40,
    overlap: 8,
    scale: 2,
    infer: async (tile) => ({
      width: tile.width * 2,
      height: tile.height * 2,
      read: (i, c) => {
        const x = Math.floor((i % (tile.width * 2)) / 2);
        const y = Math.floor(Math.floor(i / (tile.width * 2)) / 2);
        return 255 - tile.data[(y * tile.width + x) * 4 + c];
      },
    }),
  });
  assert.equal(out.width, 300);
  assert.equal(out.height, 194);
  for (let y = 0; y < out.height; y++)
    for (let x = 0; x < out.width; x++)
      for (let c = 0; c < 3; c++) {
        const expected = 255 - img.data[(Math.floor(y / 2) * img.width + Math.floor(x / 2)) * 4 + c];
        assert.equal(out.data[(y * out.width + x) * 4 + c], expected, `pixel ${x},${y} channel ${c}`);
      }
});

test('tiles that disagree are cross-faded: no hard step at tile borders', async () => {
  const img = gradient(100, 20);
  // Each tile (4 of them) returns a constant equal to 60 × its index: a worst case for seams.
  const out = await runTiled(img, {
    tile: 40,
    overlap: 16,
    scale: 1,
    infer: async (tile, index) => ({ width: tile.width, height: tile.height, read: () => 60 * index }),
  });
  let maxStep = 0;
  for (let x = 1; x < out.width; x++) maxStep = Math.max(maxStep, Math.abs(out.data[x * 4] - out.data[(x - 1) * 4]));
  // A hard seam would jump by 60 at once; a 16 px cross-fade moves about 60/16 per pixel.
  assert.ok(maxStep <= 6, `largest step between neighbours ${maxStep}`);
  assert.equal(out.data[0], 0);
  assert.equal(out.data[(out.width - 1) * 4], 180);
});

test('alpha is carried through, resized separately from RGB', async () => {
  const img = gradient(20, 10);
  for (let i = 0; i < 20 * 10; i++) img.data[i * 4 + 3] = i % 20 < 10 ? 0 : 255; // left half transparent
  const out = await runTiled(img, {
    tile: 64,
    overlap: 8,
    scale: 2,
    infer: async (tile) => ({ width: tile.width * 2, height: tile.height * 2, read: () => 50 }),
  });
  assert.equal(out.data[3], 0, 'left stays transparent');
  assert.equal(out.data[(out.width - 1) * 4 + 3], 255, 'right stays opaque');
});

test('planTiles visits rows in order and rejects a tile not larger than the overlap', () => {
  const plan = planTiles(100, 70, 40, 8);
  assert.deepEqual(
    plan.tiles.map((t) => t.row),
    [...plan.tiles.map((t) => t.row)].sort((a, b) => a - b),
  );
  assert.throws(() => planTiles(100, 100, 8, 8), /larger than overlap/);
});

test('a model returning the wrong size fails loudly', async () => {
  await assert.rejects(
    runTiled(gradient(10, 10), { tile: 16, overlap: 4, scale: 2, infer: async (t) => ({ width: t.width, height: t.height, read: () => 0 }) }),
    /expected ×2/,
  );
});

test('a model that takes any size gets tiles only as large as covering needs: same count, overlap kept, fewer pixels', () => {
  for (const [length, tile, overlap] of [[128, 96, 16], [512, 128, 16], [500, 128, 16], [97, 96, 16], [1000, 96, 16], [300, 64, 8]] as const) {
    const fixed = planSpans(length, tile, overlap);
    const fitted = planSpans(length, tile, overlap, true);
    assert.equal(fitted.length, fixed.length, `${length}: as many tiles`);
    assert.equal(fitted[0].start, 0);
    assert.equal(fitted.at(-1)!.end, length, `${length}: covers to the end`);
    for (const s of fitted) assert.ok(s.end - s.start <= tile && s.end - s.start === fitted[0].end - fitted[0].start, `${length}: one size, at most the tile`);
    for (let i = 1; i < fitted.length; i++) assert.ok(fitted[i - 1].end - fitted[i].start >= overlap, `${length}: overlap ${fitted[i - 1].end - fitted[i].start} ≥ ${overlap}`);
    const pixels = (spans: { start: number; end: number }[]) => spans.reduce((n, s) => n + s.end - s.start, 0);
    assert.ok(pixels(fitted) <= pixels(fixed), `${length}: no more work`);
  }
  // The case bench:peer found: a 128-px side in 96-px tiles is two of 72 px (144 px of work), not two of 96 (192).
  assert.deepEqual(planSpans(128, 96, 16, true), [{ start: 0, end: 72 }, { start: 56, end: 128 }]);
  assert.deepEqual(planSpans(128, 96, 16), [{ start: 0, end: 96 }, { start: 32, end: 128 }]);
});

test('takesAnySize: symbolic height and width (ESRGAN) yes, a fixed graph (MAXIM) no', () => {
  assert.equal(takesAnySize({ inputs: [{ shape: [1, 'height', 'width', 3] }] }), true);
  assert.equal(takesAnySize({ inputs: [{ shape: [1, 128, 128, 3] }] }), false);
});
