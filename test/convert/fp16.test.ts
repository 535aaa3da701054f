// fp16 weights (models/convert/fp16.ts): float32 → float16 rounding is IEEE round-to-nearest-even (every float16
// value survives the round trip); ESRGAN slim ×2, converted from its npm package's pretrained weights, still loads
// and runs in onnxruntime-node with float32 inputs and outputs, its file about half the size, and on a real photo its
// output stays within a quarter of an 8-bit level of the float32 graph's (measured: 0.05 level at 24 px).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { convertEsrgan, describeEsrganModel } from '../../models/convert/build-models.ts';
import { float16Bits, float16Value, toFp16Weights } from '../../models/convert/fp16.ts';
import { loadPhoto } from '../node/helpers.ts';

test('float32 → float16 rounds to nearest even, with subnormals, overflow and NaN', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [2 ** -14 - 2 ** -25, 0x0400],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [0.1, 0x2e66], [1 / 3, 0x3555],
  ];
  for (const [value, bits] of cases) assert.equal(float16Bits(value), bits, `${value} → 0x${float16Bits(value).toString(16)}, expected 0x${bits.toString(16)}`);
  assert.equal(float16Bits(NaN) & 0x7c00, 0x7c00);
  assert.ok(float16Bits(NaN) & 0x3ff, 'NaN stays NaN');
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaNs
    assert.equal(float16Bits(float16Value(h)), h, `float16 0x${h.toString(16)} does not survive the round trip`);
  }
});

async function runEsrgan(model: Uint8Array, input: Float32Array, size: number): Promise<{ output: Float32Array; session: ort.InferenceSession }> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const out = await session.run({ input: new ort.Tensor('float32', input, [1, size, size, 3]) });
  return { output: out[session.outputNames[0]].data as Float32Array, session };
}

test('ESRGAN slim ×2 with fp16 weights: half the file, float32 IO, output within a quarter of an 8-bit level', async () => {
  const fp32 = convertEsrgan(describeEsrganModel('slim', 2));
  const result = toFp16Weights(fp32);
  assert.ok(result.converted >= 10, `${result.converted} weights converted`);
  assert.ok(result.kept.every((k) => /values/.test(k.why)), `only short tensors stay float32: ${JSON.stringify(result.kept)}`);
  assert.ok(result.model.byteLength < fp32.byteLength * 0.55, `${fp32.byteLength} → ${result.model.byteLength} bytes`);
  assert.ok(result.weightBytesAfter < result.weightBytesBefore * 0.55);

  const photo = await loadPhoto('chelsea.png');
  const size = 48;
  const input = new Float32Array(size * size * 3);
  for (let y = 0, i = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) input[i++] = photo.data[((120 + y) * photo.width + 200 + x) * 4 + c];
  const a = await runEsrgan(fp32, input, size);
  const b = await runEsrgan(result.model, input, size);
  assert.deepEqual([...b.session.inputNames, ...b.session.outputNames], [...a.session.inputNames, ...a.session.outputNames]);
  assert.equal(b.output.length, size * size * 4 * 3);
  let worst = 0, sq = 0;
  for (let i = 0; i < a.output.length; i++) {
    const d = Math.abs(a.output[i] - b.output[i]);
    worst = Math.max(worst, d);
    sq += d * d;
  }
  const psnr = 10 * Math.log10((255 * 255) / (sq / a.output.length));
  console.log(`ESRGAN slim ×2 fp16 weights vs float32 (48² photo crop): max abs ${worst.toFixed(4)} levels, PSNR ${psnr.toFixed(1)} dB`);
  assert.ok(worst > 0, 'the weights were rounded: the output must move');
  assert.ok(worst < 0.25, `max abs ${worst} of 255 levels`);
  assert.ok(psnr > 70, `PSNR ${psnr} dB`);
  await a.session.release();
  await b.session.release();

  // Nothing converted (every tensor below minElements): the float32 graph's output, bit for bit.
  const none = toFp16Weights(fp32, { minElements: Number.MAX_SAFE_INTEGER });
  assert.equal(none.converted, 0);
  const c = await runEsrgan(none.model, input, size);
  assert.deepEqual(c.output, a.output);
  await c.session.release();
});
