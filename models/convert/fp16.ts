// fp16 weights: a graph whose float32 weights are stored as float16, each followed by a Cast back to float32, so the
// graph's inputs, outputs and arithmetic stay float32 and it runs wherever the float32 graph runs (WASM, WebGPU with
// or without shader-f16, onnxruntime-node). What it changes: the file is about half the size (download, cache), and
// the weights are rounded to float16 (11 significant bits). onnxruntime folds each Cast of a constant at load time,
// so memory and speed once loaded are the float32 graph's: the output difference measured against float32 is the
// cost of the rounding alone (bench:webgpu, bench/results/webgpu.md).
//
// Edited at the wire level (protobuf-wire.ts), as onnx-template.ts does: every other byte is copied unchanged.
// Weights in an external data file are read from it and written inline (half of them fits where all of them did).

import { WireWriter, wireFields, wireText } from './protobuf-wire.ts';
import { float16Bits, float16Value } from '../../worker/float16.ts';
import { parseTensor, type ParsedTensor } from './onnx-template.ts';

// Bit-exact half precision, shared with the server's FP16 tensors.
export { float16Bits, float16Value };

// Field numbers (onnx.proto).
const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5, input: 11 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, i: 3, type: 20 } as const;
const ATTRIBUTE_INT = 2;
const VALUE_INFO_NAME = 1;
const TENSOR = { dims: 1, dataType: 2, floatData: 4, name: 8, rawData: 9, externalData: 13, dataLocation: 14 } as const;
const FLOAT = 1;
const FLOAT16 = 10;

/** Tensors smaller than this stay float32: scalars and short vectors (epsilons, scales) cost nothing to keep exact. */
export const FP16_MIN_ELEMENTS = 256;
const FP16_MAX = 65504;

export interface Fp16Options {
  /** Initializers with fewer elements stay float32 (default FP16_MIN_ELEMENTS). */
  minElements?: number;
  /** The bytes of an external data file the graph names (`location`), for graphs whose weights live beside them. */
  externalData?(location: string): Uint8Array;
}

export interface Fp16Result {
  model: Uint8Array;
  /** Initializers stored as float16. */
  converted: number;
  /** float32 initializers kept as they were, and why. */
  kept: { name: string; why: string }[];
  /** Weight bytes before and after (float initializers, inline or external). */
  weightBytesBefore: number;
  weightBytesAfter: number;
}

/** The float32 values of an initializer, wherever they are stored. */
function floatValues(t: ParsedTensor, options: Fp16Options): Float32Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const raw = t.fields.find((f) => f.no === TENSOR.rawData)?.bytes;
  // new Uint8Array(view) copies (a Node Buffer's slice() would not), and the copy is aligned for Float32Array.
  if (raw) return new Float32Array(new Uint8Array(raw).buffer);
  const location = t.external.get('location');
  if (location) {
    if (!options.externalData) throw new Error(`${t.name}: its weights are in ${location}; pass externalData to read them`);
    const file = options.externalData(location);
    const offset = Number(t.external.get('offset') ?? 0);
    const length = Number(t.external.get('length') ?? count * 4);
    return new Float32Array(new Uint8Array(file.subarray(offset, offset + length)).buffer);
  }
  const packed = t.fields.filter((f) => f.no === TENSOR.floatData);
  const values = new Float32Array(count);
  let at = 0;
  for (const f of packed) {
    if (f.wire === 5) values[at++] = f.float32!;
    else {
      const view = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.byteLength);
      for (let i = 0; i < f.bytes!.byteLength; i += 4) values[at++] = view.getFloat32(i, true);
    }
  }
  return values;
}

function castNode(from: string, to: string): Uint8Array {
  const to32 = new WireWriter().string(ATTRIBUTE.name, 'to').int(ATTRIBUTE.i, FLOAT).int(ATTRIBUTE.type, ATTRIBUTE_INT).finish();
  return new WireWriter().string(NODE.input, from).string(NODE.output, to).string(NODE.name, `${to}/fp16_cast`).string(NODE.opType, 'Cast').bytes(NODE.attribute, to32).finish();
}

/** The model with its float32 weights stored as float16 behind Cast nodes (see the file's header). */
export function toFp16Weights(model: Uint8Array, options: Fp16Options = {}): Fp16Result {
  const minElements = options.minElements ?? FP16_MIN_ELEMENTS;
  const result: Omit<Fp16Result, 'model'> = { converted: 0, kept: [], weightBytesBefore: 0, weightBytesAfter: 0 };
  const out = new WireWriter();
  let graphs = 0;
  for (const f of wireFields(model)) {
    if (f.no !== MODEL_GRAPH || f.wire !== 2) {
      out.copy(f);
      continue;
    }
    graphs++;
    // Graph inputs that share an initializer's name may be fed by the caller: those stay float32.
    const inputs = new Set<string>();
    for (const g of wireFields(f.bytes!)) {
      if (g.no !== GRAPH.input) continue;
      for (const v of wireFields(g.bytes!)) if (v.no === VALUE_INFO_NAME) inputs.add(wireText(v));
    }
    const casts: Uint8Array[] = [];
    const rest = new WireWriter();
    for (const g of wireFields(f.bytes!)) {
      if (g.no !== GRAPH.initializer || g.wire !== 2) {
        rest.copy(g);
        continue;
      }
      const t = parseTensor(g.bytes!);
      if (t.dataType !== FLOAT) {
        rest.copy(g);
        continue;
      }
      const values = floatValues(t, options);
      result.weightBytesBefore += values.byteLength;
      const why = values.length < minElements ? `${values.length} values` : inputs.has(t.name) ? 'also a graph input' : values.some((v) => Math.abs(v) > FP16_MAX) ? 'values beyond float16' : '';
      if (why) {
        result.kept.push({ name: t.name, why });
        result.weightBytesAfter += values.byteLength;
        // An external float32 tensor is written inline: the converted model is one file.
        if (t.external.size) rest.bytes(GRAPH.initializer, inlineTensor(t, FLOAT, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)));
        else rest.copy(g);
        continue;
      }
      const half = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) half[i] = float16Bits(values[i]);
      const stored = `${t.name}/fp16`;
      rest.bytes(GRAPH.initializer, inlineTensor({ ...t, name: stored }, FLOAT16, new Uint8Array(half.buffer)));
      casts.push(castNode(stored, t.name));
      result.converted++;
      result.weightBytesAfter += half.byteLength;
    }
    // The Casts first: they read initializers only, so the node list stays in topological order.
    const graph = new WireWriter();
    for (const c of casts) graph.bytes(GRAPH.node, c);
    const head = graph.finish();
    const tail = rest.finish();
    const joined = new Uint8Array(head.byteLength + tail.byteLength);
    joined.set(head);
    joined.set(tail, head.byteLength);
    out.bytes(MODEL_GRAPH, joined);
  }
  if (graphs !== 1) throw new Error(`not an ONNX model: expected one graph, found ${graphs}`);
  return { model: out.finish(), ...result };
}

/** A TensorProto with `t`'s name and dims, the given type and inline raw_data (its other fields dropped). */
function inlineTensor(t: ParsedTensor, dataType: number, raw: Uint8Array): Uint8Array {
  const w = new WireWriter();
  for (const f of t.fields) if (f.no === TENSOR.dims) w.copy(f);
  w.int(TENSOR.dataType, dataType).string(TENSOR.name, t.name).bytes(TENSOR.rawData, raw);
  return w.finish();
}
