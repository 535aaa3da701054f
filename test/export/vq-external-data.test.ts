// A pipeline whose graphs keep their weights in ONNX external data (how the 5 GB ITHQ transformer ships) runs through
// the engine exactly like one that does not: the tiny VQ-Diffusion parts exported with a tiny external-data threshold
// give the same image as the committed tiny models; the loader checks the weight files too.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exportTritonRepository } from '../../server/triton/export.ts';
import { Engine } from '../../worker/engine.ts';
import { FrontierError } from '../../worker/job.ts';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { assertOk, requireTorch, runExport } from './export-util.ts';

const PARTS = ['vqdiffusion-ithq-text', 'vqdiffusion-ithq-transformer', 'vqdiffusion-ithq-decoder'];
const JOB = { task: 'text-to-image', model: 'vqdiffusion-ithq-transformer-tiny', params: { prompt: 'a red fox in the snow', seed: 3, steps: 12 } };
let dir = '';
let registryPath = '';

before(async () => {
  requireTorch();
  dir = mkdtempSync(join(tmpdir(), 'frontier-vq-external-'));
  // Every graph above 1 kB moves its weights out (the exporter's rule for > 2 GB, at test scale).
  process.env.ONNX_EXTERNAL_DATA_THRESHOLD = '1000';
  for (const id of PARTS) assertOk(await runExport([id, '--tiny', '--out', dir], 300_000), `export ${id}`);
  const cards = readdirSync(dir).filter((f) => f.endsWith('.card.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ModelCard);
  registryPath = join(dir, 'registry.json');
  writeFileSync(registryPath, JSON.stringify({ version: 1, models: cards } satisfies Registry));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('graphs with external data: same image as the committed single-file tiny models', async () => {
  const registry = JSON.parse(readFileSync(registryPath, 'utf8')) as Registry;
  const transformer = registry.models.find((m) => m.id === JOB.model)!;
  assert.ok(transformer.files.some((f) => f.kind === 'onnx-external-data'), 'the transformer keeps its weights in a separate file');
  const external = await new Engine(createNodePlatform({ modelDir: dir, registryPath })).run({ id: 'x', ...JOB });
  const committed = await new Engine(createNodePlatform()).run({ id: 'c', ...JOB });
  assert.deepEqual(external.images[0].data, committed.images[0].data);
});

test('the Triton export puts the weight file beside model.onnx under the name the graph uses', async () => {
  const registry = JSON.parse(readFileSync(registryPath, 'utf8')) as Registry;
  const card = registry.models.find((m) => m.id === JOB.model)!;
  const data = card.files.find((f) => f.kind === 'onnx-external-data')!;
  const out = join(dir, 'triton');
  await exportTritonRepository({ out, registryPath, modelDir: dir, models: [card.id], gpu: false, log: () => {} });
  assert.deepEqual(readFileSync(join(out, card.id, '1', data.name)), readFileSync(join(dir, data.name)));
  // What Triton's onnxruntime backend does: load model.onnx by path, its weights found beside it.
  const session = await ort.InferenceSession.create(join(out, card.id, '1', 'model.onnx'));
  assert.deepEqual([...session.inputNames], card.io.inputs.map((i) => i.name));
});

test('a damaged weight file is named, not loaded', async () => {
  const registry = JSON.parse(readFileSync(registryPath, 'utf8')) as Registry;
  const data = registry.models.find((m) => m.id === JOB.model)!.files.find((f) => f.kind === 'onnx-external-data')!;
  const bytes = readFileSync(join(dir, data.name));
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(join(dir, data.name), bytes);
  await assert.rejects(new Engine(createNodePlatform({ modelDir: dir, registryPath })).run({ id: 'y', ...JOB }), (err: FrontierError) => err.code === 'hash-mismatch' && /corrupt/.test(err.message));
});
