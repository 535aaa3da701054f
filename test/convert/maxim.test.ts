// The seven MAXIM models converted from their npm packages, checked against each package's OWN TF.js model on a
// 64×64 crop of a real photo. TF.js needs minutes per crop, so its outputs are committed fixtures
// (test/fixtures/maxim/, written by `npm run maxim-fixture`); the ONNX side is converted and run here.
//
//   node --import tsx --test test/convert/maxim.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { MAXIM_MODELS, MAXIM_MODES, convertMaxim, describeMaximModel, maximCard, type MaximMode } from '../../models/convert/maxim.ts';
import { FIXTURE_DIR, FIXTURE_SIZE, readFixture } from '../../models/convert/maxim-fixture.ts';
import { DEFAULT_OUT_DIR, DEFAULT_REGISTRY_PATH, readRegistry } from '../../models/convert/build-models.ts';

/**
 * Both sides compute in float32 but in different orders (TF.js's JS loops and Einsum vs MLAS GEMMs, LayerNorm as
 * one kernel, constants folded here): measured max differences 2.6e-6 (denoising) on the [0,1] scale. The bound,
 * 5e-5, is 1/80 of one 8-bit level (1/255 ≈ 0.0039): invisible in the image, while any wiring error (a wrong
 * transpose, padding side, slice or resize matrix) moves outputs by whole levels.
 */
const MAX_ABS_DIFF = 5e-5;
const MAX_MEAN_DIFF = 5e-6;

async function runOnnx(bytes: Uint8Array, input: Float32Array, size: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const { output } = await session.run({ input: new ort.Tensor('float32', input, [1, size, size, 3]) });
    assert.deepEqual(output.dims, [1, size, size, 3]);
    return output.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Every mode has a committed TF.js output (TF.js needs 15–25 min of CPU per crop: npm run maxim-fixture). */
const WITH_FIXTURE: MaximMode[] = ['denoising', 'deblurring', 'deraining', 'dehazing-indoor', 'dehazing-outdoor', 'enhancement', 'retouching'];

for (const mode of WITH_FIXTURE) {
  test(`maxim ${mode}: the ONNX conversion equals the package's TF.js model on a real photo crop`, async (t) => {
    assert.ok(existsSync(join(FIXTURE_DIR, `${mode}.json`)), `test/fixtures/maxim/${mode}.json is missing: run npm run maxim-fixture -- --only ${mode}`);
    const fixture = readFixture(mode);
    const model = describeMaximModel(mode);
    assert.equal(fixture.meta.package, `${model.packageName}@${model.packageVersion}`, 'the fixture was made from another package version: rerun npm run maxim-fixture');
    const { bytes, stats } = convertMaxim(model, FIXTURE_SIZE);
    // Specialising to one size folds the shape arithmetic away: far fewer nodes than the TF graph, no Einsum.
    assert.ok(stats.onnxNodes < stats.tfNodes / 2, `${stats.onnxNodes} ONNX nodes from ${stats.tfNodes} TF nodes`);
    assert.equal(stats.ops.Einsum, undefined);
    const output = await runOnnx(bytes, fixture.input, FIXTURE_SIZE);
    let max = 0;
    let sum = 0;
    for (let i = 0; i < output.length; i++) {
      const d = Math.abs(output[i] - fixture.output[i]);
      assert.ok(Number.isFinite(d), `element ${i}: ONNX ${output[i]}, TF.js ${fixture.output[i]}`);
      max = Math.max(max, d);
      sum += d;
    }
    const mean = sum / output.length;
    t.diagnostic(`${mode}: max |ONNX − TF.js| ${max.toExponential(2)}, mean ${mean.toExponential(2)} ([0,1] scale; ${stats.onnxNodes} ONNX nodes from ${stats.tfNodes} TF nodes)`);
    assert.ok(max <= MAX_ABS_DIFF && mean <= MAX_MEAN_DIFF, `${mode}: max |ONNX − TF.js| ${max.toExponential(2)}, mean ${mean.toExponential(2)} (bounds ${MAX_ABS_DIFF}, ${MAX_MEAN_DIFF})`);
    // The model changes the crop: a wrong graph that returns its input would pass the bound above on an easy crop.
    let change = 0;
    for (let i = 0; i < output.length; i++) change += Math.abs(fixture.output[i] - fixture.input[i]);
    assert.ok(change / output.length > 20 * MAX_MEAN_DIFF, `${mode}: the TF.js output barely differs from its input (${(change / output.length).toExponential(2)})`);
  });
}

test('every mode is checked against its own TF.js fixture', () => {
  assert.deepEqual([...WITH_FIXTURE].sort(), [...MAXIM_MODES].sort());
});

test('the built MAXIM files are the conversion of the installed packages, as models/registry.json pins them', () => {
  const registry = readRegistry(DEFAULT_REGISTRY_PATH);
  for (const spec of MAXIM_MODELS) {
    const card = registry.models.find((m) => m.id === spec.id);
    assert.ok(card, `models/registry.json has no ${spec.id} card`);
    // The whole card, not just the file: a card field added to the converter reaches the registry.
    assert.deepEqual(card, JSON.parse(JSON.stringify(maximCard(spec, describeMaximModel(spec.package), card.files[0]))), `${spec.id}: run build-models.ts --update-registry`);
    const path = join(DEFAULT_OUT_DIR, card.files[0].name);
    assert.ok(existsSync(path), `${path} is missing: run npm run build`);
  }
  // One conversion repeated: the bytes are the same and their hash is the one the registry pins.
  const spec = MAXIM_MODELS.find((m) => m.id === 'maxim-derain')!;
  const first = convertMaxim(describeMaximModel(spec.package), spec.tile.size).bytes;
  const second = convertMaxim(describeMaximModel(spec.package), spec.tile.size).bytes;
  assert.ok(Buffer.from(first).equals(Buffer.from(second)), 'two conversions of maxim-derain differ');
  const card = registry.models.find((m) => m.id === spec.id)!;
  assert.equal(createHash('sha256').update(first).digest('hex'), card.files[0].sha256);
  assert.equal(createHash('sha256').update(readFileSync(join(DEFAULT_OUT_DIR, card.files[0].name))).digest('hex'), card.files[0].sha256);
});

test('a missing MAXIM package is named with the command that installs it', () => {
  assert.throws(() => describeMaximModel('denoising', '@upscalerjs/maxim-not-installed'), /npm package @upscalerjs\/maxim-not-installed.*Install it with: npm install/s);
});

test('a tile size the model cannot take is refused with the factor it needs', () => {
  assert.throws(() => convertMaxim(describeMaximModel('denoising'), 100), /tile size 100 is not a multiple of 64/);
});
