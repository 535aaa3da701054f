// Engine.warmUp's rules without a browser: the engine decides from the model it resolves and the place it would run
// on whether to warm anything up, and when it does, it goes through the run's session cache. A counting platform
// (the real registry and task table; a runtime that counts sessions and runs) shows what each answer touched:
// 'not-cached' and 'remote' load nothing, 'no-warm-up' (a task without warm-up inputs) neither, and a warm-up followed
// by a run uses one session. The real runtimes are exercised in test/e2e/warm-up.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Engine, type EnginePlatform } from '../../worker/engine.ts';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import type { Target } from '../../worker/job.ts';
import type { Session, Tensor } from '../../worker/runtime/runtime.ts';
import { REGISTRY_PATH } from '../../worker/platform-node.ts';

const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as Registry;

function countingPlatform(cached: (card: ModelCard) => number) {
  const counts = { sessions: 0, runs: [] as number[][] };
  const session: Session = {
    inputNames: ['input'],
    outputNames: ['output'],
    async run(feeds: Record<string, Tensor>) {
      counts.runs.push(Object.values(feeds)[0].dims);
      // ESRGAN's cards are NHWC: ×2 of the input, zeros.
      const [n, h, w, c] = Object.values(feeds)[0].dims;
      return { output: { dtype: 'float32', dims: [n, h * 2, w * 2, c], data: new Float32Array(n * c * h * w * 4) } };
    },
    async dispose() {},
  };
  const platform = {
    loadRegistry: async () => registry,
    cachedBytes: async (card: ModelCard) => cached(card),
    chooseTarget: async (_card: ModelCard, requested: Target) => ({ target: requested === 'server' ? 'server' : 'wasm', reason: 'test' }),
    runtime: () => ({
      name: 'counting',
      async createSession() {
        counts.sessions++;
        return session;
      },
    }),
    source: {},
  } as unknown as EnginePlatform;
  return { platform, counts };
}

const upscale = { task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2, quality: 'fast' } };
const allBytes = (card: ModelCard) => card.files.reduce((s, f) => s + f.bytes, 0);

test('a warm-up loads nothing for a model not (wholly) cached, a job for the server, or a task without warm-up inputs', async () => {
  const { platform, counts } = countingPlatform((card) => allBytes(card) - 1);
  const engine = new Engine(platform);
  const answer = await engine.warmUp({ ...upscale, target: 'wasm' });
  assert.deepEqual({ ...answer, ms: 0 }, { model: 'esrgan-slim-x2', target: 'wasm', warmed: false, why: 'not-cached', ms: 0 });
  assert.equal((await engine.warmUp({ ...upscale, target: 'server' })).why, 'remote');
  // Restore (its default model) gives no warm-up inputs.
  assert.equal((await engine.warmUp({ task: 'restore', params: {}, target: 'wasm' })).why, 'no-warm-up');
  assert.deepEqual(counts, { sessions: 0, runs: [] }, 'no session was made, nothing ran');
});

test('a cached model warms up once on a 32² grey image, through the session a run then uses', async () => {
  const { platform, counts } = countingPlatform(allBytes);
  const engine = new Engine(platform);
  const answer = await engine.warmUp({ ...upscale, target: 'auto' });
  assert.equal(answer.warmed, true, JSON.stringify(answer));
  assert.deepEqual(counts.runs, [[1, 32, 32, 3]], 'one run of a 32×32 image (NHWC)');
  assert.equal((await engine.warmUp({ ...upscale, target: 'wasm' })).why, 'already-warm');
  const image = { width: 40, height: 40, data: new Uint8Array(40 * 40 * 4).fill(200) };
  await engine.run({ id: 'j1', ...upscale, image, target: 'wasm' });
  assert.equal(counts.sessions, 1, 'the run used the warmed session');
  assert.equal(counts.runs.length, 2, 'the warm-up, then the job\'s one tile');
});
