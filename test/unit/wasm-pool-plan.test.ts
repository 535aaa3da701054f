// How the WASM pool (worker/runtime/ort-web-pool.ts) sizes itself for a model card and a machine, and why it declines:
// the page already gets several WASM threads, one core, one worker asked for, or a model too large to copy to each
// core within the memory budget. The pool itself runs in Chromium: test/e2e/wasm-pool.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { REGISTRY_PATH } from '../../worker/platform-node.ts';
import { wasmEntry } from '../../worker/runtime/ort-web.ts';
import { DEFAULT_BUDGET_BYTES, MAX_WORKERS, modelBytes, planPool, poolBudget, wasmPoolEntry, workerBytes } from '../../worker/runtime/ort-web-pool.ts';
import type { MachineCaps, MachineInfo } from '../../worker/runtime/registry.ts';

const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as Registry;
const card = (id: string) => registry.models.find((m) => m.id === id)!;
const slim = card('esrgan-slim-x4');
const maxim = card('maxim-denoise');

const caps = (machine?: MachineInfo, threads = 1): MachineCaps => ({
  webgpu: { available: false, detail: 'no WebGPU' },
  wasm: { available: true, threads, crossOriginIsolated: threads > 1, detail: `${threads} thread(s)` },
  ...(machine ? { machine } : {}),
});

test('one worker per core, at most MAX_WORKERS, for a small model', () => {
  assert.deepEqual(planPool(slim, caps({ cores: 2, memoryGiB: 8 })), { ok: true, workers: 2, detail: 'WASM on 2 workers, 1 thread each' });
  assert.deepEqual(planPool(slim, caps({ cores: 6, memoryGiB: 8 })), { ok: true, workers: 6, detail: 'WASM on 6 workers, 1 thread each' });
  const many = planPool(slim, caps({ cores: 32, memoryGiB: 8 }));
  assert.ok(many.ok && many.workers === MAX_WORKERS, JSON.stringify(many));
  assert.deepEqual(planPool(slim, caps({ cores: 2 }), 3), { ok: true, workers: 3, detail: 'WASM on 3 workers, 1 thread each' }, 'a forced count is honoured');
});

test('declines where the page has WASM threads, where there is one core, and where one worker is asked for', () => {
  assert.deepEqual(planPool(slim, caps({ cores: 8 }, 4)), { ok: false, why: 'it already uses 4 cores', detail: 'the page is cross-origin isolated: onnxruntime-web runs 4 WASM threads in one worker' });
  assert.deepEqual(planPool(slim, caps({ cores: 1 })), { ok: false, why: 'this computer has one core', detail: 'navigator.hardwareConcurrency is 1' });
  assert.deepEqual(planPool(slim, caps()), { ok: false, why: 'this computer has one core', detail: 'navigator.hardwareConcurrency is unknown' });
  assert.deepEqual(planPool(slim, caps({ cores: 8 }), 1), { ok: false, why: 'one worker was asked for', detail: 'the engine was configured with wasmWorkers: 1' });
});

test('the memory budget caps the workers: each holds its own copy of the model, and the pool keeps one more', () => {
  assert.equal(poolBudget({ cores: 8, memoryGiB: 8 }), 2 * 2 ** 30, 'a quarter of what navigator.deviceMemory says');
  assert.equal(poolBudget({ cores: 8 }), DEFAULT_BUDGET_BYTES, 'a fixed budget where the browser does not say');
  assert.ok(workerBytes(maxim) > 3 * modelBytes(maxim), 'a worker holds more than the file: pre-packed weights and activations');

  for (const memoryGiB of [2, 4, 8, undefined]) {
    const machine = { cores: 64, ...(memoryGiB ? { memoryGiB } : {}) };
    const plan = planPool(maxim, caps(machine));
    const budget = poolBudget(machine);
    const fits = Math.floor((budget - modelBytes(maxim)) / workerBytes(maxim));
    if (fits < 2) {
      assert.deepEqual(plan.ok, false);
      continue;
    }
    assert.ok(plan.ok, JSON.stringify(plan));
    assert.equal(plan.workers, Math.min(fits, MAX_WORKERS), `${memoryGiB} GiB`);
    assert.ok(modelBytes(maxim) + plan.workers * workerBytes(maxim) <= budget, 'within the budget');
    if (plan.workers < MAX_WORKERS) assert.match(plan.detail, /^WASM on \d workers, 1 thread each \(memory: ≈\d+ MB each within \d+ MB/);
  }

  const small = planPool(maxim, caps({ cores: 8, memoryGiB: 1 }));
  assert.equal(small.ok, false);
  assert.ok(!small.ok && small.why === 'this model is too large to copy to each core', JSON.stringify(small));
  assert.equal(!small.ok && small.detail, `each worker would hold ≈${Math.round(workerBytes(maxim) / 1e6)} MB for ${maxim.label}; two take more than the 268 MB (a quarter of this computer's 1 GB) a pool may use`);
});

test('as a runtime: refuses what single-worker WASM refuses in the same words, and declines outside a browser worker', async () => {
  const entry = wasmPoolEntry();
  assert.equal(entry.name, 'ort-web/wasm-pool');
  assert.equal(entry.target, 'wasm', 'results record the processor, as single-worker WASM does');
  const serverOnly = card('maxim-denoise-256');
  const machine = caps({ cores: 8, memoryGiB: 8 });
  assert.deepEqual(await entry.resolve(serverOnly, machine), await wasmEntry.resolve(serverOnly, machine));
  // Node has no Web Workers: the pool passes, single-worker WASM takes the card.
  assert.deepEqual(await entry.resolve(slim, machine), { ok: false, why: 'this browser can’t split the work across its cores', detail: 'no Web Workers here' });
  assert.equal((await wasmEntry.resolve(slim, machine)).ok, true);
});

test('the estimate per worker grows with the model', () => {
  const sizes = ['esrgan-slim-x4', 'esrgan-thick-x4', 'maxim-derain', 'maxim-denoise'].map((id) => workerBytes(card(id) as ModelCard));
  assert.deepEqual([...sizes].sort((a, b) => a - b), sizes);
});
