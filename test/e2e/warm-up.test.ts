// The engine's warm-up (Engine.warmUp, issue 16: the first job after opening the plugin paid seconds of V8's compile of
// onnxruntime's wasm, once per pool worker) in real Chromium, on a page that is not cross-origin isolated (as Figma's
// iframe): ESRGAN slim ×2 (the converted pretrained weights) on a real photo, on a pool of 2 single-threaded WASM
// workers. A warm-up of a model that is not on this computer downloads nothing and says so; once the model is cached,
// a warm-up starts both workers and runs each once, and the job after it gives the very bytes of a pool that was never
// warmed up; a run asked while the warm-up starts waits for the same session (one pool, no second copy of the model).
// What it saves in time is measured by `npm run bench:first-run` (BENCH_WARMUP=engine), not here.
// The tests run in order: the first leaves the model cached and the reference bytes for the others.
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../../worker/platform-node.ts';
import { openServedPage, type ServedPage } from './served-page.ts';
import { loadPhoto } from '../node/helpers.ts';
import type { Ran, WarmJob, WarmUpTestApi } from './warm-up-entry.ts';

const TIMEOUT = { timeout: 300_000 };

let served: ServedPage;
let page: Page;
let job: WarmJob;
/** The job's bytes on a pool that was never warmed up (set by the first test). */
let reference: Ran | undefined;
/** Requests for model files the server answered. */
let modelFileRequests = 0;

before(async () => {
  served = await openServedPage({
    entry: join(REPO_ROOT, 'test', 'e2e', 'warm-up-entry.ts'),
    file(rel) {
      if (rel === '/models/registry.json') return REGISTRY_PATH;
      if (rel.startsWith('/models/files/')) {
        modelFileRequests++;
        return join(MODEL_FILES_DIR, basename(rel));
      }
      return null;
    },
    ready: 'warmUpTest',
  });
  page = served.page;
  const photo = await loadPhoto('chelsea.png'); // 451×300: 12 tiles, more than the pool's 2 workers (the same plan as one)
  job = { task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2, quality: 'fast' }, image: { width: photo.width, height: photo.height, data: Array.from(photo.data) } };
});

after(async () => {
  await served?.close();
});

function call<K extends keyof WarmUpTestApi>(method: K, ...args: Parameters<WarmUpTestApi[K]>): Promise<Awaited<ReturnType<WarmUpTestApi[K]>>> {
  return page.evaluate(
    ([m, a]) => (globalThis as unknown as { warmUpTest: Record<string, (...x: unknown[]) => Promise<unknown>> }).warmUpTest[m](...a),
    [method, args] as const,
  ) as never;
}

function differing(a: Ran, b: Ran): number {
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let n = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) n++;
  return n;
}

test('a warm-up of a model that is not on this computer downloads nothing and says so', TIMEOUT, async () => {
  const answer = await call('warmUp', 'cold', job);
  assert.deepEqual({ ...answer, ms: 0 }, { model: 'esrgan-slim-x2', target: 'wasm', warmed: false, why: 'not-cached', ms: 0 });
  assert.equal(modelFileRequests, 0, 'no model file was requested');
  assert.deepEqual(await call('stats'), [], 'no session was started');

  // The reference: a pool that was never warmed up (this run downloads the model and keeps it in the cache).
  reference = await call('run', 'cold', job);
  assert.ok(modelFileRequests > 0, 'the run downloaded the model');
  assert.deepEqual([reference.width, reference.height], [902, 600]);
  await call('dispose', 'cold');
});

test('a warm-up on a pool of 2 runs each worker once, and the job after it gives the same bytes', TIMEOUT, async () => {
  assert.ok(reference, 'the first test ran');
  const requested = modelFileRequests;
  const answer = await call('warmUp', 'warm', job);
  assert.equal(answer.warmed, true, JSON.stringify(answer));
  assert.equal(answer.model, 'esrgan-slim-x2');
  assert.equal(answer.target, 'wasm');
  assert.equal(modelFileRequests, requested, 'the model came from this computer\'s cache');
  const [stats, ...others] = await call('stats');
  assert.equal(others.length, 0);
  assert.equal(stats.size, 2);
  assert.equal(stats.started, 2, 'the warm-up started the workers a job would start');
  assert.deepEqual(stats.workers.map((w) => w.runs), [1, 1], 'each worker ran the warm-up once');

  const again = await call('warmUp', 'warm', job);
  assert.equal(again.why, 'already-warm');
  assert.deepEqual((await call('stats'))[0].workers.map((w) => w.runs), [1, 1], 'a second warm-up runs nothing');

  const ran = await call('run', 'warm', job);
  assert.equal(differing(ran, reference), 0, 'after the warm-up, the bytes of a pool never warmed up');
  const [afterJob] = await call('stats');
  assert.equal(afterJob.started, 2, 'the job used the warmed workers, no new ones');
  assert.equal(afterJob.workers.reduce((sum, w) => sum + w.runs, 0), 2 + 12, 'two warm-up runs, then the 12 tiles');
  await call('dispose', 'warm');
});

test('a run asked while the model warms up waits for the same session, and both finish', TIMEOUT, async () => {
  assert.ok(reference, 'the first test ran');
  const { answer, ran } = await call('warmUpWhileRunning', 'both', job);
  assert.equal(answer.warmed, true, JSON.stringify(answer));
  assert.equal(differing(ran, reference), 0, 'the run\'s bytes are those without a warm-up');
  const pools = await call('stats');
  assert.equal(pools.length, 1, 'one session: the run did not load a second copy of the model');
  assert.equal(pools[0].started, 2, 'two workers, not more');
  assert.equal(pools[0].workers.reduce((sum, w) => sum + w.runs, 0), 2 + 12, 'both warm-up runs and the 12 tiles ran');
  assert.equal(pools[0].waiting, 0);
  await call('dispose', 'both');
});
