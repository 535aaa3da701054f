// GPU-resident feeds (worker/runtime/ort-web-resident.ts) in real Chromium on WebGPU (SwiftShader here): the
// VQ-Diffusion loop with the text condition kept on the GPU gives the very log_probs and tokens of the loop that
// uploads it at every step, also when the task refills the same array with new values mid-loop; a tiled model fed the
// same tile again reads its inputs from the GPU with the same output. Speed is bench:webgpu's, not this test's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { MODEL_FILES_DIR, REGISTRY_PATH } from '../../worker/platform-node.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { openWebGpuBenchPage, type WebGpuBenchPage } from './webgpu-bench-page.ts';

const TIMEOUT = { timeout: 600_000 };
let gpu: WebGpuBenchPage;
const cards = new Map<string, ModelCard>();

before(async () => {
  const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as { models: ModelCard[] };
  for (const card of registry.models) cards.set(card.id, card);
  gpu = await openWebGpuBenchPage(MODEL_FILES_DIR);
});

after(async () => {
  await gpu?.close();
});

const call: WebGpuBenchPage['call'] = (method, ...args) => gpu.call(method, ...args);

const card = (id: string) => cards.get(id) ?? assert.fail(`${id} is not in the registry`);
const fileUrl = (id: string, kind?: string) => {
  const c = card(id);
  const file = c.files.find((f) => (kind ? f.kind === kind : f.name.endsWith('.onnx'))) ?? assert.fail(`${id} has no ${kind ?? 'graph'} file`);
  return `${gpu.url}/models/files/${file.name}`;
};

function maxAbs(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

test('VQ-Diffusion: the condition kept on the GPU across steps gives the same log_probs and tokens', TIMEOUT, async () => {
  const parts = { text: card('vqdiffusion-ithq-text-tiny'), transformer: card('vqdiffusion-ithq-transformer-tiny') };
  const urls = { text: fileUrl(parts.text.id), transformer: fileUrl(parts.transformer.id), nullText: fileUrl(parts.transformer.id, 'null-text-embedding') };
  const ids = [49406, 320, 1929, 3095, 49407, ...Array(72).fill(0)]; // <start> a red bicycle <end>, padded to 77
  const steps = 6;
  const options = { steps, guidance: 5, seed: 7, refillConditionAt: 4 };
  const uploaded = await call('diffusion', parts, urls, 'webgpu', false, ids, options);
  const resident = await call('diffusion', parts, urls, 'webgpu', true, ids, options);
  assert.match(resident.adapter, /./);
  assert.equal(uploaded.resident, undefined, 'residency off: no resident feeds');
  // Steps 1–4 feed one condition (uploaded at step 2, reused at 2–4), step 5 a refilled one (fed from the CPU as
  // a candidate), step 6 the refilled one again (uploaded and reused).
  assert.deepEqual(resident.resident, { reused: 4, uploads: 2 }, 'the condition was fed from the GPU');
  assert.equal(resident.logProbs.length, steps * 2 * 64 * 64);
  assert.equal(maxAbs(resident.logProbs, uploaded.logProbs), 0, 'every step\'s log_probs identical');
  assert.deepEqual(resident.tokens, uploaded.tokens);
});

test('a tile fed again is read from the GPU, with the same output (SimMIM tiny)', TIMEOUT, async () => {
  const simmim = card('simmim-swin-base-192-tiny');
  const image = Array.from({ length: 3 * 192 * 192 }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  const mask = Array.from({ length: 48 * 48 }, (_, i) => (i % 7 < 3 ? 1 : 0));
  const feeds = { image: { dtype: 'float32' as const, dims: [1, 3, 192, 192], data: image }, mask: { dtype: 'float32' as const, dims: [1, 48, 48], data: mask } };
  const uploaded = await call('model', simmim, fileUrl(simmim.id), 'webgpu', false, feeds, 3);
  const resident = await call('model', simmim, fileUrl(simmim.id), 'webgpu', true, feeds, 3);
  assert.deepEqual(resident.resident, { reused: 4, uploads: 2 }, 'both inputs uploaded once, reused on runs 2 and 3');
  assert.equal(maxAbs(resident.output, uploaded.output), 0);
  assert.ok(uploaded.output.some((v) => v !== 0), 'the model computed something');
});
