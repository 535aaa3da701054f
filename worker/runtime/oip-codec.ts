// Tensor encodings of the Open Inference Protocol: datatype names, JSON `data` arrays and the raw little-endian
// bytes of the binary tensor data extension. Pure functions, no I/O: shared by the client and its tests.
import { FrontierError } from '../job.ts';
import type { DType } from '../models/card.ts';
import type { Tensor } from './runtime.ts';

/** The OIP datatypes Frontier's tensors map to (the spec has more: BOOL, INT8…, FP64, BYTES). */
export type OipDatatype = 'FP32' | 'FP16' | 'UINT8' | 'INT64';

export const OIP_DATATYPE: Record<DType, OipDatatype> = { float32: 'FP32', float16: 'FP16', uint8: 'UINT8', int64: 'INT64' };

const DTYPE_OF: Record<OipDatatype, DType> = { FP32: 'float32', FP16: 'float16', UINT8: 'uint8', INT64: 'int64' };
const BYTES_PER_ELEMENT: Record<OipDatatype, number> = { FP32: 4, FP16: 2, UINT8: 1, INT64: 8 };

export function dtypeOf(datatype: string): DType | undefined {
  return Object.hasOwn(DTYPE_OF, datatype) ? DTYPE_OF[datatype as OipDatatype] : undefined;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Typed arrays use the host's byte order; the binary extension is little-endian. Every platform we ship on is. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function requireLittleEndian(): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new FrontierError('run-failed', 'This machine is big-endian; the binary tensor encoding of the Open Inference Protocol needs a little-endian host.');
}

/** Throws bad-input unless `t.data` is the typed array its dtype needs, with as many elements as its dims say. */
export function checkTensor(name: string, t: Tensor): void {
  const expected = { float32: Float32Array, float16: Uint16Array, uint8: Uint8Array, int64: BigInt64Array }[t.dtype];
  if (!expected) throw new FrontierError('bad-input', `Tensor "${name}" has dtype ${String(t.dtype)}, which the Open Inference Protocol client cannot send.`);
  if (!(t.data instanceof expected)) throw new FrontierError('bad-input', `Tensor "${name}" is ${t.dtype} but its data is a ${t.data.constructor.name}.`);
  if (t.dims.some((d) => !Number.isInteger(d) || d < 0) || elementCount(t.dims) !== t.data.length) {
    throw new FrontierError('bad-input', `Tensor "${name}" has dims [${t.dims.join(', ')}] but ${t.data.length} elements.`);
  }
}

/** The tensor's bytes as the binary extension sends them (a view, no copy). */
export function tensorBytes(t: Tensor): Uint8Array {
  requireLittleEndian();
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** A tensor from raw little-endian bytes; copies, because the bytes may sit at an unaligned offset. */
export function tensorFromBytes(datatype: OipDatatype, shape: number[], bytes: Uint8Array): Tensor {
  requireLittleEndian();
  const expected = elementCount(shape) * BYTES_PER_ELEMENT[datatype];
  if (bytes.length !== expected) throw new Error(`${datatype} [${shape.join(', ')}] needs ${expected} bytes, got ${bytes.length}`);
  const buffer = bytes.slice().buffer;
  const data = { FP32: () => new Float32Array(buffer), FP16: () => new Uint16Array(buffer), UINT8: () => new Uint8Array(buffer), INT64: () => new BigInt64Array(buffer) }[datatype]();
  return { dtype: DTYPE_OF[datatype], dims: shape, data };
}

/** JSON `data` for a tensor. FP16 has no JSON form; INT64 must fit a double exactly. */
export function tensorToJsonData(name: string, t: Tensor): number[] {
  if (t.dtype === 'float16') {
    throw new FrontierError('bad-input', `Tensor "${name}" is FP16, which cannot travel as JSON numbers: the server must offer the binary tensor data extension.`);
  }
  if (t.data instanceof BigInt64Array) {
    return Array.from(t.data, (v) => {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new FrontierError('bad-input', `Tensor "${name}" holds ${v}, which JSON numbers cannot carry exactly: use a server with the binary tensor data extension.`);
      }
      return Number(v);
    });
  }
  const values = Array.from(t.data as Float32Array | Uint8Array);
  if (t.dtype === 'float32' && values.some((v) => !Number.isFinite(v))) {
    throw new FrontierError('bad-input', `Tensor "${name}" contains NaN or Infinity, which JSON cannot carry.`);
  }
  return values;
}

/** A tensor from JSON `data`, flat or nested (the spec allows both). */
export function tensorFromJsonData(datatype: OipDatatype, shape: number[], data: unknown): Tensor {
  if (datatype === 'FP16') throw new Error('FP16 output came as JSON numbers, which cannot represent it');
  const flat = flatten(data);
  if (flat.length !== elementCount(shape)) throw new Error(`shape [${shape.join(', ')}] needs ${elementCount(shape)} values, got ${flat.length}`);
  for (const v of flat) if (typeof v !== 'number') throw new Error(`expected numbers in ${datatype} data, got ${typeof v}`);
  const numbers = flat as number[];
  const dtype = DTYPE_OF[datatype];
  if (datatype === 'INT64') return { dtype, dims: shape, data: BigInt64Array.from(numbers, (v) => BigInt(Math.trunc(v))) };
  if (datatype === 'UINT8') return { dtype, dims: shape, data: Uint8Array.from(numbers) };
  return { dtype, dims: shape, data: Float32Array.from(numbers) };
}

function flatten(data: unknown): unknown[] {
  if (!Array.isArray(data)) throw new Error('tensor data is not an array');
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const stack: unknown[] = [data];
  // Depth-first, left to right, without recursion (deep nesting must not blow the stack).
  while (stack.length) {
    const item = stack.pop();
    if (Array.isArray(item)) for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
    else out.push(item);
  }
  return out;
}

export function datatypeSize(datatype: OipDatatype): number {
  return BYTES_PER_ELEMENT[datatype];
}

/**
 * Where the JSON header of a binary-extension body ends, found by scanning for the closing brace of the top
 * object. Used when Inference-Header-Content-Length is not readable (a browser hides response headers that a
 * cross-origin server does not list in Access-Control-Expose-Headers).
 */
export function findJsonHeaderEnd(bytes: Uint8Array): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (b === 0x5c) escaped = true; // backslash
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
