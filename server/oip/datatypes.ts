// Open Inference Protocol datatypes and how they map onto onnxruntime's tensor types. The server accepts FP32,
// FP16, UINT8 and INT64 tensors and converts them to the dtype the model's input actually has (never lossily).
import { HttpError } from '../http-util.ts';

/** The onnxruntime tensor types our models use. */
export type OrtType = 'float32' | 'float16' | 'uint8' | 'int64';
export type OipDatatype = 'FP32' | 'FP16' | 'UINT8' | 'INT64';
export type TypedData = Float32Array | Uint16Array | Uint8Array | BigInt64Array;

const OIP_OF_ORT: Record<OrtType, OipDatatype> = { float32: 'FP32', float16: 'FP16', uint8: 'UINT8', int64: 'INT64' };
const ORT_OF_OIP: Record<OipDatatype, OrtType> = { FP32: 'float32', FP16: 'float16', UINT8: 'uint8', INT64: 'int64' };
const BYTES_PER_ELEMENT: Record<OipDatatype, number> = { FP32: 4, FP16: 2, UINT8: 1, INT64: 8 };
/** Every OIP datatype name, to tell "unsupported" from "not a datatype" in errors. */
const KNOWN_OIP = new Set(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']);

export const SUPPORTED_DATATYPES = Object.keys(ORT_OF_OIP) as OipDatatype[];

export function isOrtType(type: string): type is OrtType {
  return type in OIP_OF_ORT;
}

export function oipOfOrt(type: OrtType): OipDatatype {
  return OIP_OF_ORT[type];
}

export function ortOfOip(datatype: OipDatatype): OrtType {
  return ORT_OF_OIP[datatype];
}

export function bytesPerElement(datatype: OipDatatype): number {
  return BYTES_PER_ELEMENT[datatype];
}

/** Checks a request's datatype string; 400 says which ones work. */
export function parseDatatype(value: unknown, where: string): OipDatatype {
  if (typeof value !== 'string') throw new HttpError(400, `${where}: "datatype" must be a string such as "FP32".`);
  if (value in ORT_OF_OIP) return value as OipDatatype;
  const what = KNOWN_OIP.has(value) ? 'is not supported by this server' : 'is not an Open Inference Protocol datatype';
  throw new HttpError(400, `${where}: datatype ${value} ${what}; send ${SUPPORTED_DATATYPES.join(', ')}.`);
}

// IEEE 754 half precision: worker/float16.ts (shared with the fp16 weight converter).
export { float16Bits, float16Value } from '../../worker/float16.ts';
import { float16Bits, float16Value } from '../../worker/float16.ts';

// --- conversions into the model's dtype ---------------------------------------------------------------------------

/**
 * Converts request data of `from` into the model input's `to` dtype. Only exact conversions are made:
 * UINT8 and FP16 widen to float32, FP32 and UINT8 narrow to float16 (as the fp16 model would anyway); anything
 * else (e.g. FP32 into a UINT8 input) is a 400 that says which datatype the input takes.
 */
export function convertTo(to: OrtType, from: OipDatatype, data: TypedData, where: string): TypedData {
  const source = ORT_OF_OIP[from];
  if (source === to) return data;
  if (to === 'float32' && from === 'UINT8') return Float32Array.from(data as Uint8Array);
  if (to === 'float32' && from === 'FP16') {
    const bits = data as Uint16Array;
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = float16Value(bits[i]);
    return out;
  }
  if (to === 'float16' && (from === 'FP32' || from === 'UINT8')) {
    const values = data as Float32Array | Uint8Array;
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]);
    return out;
  }
  throw new HttpError(400, `${where}: the model takes ${OIP_OF_ORT[to]}; ${from} cannot be converted to it without loss. Send ${OIP_OF_ORT[to]}.`);
}

// --- decoding request data ------------------------------------------------------------------------------------------

/**
 * Little-endian bytes as a typed array of `datatype`: a view on them where their offset suits the type (no copy: the
 * request body is not used again), else an aligned copy (a JSON header of any length puts the binary part anywhere).
 */
export function fromBytes(datatype: OipDatatype, bytes: Uint8Array): TypedData {
  const size = BYTES_PER_ELEMENT[datatype];
  // new Uint8Array(view) copies; a Buffer's slice() would not.
  const { buffer, byteOffset, byteLength } = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  switch (datatype) {
    case 'FP32':
      return new Float32Array(buffer, byteOffset, byteLength / size);
    case 'FP16':
      return new Uint16Array(buffer, byteOffset, byteLength / size);
    case 'UINT8':
      return new Uint8Array(buffer, byteOffset, byteLength);
    case 'INT64':
      return new BigInt64Array(buffer, byteOffset, byteLength / size);
  }
}

/** The raw little-endian bytes of a typed array (a view, no copy). */
export function toBytes(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A value named in an error message without serializing it (a deeply nested value would overflow the stack). */
function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/**
 * Flattens row-major JSON data, flat or nested, without recursion: arrays may nest at most `maxDepth` levels (the
 * tensor's rank), so JSON nested thousands of levels deep is a 400, never a stack overflow.
 */
function flatten(data: unknown[], maxDepth: number, where: string, rankText: string): unknown[] {
  const out: unknown[] = [];
  const stack: { array: unknown[]; index: number }[] = [{ array: data, index: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.index >= top.array.length) {
      stack.pop();
      continue;
    }
    const value = top.array[top.index++];
    if (!Array.isArray(value)) {
      out.push(value);
      continue;
    }
    if (stack.length >= maxDepth) {
      throw new HttpError(400, `${where}: "data" nests arrays deeper than the tensor's ${rankText}: send a flat array of numbers (row-major), or nest it as the shape.`);
    }
    stack.push({ array: value, index: 0 });
  }
  return out;
}

/** Flattens JSON tensor data (flat or nested row-major arrays) and checks every element for `datatype`. */
export function fromJson(datatype: OipDatatype, data: unknown, count: number, where: string, rank = 1): TypedData {
  if (datatype === 'FP16') {
    throw new HttpError(400, `${where}: FP16 cannot travel as JSON numbers; send it with the binary tensor data extension (parameters.binary_data_size) or as FP32.`);
  }
  if (!Array.isArray(data)) throw new HttpError(400, `${where}: "data" must be an array of numbers (row-major), or use parameters.binary_data_size.`);
  const flat = flatten(data, Math.max(1, rank), where, `${rank} dimension${rank === 1 ? '' : 's'}`);
  if (flat.length !== count) {
    throw new HttpError(400, `${where}: the shape holds ${count} elements but "data" has ${flat.length}.`);
  }
  const out = datatype === 'FP32' ? new Float32Array(count) : datatype === 'UINT8' ? new Uint8Array(count) : new BigInt64Array(count);
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new HttpError(400, `${where}: data[${i}] is ${describe(v)}, not a finite number.`);
    }
    if (datatype === 'FP32') {
      out[i] = v;
    } else if (datatype === 'UINT8') {
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new HttpError(400, `${where}: data[${i}] = ${v} is not a UINT8 (an integer 0..255).`);
      out[i] = v;
    } else {
      if (!Number.isSafeInteger(v)) throw new HttpError(400, `${where}: data[${i}] = ${v} is not an integer JSON can carry exactly; send INT64 as binary.`);
      (out as BigInt64Array)[i] = BigInt(v);
    }
  }
  return out;
}

/** JSON numbers for a response output. */
export function toJson(datatype: OipDatatype, data: TypedData, name: string): number[] {
  if (datatype === 'FP16') {
    throw new HttpError(400, `Output ${name} is FP16, which cannot travel as JSON numbers: request it with parameters.binary_data: true.`);
  }
  if (data instanceof BigInt64Array) return Array.from(data, (v) => Number(v));
  return Array.from(data as Float32Array | Uint8Array);
}
