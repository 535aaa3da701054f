// TF ops → folded constants or ONNX nodes (opset 17). Each handler gets the node's input values (shapes always
// known) and returns its output: evaluated here when every input is known, else emitted as ONNX nodes.
// Semantics follow TensorFlow's op definitions (tensorflow/core/ops/*.cc); NHWC convolutions are wrapped in
// transposes, which onnxruntime's transpose optimizer moves and cancels.

import { attr, type Attribute } from './onnx-proto.ts';
import {
  applySlice, broadcastShapes, broadcastTo, concat, elementwise, gather, isConst, normaliseAxis, reduceSum,
  resolveStridedSlice, sizeOf, transpose, type DType, type Value, type ValueData,
} from './tf-values.ts';
import { attrs, describe, type TfNode } from './tfjs-graph.ts';

export interface OpContext {
  emit(tfNode: string, opType: string, inputs: string[], shape: number[], dtype: DType, attributes?: Attribute[], suffix?: string): Value;
  /** The ONNX name of a value (an initializer for a constant). */
  tensor(v: Value, hint?: string): string;
  int64(values: readonly number[], hint?: string): string;
  /** True when every input is constant and folding would not create a large new constant. */
  mayFold(outShape: readonly number[], inputs: readonly Value[]): boolean;
}

export type OpHandler = (node: TfNode, inputs: Value[], ctx: OpContext) => Value;

type Known = Value & { data: ValueData };

/** The values of a constant int input (shapes, axes, perms). */
function ints(node: TfNode, v: Value, what: string): number[] {
  if (!isConst(v)) throw new Error(`${what} of ${describe(node)} depends on the input; only constant ${what}s are supported`);
  return Array.from(v.data);
}

function expectInputs(node: TfNode, inputs: Value[], count: number): void {
  if (inputs.length !== count) throw new Error(`expected ${count} inputs, got ${inputs.length}`);
}

// ---- Elementwise ----------------------------------------------------------------------------------------

/** Float results are rounded to float32 by the Float32Array they are stored in; ints wrap as int32. */
const BINARY: Record<string, { onnx: string; fold: (a: number, b: number) => number; bool?: boolean }> = {
  AddV2: { onnx: 'Add', fold: (a, b) => a + b },
  Sub: { onnx: 'Sub', fold: (a, b) => a - b },
  Mul: { onnx: 'Mul', fold: (a, b) => a * b },
  Maximum: { onnx: 'Max', fold: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)) },
  Minimum: { onnx: 'Min', fold: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)) },
  GreaterEqual: { onnx: 'GreaterOrEqual', fold: (a, b) => +(a >= b), bool: true },
  LessEqual: { onnx: 'LessOrEqual', fold: (a, b) => +(a <= b), bool: true },
  Greater: { onnx: 'Greater', fold: (a, b) => +(a > b), bool: true },
  Less: { onnx: 'Less', fold: (a, b) => +(a < b), bool: true },
  NotEqual: { onnx: 'Equal', fold: (a, b) => +(a !== b), bool: true }, // emitted as Not(Equal)
  LogicalAnd: { onnx: 'And', fold: (a, b) => +(a !== 0 && b !== 0), bool: true },
};

function binary(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const spec = BINARY[node.op];
  const [a, b] = inputs;
  const shape = broadcastShapes(a.shape, b.shape, describe(node));
  const dtype: DType = spec.bool ? 'bool' : a.dtype;
  if (ctx.mayFold(shape, inputs)) return elementwise([a as Known, b as Known], dtype, spec.fold, describe(node));
  if (a.dtype !== 'float32' && !spec.bool && node.op !== 'LogicalAnd') {
    throw new Error(`integer ${node.op} on run-time values is not supported`);
  }
  const out = ctx.emit(node.name, spec.onnx, [ctx.tensor(a), ctx.tensor(b)], shape, dtype);
  return node.op === 'NotEqual' ? ctx.emit(node.name, 'Not', [out.onnx!], shape, 'bool', [], '/not') : out;
}

function divide(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const [a, b] = inputs;
  const shape = broadcastShapes(a.shape, b.shape, describe(node));
  const integer = a.dtype === 'int32';
  if (ctx.mayFold(shape, inputs)) {
    switch (node.op) {
      case 'RealDiv': return elementwise([a as Known, b as Known], a.dtype, integer ? (x, y) => Math.trunc(x / y) : (x, y) => x / y, describe(node));
      case 'FloorDiv': return elementwise([a as Known, b as Known], a.dtype, (x, y) => Math.floor(x / y), describe(node));
      default: // FloorMod: the sign of the divisor, as Python's %
        return elementwise([a as Known, b as Known], a.dtype, (x, y) => x - Math.floor(x / y) * y, describe(node));
    }
  }
  if (integer) throw new Error(`integer ${node.op} on run-time values is not supported`);
  const q = ctx.emit(node.name, 'Div', [ctx.tensor(a), ctx.tensor(b)], shape, 'float32');
  if (node.op === 'RealDiv') return q;
  const floor = ctx.emit(node.name, 'Floor', [q.onnx!], shape, 'float32', [], '/floor');
  if (node.op === 'FloorDiv') return floor;
  const prod = ctx.emit(node.name, 'Mul', [floor.onnx!, ctx.tensor(b)], shape, 'float32', [], '/mul');
  return ctx.emit(node.name, 'Sub', [ctx.tensor(a), prod.onnx!], shape, 'float32', [], '/mod');
}

const UNARY: Record<string, { fold: (x: number) => number; emit: (ctx: OpContext, node: TfNode, x: Value) => Value }> = {
  Square: { fold: (x) => x * x, emit: (ctx, node, x) => ctx.emit(node.name, 'Mul', [x.onnx!, x.onnx!], x.shape, x.dtype) },
  Rsqrt: {
    fold: (x) => 1 / Math.sqrt(x),
    emit: (ctx, node, x) => {
      const s = ctx.emit(node.name, 'Sqrt', [x.onnx!], x.shape, x.dtype, [], '/sqrt');
      return ctx.emit(node.name, 'Reciprocal', [s.onnx!], x.shape, x.dtype);
    },
  },
  Tanh: { fold: (x) => Math.tanh(x), emit: (ctx, node, x) => ctx.emit(node.name, 'Tanh', [x.onnx!], x.shape, x.dtype) },
  Abs: { fold: (x) => Math.abs(x), emit: (ctx, node, x) => ctx.emit(node.name, 'Abs', [x.onnx!], x.shape, x.dtype) },
  Neg: { fold: (x) => -x, emit: (ctx, node, x) => ctx.emit(node.name, 'Neg', [x.onnx!], x.shape, x.dtype) },
  Exp: { fold: (x) => Math.exp(x), emit: (ctx, node, x) => ctx.emit(node.name, 'Exp', [x.onnx!], x.shape, x.dtype) },
  Reciprocal: { fold: (x) => 1 / x, emit: (ctx, node, x) => ctx.emit(node.name, 'Reciprocal', [x.onnx!], x.shape, x.dtype) },
  Floor: { fold: (x) => Math.floor(x), emit: (ctx, node, x) => ctx.emit(node.name, 'Floor', [x.onnx!], x.shape, x.dtype) },
  Sign: { fold: (x) => (Number.isNaN(x) ? NaN : Math.sign(x) + 0), emit: (ctx, node, x) => ctx.emit(node.name, 'Sign', [x.onnx!], x.shape, x.dtype) },
  Identity: { fold: (x) => x, emit: (_ctx, _node, x) => x },
};

function unary(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 1);
  const spec = UNARY[node.op];
  const [x] = inputs;
  if (node.op === 'Identity') return x;
  if (ctx.mayFold(x.shape, inputs)) {
    const integerFold = x.dtype === 'int32' && node.op === 'Reciprocal' ? (v: number) => Math.trunc(1 / v) : spec.fold;
    return elementwise([x as Known], x.dtype, integerFold, describe(node));
  }
  if (x.dtype !== 'float32') throw new Error(`${node.op} on run-time ${x.dtype} values is not supported`);
  return spec.emit(ctx, node, x);
}

function cast(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 1);
  const [x] = inputs;
  const to = attrs.dtype(node, 'DstT');
  if (x.dtype === to) return x;
  if (ctx.mayFold(x.shape, inputs)) {
    // float → int truncates toward zero (TF's static_cast); anything → bool is "not zero".
    const f = to === 'int32' ? (v: number) => Math.trunc(v) : to === 'bool' ? (v: number) => +(v !== 0) : (v: number) => v;
    return elementwise([x as Known], to, f, describe(node));
  }
  const onnxType = { float32: 1, int32: 6, bool: 9 }[to];
  return ctx.emit(node.name, 'Cast', [x.onnx!], x.shape, to, [attr.int('to', onnxType)]);
}

function selectV2(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 3);
  const [cond, a, b] = inputs;
  const shape = [cond.shape, a.shape, b.shape].reduce((x, y) => broadcastShapes(x, y, describe(node)));
  if (ctx.mayFold(shape, inputs)) return elementwise([cond as Known, a as Known, b as Known], a.dtype, (c, x, y) => (c ? x : y), describe(node));
  return ctx.emit(node.name, 'Where', [ctx.tensor(cond), ctx.tensor(a), ctx.tensor(b)], shape, a.dtype);
}

// ---- Shapes ---------------------------------------------------------------------------------------------

function reshapeTo(node: TfNode, x: Value, shape: number[], ctx: OpContext, suffix = ''): Value {
  if (sizeOf(shape) !== sizeOf(x.shape)) throw new Error(`cannot reshape [${x.shape}] to [${shape}]`);
  if (isConst(x)) return { dtype: x.dtype, shape, data: x.data };
  if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
  return ctx.emit(node.name, 'Reshape', [x.onnx!, ctx.int64(shape)], shape, x.dtype, [], suffix);
}

function reshape(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const [x, s] = inputs;
  const dims = ints(node, s, 'shape');
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const shape = dims.map((d) => (d === -1 ? sizeOf(x.shape) / known : d));
  return reshapeTo(node, x, shape, ctx);
}

function expandDims(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const [x, d] = inputs;
  const [dim] = ints(node, d, 'axis');
  const axis = normaliseAxis(dim, x.shape.length + 1, describe(node));
  return reshapeTo(node, x, [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)], ctx);
}

function squeeze(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 1);
  const [x] = inputs;
  const given = attrs.ints(node, 'squeeze_dims').map((a) => normaliseAxis(a, x.shape.length, describe(node)));
  const axes = given.length ? given : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (x.shape[a] !== 1) throw new Error(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
  return reshapeTo(node, x, x.shape.filter((_, i) => !axes.includes(i)), ctx);
}

function shapeOf(node: TfNode, inputs: Value[]): Value {
  const [x] = inputs;
  if (node.attr?.out_type && attrs.dtype(node, 'out_type') !== 'int32') throw new Error('only int32 Shape is supported');
  return { dtype: 'int32', shape: [x.shape.length], data: Int32Array.from(x.shape) };
}

function transposeOp(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const [x, p] = inputs;
  const perm = ints(node, p, 'perm');
  if (isConst(x)) return transpose(x, perm);
  return ctx.emit(node.name, 'Transpose', [x.onnx!], perm.map((i) => x.shape[i]), x.dtype, [attr.ints('perm', perm)]);
}

function broadcastToOp(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const [x, s] = inputs;
  const shape = ints(node, s, 'shape');
  const out = broadcastShapes(x.shape, shape, describe(node));
  if (out.length !== shape.length || out.some((d, i) => d !== shape[i])) throw new Error(`cannot broadcast [${x.shape}] to [${shape}]`);
  if (ctx.mayFold(shape, [x])) return broadcastTo(x as Known, shape);
  if (sizeOf(x.shape) === sizeOf(shape)) return reshapeTo(node, x, shape, ctx);
  return ctx.emit(node.name, 'Expand', [ctx.tensor(x), ctx.int64(shape)], shape, x.dtype);
}

function pack(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  const axis = normaliseAxis(attrs.int(node, 'axis', 0), inputs[0].shape.length + 1, describe(node));
  const expanded = inputs.map((v, i) => reshapeTo(node, v, [...v.shape.slice(0, axis), 1, ...v.shape.slice(axis)], ctx, `/unsqueeze${i}`));
  return concatValues(node, expanded, axis, ctx);
}

function concatV2(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  const parts = inputs.slice(0, -1);
  const [axisValue] = ints(node, inputs[inputs.length - 1], 'axis');
  return concatValues(node, parts, normaliseAxis(axisValue, parts[0].shape.length, describe(node)), ctx);
}

function concatValues(node: TfNode, parts: Value[], axis: number, ctx: OpContext): Value {
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((n, v) => n + v.shape[axis], 0);
  for (const p of parts) {
    if (p.shape.length !== shape.length || p.shape.some((d, i) => i !== axis && d !== shape[i])) throw new Error(`cannot concatenate [${p.shape}] with [${parts[0].shape}] on axis ${axis}`);
  }
  if (parts.every(isConst)) return concat(parts as Known[], axis);
  if (parts.length === 1) return parts[0];
  return ctx.emit(node.name, 'Concat', parts.map((p) => ctx.tensor(p)), shape, parts[0].dtype, [attr.int('axis', axis)]);
}

function stridedSlice(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 4);
  const [x, b, e, s] = inputs;
  const slice = resolveStridedSlice(x.shape, ints(node, b, 'begin'), ints(node, e, 'end'), ints(node, s, 'strides'), {
    begin: attrs.int(node, 'begin_mask', 0), end: attrs.int(node, 'end_mask', 0), ellipsis: attrs.int(node, 'ellipsis_mask', 0),
    newAxis: attrs.int(node, 'new_axis_mask', 0), shrinkAxis: attrs.int(node, 'shrink_axis_mask', 0),
  });
  if (isConst(x)) return applySlice(x, slice);
  const axes: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  slice.slicedShape.forEach((d, a) => {
    if (d === x.shape[a] && slice.steps[a] === 1) return; // whole axis
    axes.push(a);
    starts.push(slice.starts[a]);
    // ONNX clamps an end of -1 to "before 0" only when written as a very negative number.
    ends.push(slice.ends[a] === -1 && slice.steps[a] < 0 ? -(2 ** 31) : slice.ends[a]);
    steps.push(slice.steps[a]);
  });
  let out: Value = x;
  if (axes.length) {
    out = ctx.emit(node.name, 'Slice', [x.onnx!, ctx.int64(starts), ctx.int64(ends), ctx.int64(axes), ctx.int64(steps)], slice.slicedShape, x.dtype, [], '/slice');
  }
  return reshapeTo(node, out, slice.shape, ctx);
}

function gatherV2(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 3);
  const [x, indices, a] = inputs;
  if (attrs.int(node, 'batch_dims', 0) !== 0) throw new Error('GatherV2 with batch_dims is not supported');
  const axis = normaliseAxis(ints(node, a, 'axis')[0], x.shape.length, describe(node));
  if (isConst(x) && isConst(indices)) return gather(x, indices, axis);
  if (!isConst(indices)) throw new Error('run-time gather indices are not supported');
  for (const i of indices.data) if (i < 0 || i >= x.shape[axis]) throw new Error(`index ${i} out of range for axis of size ${x.shape[axis]}`);
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  return ctx.emit(node.name, 'Gather', [ctx.tensor(x), ctx.tensor(indices)], shape, x.dtype, [attr.int('axis', axis)]);
}

function range(node: TfNode, inputs: Value[]): Value {
  expectInputs(node, inputs, 3);
  const [start, limit, delta] = inputs.map((v) => ints(node, v, 'range bound')[0]);
  const count = Math.max(0, Math.ceil((limit - start) / delta));
  const data = Array.from({ length: count }, (_, i) => start + i * delta);
  const dtype = inputs[0].dtype;
  const out = dtype === 'float32' ? Float32Array.from(data) : Int32Array.from(data);
  return { dtype, shape: [count], data: out };
}

function sum(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const [x, a] = inputs;
  const axes = [...new Set(ints(node, a, 'axis').map((v) => normaliseAxis(v, x.shape.length, describe(node))))].sort();
  const keep = attrs.bool(node, 'keep_dims');
  if (isConst(x)) return reduceSum(x, axes, keep);
  const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return ctx.emit(node.name, 'ReduceSum', [x.onnx!, ctx.int64(axes)], shape, x.dtype, [attr.int('keepdims', keep ? 1 : 0)]);
}

// ---- Contractions ---------------------------------------------------------------------------------------

/**
 * Two-operand Einsum whose operands share one contracted index and no batch index (the MAXIM graphs' dense
 * layers, spatial gating and resize matrices): a transpose of the run-time operand, one MatMul with the other
 * (a [contracted, free] matrix), and a transpose into the output order.
 */
function einsum(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const equation = attrs.string(node, 'equation').replace(/\s/g, '');
  const m = /^([a-z]+),([a-z]+)->([a-z]*)$/.exec(equation);
  if (!m) throw new Error(`equation "${equation}" is not supported (two operands, explicit output)`);
  const [, lhs, rhs, out] = m;
  for (const [term, v] of [[lhs, inputs[0]], [rhs, inputs[1]]] as const) {
    if (term.length !== v.shape.length || new Set(term).size !== term.length) throw new Error(`equation "${equation}" does not fit operand shape [${v.shape}]`);
  }
  const contracted = [...lhs].filter((c) => rhs.includes(c) && !out.includes(c));
  const shared = [...lhs].filter((c) => rhs.includes(c) && out.includes(c));
  if (contracted.length !== 1 || shared.length) throw new Error(`equation "${equation}" is not supported (exactly one contracted index and no batch index)`);
  const [k] = contracted;
  // The matrix operand: rank 2. Prefer the constant one when both are.
  const candidates = [0, 1].filter((i) => inputs[i].shape.length === 2);
  if (!candidates.length) throw new Error(`equation "${equation}": neither operand is a matrix`);
  const mi = candidates.find((i) => isConst(inputs[i])) ?? candidates[0];
  const xi = 1 - mi;
  const [mTerm, xTerm] = mi === 0 ? [lhs, rhs] : [rhs, lhs];
  const matrix = inputs[mi];
  const x = inputs[xi];
  const f = [...mTerm].find((c) => c !== k)!;
  const dims = new Map<string, number>();
  [...xTerm].forEach((c, i) => dims.set(c, x.shape[i]));
  [...mTerm].forEach((c, i) => {
    if (dims.has(c) && dims.get(c) !== matrix.shape[i]) throw new Error(`index ${c} has sizes ${dims.get(c)} and ${matrix.shape[i]}`);
    dims.set(c, matrix.shape[i]);
  });
  const outShape = [...out].map((c) => dims.get(c)!);
  if (isConst(x) && isConst(matrix)) throw new Error('constant Einsum is not supported (fold it upstream)');
  // x' = x with k moved last; y = x' · M[k,f] has indices (x free..., f).
  const xFree = [...xTerm].filter((c) => c !== k);
  const xPerm = [...xFree, k].map((c) => xTerm.indexOf(c));
  let xs: Value = x;
  if (xPerm.some((p, i) => p !== i)) xs = ctx.emit(node.name, 'Transpose', [x.onnx!], xPerm.map((p) => x.shape[p]), x.dtype, [attr.ints('perm', xPerm)], '/lhs');
  const mat = mTerm[0] === k ? matrix : isConst(matrix) ? transpose(matrix, [1, 0]) : ctx.emit(node.name, 'Transpose', [matrix.onnx!], [matrix.shape[1], matrix.shape[0]], matrix.dtype, [attr.ints('perm', [1, 0])], '/rhs');
  const yTerm = [...xFree, f];
  const y = ctx.emit(node.name, 'MatMul', [ctx.tensor(xs), ctx.tensor(mat, `${node.name}/matrix`)], yTerm.map((c) => dims.get(c)!), x.dtype, [], '/matmul');
  const outPerm = [...out].map((c) => yTerm.indexOf(c));
  if (outPerm.some((p) => p < 0)) throw new Error(`equation "${equation}": output index missing from the operands`);
  if (outPerm.every((p, i) => p === i)) return y;
  return ctx.emit(node.name, 'Transpose', [y.onnx!], outShape, x.dtype, [attr.ints('perm', outPerm)]);
}

/** TF 'SAME' padding for one spatial axis: [before, after]. */
function samePadding(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max(0, (outSize - 1) * stride + effective - inSize);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function convGeometry(node: TfNode, spatial: [number, number], kernel: [number, number]): { strides: number[]; dilations: number[]; pads: number[] } {
  if (attrs.string(node, 'data_format') !== 'NHWC') throw new Error('only NHWC convolutions are supported');
  const strides = attrs.ints(node, 'strides');
  const dilations = attrs.ints(node, 'dilations');
  const s = [strides[1] ?? 1, strides[2] ?? 1];
  const d = dilations.length ? [dilations[1], dilations[2]] : [1, 1];
  if (strides[0] !== 1 || strides[3] !== 1) throw new Error('strides over batch or channels are not supported');
  const padding = attrs.string(node, 'padding');
  let pads: number[];
  if (padding === 'VALID') pads = [0, 0, 0, 0];
  else if (padding === 'SAME') {
    const [t, bottom] = samePadding(spatial[0], kernel[0], s[0], d[0]);
    const [l, r] = samePadding(spatial[1], kernel[1], s[1], d[1]);
    pads = [t, l, bottom, r];
  } else if (padding === 'EXPLICIT') {
    const p = attrs.ints(node, 'explicit_paddings');
    pads = [p[2], p[4], p[3], p[5]];
  } else throw new Error(`padding ${padding} is not supported`);
  return { strides: s, dilations: d, pads };
}

const toNchw = [0, 3, 1, 2];
const toNhwc = [0, 2, 3, 1];

function conv2d(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 2);
  const [x, w] = inputs;
  if (!isConst(w)) throw new Error('run-time convolution filters are not supported');
  const [kh, kw, cin, cout] = w.shape;
  const [n, h, wd, c] = x.shape;
  if (c !== cin) throw new Error(`input has ${c} channels, the filter expects ${cin}`);
  const g = convGeometry(node, [h, wd], [kh, kw]);
  const oh = Math.floor((h + g.pads[0] + g.pads[2] - ((kh - 1) * g.dilations[0] + 1)) / g.strides[0]) + 1;
  const ow = Math.floor((wd + g.pads[1] + g.pads[3] - ((kw - 1) * g.dilations[1] + 1)) / g.strides[1]) + 1;
  if (kh === 1 && kw === 1 && g.strides.every((s) => s === 1) && g.pads.every((p) => p === 0)) {
    // A 1×1 convolution mixes channels only: in NHWC that is a MatMul with [Cin, Cout], and needs no transposes.
    const matrix = { dtype: w.dtype, shape: [cin, cout], data: w.data };
    return ctx.emit(node.name, 'MatMul', [x.onnx!, ctx.tensor(matrix, `${node.name}/weight`)], [n, oh, ow, cout], 'float32');
  }
  const weight = transpose(w, [3, 2, 0, 1]); // HWIO → OIHW
  const xt = ctx.emit(node.name, 'Transpose', [x.onnx!], toNchw.map((p) => x.shape[p]), 'float32', [attr.ints('perm', toNchw)], '/nchw');
  const y = ctx.emit(node.name, 'Conv', [xt.onnx!, ctx.tensor(weight, `${node.name}/weight`)], [n, cout, oh, ow], 'float32', [
    attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', g.strides), attr.ints('dilations', g.dilations), attr.ints('pads', g.pads),
  ], '/conv');
  return ctx.emit(node.name, 'Transpose', [y.onnx!], [n, oh, ow, cout], 'float32', [attr.ints('perm', toNhwc)]);
}

/** Conv2DBackpropInput(input_sizes, filter, out_backprop): the transposed convolution. */
function conv2dTranspose(node: TfNode, inputs: Value[], ctx: OpContext): Value {
  expectInputs(node, inputs, 3);
  const [sizes, w, x] = inputs;
  if (!isConst(w)) throw new Error('run-time convolution filters are not supported');
  const [n, oh, ow, oc] = ints(node, sizes, 'input_sizes');
  const [kh, kw, fc, xc] = w.shape; // [h, w, result channels, out_backprop channels]
  if (fc !== oc || xc !== x.shape[3]) throw new Error(`filter [${w.shape}] does not fit result [${n},${oh},${ow},${oc}] and input [${x.shape}]`);
  const g = convGeometry(node, [oh, ow], [kh, kw]);
  // The forward convolution of the result would give x's size; its padding is what the transpose crops.
  const outputPadding = [0, 1].map((a) => {
    const span = (x.shape[1 + a] - 1) * g.strides[a] + (([kh, kw][a] - 1) * g.dilations[a] + 1) - g.pads[a] - g.pads[a + 2];
    return [oh, ow][a] - span;
  });
  if (outputPadding.some((p) => p < 0 || p >= Math.max(...g.strides))) throw new Error(`result size [${oh},${ow}] does not fit input [${x.shape}] and padding`);
  const weight = transpose(w, [3, 2, 0, 1]); // [h, w, res, in] → [in, res, h, w]
  const xt = ctx.emit(node.name, 'Transpose', [x.onnx!], toNchw.map((p) => x.shape[p]), 'float32', [attr.ints('perm', toNchw)], '/nchw');
  const attributes = [attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', g.strides), attr.ints('dilations', g.dilations), attr.ints('pads', g.pads)];
  if (outputPadding.some((p) => p)) attributes.push(attr.ints('output_padding', outputPadding));
  const y = ctx.emit(node.name, 'ConvTranspose', [xt.onnx!, ctx.tensor(weight, `${node.name}/weight`)], [n, oc, oh, ow], 'float32', attributes, '/convT');
  return ctx.emit(node.name, 'Transpose', [y.onnx!], [n, oh, ow, oc], 'float32', [attr.ints('perm', toNhwc)]);
}

// ---- The table ------------------------------------------------------------------------------------------

export const OPS: Record<string, OpHandler> = {
  ...Object.fromEntries(Object.keys(BINARY).map((op) => [op, binary])),
  RealDiv: divide, FloorDiv: divide, FloorMod: divide,
  ...Object.fromEntries(Object.keys(UNARY).map((op) => [op, unary])),
  Cast: cast,
  SelectV2: selectV2,
  Reshape: reshape,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  Shape: shapeOf,
  Transpose: transposeOp,
  BroadcastTo: broadcastToOp,
  Pack: pack,
  ConcatV2: concatV2,
  StridedSlice: stridedSlice,
  GatherV2: gatherV2,
  Range: range,
  Sum: sum,
  Einsum: einsum,
  Conv2D: conv2d,
  Conv2DBackpropInput: conv2dTranspose,
};
