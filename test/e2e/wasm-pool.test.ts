// The WASM worker pool (worker/runtime/ort-web-pool.ts) in real Chromium, on a page that is not cross-origin isolated
// (as Figma's iframe is not): ESRGAN slim ×2 (the converted pretrained weights) on a real photo gives the very bytes of
// single-worker WASM, while two workers shared its tiles (12 tiles either way: the same plan); a job cancelled mid-run
// leaves no worker computing and the pool runs again afterwards, still byte for byte. An image that fits one tile is
// cut into one tile per worker on the pool (worker/image/tiling.ts laneGrid): both workers compute, and the result
// agrees with one worker's uncut result within the seam tolerance of ESRGAN's tiles. Speed is measured by
// `npm run bench:pool` and `npm run bench:peer`, not here.
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../../worker/platform-node.ts';
import { openServedPage, type ServedPage } from './served-page.ts';
import { loadPhoto } from '../node/helpers.ts';
import { crop, psnr } from '../../worker/image/rgba.ts';
import type { PoolJob, PoolTestApi, Ran } from './wasm-pool-entry.ts';

const TIMEOUT = { timeout: 300_000 };

let served: ServedPage;
let page: Page;
let job: PoolJob;
let single: Ran;
/** A 96×96 crop of the same photo: one 128-px tile for one worker. */
let smallJob: PoolJob;

before(async () => {
  served = await openServedPage({
    entry: join(REPO_ROOT, 'test', 'e2e', 'wasm-pool-entry.ts'),
    file(rel) {
      if (rel === '/models/registry.json') return REGISTRY_PATH;
      if (rel.startsWith('/models/files/')) return join(MODEL_FILES_DIR, basename(rel));
      return null;
    },
    ready: 'poolTest',
  });
  page = served.page;
  const photo = await loadPhoto('chelsea.png'); // 451×300: 4 × 3 tiles of 128 px
  job = { task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2, quality: 'fast' }, image: { width: photo.width, height: photo.height, data: Array.from(photo.data) } };
  single = await call('run', job, 1);
  const small = crop(photo, 200, 60, 96, 96);
  smallJob = { ...job, image: { width: small.width, height: small.height, data: Array.from(small.data) } };
});

after(async () => {
  await served?.close();
});

/** Calls the page's worker API (test/e2e/wasm-pool-entry.ts). */
function call<K extends keyof PoolTestApi>(method: K, ...args: Parameters<PoolTestApi[K]>): Promise<Awaited<ReturnType<PoolTestApi[K]>>> {
  return page.evaluate(
    ([m, a]) => (globalThis as unknown as { poolTest: Record<string, (...x: unknown[]) => Promise<unknown>> }).poolTest[m](...a),
    [method, args] as const,
  ) as never;
}

/** The pool's stats once `n` of its workers are loaded and idle (a state the pool reaches after a job; polled). */
async function waitForIdleWorkers(n: number) {
  for (;;) {
    const [stats] = await call('stats');
    if (stats.workers.filter((w) => w.state === 'idle').length >= n) return stats;
    if (stats.live < n && stats.workers.every((w) => w.state !== 'loading')) assert.fail(`the pool has ${stats.live} worker(s), not ${n}: ${JSON.stringify(stats)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Bytes that differ between two results of the same size. */
function differing(a: Ran, b: Ran): number {
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let n = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) n++;
  return n;
}

test('two workers share the tiles and give single-worker WASM\'s bytes, byte for byte', TIMEOUT, async () => {
  assert.equal(single.runtime, 'ort-web/wasm', 'the reference ran in one worker');
  assert.equal(single.target, 'wasm');
  assert.deepEqual([single.width, single.height], [902, 600]);

  const pooled = await call('run', job, 2);
  assert.equal(pooled.runtime, 'ort-web/wasm-pool');
  assert.equal(pooled.target, 'wasm', 'results record the place, the processor, as before');
  assert.equal(differing(pooled, single), 0, 'the pool\'s output is the single worker\'s, byte for byte');

  const [stats] = await call('stats');
  assert.equal(stats.model, 'esrgan-slim-x2');
  const worked = stats.workers.filter((w) => w.runs > 0);
  assert.ok(worked.length >= 2, `tiles ran on ${worked.length} worker(s): ${JSON.stringify(stats.workers)}`);
  assert.equal(stats.workers.reduce((sum, w) => sum + w.runs, 0), 12, 'each of the 12 tiles ran once');

  // Progress counts finished tiles: from 0 up to 11 of 12, each once, in order; the last line says it is done.
  const counts = pooled.progress.map(([done]) => done);
  assert.deepEqual(counts, [...Array(13).keys()], pooled.progress.map((p) => p[2]).join(' | '));
  assert.deepEqual(pooled.progress[0], [0, 12, 'Upscaling tile 1 / 12']);
  assert.deepEqual(pooled.progress[11], [11, 12, 'Upscaling tile 12 / 12']);
  assert.deepEqual(pooled.progress[12], [12, 12, 'Upscaled 12 tiles']);
  // The same plan on both: 12 tiles ≥ 2 workers, so the pool cuts no further (planTiles with lanes 2 = with lanes 1).
  assert.deepEqual(single.progress, pooled.progress, 'the same progress lines (the same tiles) on one worker');
});

test('a cancelled job leaves no worker computing, and the pool runs again afterwards with the same bytes', TIMEOUT, async () => {
  await call('run', job, 2); // both workers loaded
  const cancelled = await call('cancelAfterFirstTile', job, 2);
  assert.equal(cancelled.code, 'cancelled', cancelled.message);
  assert.match(cancelled.message, /nothing was placed/);
  const [after] = cancelled.stats;
  assert.equal(after.busy, 0, `no worker computes once the job has ended: ${JSON.stringify(after)}`);
  assert.equal(after.waiting, 0, 'no run waits for a worker');
  assert.ok(after.workers.every((w) => w.state !== 'busy'));

  const again = await call('run', job, 2);
  assert.equal(again.runtime, 'ort-web/wasm-pool');
  assert.equal(differing(again, single), 0, 'after a cancel, still the single worker\'s bytes');
});

test('an image that fits one tile is cut into one tile per worker: both compute, and it agrees with the uncut result', TIMEOUT, async () => {
  const uncut = await call('run', smallJob, 1);
  assert.deepEqual(uncut.progress.at(-1), [1, 1, 'Upscaled 1 tile'], 'one worker runs it whole');

  await call('run', job, 2);
  // Both workers loaded and idle (the second starts while the first computes): then the small job's two tiles go to
  // both at once, whatever the timing.
  const before = await waitForIdleWorkers(2);
  const pooled = await call('run', smallJob, 2);
  const [after] = await call('stats');
  const ranNow = after.workers.map((w, i) => w.runs - (before.workers[i]?.runs ?? 0));
  assert.deepEqual(pooled.progress.at(-1), [2, 2, 'Upscaled 2 tiles'], 'the pool cut it in two (1 × 2 tiles of 96 × 56 px)');
  assert.equal(ranNow.filter((n) => n > 0).length, 2, `both workers computed a tile: ${ranNow.join(', ')}`);
  assert.equal(ranNow.reduce((a, b) => a + b, 0), 2);

  // Within the seam tolerance of ESRGAN's tiles against one whole call (test/node/engine.test.ts: > 40 dB), but cut:
  // not the same bytes (the blending of two tiles).
  const image = (r: Ran) => ({ width: r.width, height: r.height, data: Uint8Array.from(r.data) });
  assert.deepEqual([pooled.width, pooled.height], [192, 192]);
  const db = psnr(image(uncut), image(pooled));
  console.log(`96² on 2 workers (2 tiles) vs one worker uncut: PSNR ${db.toFixed(1)} dB, ${differing(pooled, uncut)} bytes differ`);
  assert.ok(db > 40, `the cut result is ${db.toFixed(1)} dB from the uncut one`);
  assert.ok(differing(pooled, uncut) > 0, 'two tiles blended are not one whole call, byte for byte');

  // The same tiles give the same bytes: the pool again, same plan.
  const again = await call('run', smallJob, 2);
  assert.equal(differing(again, pooled), 0);
});
