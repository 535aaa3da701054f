// The planner's cut for lanes (worker/image/tiling.ts laneGrid / planTiles `lanes`): a pool of n workers gets at least
// n tiles of an any-size model's small image where the floor allows, in the grid that computes the fewest pixels,
// with the overlap kept; a fixed-size model and one lane keep today's plan exactly; a pointwise model stays seamless.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { laneGrid, minCutSide, planSpans, planTiles, runTiled, type Span, type TilePlan } from '../../worker/image/tiling.ts';
import { createRgba } from '../../worker/image/rgba.ts';

const OVERLAP = 16; // ESRGAN's
const pixels = (plan: TilePlan) => plan.tiles.reduce((n, t) => n + t.width * t.height, 0);
const sides = (spans: Span[]) => spans.map((s) => s.end - s.start);

/** Every grid of at most `lanes` tiles whose cut sides respect the floor, by brute force (the planner's candidates). */
function candidates(width: number, height: number, tile: number, lanes: number): { cols: number; rows: number; plan: TilePlan }[] {
  const fewest = planTiles(width, height, tile, OVERLAP, true);
  const out = [];
  for (let cols = fewest.xs.length; cols <= lanes; cols++)
    for (let rows = fewest.ys.length; cols * rows <= lanes; rows++) {
      const xs = planSpans(width, tile, OVERLAP, true, cols);
      const ys = planSpans(height, tile, OVERLAP, true, rows);
      const floor = minCutSide(OVERLAP);
      if ((cols > fewest.xs.length && xs[0].end - xs[0].start < floor) || (rows > fewest.ys.length && ys[0].end - ys[0].start < floor)) continue;
      out.push({ cols, rows, plan: { xs, ys, tiles: ys.flatMap((y, row) => xs.map((x, col) => ({ x: x.start, y: y.start, width: x.end - x.start, height: y.end - y.start, row, col }))) } });
    }
  return out;
}

test('lanes 1 is today\'s plan exactly, for any-size and fixed-size models', () => {
  for (const [w, h, tile] of [[64, 64, 96], [128, 128, 96], [451, 300, 128], [97, 33, 96], [1000, 700, 128]] as const) {
    for (const anySize of [false, true]) {
      const today = planTiles(w, h, tile, OVERLAP, anySize);
      assert.deepEqual(planTiles(w, h, tile, OVERLAP, anySize, 1), today);
      assert.deepEqual(today.xs, planSpans(w, tile, OVERLAP, anySize), 'planSpans without a count is the fewest spans');
    }
  }
});

test('a fixed-size model (MAXIM) is never cut for lanes', () => {
  for (const lanes of [2, 4, 8]) {
    for (const [w, h] of [[64, 64], [128, 128], [200, 150]] as const) {
      assert.deepEqual(planTiles(w, h, 128, 32, false, lanes), planTiles(w, h, 128, 32, false), `${w}×${h}, ${lanes} lanes`);
    }
  }
});

test('a small image is cut into at least as many tiles as lanes where the floor allows, else as many as it allows', () => {
  // thick ×4 (96-px tiles) and slim (128): the cases one tile used to cover.
  const expected: [number, number, number, number, number][] = [
    // width, height, tile, lanes → tiles
    [64, 64, 96, 2, 2],
    [64, 64, 96, 4, 4],
    [64, 64, 96, 8, 4], // 40-px tiles: the floor stops a 64-px side at two spans
    [96, 96, 96, 2, 2],
    [96, 96, 96, 4, 4],
    [128, 128, 128, 2, 2],
    [128, 128, 128, 4, 4],
    [128, 128, 128, 8, 8],
    [128, 128, 96, 8, 8], // already 2 × 2: cut further, to 2 × 4
    [40, 40, 128, 8, 1], // below the floor: not cut
  ];
  for (const [w, h, tile, lanes, tiles] of expected) {
    const plan = planTiles(w, h, tile, OVERLAP, true, lanes);
    assert.equal(plan.tiles.length, tiles, `${w}×${h} in ${tile}-px tiles on ${lanes} lanes: ${plan.tiles.length} tiles`);
    // Where some grid of exactly `lanes` tiles respects the floor, the plan has at least `lanes` tiles.
    if (candidates(w, h, tile, lanes).some((c) => c.cols * c.rows === lanes)) assert.ok(plan.tiles.length >= lanes);
  }
});

test('the chosen grid has the smallest tile of every grid within the lanes and the floor, and the fewest pixels for its count', () => {
  for (const [w, h] of [[64, 64], [96, 96], [128, 128], [128, 64], [64, 128], [200, 90], [30, 128], [150, 150]] as const) {
    for (const tile of [96, 128]) {
      for (const lanes of [2, 3, 4, 5, 6, 7, 8]) {
        const plan = planTiles(w, h, tile, OVERLAP, true, lanes);
        const tilePx = plan.tiles[0].width * plan.tiles[0].height;
        const all = candidates(w, h, tile, lanes);
        const where = `${w}×${h}, tile ${tile}, ${lanes} lanes`;
        assert.ok(plan.tiles.length <= Math.max(lanes, planTiles(w, h, tile, OVERLAP, true).tiles.length), `${where}: one wave`);
        for (const c of all) {
          const other = c.plan.tiles[0].width * c.plan.tiles[0].height;
          assert.ok(tilePx <= other, `${where}: ${c.cols}×${c.rows} has a smaller tile (${other} < ${tilePx} px)`);
          if (c.plan.tiles.length === plan.tiles.length) assert.ok(pixels(plan) <= pixels(c.plan), `${where}: ${c.cols}×${c.rows} computes fewer pixels`);
        }
        const grid = laneGrid(w, h, tile, OVERLAP, true, lanes);
        assert.deepEqual([grid.cols, grid.rows], [plan.xs.length, plan.ys.length]);
      }
    }
  }
  // A square in 4 tiles is 2 × 2 (72² each for 128²: 20 736 px), not 1 × 4 strips (128 × 44: 22 528 px).
  const square = planTiles(128, 128, 128, OVERLAP, true, 4);
  assert.deepEqual([square.xs.length, square.ys.length], [2, 2]);
  // A wide strip is cut across its length.
  const wide = planTiles(128, 40, 128, OVERLAP, true, 2);
  assert.deepEqual([wide.xs.length, wide.ys.length], [2, 1]);
});

test('cut tiles keep the overlap, cover the image, stay within the tile, none below the floor, and the pixels grow < 1.8×', () => {
  for (const [w, h] of [[64, 64], [96, 96], [128, 128], [77, 120], [250, 90]] as const) {
    for (const tile of [96, 128]) {
      for (const lanes of [2, 4, 6, 8]) {
        const plan = planTiles(w, h, tile, OVERLAP, true, lanes);
        const fewest = planTiles(w, h, tile, OVERLAP, true);
        const where = `${w}×${h}, tile ${tile}, ${lanes} lanes`;
        for (const [spans, length, before] of [[plan.xs, w, fewest.xs], [plan.ys, h, fewest.ys]] as const) {
          assert.equal(spans[0].start, 0);
          assert.equal(spans.at(-1)!.end, length, `${where}: covers to the end`);
          for (let i = 1; i < spans.length; i++) assert.ok(spans[i - 1].end - spans[i].start >= OVERLAP, `${where}: overlap ${spans[i - 1].end - spans[i].start}`);
          for (const side of sides(spans)) assert.ok(side <= tile, `${where}: ${side} px > the tile`);
          if (spans.length > before.length) for (const side of sides(spans)) assert.ok(side >= minCutSide(OVERLAP), `${where}: ${side} px below the floor`);
        }
        assert.ok(pixels(plan) < 1.8 * w * h, `${where}: ${(pixels(plan) / (w * h)).toFixed(2)}× the image's pixels`);
      }
    }
  }
});

test('a pointwise model cut for 8 lanes still gives exactly the uncut result, and the tiles run at once', { timeout: 60_000 }, async () => {
  const img = createRgba(64, 64);
  for (let i = 0; i < 64 * 64; i++) img.data.set([(i * 7) % 256, (i * 13) % 256, (i >> 4) % 256, 255], i * 4);
  let inFlight = 0;
  let most = 0;
  const calls: number[] = [];
  const release: (() => void)[] = [];
  const run = runTiled(img, {
    tile: 96,
    overlap: OVERLAP,
    anySize: true,
    lanes: 8,
    concurrency: 8,
    scale: 2,
    infer: async (tile, index, total) => {
      calls.push(total);
      most = Math.max(most, ++inFlight);
      // Held until every tile of the plan has started: proves they were all in flight at once.
      await new Promise<void>((resolve) => {
        release.push(resolve);
        if (release.length === total) release.forEach((r) => r());
      });
      inFlight--;
      return { width: tile.width * 2, height: tile.height * 2, read: (i, c) => 255 - tile.data[(Math.floor(Math.floor(i / (tile.width * 2)) / 2) * tile.width + Math.floor((i % (tile.width * 2)) / 2)) * 4 + c] };
    },
  });
  const out = await run;
  assert.equal(calls.length, 4, '64² in 96-px tiles on 8 lanes: 2 × 2 tiles of 40 px');
  assert.equal(most, 4);
  for (let y = 0; y < 128; y++)
    for (let x = 0; x < 128; x++)
      for (let c = 0; c < 3; c++) assert.equal(out.data[(y * 128 + x) * 4 + c], 255 - img.data[((y >> 1) * 64 + (x >> 1)) * 4 + c]);
});
