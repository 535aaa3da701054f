// The TF.js graph-model converter, op family by op family: each case is a small TF graph run twice, by TF.js
// (tfjs 4.11, its own GraphModel executor, CPU backend) and converted to ONNX by models/convert/tfjs-graph.ts
// (onnxruntime-node). Every case runs both ways the converter handles a node: on run-time values (ONNX nodes)
// and on constants (folded here, then added to the input so the graph still depends on it).
//
//   node --import tsx --test test/convert/tfjs-graph.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { encodeModel } from '../../models/convert/onnx-proto.ts';
import { convertGraphModel, readGraphModel, type GraphModelJson, type TfAttr, type TfNode } from '../../models/convert/tfjs-graph.ts';
import { mulberry32 } from '../../worker/random.ts';

await tf.setBackend('cpu');

type Dt = 'float32' | 'int32';
interface ConstSpec { name: string; dtype: Dt; shape: number[]; values: number[] }

/** A seeded uniform generator in [lo, hi), so every run sees the same tensors. */
function random(seed: number): (lo?: number, hi?: number) => number {
  const uniform = mulberry32(seed);
  return (lo = -1, hi = 1) => lo + (hi - lo) * uniform();
}
const rnd = random(7);
const fill = (shape: number[], lo = -2, hi = 2): number[] => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rnd(lo, hi));

const enc = (s: string): string => Buffer.from(s).toString('base64');
const a = {
  T: (t: Dt | 'bool' = 'float32'): TfAttr => ({ type: { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' }[t] }),
  i: (v: number): TfAttr => ({ i: String(v) }),
  s: (v: string): TfAttr => ({ s: enc(v) }),
  b: (v: boolean): TfAttr => ({ b: v }),
  ints: (v: number[]): TfAttr => ({ list: { i: v.map(String) } }),
};

/** One graph: input `x` (float32, `inputShape`), constants, nodes; output `out` (float32). */
interface Case {
  inputShape: number[];
  consts: ConstSpec[];
  nodes: TfNode[];
}

function graphJson(c: Case): { json: GraphModelJson; weightData: ArrayBuffer } {
  const constNodes: TfNode[] = c.consts.map((k) => ({ name: k.name, op: 'Const', attr: { dtype: a.T(k.dtype), value: { tensor: {} } } }));
  const bytes = new Uint8Array(c.consts.reduce((n, k) => n + k.values.length * 4, 0));
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const k of c.consts) {
    for (const v of k.values) {
      if (k.dtype === 'float32') view.setFloat32(offset, v, true);
      else view.setInt32(offset, v, true);
      offset += 4;
    }
  }
  const json: GraphModelJson = {
    format: 'graph-model', generatedBy: 'test', convertedBy: 'test',
    signature: {
      inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT' } },
      outputs: { out: { name: 'out:0', dtype: 'DT_FLOAT' } },
    },
    modelTopology: {
      versions: { producer: 1395 },
      node: [{ name: 'x', op: 'Placeholder', attr: { dtype: a.T(), shape: { shape: { dim: c.inputShape.map(() => ({ size: '-1' })) } } } }, ...constNodes, ...c.nodes],
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: c.consts.map((k) => ({ name: k.name, shape: k.shape, dtype: k.dtype })) }],
  };
  return { json, weightData: bytes.buffer };
}

async function runTfjs(c: Case, input: Float32Array): Promise<{ data: Float32Array; shape: number[] }> {
  const { json, weightData } = graphJson(c);
  const model = await tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology as unknown as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weightsManifest[0].weights as tf.io.WeightsManifestEntry[],
      weightData, format: json.format, signature: json.signature as tf.io.ModelArtifacts['signature'],
    }),
  });
  const x = tf.tensor(input, c.inputShape);
  const y = model.execute(x) as tf.Tensor;
  const result = { data: (await y.data()) as Float32Array, shape: y.shape };
  tf.dispose([x, y]);
  model.dispose();
  return result;
}

async function runConverted(c: Case, input: Float32Array): Promise<{ data: Float32Array; shape: number[]; ops: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-graph-'));
  try {
    const { json, weightData } = graphJson(c);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(weightData));
    const { model, stats } = convertGraphModel(readGraphModel(join(dir, 'model.json')), { name: 'case', inputShape: c.inputShape });
    const session = await ort.InferenceSession.create(encodeModel(model));
    const { output } = await session.run({ input: new ort.Tensor('float32', input, c.inputShape) });
    await session.release();
    return { data: output.data as Float32Array, shape: output.dims.map(Number), ops: stats.ops };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** TF.js and the converted graph agree within `tol` (float32 rounding in different orders). */
async function check(c: Case, tol = 1e-5, inputRange: [number, number] = [-2, 2]): Promise<Record<string, number>> {
  const input = Float32Array.from(fill(c.inputShape, ...inputRange));
  const ref = await runTfjs(c, input);
  const got = await runConverted(c, input);
  assert.deepEqual(got.shape, ref.shape, 'output shape');
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(got.data[i] - ref.data[i]);
    if (!(d <= tol * Math.max(1, Math.abs(ref.data[i])))) assert.fail(`element ${i}: converted ${got.data[i]}, TF.js ${ref.data[i]} (tolerance ${tol})`);
    worst = Math.max(worst, d);
  }
  return got.ops;
}

const node = (name: string, op: string, input: string[], attr: Record<string, TfAttr> = {}): TfNode => ({ name, op, input, attr });
const c = (name: string, shape: number[], values: number[], dtype: Dt = 'float32'): ConstSpec => ({ name, dtype, shape, values });

/**
 * The same op twice: `build(p, q, ...)` on run-time operands (x and its transforms), and on constants whose
 * result is then added to x. `operands` are the shapes; the first operand at run time is x itself.
 */
async function bothWays(inputShape: number[], operands: { shape: number[]; values?: number[]; dtype?: Dt }[], build: (names: string[]) => TfNode[], tol = 1e-5, inputRange: [number, number] = [-2, 2]): Promise<void> {
  // Run time: operand 0 is x, the others constants.
  const rest = operands.slice(1).map((o, i) => c(`k${i + 1}`, o.shape, o.values ?? fill(o.shape), o.dtype));
  const ops = await check({ inputShape, consts: rest, nodes: build(['x', ...rest.map((k) => k.name)]) }, tol, inputRange);
  assert.ok(Object.keys(ops).length > 0, 'the run-time case emitted no ONNX op');
  // Folded: every operand constant; the op's result plus x.
  const all = operands.map((o, i) => c(`k${i}`, o.shape, o.values ?? fill(o.shape, ...inputRange), o.dtype));
  const nodes = build(all.map((k) => k.name));
  const last = nodes[nodes.length - 1];
  last.name = 'folded';
  nodes.push(node('out', 'AddV2', ['folded', 'x'], { T: a.T() }));
  await check({ inputShape, consts: all, nodes }, tol, inputRange);
}

test('elementwise arithmetic with broadcasting: AddV2 Sub Mul RealDiv Maximum Minimum', async () => {
  for (const op of ['AddV2', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum']) {
    await bothWays([2, 3, 4], [{ shape: [2, 3, 4] }, { shape: [3, 1], values: fill([3, 1], 0.5, 2) }], ([p, q]) => [node('out', op, [p, q], { T: a.T() })]);
  }
});

test('unary ops: Square Rsqrt Tanh Abs Neg Exp Reciprocal Floor Sign Identity', async () => {
  for (const op of ['Square', 'Rsqrt', 'Tanh', 'Abs', 'Neg', 'Exp', 'Reciprocal', 'Floor', 'Sign', 'Identity']) {
    const positive = op === 'Rsqrt' || op === 'Reciprocal';
    await bothWays([2, 5], [{ shape: [2, 5] }], ([p]) => [node('out', op, [p], { T: a.T() })], 2e-6, positive ? [0.25, 3] : [-3, 3]);
  }
});

test('comparisons, LogicalAnd, NotEqual and SelectV2', async () => {
  for (const cmp of ['GreaterEqual', 'LessEqual', 'Greater', 'Less', 'NotEqual']) {
    await bothWays([3, 4], [{ shape: [3, 4] }, { shape: [4], values: [0, -0.5, 0.5, 1] }, { shape: [3, 1] }], ([p, q, r]) => [
      node('cmp', cmp, [p, q], { T: a.T() }),
      node('cmp2', 'Less', [p, q], { T: a.T() }),
      node('both', 'LogicalAnd', ['cmp', 'cmp2']),
      node('out', 'SelectV2', ['both', p, r], { T: a.T() }),
    ]);
  }
});

test('Cast, FloorDiv and FloorMod on floats, and integer shape arithmetic folded from Shape', async () => {
  for (const op of ['FloorDiv', 'FloorMod']) {
    await bothWays([2, 6], [{ shape: [2, 6] }, { shape: [6], values: [1.5, -1.5, 2, -2, 0.75, 3] }], ([p, q]) => [node('out', op, [p, q], { T: a.T() })], 1e-5, [-5, 5]);
  }
  // float → int32 (truncates toward zero) → float: folded only (run-time integer ops are refused).
  await check({
    inputShape: [4], consts: [c('k', [4], [-2.7, -0.5, 0.5, 2.7])],
    nodes: [
      node('i', 'Cast', ['k'], { SrcT: a.T(), DstT: a.T('int32'), Truncate: a.b(false) }),
      node('f', 'Cast', ['i'], { SrcT: a.T('int32'), DstT: a.T(), Truncate: a.b(false) }),
      node('out', 'AddV2', ['f', 'x'], { T: a.T() }),
    ],
  });
  // Shape → StridedSlice(shrink) → int Mul/FloorDiv/FloorMod/Sign/Maximum → Pack → Reshape of x, and a Range.
  const I = a.T('int32');
  await check({
    inputShape: [2, 6, 4],
    consts: [c('b', [1], [1], 'int32'), c('e', [1], [2], 'int32'), c('s', [1], [1], 'int32'), c('two', [], [2], 'int32'), c('four', [], [4], 'int32'),
      c('r0', [], [0], 'int32'), c('r1', [], [1], 'int32'), c('neg', [], [-1], 'int32')],
    nodes: [
      node('shape', 'Shape', ['x'], { T: a.T(), out_type: I }),
      node('h', 'StridedSlice', ['shape', 'b', 'e', 's'], { T: I, Index: I, shrink_axis_mask: a.i(1), begin_mask: a.i(0), end_mask: a.i(0), ellipsis_mask: a.i(0), new_axis_mask: a.i(0) }),
      node('h2', 'FloorDiv', ['h', 'two'], { T: I }), // 3
      node('hm', 'FloorMod', ['neg', 'two'], { T: I }), // 1 (sign of the divisor)
      node('sg', 'Sign', ['neg'], { T: I }), // -1
      node('h3', 'Mul', ['h2', 'hm'], { T: I }), // 3
      node('w', 'Maximum', ['four', 'sg'], { T: I }), // 4
      node('dims', 'Pack', ['two', 'h3', 'sg', 'w'], { T: I, N: a.i(4), axis: a.i(0) }),
      node('rs', 'Reshape', ['x', 'dims'], { T: a.T(), Tshape: I }),
      node('range', 'Range', ['r0', 'four', 'r1'], { Tidx: I }),
      node('rangef', 'Cast', ['range'], { SrcT: I, DstT: a.T(), Truncate: a.b(false) }),
      node('out', 'Mul', ['rs', 'rangef'], { T: a.T() }),
    ],
  });
});

test('shape ops: Reshape Transpose ExpandDims Squeeze BroadcastTo Pack ConcatV2 GatherV2', async () => {
  const I = a.T('int32');
  const ints = (name: string, values: number[]): ConstSpec => c(name, [values.length], values, 'int32');
  const cases: { inputShape: number[]; consts: ConstSpec[]; nodes: (x: string) => TfNode[] }[] = [
    { inputShape: [2, 3, 4], consts: [ints('shape', [4, -1])], nodes: (x) => [node('out', 'Reshape', [x, 'shape'], { T: a.T(), Tshape: I })] },
    { inputShape: [2, 3, 4], consts: [ints('perm', [2, 0, 1])], nodes: (x) => [node('out', 'Transpose', [x, 'perm'], { T: a.T(), Tperm: I })] },
    { inputShape: [2, 3], consts: [c('dim', [], [-1], 'int32')], nodes: (x) => [node('out', 'ExpandDims', [x, 'dim'], { T: a.T(), Tdim: I })] },
    { inputShape: [2, 1, 3, 1], consts: [], nodes: (x) => [node('out', 'Squeeze', [x], { T: a.T(), squeeze_dims: a.ints([-1]) })] },
    { inputShape: [3, 1], consts: [ints('shape', [2, 3, 4])], nodes: (x) => [node('out', 'BroadcastTo', [x, 'shape'], { T: a.T(), Tidx: I })] },
    { inputShape: [2, 3], consts: [c('o', [2, 3], fill([2, 3]))], nodes: (x) => [node('out', 'Pack', [x, 'o', x], { T: a.T(), N: a.i(3), axis: a.i(1) })] },
    { inputShape: [2, 3], consts: [c('o', [2, 2], fill([2, 2])), c('axis', [], [-1], 'int32')], nodes: (x) => [node('out', 'ConcatV2', [x, 'o', 'axis'], { T: a.T(), N: a.i(2), Tidx: I })] },
    { inputShape: [4, 5], consts: [ints('idx', [4, 0, 0, 2]), c('axis', [], [1], 'int32')], nodes: (x) => [node('out', 'GatherV2', [x, 'idx', 'axis'], { Tparams: a.T(), Tindices: I, Taxis: I, batch_dims: a.i(0) })] },
  ];
  for (const k of cases) {
    await check({ inputShape: k.inputShape, consts: k.consts, nodes: k.nodes('x') });
    // Folded: the same op on a constant copy shaped like x.
    await check(foldedCase(k.inputShape, [...k.consts, c('xc', k.inputShape, fill(k.inputShape))], k.nodes('xc')));
  }
});

/** `nodes` computed on constants only, then plus 0·sum(x): the graph still depends on x, the op is folded. */
function foldedCase(inputShape: number[], consts: ConstSpec[], nodes: TfNode[]): Case {
  nodes[nodes.length - 1].name = 'folded';
  return {
    inputShape,
    consts: [...consts, c('allAxes', [inputShape.length], inputShape.map((_, i) => i), 'int32'), c('zeroScale', [], [0])],
    nodes: [
      ...nodes,
      node('sumX', 'Sum', ['x', 'allAxes'], { T: a.T(), Tidx: a.T('int32'), keep_dims: a.b(false) }),
      node('zeroX', 'Mul', ['sumX', 'zeroScale'], { T: a.T() }),
      node('out', 'AddV2', ['folded', 'zeroX'], { T: a.T() }),
    ],
  };
}

test('StridedSlice: begin/end/ellipsis/new-axis/shrink masks, negative indices and strides', async () => {
  const I = a.T('int32');
  const specs: { begin: number[]; end: number[]; strides: number[]; masks: Partial<Record<'begin_mask' | 'end_mask' | 'ellipsis_mask' | 'new_axis_mask' | 'shrink_axis_mask', number>> }[] = [
    { begin: [0, 1], end: [2, 4], strides: [1, 2], masks: {} },
    { begin: [1, 0], end: [0, -1], strides: [1, 1], masks: { end_mask: 1 } },
    { begin: [0, -1], end: [0, -6], strides: [1, -2], masks: { begin_mask: 1, end_mask: 1 } },
    { begin: [0, 2], end: [0, 3], strides: [1, 1], masks: { ellipsis_mask: 1, shrink_axis_mask: 2 } },
    { begin: [0, 0, 1], end: [0, 0, 3], strides: [1, 1, 1], masks: { new_axis_mask: 1, begin_mask: 2, end_mask: 2 } },
    { begin: [-1], end: [0], strides: [1], masks: { shrink_axis_mask: 1 } },
    { begin: [0, 0], end: [0, 0], strides: [1, -1], masks: { begin_mask: 3, end_mask: 3 } },
  ];
  for (const s of specs) {
    const consts = [c('b', [s.begin.length], s.begin, 'int32'), c('e', [s.end.length], s.end, 'int32'), c('s', [s.strides.length], s.strides, 'int32')];
    const attrs: Record<string, TfAttr> = { T: a.T(), Index: I };
    for (const m of ['begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask'] as const) attrs[m] = a.i(s.masks[m] ?? 0);
    await check({ inputShape: [3, 5, 4], consts, nodes: [node('out', 'StridedSlice', ['x', 'b', 'e', 's'], attrs)] });
    await check(foldedCase([2, 2], [...consts, c('xc', [3, 5, 4], fill([3, 5, 4]))], [node('sl', 'StridedSlice', ['xc', 'b', 'e', 's'], attrs)]));
  }
});

test('Sum with and without keep_dims', async () => {
  const I = a.T('int32');
  for (const keep of [true, false]) {
    await check({ inputShape: [2, 3, 4], consts: [c('axes', [2], [0, -1], 'int32')], nodes: [node('out', 'Sum', ['x', 'axes'], { T: a.T(), Tidx: I, keep_dims: a.b(keep) })] });
  }
});

test('Einsum: the dense layer, spatial-gating and resize-matrix contractions of the MAXIM graphs', async () => {
  const cases = [
    { eq: 'abcg,gf->abcf', x: [1, 3, 4, 5], m: [5, 6], matrixFirst: false },
    { eq: 'abgd,gf->abdf', x: [1, 2, 4, 3], m: [4, 5], matrixFirst: false },
    { eq: 'gb,cgef->bcef', x: [2, 4, 3, 3], m: [4, 6], matrixFirst: true },
  ];
  for (const k of cases) {
    const consts = [c('m', k.m, fill(k.m))];
    const inputs = k.matrixFirst ? ['m', 'x'] : ['x', 'm'];
    const ops = await check({ inputShape: k.x, consts, nodes: [node('out', 'Einsum', inputs, { T: a.T(), N: a.i(2), equation: a.s(k.eq) })] }, 1e-5);
    assert.equal(ops.MatMul, 1, `${k.eq} becomes one MatMul`);
    assert.equal(ops.Einsum, undefined);
  }
});

test('Conv2D (SAME, VALID, strided, dilated) and Conv2DBackpropInput (stride 2, VALID and SAME)', async () => {
  const I = a.T('int32');
  const convAttrs = (padding: string, strides: number[], dilations = [1, 1, 1, 1]): Record<string, TfAttr> => ({
    T: a.T(), data_format: a.s('NHWC'), padding: a.s(padding), strides: a.ints(strides), dilations: a.ints(dilations),
    explicit_paddings: { list: {} }, use_cudnn_on_gpu: a.b(true),
  });
  const convs = [
    { input: [1, 7, 6, 3], filter: [3, 3, 3, 4], attrs: convAttrs('SAME', [1, 1, 1, 1]) },
    { input: [1, 7, 6, 3], filter: [3, 3, 3, 4], attrs: convAttrs('SAME', [1, 2, 2, 1]) },
    { input: [1, 8, 8, 2], filter: [3, 2, 2, 3], attrs: convAttrs('VALID', [1, 1, 2, 1]) },
    { input: [1, 9, 9, 2], filter: [3, 3, 2, 2], attrs: convAttrs('SAME', [1, 1, 1, 1], [1, 2, 2, 1]) },
    { input: [1, 5, 4, 6], filter: [1, 1, 6, 3], attrs: convAttrs('SAME', [1, 1, 1, 1]) }, // 1×1: a MatMul over channels
    { input: [1, 6, 6, 2], filter: [1, 1, 2, 3], attrs: convAttrs('VALID', [1, 2, 2, 1]) }, // 1×1 strided: a real Conv
  ];
  for (const k of convs) {
    const ops = await check({ inputShape: k.input, consts: [c('w', k.filter, fill(k.filter))], nodes: [node('out', 'Conv2D', ['x', 'w'], k.attrs)] }, 1e-5);
    const pointwise = k.filter[0] === 1 && k.filter[1] === 1 && k.attrs.strides.list!.i!.every((s) => Number(s) === 1);
    assert.deepEqual([ops.Conv ?? 0, ops.MatMul ?? 0], pointwise ? [0, 1] : [1, 0]);
  }
  const transposed = [
    { input: [1, 3, 4, 4], filter: [2, 2, 3, 4], sizes: [1, 6, 8, 3], padding: 'VALID' },
    { input: [1, 3, 4, 2], filter: [3, 3, 5, 2], sizes: [1, 6, 8, 5], padding: 'SAME' },
    { input: [1, 3, 3, 2], filter: [3, 3, 2, 2], sizes: [1, 5, 5, 2], padding: 'SAME' },
  ];
  for (const k of transposed) {
    const ops = await check({
      inputShape: k.input,
      consts: [c('sizes', [4], k.sizes, 'int32'), c('w', k.filter, fill(k.filter))],
      nodes: [node('out', 'Conv2DBackpropInput', ['sizes', 'w', 'x'], { ...convAttrs(k.padding, [1, 2, 2, 1]), Tidx: I })],
    }, 1e-5);
    assert.equal(ops.ConvTranspose, 1);
  }
});

test('an op the converter does not know fails with the op and node named', async () => {
  await assert.rejects(
    runConverted({ inputShape: [2], consts: [], nodes: [node('out', 'Softplus', ['x'], { T: a.T() })] }, new Float32Array(2)),
    /Softplus node out: TF op Softplus is not supported/,
  );
});
