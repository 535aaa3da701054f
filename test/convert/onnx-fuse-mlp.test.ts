// The converter's MLP rewrites (models/convert/onnx-fuse-mlp.ts) on a small graph spelled as jax2tf spells MAXIM:
// a tanh GELU, then a block gating unit and a grid gating unit (Transpose → MatMul → Add → Transpose). After the
// rewrites the graph computes the same on onnxruntime-node, has no transposes left, and onnxruntime's optimiser fuses
// the GELU into com.microsoft FastGelu (which it does not do for the jax form): the point of the rewrite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { attr, encodeModel, type InitializerSpec, type ModelSpec, type NodeSpec } from '../../models/convert/onnx-proto.ts';
import { GELU_C, GELU_K, gatingWithoutTransposes, geluAsPow } from '../../models/convert/onnx-fuse-mlp.ts';
import { Rng } from '../../worker/random.ts';

const SHAPE = [1, 8, 4, 6]; // [n, A, B, C]
const rng = new Rng(11);
const scalar = (name: string, v: number): InitializerSpec => ({ name, dims: [], data: Float32Array.of(v) });
const matrix = (name: string, dims: number[]): InitializerSpec => ({ name, dims, data: rng.normals(dims.reduce((a, b) => a * b, 1)) });
const n = (opType: string, inputs: string[], output: string, attributes: NodeSpec['attributes'] = []): NodeSpec => ({ opType, name: output, inputs, outputs: [output], attributes });

function jaxStyleModel(): ModelSpec {
  const nodes: NodeSpec[] = [
    // 0.5x · (1 + tanh(k · (x + (c·x)·(x·x))))
    n('Mul', ['c', 'input'], 'cx'),
    n('Mul', ['input', 'input'], 'xx'),
    n('Mul', ['cx', 'xx'], 'cube'),
    n('Add', ['input', 'cube'], 'inner'),
    n('Mul', ['inner', 'k'], 'scaled'),
    n('Tanh', ['scaled'], 'tanh'),
    n('Add', ['tanh', 'one'], 'plus1'),
    n('Mul', ['half', 'input'], 'halfx'),
    n('Mul', ['halfx', 'plus1'], 'gelu'),
    // Block unit: mixes B (axis 2).
    n('Transpose', ['gelu'], 'block/t1', [attr.ints('perm', [0, 1, 3, 2])]),
    n('MatMul', ['block/t1', 'block/w'], 'block/mm'),
    n('Add', ['block/mm', 'block/b'], 'block/add'),
    n('Transpose', ['block/add'], 'block', [attr.ints('perm', [0, 1, 3, 2])]),
    // Grid unit: mixes A (axis 1).
    n('Transpose', ['block'], 'grid/t1', [attr.ints('perm', [0, 3, 2, 1])]),
    n('MatMul', ['grid/t1', 'grid/w'], 'grid/mm'),
    n('Add', ['grid/mm', 'grid/b'], 'grid/add'),
    n('Transpose', ['grid/add'], 'output', [attr.ints('perm', [0, 3, 2, 1])]),
  ];
  const initializers = [
    scalar('c', GELU_C), scalar('k', GELU_K), scalar('one', 1), scalar('half', 0.5),
    matrix('block/w', [4, 4]), matrix('block/b', [4]), matrix('grid/w', [8, 8]), matrix('grid/b', [8]),
  ];
  return {
    producerName: 'test', producerVersion: '1',
    graph: { name: 'mlp', nodes, initializers, inputs: [{ name: 'input', elemType: 'float32', shape: SHAPE }], outputs: [{ name: 'output', elemType: 'float32', shape: SHAPE }] },
  };
}

/** Runs `model` on `x`; also returns the op types in onnxruntime's optimised graph (written to a file and read). */
async function run(model: ModelSpec, x: Float32Array): Promise<{ y: Float32Array; optimised: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fuse-mlp-'));
  try {
    const optimizedModelFilePath = join(dir, 'optimised.onnx');
    const session = await ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'all', optimizedModelFilePath });
    const { output } = await session.run({ input: new ort.Tensor('float32', x, SHAPE) });
    await session.release();
    return { y: output.data as Float32Array, optimised: readFileSync(optimizedModelFilePath).toString('latin1') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('GELU and both gating units are rewritten, compute the same, lose their transposes, and the GELU becomes FastGelu', async () => {
  const before = jaxStyleModel();
  const gelus = geluAsPow(before.graph, ['output']);
  const gating = gatingWithoutTransposes(gelus.graph, ['output'], new Map([['gelu', SHAPE], ['block', SHAPE]]));
  assert.equal(gelus.rewritten, 1);
  assert.equal(gating.rewritten, 2);
  const after: ModelSpec = { ...before, graph: { ...before.graph, ...gating.graph } };
  assert.equal(after.graph.nodes.filter((x) => x.opType === 'Transpose').length, 0, 'no transposes left');
  assert.ok(after.graph.nodes.some((x) => x.opType === 'Pow'), 'x³ as Pow');

  const x = Float32Array.from(rng.normals(SHAPE.reduce((a, b) => a * b, 1)), (v) => 2 * v);
  const ref = await run(before, x);
  const got = await run(after, x);
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(ref.y[i] - got.y[i]));
  assert.ok(max < 1e-4, `max |rewritten − jax form| ${max}`);
  assert.ok(got.optimised.includes('FastGelu'), 'onnxruntime fuses the Pow form into FastGelu');
  assert.ok(!ref.optimised.includes('FastGelu'), 'onnxruntime does not fuse the jax form (else the rewrite is pointless)');
});

test('a transposed MatMul that is not a gating unit (the transpose back differs) is left alone', () => {
  const model = jaxStyleModel();
  const nodes = model.graph.nodes.map((x) => (x.name === 'output' ? { ...x, attributes: [attr.ints('perm', [0, 2, 3, 1])] } : x));
  const r = gatingWithoutTransposes({ nodes, initializers: model.graph.initializers }, ['output'], new Map([['gelu', SHAPE], ['block', SHAPE]]));
  assert.equal(r.rewritten, 1, 'only the block unit');
  assert.equal(r.graph.nodes.filter((x) => x.opType === 'Transpose').length, 2);
});
