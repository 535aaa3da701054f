// models/convert/onnx-split-concat.ts: a Concat too wide for one WebGPU kernel becomes a chain of narrower ones with
// the very same output (checked byte for byte in onnxruntime-node), and the shipped ESRGAN graphs have none left.
//
//   node --import tsx --test test/convert/onnx-split-concat.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { attr, encodeModel, type NodeSpec } from '../../models/convert/onnx-proto.ts';
import { MAX_CONCAT_INPUTS, splitWideConcats } from '../../models/convert/onnx-split-concat.ts';
import { ESRGAN_SCALES, ESRGAN_VARIANTS, describeEsrganModel, esrganGraph } from '../../models/convert/build-models.ts';

/** Ten inputs of different channel counts, each its own values, joined on the channel axis and then scaled. */
function tenInputGraph(nodes: NodeSpec[]): Uint8Array {
  return encodeModel({
    producerName: 'test', producerVersion: '0',
    graph: {
      name: 'wide-concat',
      nodes,
      initializers: [{ name: 'two', dims: [], data: Float32Array.from([2]) }],
      inputs: Array.from({ length: 10 }, (_, i) => ({ name: `x${i}`, elemType: 'float32' as const, shape: [1, i + 1, 'h', 'w'] })),
      outputs: [{ name: 'y', elemType: 'float32', shape: [1, 55, 'h', 'w'] }],
    },
  });
}

const wideConcat: NodeSpec[] = [
  { opType: 'Concat', name: 'cat', inputs: Array.from({ length: 10 }, (_, i) => `x${i}`), outputs: ['joined'], attributes: [attr.int('axis', 1)] },
  { opType: 'Mul', name: 'scale', inputs: ['joined', 'two'], outputs: ['y'] },
];

async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  try {
    return (await session.run(feeds)).y.data as Float32Array;
  } finally {
    await session.release();
  }
}

test('a 10-input Concat becomes Concats of at most 7 inputs with the same output, byte for byte', async () => {
  const { nodes, split } = splitWideConcats(wideConcat);
  assert.equal(split, 1);
  const concats = nodes.filter((n) => n.opType === 'Concat');
  assert.ok(concats.length >= 2, 'split into a chain');
  for (const c of concats) {
    assert.ok(c.inputs.length <= MAX_CONCAT_INPUTS, `${c.name} has ${c.inputs.length} inputs`);
    assert.deepEqual(c.attributes, [attr.int('axis', 1)], `${c.name} keeps the axis`);
  }
  assert.equal(MAX_CONCAT_INPUTS, 7, 'inputs + output within WebGPU\'s 8 storage buffers');
  assert.equal(concats.at(-1)?.outputs[0], 'joined', 'the last link writes the original output');
  // Every original input is used exactly once, in order.
  const leaves = concats.flatMap((c) => c.inputs).filter((i) => /^x\d$/.test(i));
  assert.deepEqual(leaves, Array.from({ length: 10 }, (_, i) => `x${i}`));

  const h = 3, w = 5;
  const feeds = Object.fromEntries(Array.from({ length: 10 }, (_, i) => {
    const data = Float32Array.from({ length: (i + 1) * h * w }, (_, k) => Math.sin(k * 12.9898 + i * 78.233) * 437.5);
    return [`x${i}`, new ort.Tensor('float32', data, [1, i + 1, h, w])];
  }));
  const before = await run(tenInputGraph(wideConcat), feeds);
  const after = await run(tenInputGraph(nodes), feeds);
  assert.equal(before.length, 55 * h * w);
  assert.ok(Buffer.from(after.buffer, after.byteOffset, after.byteLength).equals(Buffer.from(before.buffer, before.byteOffset, before.byteLength)), 'outputs differ');
  // And the inputs really are all in the output: channel 0 is x0 doubled, the last channel is x9's last plane doubled.
  assert.equal(after[0], 2 * (feeds.x0.data as Float32Array)[0]);
  assert.equal(after[after.length - 1], 2 * (feeds.x9.data as Float32Array).at(-1)!);
});

test('narrow Concats and other ops are left as they are; any width splits within the limit', () => {
  const narrow: NodeSpec[] = [{ opType: 'Concat', name: 'c', inputs: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], outputs: ['o'], attributes: [attr.int('axis', 1)] }];
  assert.deepEqual(splitWideConcats(narrow), { nodes: narrow, split: 0 });
  for (let n = 2; n <= 40; n++) {
    for (const limit of [2, 3, 7]) {
      const node: NodeSpec = { opType: 'Concat', name: 'c', inputs: Array.from({ length: n }, (_, i) => `i${i}`), outputs: ['o'], attributes: [attr.int('axis', 0)] };
      const { nodes } = splitWideConcats([node], limit);
      assert.ok(nodes.every((c) => c.inputs.length <= limit && c.inputs.length >= 2), `n=${n} limit=${limit}`);
      // Producers come before their consumers and the leaves keep their order.
      const made = new Set<string>();
      for (const c of nodes) {
        for (const i of c.inputs) if (!i.startsWith('i')) assert.ok(made.has(i), `n=${n}: ${i} used before it is made`);
        made.add(c.outputs[0]);
      }
      assert.deepEqual(nodes.flatMap((c) => c.inputs).filter((i) => /^i\d+$/.test(i)), node.inputs);
      assert.equal(nodes.at(-1)?.outputs[0], 'o');
    }
  }
});

test('no converted ESRGAN graph has a Concat wider than one WebGPU kernel allows', () => {
  for (const variant of ESRGAN_VARIANTS) {
    for (const scale of ESRGAN_SCALES) {
      const { graph } = esrganGraph(describeEsrganModel(variant, scale));
      const widest = Math.max(...graph.nodes.filter((n) => n.opType === 'Concat').map((n) => n.inputs.length));
      assert.ok(widest <= MAX_CONCAT_INPUTS, `esrgan-${variant}-x${scale}: a Concat with ${widest} inputs`);
    }
  }
});
