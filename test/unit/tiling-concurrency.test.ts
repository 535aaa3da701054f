// runTiled with several tiles in flight (worker/image/tiling.ts, `concurrency`): the result is the bytes of one tile
// after another whatever the order tiles finish in; no more than `concurrency` run at once; progress counts finished
// tiles once each; on an error no further tile starts and the ones in flight are waited for. The "model" here finishes
// tiles in an order the test chooses (it holds each call until the test releases it): no timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTiled, type TileOutput } from '../../worker/image/tiling.ts';
import { createRgba } from '../../worker/image/rgba.ts';
import type { RgbaImage } from '../../worker/job.ts';

function photoLike(width: number, height: number): RgbaImage {
  const img = createRgba(width, height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) img.data.set([(x * 7 + y * 3) % 256, (y * 5 + ((x * x) % 11)) % 256, (x + 2 * y) % 256, 255], (y * width + x) * 4);
  return img;
}

/** A ×2 "model" whose tiles disagree in fractions of a level, so the float sums of the blend depend on their order. */
function output(tile: RgbaImage, index: number): TileOutput {
  return {
    width: tile.width * 2,
    height: tile.height * 2,
    read: (i, c) => {
      const x = Math.floor((i % (tile.width * 2)) / 2);
      const y = Math.floor(Math.floor(i / (tile.width * 2)) / 2);
      return tile.data[(y * tile.width + x) * 4 + c] * 0.9137 + index * 1.37 + c * 0.113;
    },
  };
}

interface Held {
  index: number;
  release(): void;
  fail(err: Error): void;
}

/** A model whose calls wait until released; `inFlight` and `most` count the calls started and not yet released. */
function heldModel() {
  const held: Held[] = [];
  const started: number[] = [];
  const state = { inFlight: 0, most: 0 };
  const infer = (tile: RgbaImage, index: number) =>
    new Promise<TileOutput>((resolve, reject) => {
      started.push(index);
      state.most = Math.max(state.most, ++state.inFlight);
      held.push({
        index,
        release: () => (state.inFlight--, resolve(output(tile, index))),
        fail: (err) => (state.inFlight--, reject(err)),
      });
    });
  return { held, started, state, infer };
}

/** Lets runTiled react to what was released: its loop runs on promise callbacks only, all run before the next turn. */
const settle = () => new Promise((r) => setImmediate(r));

test('several tiles in flight, finishing in any order, give the bytes of one tile after another', async () => {
  const img = photoLike(150, 97); // 40-px tiles, overlap 8: 5 × 3 = 15 tiles
  const opts = { tile: 40, overlap: 8, scale: 2 };
  const sequential = await runTiled(img, { ...opts, infer: async (tile, index) => output(tile, index) });

  for (const concurrency of [2, 3, 5]) {
    for (const order of ['newest first', 'oldest last']) {
      const model = heldModel();
      let done = false;
      const result = runTiled(img, { ...opts, concurrency, infer: model.infer }).finally(() => (done = true));
      for (await settle(); !done; await settle()) {
        // Release the newest call first, or the oldest only when it is the last one held.
        const pick = order === 'newest first' || model.held.length === 1 ? model.held.length - 1 : 1;
        model.held.splice(pick, 1)[0].release();
      }
      const out = await result;
      assert.ok(model.state.most <= concurrency, `at most ${concurrency} calls at once (saw ${model.state.most})`);
      assert.equal(model.state.most, concurrency, 'as many calls as allowed were in flight');
      assert.deepEqual(model.started, [...Array(15).keys()], 'tiles start in order, each once');
      assert.ok(Buffer.from(out.data).equals(Buffer.from(sequential.data)), `concurrency ${concurrency}, ${order}: not the sequential bytes`);
    }
  }
});

test('tiles start at most 2 × concurrency ahead of the first one not yet blended (memory stays a few tiles)', async () => {
  const img = photoLike(150, 97);
  const model = heldModel();
  let done = false;
  const result = runTiled(img, { tile: 40, overlap: 8, scale: 2, concurrency: 2, infer: model.infer }).finally(() => (done = true));
  // Tile 0 stays held while every later call is released as soon as it starts.
  await settle();
  const first = model.held.shift()!;
  while (model.held.length) {
    model.held.shift()!.release();
    await settle();
  }
  assert.deepEqual(model.started, [0, 1, 2, 3], 'with tile 0 unfinished, tiles up to 3 started and no further');
  first.release();
  for (await settle(); !done; await settle()) model.held.shift()!.release();
  assert.equal((await result).width, 300);
});

test('progress counts finished tiles: 0 before the first, then each count once, in order, up to total − 1', async () => {
  const img = photoLike(150, 97);
  const model = heldModel();
  const counts: [number, number][] = [];
  let done = false;
  const result = runTiled(img, { tile: 40, overlap: 8, scale: 2, concurrency: 3, infer: model.infer, progress: (f, t) => counts.push([f, t]) }).finally(() => (done = true));
  for (await settle(); !done; await settle()) model.held.pop()!.release(); // the newest first: tiles finish out of order
  await result;
  assert.deepEqual(counts, [...Array(15).keys()].map((k) => [k, 15]));
});

test('an error stops further tiles; the tiles in flight are waited for before it is thrown', async () => {
  const img = photoLike(150, 97);
  const model = heldModel();
  let outcome: string | undefined;
  const result = runTiled(img, { tile: 40, overlap: 8, scale: 2, concurrency: 3, infer: model.infer }).then(
    () => (outcome = 'resolved'),
    (err: Error) => (outcome = err.message),
  );
  await settle();
  assert.deepEqual(model.started, [0, 1, 2]);
  model.held.splice(1, 1)[0].fail(new Error('cancelled at tile 1'));
  await settle();
  assert.equal(outcome, undefined, 'not thrown while tiles 0 and 2 still run');
  assert.deepEqual(model.started, [0, 1, 2], 'no tile starts after the error');
  model.held.shift()!.release();
  model.held.shift()!.release();
  await result;
  assert.equal(outcome, 'cancelled at tile 1');
  assert.deepEqual(model.started, [0, 1, 2]);
});
