// A small protobuf writer for ONNX ModelProto (just what our converters emit).
// Field numbers follow onnx/onnx.proto (IR version 8). Output is deterministic: fields are written in a
// fixed order, no timestamps, floats as little-endian raw_data.

export const IR_VERSION = 8;
export const OPSET_VERSION = 17;

/** TensorProto.DataType values we use. */
export const ElemType = { float32: 1, int32: 6, int64: 7, bool: 9 } as const;
export type ElemTypeName = keyof typeof ElemType;

// Protobuf wire types.
const VARINT = 0;
const FIXED32 = 5;
const LENGTH_DELIMITED = 2;

/** Growable byte buffer with protobuf primitives. */
class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private rawVarint(value: bigint): void {
    // int64 fields are encoded as their two's-complement uint64 (negative numbers take 10 bytes).
    let v = BigInt.asUintN(64, value);
    this.reserve(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(BigInt((field << 3) | wireType));
  }

  private rawBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, VARINT);
    this.rawVarint(typeof value === 'bigint' ? value : BigInt(checkInteger(value)));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.len, value, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, bytes: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED);
    this.rawVarint(BigInt(bytes.length));
    this.rawBytes(bytes);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(typeof v === 'bigint' ? v : BigInt(checkInteger(v)));
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, data);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function checkInteger(value: number): number {
  if (!Number.isSafeInteger(value)) throw new Error(`ONNX writer: expected an integer, got ${value}`);
  return value;
}

// ---- The ONNX subset, as plain data --------------------------------------------------------------

export type Attribute =
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'string'; value: string }
  | { name: string; kind: 'ints'; value: number[] }
  | { name: string; kind: 'floats'; value: number[] };

export const attr = {
  int: (name: string, value: number): Attribute => ({ name, kind: 'int', value }),
  float: (name: string, value: number): Attribute => ({ name, kind: 'float', value }),
  string: (name: string, value: string): Attribute => ({ name, kind: 'string', value }),
  ints: (name: string, value: number[]): Attribute => ({ name, kind: 'ints', value }),
  floats: (name: string, value: number[]): Attribute => ({ name, kind: 'floats', value }),
};

export interface NodeSpec {
  opType: string;
  name: string;
  /** '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes?: Attribute[];
}

export type InitializerData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

export interface InitializerSpec {
  name: string;
  dims: number[];
  /** A Uint8Array holds bools (0 or 1). */
  data: InitializerData;
  /** Stored in a file beside the graph instead of inline: its name, and where the tensor's bytes are in it. */
  external?: { location: string; offset: number; length: number };
}

export interface ValueInfoSpec {
  name: string;
  elemType: ElemTypeName;
  /** Numbers are fixed dims; strings are symbolic (dim_param) dims. */
  shape: (number | string)[];
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: InitializerSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
  docString?: string;
}

export interface ModelSpec {
  graph: GraphSpec;
  producerName: string;
  producerVersion: string;
  docString?: string;
  /** Written in insertion order (keep it stable for byte-identical output). */
  metadata?: Record<string, string>;
}

// AttributeProto.AttributeType
const AttributeType = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function writeAttribute(w: ProtoWriter, a: Attribute): void {
  w.string(1, a.name); // name
  switch (a.kind) {
    case 'float': w.float(2, a.value); break; // f
    case 'int': w.int(3, a.value); break; // i
    case 'string': w.string(4, a.value); break; // s
    case 'floats': w.packedFloats(7, a.value); break; // floats
    case 'ints': w.packedInts(8, a.value); break; // ints
  }
  w.int(20, AttributeType[a.kind]); // type
}

function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, (aw) => writeAttribute(aw, a));
}

/** Little-endian bytes of a typed array, independent of the host's byte order. */
function littleEndianBytes(data: InitializerData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.length * data.BYTES_PER_ELEMENT);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else if (data instanceof Int32Array) data.forEach((v, i) => view.setInt32(i * 4, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return out;
}

function elemTypeOf(data: InitializerData): number {
  if (data instanceof Float32Array) return ElemType.float32;
  if (data instanceof Int32Array) return ElemType.int32;
  if (data instanceof BigInt64Array) return ElemType.int64;
  return ElemType.bool;
}

function writeTensor(w: ProtoWriter, t: InitializerSpec): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) {
    throw new Error(`ONNX writer: initializer ${t.name} has dims [${t.dims}] (${count} values) but ${t.data.length} values`);
  }
  w.packedInts(1, t.dims); // dims
  w.int(2, elemTypeOf(t.data)); // data_type
  w.string(8, t.name); // name
  if (!t.external) {
    w.bytes(9, littleEndianBytes(t.data)); // raw_data
    return;
  }
  const { location, offset, length } = t.external;
  if (length !== t.data.length * t.data.BYTES_PER_ELEMENT) {
    throw new Error(`ONNX writer: initializer ${t.name} is ${t.data.length * t.data.BYTES_PER_ELEMENT} bytes but its external entry says ${length}`);
  }
  const entry = (key: string, value: string) => (ew: ProtoWriter) => ew.string(1, key).string(2, value); // StringStringEntryProto
  w.message(13, entry('location', location)); // external_data
  w.message(13, entry('offset', String(offset)));
  w.message(13, entry('length', String(length)));
  w.int(14, 1); // data_location: EXTERNAL
}

/** The bytes an initializer holds (little-endian), as an external data file stores them. */
export function initializerBytes(t: InitializerSpec): Uint8Array {
  return littleEndianBytes(t.data);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoSpec): void {
  w.string(1, v.name); // name
  w.message(2, (type) => // type: TypeProto
    type.message(1, (tensor) => { // tensor_type: TypeProto.Tensor
      tensor.int(1, ElemType[v.elemType]); // elem_type
      tensor.message(2, (shape) => { // shape: TensorShapeProto
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d))); // dim_value | dim_param
        }
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: GraphSpec): void {
  for (const n of g.nodes) w.message(1, (nw) => writeNode(nw, n)); // node
  w.string(2, g.name); // name
  for (const t of g.initializers) w.message(5, (tw) => writeTensor(tw, t)); // initializer
  if (g.docString) w.string(10, g.docString); // doc_string
  for (const v of g.inputs) w.message(11, (vw) => writeValueInfo(vw, v)); // input
  for (const v of g.outputs) w.message(12, (vw) => writeValueInfo(vw, v)); // output
}

/** Serialises a model to ONNX protobuf bytes (ir_version 8, default-domain opset 17). */
export function encodeModel(model: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, IR_VERSION); // ir_version
  w.string(2, model.producerName); // producer_name
  w.string(3, model.producerVersion); // producer_version
  if (model.docString) w.string(6, model.docString); // doc_string
  w.message(7, (gw) => writeGraph(gw, model.graph)); // graph
  w.message(8, (ow) => { // opset_import: OperatorSetIdProto
    ow.string(1, ''); // domain: default ONNX domain
    ow.int(2, OPSET_VERSION); // version
  });
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (mw) => mw.string(1, key).string(2, value)); // metadata_props: StringStringEntryProto
  }
  return w.finish();
}
