// A reader for the ONNX files the restore bench looks at (bench/restore.ts): the converter's MAXIM graphs (decoded
// back into models/convert/onnx-proto.ts's ModelSpec, so a rewrite can be tried on them and written again with its
// encodeModel) and the models onnxruntime-node writes after its graph optimisations (optimizedModelFilePath: only
// the op types and domains are read). Protobuf wire format, the subset those files use.
import { wireFields, type WireField } from '../models/convert/protobuf-wire.ts';
import type { Attribute, InitializerData, InitializerSpec, ModelSpec, NodeSpec, ValueInfoSpec } from '../models/convert/onnx-proto.ts';

type Field = WireField;
const fields = wireFields;

const utf8 = new TextDecoder();
const text = (f: Field) => utf8.decode(f.bytes!);
/** A signed 64-bit varint as a number. */
const int = (v: bigint) => Number(BigInt.asIntN(64, v));

/** Repeated ints, packed or not. */
function pushInts(out: number[], f: Field): void {
  if (f.wire === 0) out.push(int(f.varint!));
  else for (const g of fields(packedAsFields(f.bytes!))) out.push(int(g.varint!));
}

/** Packed varints re-read as a run of field-1 varints (same decoder). */
function packedAsFields(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    out.push(0x08); // field 1, varint
    while (bytes[i] & 0x80) out.push(bytes[i++]);
    out.push(bytes[i]);
  }
  return Uint8Array.from(out);
}

function pushFloats(out: number[], f: Field): void {
  if (f.wire === 5) out.push(f.float32!);
  else {
    const v = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.byteLength);
    for (let i = 0; i < f.bytes!.length; i += 4) out.push(v.getFloat32(i, true));
  }
}

function readAttribute(buf: Uint8Array): Attribute {
  let name = '';
  let type = 0;
  let f = 0;
  let i = 0;
  let s = '';
  const floats: number[] = [];
  const ints: number[] = [];
  for (const x of fields(buf)) {
    if (x.no === 1) name = text(x);
    else if (x.no === 20) type = Number(x.varint);
    else if (x.no === 2) f = x.float32!;
    else if (x.no === 3) i = int(x.varint!);
    else if (x.no === 4) s = text(x);
    else if (x.no === 7) pushFloats(floats, x);
    else if (x.no === 8) pushInts(ints, x);
  }
  switch (type) {
    case 1: return { name, kind: 'float', value: f };
    case 2: return { name, kind: 'int', value: i };
    case 3: return { name, kind: 'string', value: s };
    case 6: return { name, kind: 'floats', value: floats };
    case 7: return { name, kind: 'ints', value: ints };
    default: throw new Error(`ONNX reader: attribute ${name} of type ${type} is not supported`);
  }
}

export interface ReadNode extends NodeSpec {
  domain: string;
}

function readNode(buf: Uint8Array, withAttributes: boolean): ReadNode {
  const n: ReadNode = { opType: '', name: '', inputs: [], outputs: [], attributes: [], domain: '' };
  for (const x of fields(buf)) {
    if (x.no === 1) n.inputs.push(text(x));
    else if (x.no === 2) n.outputs.push(text(x));
    else if (x.no === 3) n.name = text(x);
    else if (x.no === 4) n.opType = text(x);
    else if (x.no === 7) n.domain = text(x);
    else if (x.no === 5 && withAttributes) n.attributes!.push(readAttribute(x.bytes!));
  }
  return n;
}

function readTensor(buf: Uint8Array): InitializerSpec {
  const dims: number[] = [];
  let type = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const floatData: number[] = [];
  const intData: number[] = [];
  for (const x of fields(buf)) {
    if (x.no === 1) pushInts(dims, x);
    else if (x.no === 2) type = Number(x.varint);
    else if (x.no === 8) name = text(x);
    else if (x.no === 9) raw = x.bytes;
    else if (x.no === 4) pushFloats(floatData, x);
    else if (x.no === 5 || x.no === 7) pushInts(intData, x);
  }
  const copy = raw ? new Uint8Array(raw) : undefined; // own, aligned buffer (a Buffer's slice() would share the file's)
  let data: InitializerData;
  switch (type) {
    case 1: data = copy ? new Float32Array(copy.buffer) : Float32Array.from(floatData); break;
    case 6: data = copy ? new Int32Array(copy.buffer) : Int32Array.from(intData); break;
    case 7: data = copy ? new BigInt64Array(copy.buffer) : BigInt64Array.from(intData.map(BigInt)); break;
    case 9: data = copy ?? Uint8Array.from(intData); break;
    default: throw new Error(`ONNX reader: initializer ${name} of data type ${type} is not supported`);
  }
  return { name, dims, data };
}

const ELEM: Record<number, ValueInfoSpec['elemType']> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool' };

function readValueInfo(buf: Uint8Array): ValueInfoSpec {
  const v: ValueInfoSpec = { name: '', elemType: 'float32', shape: [] };
  for (const x of fields(buf)) {
    if (x.no === 1) v.name = text(x);
    else if (x.no === 2) {
      for (const t of fields(x.bytes!)) {
        if (t.no !== 1) continue; // tensor_type
        for (const tt of fields(t.bytes!)) {
          if (tt.no === 1) v.elemType = ELEM[Number(tt.varint)] ?? 'float32';
          else if (tt.no === 2) {
            for (const d of fields(tt.bytes!)) {
              if (d.no !== 1) continue;
              for (const dd of fields(d.bytes!)) {
                if (dd.no === 1) v.shape.push(int(dd.varint!));
                else if (dd.no === 2) v.shape.push(text(dd));
              }
            }
          }
        }
      }
    }
  }
  return v;
}

/** A model the converter wrote (opset 17, default domain), back as a ModelSpec. */
export function readModel(bytes: Uint8Array): ModelSpec {
  const model: ModelSpec = {
    producerName: '',
    producerVersion: '',
    metadata: {},
    graph: { name: '', nodes: [], initializers: [], inputs: [], outputs: [] },
  };
  for (const x of fields(bytes)) {
    if (x.no === 2) model.producerName = text(x);
    else if (x.no === 3) model.producerVersion = text(x);
    else if (x.no === 6) model.docString = text(x);
    else if (x.no === 14) {
      let k = '';
      let v = '';
      for (const e of fields(x.bytes!)) if (e.no === 1) k = text(e); else if (e.no === 2) v = text(e);
      model.metadata![k] = v;
    } else if (x.no === 7) {
      const g = model.graph;
      for (const y of fields(x.bytes!)) {
        if (y.no === 1) {
          const { domain, ...node } = readNode(y.bytes!, true);
          if (domain) throw new Error(`ONNX reader: node ${node.name} is in domain ${domain}; only default-domain graphs can be rewritten`);
          g.nodes.push(node);
        } else if (y.no === 2) g.name = text(y);
        else if (y.no === 5) g.initializers.push(readTensor(y.bytes!));
        else if (y.no === 10) g.docString = text(y);
        else if (y.no === 11) g.inputs.push(readValueInfo(y.bytes!));
        else if (y.no === 12) g.outputs.push(readValueInfo(y.bytes!));
      }
    }
  }
  return model;
}

/** The nodes of any ONNX file (op type, domain, names; no attributes), e.g. one onnxruntime optimised. */
export function readNodes(bytes: Uint8Array): ReadNode[] {
  const out: ReadNode[] = [];
  for (const x of fields(bytes)) {
    if (x.no !== 7) continue;
    for (const y of fields(x.bytes!)) if (y.no === 1) out.push(readNode(y.bytes!, false));
  }
  return out;
}

/** Node count per op type ("com.microsoft.FusedMatMul" for other domains). */
export function opCounts(nodes: { opType: string; domain?: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of nodes) {
    const key = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    out[key] = (out[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}
