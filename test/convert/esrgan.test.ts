// Checks models/convert: the protobuf writer, determinism, and every converted ESRGAN model against the
// package's OWN TF.js model (tfjs 4.11, pure-JS CPU backend, the package's custom layers) on a real photo.
//
//   node --import tsx --test test/convert/esrgan.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import { attr, encodeModel } from '../../models/convert/onnx-proto.ts';
import { readLayersModel } from '../../models/convert/tfjs-layers.ts';
import { tfjsArtifacts } from '../../models/convert/tfjs-weights.ts';
import {
  DEFAULT_REGISTRY_PATH, ESRGAN_SCALES, ESRGAN_VARIANTS, buildModels, convertEsrgan, describeEsrganModel,
  loadPackageDefinition, readRegistry,
} from '../../models/convert/build-models.ts';

// Both sides compute in float32 but sum the convolutions in different orders (TF.js loops vs MLAS GEMM); thick
// chains ~150 convs. Observed max differences: 1.5e-4..3.2e-4 on the 0..255 scale. 0.05 is 1/20 of one 8-bit level,
// far below what the final uint8 image can show, yet any wiring error (wrong kernel layout, DepthToSpace mode,
// padding side, Resize rounding, range scaling) moves outputs by whole levels or more.
const MAX_ABS_DIFF = 0.05;
// Crops of astronaut.png (face and suit: edges and texture). TF.js's pure-JS CPU conv is slow: thick (≈7.3M
// multiply-adds per pixel) took 96–170 s on a 48×48 crop here, so thick gets 24×24 (a quarter of that); the others 48×48.
const CROP = { x: 200, y: 160 };
const CROP_SIZE = { slim: 48, medium: 48, thick: 24 } as const;

const IMAGES = new URL('../fixtures/images/', import.meta.url);

/** Crop of a real photo as NHWC float32 [1, size, size, 3] in [0, 255]. */
function photoCrop(size: number): Float32Array {
  const png = PNG.sync.read(readFileSync(new URL('astronaut.png', IMAGES)));
  const { x, y } = CROP;
  const out = new Float32Array(size * size * 3);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const src = ((y + r) * png.width + (x + c)) * 4;
      for (let ch = 0; ch < 3; ch++) out[(r * size + c) * 3 + ch] = png.data[src + ch];
    }
  }
  return out;
}

/** Runs the package's own TF.js layers model, with the package's custom layers registered. */
async function runTfjs(variant: (typeof ESRGAN_VARIANTS)[number], scale: number, input: Float32Array, size: number): Promise<Float32Array> {
  const definition = loadPackageDefinition(variant, scale);
  definition.setup?.(tf); // registers MultiplyBeta / PixelShuffle{N}x exactly as UpscalerJS does
  const files = readLayersModel(describeEsrganModel(variant, scale).modelJsonPath);
  const artifacts = tfjsArtifacts(files.json, files) as unknown as tf.io.ModelArtifacts;
  const model = await tf.loadLayersModel({ load: async () => artifacts });
  const rangeMax = definition.inputRange[1];
  const result = tf.tidy(() => {
    const x = tf.tensor4d(input, [1, size, size, 3]).div(255 / rangeMax);
    const y = model.predict(x) as tf.Tensor;
    return y.mul(255 / definition.outputRange[1]);
  });
  const data = (await result.data()) as Float32Array;
  assert.deepEqual(result.shape, [1, size * scale, size * scale, 3]);
  result.dispose();
  model.dispose();
  return data;
}

async function runOnnx(path: string, input: Float32Array, size: number): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(path);
  try {
    const { output } = await session.run({ input: new ort.Tensor('float32', input, [1, size, size, 3]) });
    return output;
  } finally {
    await session.release();
  }
}

test('onnx-proto: a hand-built model (initializer, negative int attribute, dynamic dim) runs in onnxruntime-node', async () => {
  const bytes = encodeModel({
    producerName: 'test', producerVersion: '0',
    graph: {
      name: 'tiny',
      nodes: [
        { opType: 'Add', name: 'add', inputs: ['a', 'b'], outputs: ['sum'] },
        { opType: 'Concat', name: 'cat', inputs: ['sum', 'a'], outputs: ['joined'], attributes: [attr.int('axis', -1)] },
        { opType: 'Transpose', name: 'flip', inputs: ['joined'], outputs: ['out'], attributes: [attr.ints('perm', [1, 0])] },
      ],
      initializers: [{ name: 'b', dims: [3], data: Float32Array.from([0.5, -2, 1e6]) }],
      inputs: [{ name: 'a', elemType: 'float32', shape: ['n', 3] }],
      outputs: [{ name: 'out', elemType: 'float32', shape: [6, 'n'] }],
    },
  });
  const session = await ort.InferenceSession.create(bytes);
  const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const { out } = await session.run({ a: new ort.Tensor('float32', a, [2, 3]) });
  await session.release();
  assert.deepEqual(out.dims, [6, 2]);
  // rows of out = columns of [a + b, a]
  assert.deepEqual(Array.from(out.data as Float32Array), [1.5, 4.5, 0, 3, 1000003, 1000006, 1, 4, 2, 5, 3, 6]);
});

test('conversion is deterministic and matches the registry hash', () => {
  const model = describeEsrganModel('medium', 3);
  const first = convertEsrgan(model);
  const second = convertEsrgan(model);
  assert.ok(Buffer.from(first).equals(Buffer.from(second)), 'two conversions of esrgan-medium-x3 differ');
  const card = readRegistry(DEFAULT_REGISTRY_PATH).models.find((m) => m.id === model.id);
  assert.ok(card, 'models/registry.json has no esrgan-medium-x3 card');
  assert.equal(createHash('sha256').update(first).digest('hex'), card.files[0].sha256);
});

test('a build whose bytes differ from the registry fails loudly, and --update-registry rewrites files[]', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'frontier-registry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const registryPath = join(dir, 'registry.json');
  const registry = readRegistry(DEFAULT_REGISTRY_PATH);
  const card = registry.models.find((m) => m.id === 'esrgan-slim-x2');
  assert.ok(card);
  const real = card.files[0];
  card.files = [{ ...real, sha256: '0'.repeat(64) }];
  writeFileSync(registryPath, JSON.stringify(registry));
  const opts = { only: ['esrgan-slim-x2'], outDir: dir, registryPath, log: () => {} };
  await assert.rejects(buildModels(opts), /esrgan-slim-x2: built .* but the registry lists .*--update-registry/s);
  const [result] = await buildModels({ ...opts, updateRegistry: true });
  assert.equal(result.sha256, real.sha256);
  const updated = readRegistry(registryPath).models.find((m) => m.id === 'esrgan-slim-x2');
  assert.deepEqual(updated?.files, [real]);
  const [cached] = await buildModels(opts); // now consistent: the existing file is reused, not rebuilt
  assert.equal(cached.cached, true);
});

test('converted ESRGAN models also run on onnxruntime-web (WASM backend) with the same results as onnxruntime-node', async (t) => {
  const outDir = mkdtempSync(join(tmpdir(), 'frontier-convert-web-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  ortWeb.env.wasm.numThreads = 1;
  const size = 20;
  const input = photoCrop(size);
  // The MAXIM graphs take fixed 128-px tiles and are checked on onnxruntime-web in Chromium (test/e2e/restore.test.ts).
  const only = ESRGAN_VARIANTS.flatMap((v) => ESRGAN_SCALES.map((s) => `esrgan-${v}-x${s}`));
  for (const built of await buildModels({ only, outDir, force: true, log: () => {} })) {
    const bytes = readFileSync(built.path);
    const web = await ortWeb.InferenceSession.create(bytes);
    const webOut = (await web.run({ input: new ortWeb.Tensor('float32', input, [1, size, size, 3]) })).output;
    await web.release();
    const nodeOut = await runOnnx(built.path, input, size);
    assert.deepEqual(webOut.dims, nodeOut.dims, built.id);
    let maxAbsDiff = 0;
    const a = webOut.data as Float32Array, b = nodeOut.data as Float32Array;
    for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
    assert.ok(maxAbsDiff <= MAX_ABS_DIFF, `${built.id}: onnxruntime-web differs from onnxruntime-node by ${maxAbsDiff}`);
  }
});

test('converted ESRGAN models match the packages\' TF.js models on a real photo', async (t) => {
  await tf.setBackend('cpu');
  const outDir = mkdtempSync(join(tmpdir(), 'frontier-convert-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  for (const variant of ESRGAN_VARIANTS) {
    const size = CROP_SIZE[variant];
    const input = photoCrop(size);
    for (const scale of ESRGAN_SCALES) {
      const id = `esrgan-${variant}-x${scale}`;
      await t.test(id, async () => {
        // Build it here (fresh, into a temp dir): also fails if the bytes differ from models/registry.json.
        const [built] = await buildModels({ only: [id], outDir, force: true, log: () => {} });
        const started = performance.now();
        const expected = await runTfjs(variant, scale, input, size);
        const tfSeconds = (performance.now() - started) / 1000;
        const output = await runOnnx(built.path, input, size);
        assert.deepEqual(output.dims, [1, size * scale, size * scale, 3]);
        const actual = output.data as Float32Array;

        let maxAbsDiff = 0;
        let meanAbsToNearest = 0; // sanity: the output must look like the input, upscaled
        const out = size * scale;
        for (let i = 0; i < actual.length; i++) {
          maxAbsDiff = Math.max(maxAbsDiff, Math.abs(actual[i] - expected[i]));
          const ch = i % 3, px = (i - ch) / 3, r = Math.floor(px / out), c = px % out;
          meanAbsToNearest += Math.abs(actual[i] - input[(Math.floor(r / scale) * size + Math.floor(c / scale)) * 3 + ch]);
        }
        meanAbsToNearest /= actual.length;
        console.log(`${id}: max abs diff ${maxAbsDiff.toExponential(2)} (bound ${MAX_ABS_DIFF}), ` +
          `mean |out − nearest upscale| ${meanAbsToNearest.toFixed(2)}, ${(built.bytes / 1e6).toFixed(2)} MB, ` +
          `converted in ${built.seconds.toFixed(2)} s, TF.js ${tfSeconds.toFixed(1)} s`);
        assert.ok(Number.isFinite(maxAbsDiff) && maxAbsDiff <= MAX_ABS_DIFF, `${id}: max abs diff ${maxAbsDiff} > ${MAX_ABS_DIFF}`);
        assert.ok(meanAbsToNearest < 12, `${id}: output does not resemble the input (mean abs ${meanAbsToNearest})`);
      });
    }
  }
});
