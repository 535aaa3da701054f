// The converted ESRGAN graphs on WebGPU in real Chromium (SwiftShader here, an adapter with 8 storage buffers per
// shader stage, WebGPU's minimum) give the output of onnxruntime-node on the CPU. esrgan-medium's 10-input Concat
// needed 11 storage buffers and computed garbage there (6 dB) until models/convert/onnx-split-concat.ts split it.
// The graphs are converted afresh here, so the test checks the converter, not a file built earlier; ×3 and ×4 also
// check the sub-pixel tail's DepthToSpace (CRD) on WebGPU.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { REGISTRY_PATH } from '../../worker/platform-node.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { convertEsrgan, describeEsrganModel, type EsrganVariant } from '../../models/convert/build-models.ts';
import { loadPhoto } from '../node/helpers.ts';
import { openWebGpuBenchPage, type WebGpuBenchPage } from './webgpu-bench-page.ts';
import type { PlainTensor } from '../../bench/gpu/webgpu-entry.ts';

const TIMEOUT = { timeout: 600_000 };
// SwiftShader is ≈100× slower than WASM: a small crop keeps a run within a minute on a loaded machine.
const SIZE = 24;
const dir = mkdtempSync(join(tmpdir(), 'frontier-webgpu-esrgan-'));
let page: WebGpuBenchPage;

before(async () => {
  page = await openWebGpuBenchPage(dir);
});

after(async () => {
  await page?.close();
  rmSync(dir, { recursive: true, force: true });
});

const call: WebGpuBenchPage['call'] = (method, ...args) => page.call(method, ...args);

/** A SIZE² crop of chelsea.png (fur and whiskers) as NHWC float32 in [0, 255]. */
async function photoCrop(): Promise<PlainTensor> {
  const photo = await loadPhoto('chelsea.png');
  const data: number[] = [];
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) data.push(photo.data[((60 + y) * photo.width + 180 + x) * 4 + c]);
  return { dtype: 'float32', dims: [1, SIZE, SIZE, 3], data };
}

function psnr255(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let sq = 0;
  for (let i = 0; i < a.length; i++) sq += (a[i] - b[i]) ** 2;
  return sq === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sq / a.length));
}

async function webGpuMatchesCpu(variant: EsrganVariant, scale: number): Promise<void> {
  const model = describeEsrganModel(variant, scale);
  const bytes = convertEsrgan(model);
  const file = `${model.id}.converted.onnx`;
  writeFileSync(join(dir, file), bytes);
  const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as { models: ModelCard[] };
  const card = registry.models.find((m) => m.id === model.id) ?? assert.fail(`${model.id} is not in the registry`);
  const input = await photoCrop();

  const session = await ort.InferenceSession.create(bytes);
  const cpu = (await session.run({ input: new ort.Tensor('float32', Float32Array.from(input.data), input.dims) })).output.data as Float32Array;
  await session.release();

  const gpu = await call('model', card, `${page.url}/models/files/${file}`, 'webgpu', false, { input }, 1);
  assert.match(gpu.adapter, /./);
  assert.equal(gpu.output.length, SIZE * scale * SIZE * scale * 3);
  const db = psnr255(gpu.output, cpu);
  console.log(`${model.id} on WebGPU (${gpu.adapter}) vs onnxruntime-node CPU: ${db.toFixed(1)} dB`);
  assert.ok(db > 40, `${model.id}: WebGPU output is ${db.toFixed(1)} dB from the CPU's`);
}

test('esrgan-medium-x2 on WebGPU matches onnxruntime-node on the CPU (PSNR > 40 dB)', TIMEOUT, () => webGpuMatchesCpu('medium', 2));
// The sub-pixel tail (models/convert/onnx-subpixel.ts): DepthToSpace in CRD order on WebGPU, ×3 and ×4.
test('esrgan-slim-x4 (sub-pixel tail) on WebGPU matches onnxruntime-node on the CPU', TIMEOUT, () => webGpuMatchesCpu('slim', 4));
test('esrgan-medium-x3 (sub-pixel tail) on WebGPU matches onnxruntime-node on the CPU', TIMEOUT, () => webGpuMatchesCpu('medium', 3));
