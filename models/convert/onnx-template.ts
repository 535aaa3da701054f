// Weight-less ONNX graph templates, filled on the user's machine. A template is a graph exported once by the PyTorch
// exporter (models/export/template.py) whose weight initializers carry no data, only a mark saying where their
// values come from: the checkpoint's tensor of the same name, or a value computed after conversion (StyleSwin's mean
// latent). Installing an official model then needs no Python: read the checkpoint (torch-checkpoint.ts), and write
// its tensors into the template's slots, inline (one self-contained file) or as one external data file (graphs
// above protobuf's 2 GB). Every other byte of the template is copied as it is (protobuf-wire.ts).
//
// Marks (TensorProto.data_location = EXTERNAL, external_data "location"): "frontier:checkpoint" or
// "frontier:computed". onnxruntime never sees them: a template is not loadable until filled.

import { WireWriter, wireFields, wireInts, wireText, type WireField } from './protobuf-wire.ts';

export const SLOT_CHECKPOINT = 'frontier:checkpoint';
export const SLOT_COMPUTED = 'frontier:computed';

/** TensorProto.DataType → bytes per element (the numeric types; strings cannot be slots). */
const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
const DTYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };

// Field numbers (onnx.proto).
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9, externalData: 13, dataLocation: 14 } as const;
const EXTERNAL = 1;

export interface TemplateSlot {
  name: string;
  /** TensorProto.DataType, and its name (float32, int64, …). */
  dataType: number;
  dtype: string;
  dims: number[];
  kind: 'checkpoint' | 'computed';
  byteLength: number;
}

/** A TensorProto's fields as read, with its name, type, dims and external-data entries (location, offset, length). */
export interface ParsedTensor {
  fields: WireField[];
  name: string;
  dataType: number;
  dims: number[];
  external: Map<string, string>;
  /** external's location: the file (or a template's slot marker) the values are in. */
  location?: string;
}

export function parseTensor(bytes: Uint8Array): ParsedTensor {
  const t: ParsedTensor = { fields: [], name: '', dataType: 0, dims: [], external: new Map() };
  for (const f of wireFields(bytes)) {
    t.fields.push(f);
    if (f.no === TENSOR.name) t.name = wireText(f);
    else if (f.no === TENSOR.dataType) t.dataType = Number(f.varint);
    else if (f.no === TENSOR.dims) t.dims.push(...wireInts(f).map(Number));
    else if (f.no === TENSOR.externalData) {
      let key = '';
      let value = '';
      for (const e of wireFields(f.bytes!)) if (e.no === 1) key = wireText(e); else if (e.no === 2) value = wireText(e);
      t.external.set(key, value);
      if (key === 'location') t.location = value;
    }
  }
  return t;
}

function slotOf(t: ParsedTensor): TemplateSlot | undefined {
  if (t.location !== SLOT_CHECKPOINT && t.location !== SLOT_COMPUTED) return undefined;
  const size = ELEMENT_BYTES[t.dataType];
  if (!size) throw new Error(`template slot ${t.name}: data type ${t.dataType} cannot be filled`);
  return {
    name: t.name,
    dataType: t.dataType,
    dtype: DTYPE_NAMES[t.dataType],
    dims: t.dims,
    kind: t.location === SLOT_CHECKPOINT ? 'checkpoint' : 'computed',
    byteLength: t.dims.reduce((a, b) => a * b, 1) * size,
  };
}

/** Calls `edit` on every initializer of the main graph; what it returns replaces the TensorProto's bytes. */
function rewriteInitializers(model: Uint8Array, edit: (t: ParsedTensor, raw: Uint8Array) => Uint8Array | undefined): Uint8Array {
  const out = new WireWriter();
  let graphs = 0;
  for (const f of wireFields(model)) {
    if (f.no !== MODEL_GRAPH || f.wire !== 2) {
      out.copy(f);
      continue;
    }
    graphs++;
    const graph = new WireWriter();
    for (const g of wireFields(f.bytes!)) {
      if (g.no !== GRAPH_INITIALIZER || g.wire !== 2) {
        graph.copy(g);
        continue;
      }
      const replaced = edit(parseTensor(g.bytes!), g.bytes!);
      if (replaced) graph.bytes(GRAPH_INITIALIZER, replaced);
      else graph.copy(g);
    }
    out.bytes(MODEL_GRAPH, graph.finish());
  }
  if (graphs !== 1) throw new Error(`not an ONNX model: expected one graph, found ${graphs}`);
  return out.finish();
}

/** The slots of a template, in the order the graph lists them. */
export function templateSlots(template: Uint8Array): TemplateSlot[] {
  const slots: TemplateSlot[] = [];
  rewriteInitializers(template, (t) => {
    const s = slotOf(t);
    if (s) slots.push(s);
    return undefined;
  });
  return slots;
}

/** The raw_data of the initializer `name` (a filled model's weights, for checks), or undefined. */
export function readInitializer(model: Uint8Array, name: string): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  rewriteInitializers(model, (t) => {
    if (t.name === name) found = t.fields.find((f) => f.no === TENSOR.rawData)?.bytes;
    return undefined;
  });
  return found;
}

/** The tensor's fields other than its data and where the data lives (name, dims, type, doc string…). */
function keptFields(t: ParsedTensor, w: WireWriter): void {
  for (const f of t.fields) {
    if (f.no === TENSOR.rawData || f.no === TENSOR.externalData || f.no === TENSOR.dataLocation) continue;
    w.copy(f);
  }
}

function checkData(slot: TemplateSlot, data: Uint8Array | undefined): Uint8Array {
  if (!data) throw new Error(`no value for ${slot.kind} tensor ${slot.name} (${slot.dtype} [${slot.dims}])`);
  if (data.byteLength !== slot.byteLength) {
    throw new Error(`${slot.name}: ${data.byteLength} bytes given, the graph needs ${slot.byteLength} (${slot.dtype} [${slot.dims}])`);
  }
  return data;
}

/** A self-contained model: every slot's bytes (little-endian, as ONNX raw_data) written into the graph. */
export function fillInline(template: Uint8Array, values: (slot: TemplateSlot) => Uint8Array | undefined): Uint8Array {
  return rewriteInitializers(template, (t) => {
    const slot = slotOf(t);
    if (!slot) return undefined;
    const w = new WireWriter();
    keptFields(t, w);
    w.bytes(TENSOR.rawData, checkData(slot, values(slot)));
    return w.finish();
  });
}

export interface ExternalPlacement {
  slot: TemplateSlot;
  offset: number;
}

/** Where each slot goes in one external data file, `align`-byte aligned (onnxruntime maps pages: 4096). */
export function externalLayout(slots: TemplateSlot[], align = 4096): { placements: ExternalPlacement[]; bytes: number } {
  let offset = 0;
  const placements = slots.map((slot) => {
    offset += (align - (offset % align)) % align;
    const p = { slot, offset };
    offset += slot.byteLength;
    return p;
  });
  return { placements, bytes: offset };
}

/** The graph with every slot pointing into `location` (a file beside the graph) at the layout's offsets. */
export function fillExternal(template: Uint8Array, location: string, placements: ExternalPlacement[]): Uint8Array {
  const at = new Map(placements.map((p) => [p.slot.name, p]));
  const entry = (key: string, value: string) => new WireWriter().string(1, key).string(2, value).finish();
  const seen = new Set<string>();
  const model = rewriteInitializers(template, (t) => {
    const slot = slotOf(t);
    if (!slot) return undefined;
    const p = at.get(slot.name);
    if (!p) throw new Error(`no place in ${location} for ${slot.kind} tensor ${slot.name}`);
    seen.add(slot.name);
    const w = new WireWriter();
    keptFields(t, w);
    w.bytes(TENSOR.externalData, entry('location', location));
    w.bytes(TENSOR.externalData, entry('offset', String(p.offset)));
    w.bytes(TENSOR.externalData, entry('length', String(slot.byteLength)));
    w.int(TENSOR.dataLocation, EXTERNAL);
    return w.finish();
  });
  const extra = placements.filter((p) => !seen.has(p.slot.name));
  if (extra.length) throw new Error(`the layout places tensors the graph does not have: ${extra.map((p) => p.slot.name).join(', ')}`);
  return model;
}
