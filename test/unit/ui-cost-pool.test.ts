// The time hint's prior on this computer with the WASM worker pool (ui/cost-prior.ts tileFor / poolWorkers,
// ui/cost.ts waitPixels): as many lanes as the pool's own rule gives the model here (worker/runtime/pool-size.ts:
// cores up to MAX_WORKERS, a memory budget), the tiles the engine's planner cuts for them (a small image into several),
// and the time of the waves of tiles, not of all tiles one after another. Nowhere else: not with WASM threads (a
// cross-origin isolated page), one core, or on the server. The shipped registry's cards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolWorkers, priorEstimate, priorRate, tileFor } from '../../ui/cost-prior.ts';
import { waitPixels, workPixels } from '../../ui/cost.ts';
import { planTiles } from '../../worker/image/tiling.ts';
import type { Registry } from '../../worker/models/card.ts';
import { planPool } from '../../worker/runtime/pool-size.ts';

const shipped = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'models', 'registry.json'), 'utf8')) as Registry).models;
const cardOf = (id: string) => shipped.find((c) => c.id === id)!;
const laptop = { threads: 1, machine: { cores: 8, memoryGiB: 8 } }; // Figma's iframe: one WASM thread per worker
const dualCore = { threads: 1, machine: { cores: 2 } };
const icon = { width: 64, height: 64 };
const photo = { width: 512, height: 512 };

test('the lanes are the pool\'s own size for the model here, and only where the pool runs it', () => {
  const thick = cardOf('esrgan-thick-x4');
  const caps = (c: typeof laptop) => ({ webgpu: { available: false, detail: '' }, wasm: { available: true, threads: c.threads, crossOriginIsolated: false, detail: '' }, machine: c.machine });
  const expected = planPool(thick, caps(laptop));
  assert.ok(expected.ok);
  assert.equal(poolWorkers(thick, laptop), expected.workers, 'the pool\'s rule, not a copy');
  assert.equal(tileFor(thick, 'wasm', icon, shipped, laptop)?.lanes, expected.workers);
  assert.equal(tileFor(thick, 'wasm', icon, shipped, dualCore)?.lanes, 2);
  assert.equal(tileFor(cardOf('esrgan-slim-x4'), 'wasm', icon, shipped, { threads: 1, machine: { cores: 16, memoryGiB: 8 } })?.lanes, 8, 'at most MAX_WORKERS');
  // No pool: WASM threads in one worker, one core, the server, onnxruntime-node.
  assert.equal(tileFor(thick, 'wasm', icon, shipped, { threads: 4, machine: { cores: 8, memoryGiB: 8 } })?.lanes, undefined);
  assert.equal(tileFor(thick, 'wasm', icon, shipped, { threads: 1, machine: { cores: 1 } })?.lanes, undefined);
  assert.equal(tileFor(thick, 'server', icon, shipped, laptop)?.lanes, undefined);
  assert.equal(tileFor(thick, 'node', icon, shipped, laptop)?.lanes, undefined);
});

test('a small image on the pool: the planner\'s tiles, all at once, so the hint is one tile\'s time', () => {
  const thick = cardOf('esrgan-thick-x4');
  const one = tileFor(thick, 'wasm', icon, shipped, { threads: 1, machine: { cores: 1 } })!;
  const pooled = tileFor(thick, 'wasm', icon, shipped, laptop)!;
  const plan = planTiles(64, 64, pooled.size, pooled.overlap, true, pooled.lanes);
  assert.equal(plan.tiles.length, 4, '64² thick on 7 workers: 2 × 2 tiles of 40 px (the floor)');
  assert.equal(workPixels(64, 64, pooled), 4 * 40 * 40, 'all the tiles\' pixels are computed');
  assert.equal(waitPixels(64, 64, pooled), 40 * 40, 'but the run waits for one of them');
  const rate = priorRate('esrgan-thick-x4', 'wasm')!;
  const alone = priorEstimate('esrgan-thick-x4', 'wasm', [icon], { tile: one, threads: 1 })!.ms;
  const onPool = priorEstimate('esrgan-thick-x4', 'wasm', [icon], { tile: pooled, threads: 1 })!.ms;
  assert.equal(alone, 64 * 64 * rate);
  assert.equal(onPool, 40 * 40 * rate);
  // On two cores: 1 × 2 tiles of 64 × 40.
  assert.equal(priorEstimate('esrgan-thick-x4', 'wasm', [icon], { tile: tileFor(thick, 'wasm', icon, shipped, dualCore), threads: 1 })!.ms, 64 * 40 * rate);
});

test('a large image on the pool: its tiles in waves of the workers', () => {
  const slim = cardOf('esrgan-slim-x4');
  const pooled = tileFor(slim, 'wasm', photo, shipped, laptop)!;
  assert.equal(pooled.lanes, 8);
  const plan = planTiles(512, 512, pooled.size, pooled.overlap, true, 8);
  assert.equal(plan.tiles.length, 25, 'already 25 tiles: not cut further');
  const side = plan.tiles[0].width;
  assert.equal(waitPixels(512, 512, pooled), Math.ceil(25 / 8) * side * side, '4 waves of 8');
  // MAXIM (fixed size) is never cut, but its tiles run in waves too (the restore task runs them on the pool).
  const derain = cardOf('maxim-derain');
  const maxim = tileFor(derain, 'wasm', photo, shipped, laptop)!;
  assert.ok(maxim.lanes! >= 2 && maxim.lanes! < 8, `MAXIM: fewer workers (memory): ${maxim.lanes}`);
  const tiles = planTiles(512, 512, maxim.size, maxim.overlap, false, maxim.lanes).tiles;
  assert.deepEqual(tiles, planTiles(512, 512, maxim.size, maxim.overlap, false).tiles);
  assert.equal(waitPixels(512, 512, maxim), Math.ceil(tiles.length / maxim.lanes!) * maxim.size * maxim.size);
  const one = priorEstimate('maxim-derain', 'wasm', [photo], { tile: tileFor(derain, 'wasm', photo, shipped, { threads: 1, machine: { cores: 1 } }) })!.ms;
  const many = priorEstimate('maxim-derain', 'wasm', [photo], { tile: maxim })!.ms;
  assert.ok(Math.abs(many / one - Math.ceil(tiles.length / maxim.lanes!) / tiles.length) < 1e-9, `${many} / ${one}`);
});
