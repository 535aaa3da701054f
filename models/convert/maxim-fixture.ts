// Writes the reference outputs the MAXIM conversion is checked against: each package's OWN TF.js graph model
// (tfjs 4.11, pure-JS CPU backend, the package's own setup) run on a 64×64 crop of a real photo.
// TF.js takes minutes per crop (its WASM backend has no Einsum kernel), too slow for the test suite, so the
// results are committed in test/fixtures/maxim/ and test/convert/maxim.test.ts compares the ONNX models to them.
//
//   npx tsx models/convert/maxim-fixture.ts [--only denoising,deblurring]   (≈5–10 min per model on one core)

import '../../worker/runtime/no-telemetry.mjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import { readGraphModel } from './tfjs-graph.ts';
import { readWeightShards, tfjsArtifacts } from './tfjs-weights.ts';
import { MAXIM_MODES, describeMaximModel, type MaximMode } from './maxim.ts';
import { mulberry32 } from '../../worker/random.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('../../test/fixtures/maxim/', import.meta.url));
export const FIXTURE_SIZE = 64;

/** Where each mode's crop comes from: a part of a real photo that shows what the model is for. */
export const FIXTURE_CROPS: Record<MaximMode, { image: string; x: number; y: number; noiseSigma?: number }> = {
  denoising: { image: 'astronaut.png', x: 200, y: 160, noiseSigma: 25 },
  deblurring: { image: 'chelsea.png', x: 150, y: 80 },
  deraining: { image: 'astronaut.png', x: 300, y: 300 },
  'dehazing-indoor': { image: 'chelsea.png', x: 240, y: 160 },
  'dehazing-outdoor': { image: 'astronaut.png', x: 40, y: 60 },
  enhancement: { image: 'chelsea.png', x: 60, y: 200 },
  retouching: { image: 'astronaut.png', x: 180, y: 40 },
};

export interface FixtureMeta {
  mode: MaximMode;
  package: string;
  size: number;
  crop: (typeof FIXTURE_CROPS)[MaximMode];
  tfjs: string;
  backend: string;
  seconds: number;
}

/** Deterministic N(0,1) samples (mulberry32 + Box–Muller), so the noisy crop can be rebuilt anywhere. */
export function gaussian(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** The fixture's input: NHWC float32 [1, 64, 64, 3] in [0, 1]. */
export function fixtureInput(mode: MaximMode): Float32Array {
  const crop = FIXTURE_CROPS[mode];
  const png = PNG.sync.read(readFileSync(fileURLToPath(new URL(`../../test/fixtures/images/${crop.image}`, import.meta.url))));
  const size = FIXTURE_SIZE;
  const noise = gaussian(1234);
  const out = new Float32Array(size * size * 3);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      for (let ch = 0; ch < 3; ch++) {
        let v = png.data[((crop.y + r) * png.width + crop.x + c) * 4 + ch];
        if (crop.noiseSigma) v = Math.min(255, Math.max(0, Math.round(v + crop.noiseSigma * noise())));
        out[(r * size + c) * 3 + ch] = v / 255;
      }
    }
  }
  return out;
}

export function readFixture(mode: MaximMode): { input: Float32Array; output: Float32Array; meta: FixtureMeta } {
  const meta = JSON.parse(readFileSync(join(FIXTURE_DIR, `${mode}.json`), 'utf8')) as FixtureMeta;
  const bytes = readFileSync(join(FIXTURE_DIR, `${mode}.tfjs-output.f32`));
  const output = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { input: fixtureInput(mode), output, meta };
}

async function runPackageModel(mode: MaximMode, input: Float32Array): Promise<Float32Array> {
  const model = describeMaximModel(mode);
  model.definition.setup?.(tf); // the package's own custom-op registration, as UpscalerJS does
  const graph = readGraphModel(model.modelJsonPath);
  const shards = readWeightShards(join(model.modelJsonPath, '..'), graph.json.weightsManifest);
  const artifacts = tfjsArtifacts(graph.json, shards) as unknown as tf.io.ModelArtifacts;
  const loaded = await tf.loadGraphModel({ load: async () => artifacts });
  const x = tf.tensor4d(input, [1, FIXTURE_SIZE, FIXTURE_SIZE, 3]);
  const y = loaded.execute(x) as tf.Tensor;
  const data = (await y.data()) as Float32Array;
  if (y.shape.join() !== [1, FIXTURE_SIZE, FIXTURE_SIZE, 3].join()) throw new Error(`${mode}: TF.js output shape [${y.shape}]`);
  tf.dispose([x, y]);
  loaded.dispose();
  return data;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const onlyArg = process.argv.indexOf('--only');
  const modes = onlyArg > 0 ? (process.argv[onlyArg + 1].split(',') as MaximMode[]) : MAXIM_MODES;
  await tf.setBackend('cpu');
  mkdirSync(FIXTURE_DIR, { recursive: true });
  for (const mode of modes) {
    if (!MAXIM_MODES.includes(mode)) throw new Error(`unknown mode ${mode}; modes: ${MAXIM_MODES.join(', ')}`);
    const started = performance.now();
    const input = fixtureInput(mode);
    const output = await runPackageModel(mode, input);
    const seconds = (performance.now() - started) / 1000;
    const model = describeMaximModel(mode);
    const meta: FixtureMeta = {
      mode, package: `${model.packageName}@${model.packageVersion}`, size: FIXTURE_SIZE, crop: FIXTURE_CROPS[mode],
      tfjs: tf.version.tfjs, backend: tf.getBackend(), seconds: Math.round(seconds),
    };
    writeFileSync(join(FIXTURE_DIR, `${mode}.tfjs-output.f32`), new Uint8Array(output.buffer, output.byteOffset, output.byteLength));
    writeFileSync(join(FIXTURE_DIR, `${mode}.json`), JSON.stringify(meta, null, 2) + '\n');
    console.log(`${mode}: ${seconds.toFixed(0)} s`);
  }
}
