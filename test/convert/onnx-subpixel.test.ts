// models/convert/onnx-subpixel.ts: ESRGAN's "nearest upsample → 3×3 conv" tail written as one low-resolution conv and
// a DepthToSpace computes the same image as the layer-by-layer graph, on a real photo tile in onnxruntime-node.
//
//   node --import tsx --test test/convert/onnx-subpixel.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { attr, encodeModel, type ModelSpec } from '../../models/convert/onnx-proto.ts';
import { subpixelUpsampleConvs } from '../../models/convert/onnx-subpixel.ts';
import { ESRGAN_SCALES, describeEsrganModel, esrganGraph } from '../../models/convert/build-models.ts';

const SIZE = 40;

/** A SIZE² crop of astronaut.png (face and suit edges) as NHWC float32 [1, SIZE, SIZE, 3] in [0, 255]. */
function photoCrop(): Float32Array {
  const png = PNG.sync.read(readFileSync(new URL('../fixtures/images/astronaut.png', import.meta.url)));
  const out = new Float32Array(SIZE * SIZE * 3);
  for (let r = 0; r < SIZE; r++) for (let c = 0; c < SIZE; c++) for (let ch = 0; ch < 3; ch++) out[(r * SIZE + c) * 3 + ch] = png.data[((160 + r) * png.width + 200 + c) * 4 + ch];
  return out;
}

async function run(spec: ModelSpec, input: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(encodeModel(spec));
  try {
    return (await session.run({ [spec.graph.inputs[0].name]: new ort.Tensor('float32', input, dims) }))[spec.graph.outputs[0].name];
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ort.Tensor, b: ort.Tensor): number {
  assert.deepEqual(a.dims, b.dims);
  const x = a.data as Float32Array, y = b.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

for (const variant of ['slim', 'medium'] as const) {
  test(`esrgan-${variant}: the sub-pixel tail equals nearest upsample + conv on a photo tile, every scale`, async () => {
    const input = photoCrop();
    for (const scale of ESRGAN_SCALES) {
      const model = describeEsrganModel(variant, scale);
      const layered = esrganGraph(model, { subpixelUpsampling: false });
      const subpixel = esrganGraph(model);
      const ops = (m: ModelSpec) => m.graph.nodes.map((n) => n.opType);
      assert.ok(ops(layered).includes('Resize'), `${model.id}: the old form upsamples with Resize`);
      assert.ok(!ops(subpixel).includes('Resize'), `${model.id}: no Resize left`);
      const d2s = subpixel.graph.nodes.filter((n) => n.opType === 'DepthToSpace');
      assert.equal(d2s.length, 1);
      assert.deepEqual(d2s[0].attributes, [attr.int('blocksize', scale), attr.string('mode', 'CRD')]);

      const dims = [1, SIZE, SIZE, 3];
      const [before, after] = [await run(layered, input, dims), await run(subpixel, input, dims)];
      assert.deepEqual(after.dims, [1, SIZE * scale, SIZE * scale, 3]);
      const diff = maxAbsDiff(before, after);
      const peak = Math.max(...(before.data as Float32Array));
      console.log(`${model.id}: max |sub-pixel − layered| ${diff.toExponential(2)} on outputs up to ${peak.toFixed(0)}`);
      // Float rounding only (sums in another order): a wrong phase or tap would move pixels by whole 8-bit levels.
      assert.ok(diff < 2e-3, `${model.id}: ${diff}`);
      assert.ok(peak > 100, 'the tile has bright pixels (the comparison is not between two dark images)');
    }
  });
}

test('an uneven case: scale 3, a 5×5 kernel with bias, random weights', async () => {
  const cin = 4, cout = 5, s = 3, k = 5;
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const spec = (nodes: ModelSpec['graph']['nodes'], initializers: ModelSpec['graph']['initializers']): ModelSpec => ({
    producerName: 'test', producerVersion: '0',
    graph: {
      name: 'tail', nodes, initializers,
      inputs: [{ name: 'x', elemType: 'float32', shape: [1, cin, 'h', 'w'] }],
      outputs: [{ name: 'y', elemType: 'float32', shape: [1, cout, 'H', 'W'] }],
    },
  });
  const nodes = [
    { opType: 'Resize', name: 'up', inputs: ['x', '', 'scales'], outputs: ['big'], attributes: [attr.string('coordinate_transformation_mode', 'asymmetric'), attr.string('mode', 'nearest'), attr.string('nearest_mode', 'floor')] },
    { opType: 'Conv', name: 'conv', inputs: ['big', 'w', 'b'], outputs: ['y'], attributes: [attr.ints('kernel_shape', [k, k]), attr.ints('strides', [1, 1]), attr.ints('dilations', [1, 1]), attr.ints('pads', [2, 2, 2, 2])] },
  ];
  const initializers = [
    { name: 'scales', dims: [4], data: Float32Array.from([1, 1, s, s]) },
    { name: 'w', dims: [cout, cin, k, k], data: Float32Array.from({ length: cout * cin * k * k }, rnd) },
    { name: 'b', dims: [cout], data: Float32Array.from({ length: cout }, rnd) },
  ];
  const rewritten = subpixelUpsampleConvs({ nodes, initializers });
  assert.equal(rewritten.rewritten, 1);
  assert.deepEqual(rewritten.nodes.map((n) => n.opType), ['Conv', 'DepthToSpace']);
  const input = Float32Array.from({ length: cin * 7 * 9 }, rnd);
  const before = await run(spec(nodes, initializers), input, [1, cin, 7, 9]);
  const after = await run(spec(rewritten.nodes, rewritten.initializers), input, [1, cin, 7, 9]);
  assert.deepEqual(after.dims, [1, cout, 21, 27]);
  assert.ok(maxAbsDiff(before, after) < 1e-5, `max diff ${maxAbsDiff(before, after)}`);
});

test('a Conv with a stride or a second reader of the upsampled map is left alone', () => {
  const up = { opType: 'Resize', name: 'up', inputs: ['x', '', 'scales'], outputs: ['big'], attributes: [attr.string('coordinate_transformation_mode', 'asymmetric'), attr.string('mode', 'nearest'), attr.string('nearest_mode', 'floor')] };
  const conv = (strides: number[]) => ({ opType: 'Conv', name: 'conv', inputs: ['big', 'w'], outputs: ['y'], attributes: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', strides), attr.ints('dilations', [1, 1]), attr.ints('pads', [1, 1, 1, 1])] });
  const initializers = [{ name: 'scales', dims: [4], data: Float32Array.from([1, 1, 2, 2]) }, { name: 'w', dims: [1, 1, 3, 3], data: new Float32Array(9) }];
  assert.equal(subpixelUpsampleConvs({ nodes: [up, conv([2, 2])], initializers }).rewritten, 0);
  assert.equal(subpixelUpsampleConvs({ nodes: [up, conv([1, 1]), { opType: 'Relu', name: 'r', inputs: ['big'], outputs: ['z'] }], initializers }).rewritten, 0);
  assert.equal(subpixelUpsampleConvs({ nodes: [up, conv([1, 1])], initializers }).rewritten, 1);
});
