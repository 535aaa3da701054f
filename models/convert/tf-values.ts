// Values of a TF graph being specialised to fixed shapes, and the array arithmetic that folds constant subgraphs.
// A value is either known at conversion time (`data`) or computed by the ONNX graph at run time (`onnx`);
// its shape and dtype are always known, because the graph is specialised to one input size.

export type DType = 'float32' | 'int32' | 'bool';
export type ValueData = Float32Array | Int32Array | Uint8Array;

export interface Value {
  dtype: DType;
  shape: number[];
  data?: ValueData;
  /** Name of the ONNX tensor that holds it. */
  onnx?: string;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function allocate(dtype: DType, count: number): ValueData {
  return dtype === 'float32' ? new Float32Array(count) : dtype === 'int32' ? new Int32Array(count) : new Uint8Array(count);
}

export function constant(dtype: DType, shape: number[], data: ArrayLike<number>): Value {
  const out = allocate(dtype, sizeOf(shape));
  if (out.length !== data.length) throw new Error(`constant of shape [${shape}] given ${data.length} values`);
  out.set(data);
  return { dtype, shape, data: out };
}

export const isConst = (v: Value): v is Value & { data: ValueData } => v.data !== undefined;

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** NumPy broadcasting of two shapes; throws on incompatible shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`${what}: shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** For each output element, the index into an input of `shape` broadcast to `outShape`. */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const count = sizeOf(outShape);
  const index = new Int32Array(count);
  const rank = outShape.length;
  const inStrides = stridesOf(shape);
  // Stride per output axis in the input (0 where broadcast).
  const strides = outShape.map((_, i) => {
    const axis = i - (rank - shape.length);
    return axis < 0 || shape[axis] === 1 ? 0 : inStrides[axis];
  });
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let n = 0; n < count; n++) {
    index[n] = offset;
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      offset += strides[axis];
      if (counter[axis] < outShape[axis]) break;
      offset -= strides[axis] * counter[axis];
      counter[axis] = 0;
    }
  }
  return index;
}

export function broadcastTo(v: Value & { data: ValueData }, outShape: number[]): Value {
  const index = broadcastIndex(v.shape, outShape);
  const out = allocate(v.dtype, index.length);
  for (let i = 0; i < index.length; i++) out[i] = v.data[index[i]];
  return { dtype: v.dtype, shape: outShape, data: out };
}

/** Applies `f` elementwise with broadcasting; the result has dtype `dtype`. */
export function elementwise(inputs: (Value & { data: ValueData })[], dtype: DType, f: (...xs: number[]) => number, what: string): Value {
  const shape = inputs.map((v) => v.shape).reduce((a, b) => broadcastShapes(a, b, what));
  const indices = inputs.map((v) => broadcastIndex(v.shape, shape));
  const out = allocate(dtype, sizeOf(shape));
  const xs = new Array<number>(inputs.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < inputs.length; k++) xs[k] = inputs[k].data[indices[k][i]];
    out[i] = f(...xs);
  }
  return { dtype, shape, data: out };
}

export function transpose(v: Value & { data: ValueData }, perm: readonly number[]): Value {
  const shape = perm.map((p) => v.shape[p]);
  const inStrides = stridesOf(v.shape);
  const permuted = perm.map((p) => inStrides[p]);
  const out = allocate(v.dtype, v.data.length);
  const counter = new Array<number>(shape.length).fill(0);
  let offset = 0;
  for (let n = 0; n < out.length; n++) {
    out[n] = v.data[offset];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      counter[axis]++;
      offset += permuted[axis];
      if (counter[axis] < shape[axis]) break;
      offset -= permuted[axis] * counter[axis];
      counter[axis] = 0;
    }
  }
  return { dtype: v.dtype, shape, data: out };
}

/** Sum over `axes` (already normalised to 0..rank-1). */
export function reduceSum(v: Value & { data: ValueData }, axes: readonly number[], keepDims: boolean): Value {
  const keptShape = v.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = allocate(v.dtype, sizeOf(keptShape));
  const index = broadcastIndex(keptShape, v.shape); // input element → output element
  for (let i = 0; i < v.data.length; i++) out[index[i]] += v.data[i];
  const shape = keepDims ? keptShape : v.shape.filter((_, i) => !axes.includes(i));
  return { dtype: v.dtype, shape, data: out };
}

export function normaliseAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${what}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

// ---- StridedSlice ----------------------------------------------------------------------------------

export interface StridedSliceMasks {
  begin: number;
  end: number;
  ellipsis: number;
  newAxis: number;
  shrinkAxis: number;
}

/** A StridedSlice resolved against a static shape: a plain slice per input axis, then a reshape. */
export interface ResolvedSlice {
  /** Per input axis: start, end (exclusive, may be -1 for "before 0" with a negative step), step. */
  starts: number[];
  ends: number[];
  steps: number[];
  /** Shape after slicing, before new/shrunk axes. */
  slicedShape: number[];
  /** Final shape. */
  shape: number[];
}

/** TF's StridedSlice semantics (tensorflow/core/util/strided_slice_op.cc), for a known input shape. */
export function resolveStridedSlice(
  shape: readonly number[], begin: readonly number[], end: readonly number[], strides: readonly number[], masks: StridedSliceMasks,
): ResolvedSlice {
  const rank = shape.length;
  const n = begin.length;
  const bit = (mask: number, i: number): boolean => ((mask >> i) & 1) === 1;
  // Expand the sparse spec (with ellipsis and new axes) to one entry per input axis.
  const entries: { begin: number; end: number; stride: number; beginMask: boolean; endMask: boolean; shrink: boolean }[] = [];
  const finalShape: (number | 'shrink' | 'new')[] = [];
  let axis = 0;
  let sawEllipsis = false;
  for (let i = 0; i < n; i++) {
    if (bit(masks.ellipsis, i)) {
      if (sawEllipsis) throw new Error('StridedSlice: more than one ellipsis');
      sawEllipsis = true;
      const explicitAfter = Array.from({ length: n - i - 1 }, (_, k) => i + 1 + k).filter((k) => !bit(masks.newAxis, k)).length;
      const covered = rank - axis - explicitAfter;
      for (let k = 0; k < covered; k++) {
        entries.push({ begin: 0, end: 0, stride: 1, beginMask: true, endMask: true, shrink: false });
        finalShape.push(axis++);
      }
      continue;
    }
    if (bit(masks.newAxis, i)) {
      finalShape.push('new');
      continue;
    }
    if (axis >= rank) throw new Error(`StridedSlice: spec of ${n} entries indexes past rank ${rank}`);
    entries.push({ begin: begin[i], end: end[i], stride: strides[i], beginMask: bit(masks.begin, i), endMask: bit(masks.end, i), shrink: bit(masks.shrinkAxis, i) });
    finalShape.push(bit(masks.shrinkAxis, i) ? 'shrink' : axis);
    axis++;
  }
  while (axis < rank) {
    entries.push({ begin: 0, end: 0, stride: 1, beginMask: true, endMask: true, shrink: false });
    finalShape.push(axis++);
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  const slicedShape: number[] = [];
  entries.forEach((e, i) => {
    const dim = shape[i];
    if (e.stride === 0) throw new Error('StridedSlice: stride 0');
    if (e.shrink) {
      const b = e.begin < 0 ? e.begin + dim : e.begin;
      if (b < 0 || b >= dim) throw new Error(`StridedSlice: index ${e.begin} out of range for axis of size ${dim}`);
      starts.push(b); ends.push(b + 1); steps.push(1); slicedShape.push(1);
      return;
    }
    const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
    let b: number;
    let en: number;
    if (e.stride > 0) {
      b = e.beginMask ? 0 : clamp(e.begin < 0 ? e.begin + dim : e.begin, 0, dim);
      en = e.endMask ? dim : clamp(e.end < 0 ? e.end + dim : e.end, 0, dim);
    } else {
      b = e.beginMask ? dim - 1 : clamp(e.begin < 0 ? e.begin + dim : e.begin, -1, dim - 1);
      en = e.endMask ? -1 : clamp(e.end < 0 ? e.end + dim : e.end, -1, dim - 1);
    }
    const count = e.stride > 0 ? Math.max(0, Math.ceil((en - b) / e.stride)) : Math.max(0, Math.ceil((b - en) / -e.stride));
    starts.push(b); ends.push(en); steps.push(e.stride); slicedShape.push(count);
  });
  const out: number[] = [];
  for (const f of finalShape) {
    if (f === 'new') out.push(1);
    else if (f !== 'shrink') out.push(slicedShape[f]);
  }
  return { starts, ends, steps, slicedShape, shape: out };
}

export function applySlice(v: Value & { data: ValueData }, s: ResolvedSlice): Value {
  const count = sizeOf(s.slicedShape);
  const out = allocate(v.dtype, count);
  const inStrides = stridesOf(v.shape);
  const counter = new Array<number>(s.slicedShape.length).fill(0);
  for (let n = 0; n < count; n++) {
    let offset = 0;
    for (let a = 0; a < counter.length; a++) offset += (s.starts[a] + counter[a] * s.steps[a]) * inStrides[a];
    out[n] = v.data[offset];
    for (let a = counter.length - 1; a >= 0; a--) {
      if (++counter[a] < s.slicedShape[a]) break;
      counter[a] = 0;
    }
  }
  return { dtype: v.dtype, shape: s.shape, data: out };
}

/** Concatenation of constant values along `axis`. */
export function concat(values: (Value & { data: ValueData })[], axis: number): Value {
  const base = values[0].shape;
  const shape = [...base];
  shape[axis] = values.reduce((n, v) => n + v.shape[axis], 0);
  const outer = sizeOf(base.slice(0, axis));
  const out = allocate(values[0].dtype, sizeOf(shape));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const v of values) {
      const chunk = sizeOf(v.shape.slice(axis));
      out.set(v.data.subarray(o * chunk, (o + 1) * chunk), pos);
      pos += chunk;
    }
  }
  return { dtype: values[0].dtype, shape, data: out };
}

export function gather(v: Value & { data: ValueData }, indices: Value & { data: ValueData }, axis: number): Value {
  const outer = sizeOf(v.shape.slice(0, axis));
  const inner = sizeOf(v.shape.slice(axis + 1));
  const dim = v.shape[axis];
  const shape = [...v.shape.slice(0, axis), ...indices.shape, ...v.shape.slice(axis + 1)];
  const out = allocate(v.dtype, sizeOf(shape));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < indices.data.length; k++) {
      const idx = indices.data[k] < 0 ? indices.data[k] + dim : indices.data[k];
      if (idx < 0 || idx >= dim) throw new Error(`GatherV2: index ${indices.data[k]} out of range for axis of size ${dim}`);
      out.set(v.data.subarray((o * dim + idx) * inner, (o * dim + idx + 1) * inner), pos);
      pos += inner;
    }
  }
  return { dtype: v.dtype, shape, data: out };
}
