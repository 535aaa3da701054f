// Inference request and response bodies of the Open Inference Protocol: plain JSON, or the binary tensor data
// extension (a JSON header, then the raw tensors in order; Inference-Header-Content-Length = header bytes).
import type { Tensor } from './runtime.ts';
import { checkTensor, dtypeOf, findJsonHeaderEnd, OIP_DATATYPE, tensorBytes, tensorFromBytes, tensorFromJsonData, tensorToJsonData, type OipDatatype } from './oip-codec.ts';

export const HEADER_LENGTH = 'Inference-Header-Content-Length';

export interface InferBody {
  body: Uint8Array | string;
  headers: Record<string, string>;
}

interface RequestInput {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  parameters?: { binary_data_size: number };
  data?: number[];
}

/**
 * The body of POST /v2/models/{m}/infer. Only the extension's own parameter names are used (binary_data_size,
 * binary_data): none of Triton's reserved ones (sequence_*, priority, timeout, triton_*).
 */
export function encodeInferRequest(id: string, feeds: Record<string, Tensor>, outputs: readonly string[], binary: boolean): InferBody {
  const inputs: RequestInput[] = [];
  const chunks: Uint8Array[] = [];
  for (const [name, t] of Object.entries(feeds)) {
    checkTensor(name, t);
    const input: RequestInput = { name, shape: [...t.dims], datatype: OIP_DATATYPE[t.dtype] };
    if (binary) {
      const bytes = tensorBytes(t);
      input.parameters = { binary_data_size: bytes.length };
      chunks.push(bytes);
    } else {
      input.data = tensorToJsonData(name, t);
    }
    inputs.push(input);
  }
  const request = {
    id,
    inputs,
    outputs: outputs.map((name) => (binary ? { name, parameters: { binary_data: true } } : { name })),
  };
  if (!binary) return { body: JSON.stringify(request), headers: { 'Content-Type': 'application/json' } };
  const header = new TextEncoder().encode(JSON.stringify(request));
  const body = new Uint8Array(header.length + chunks.reduce((n, c) => n + c.length, 0));
  body.set(header, 0);
  let offset = header.length;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.length;
  }
  return { body, headers: { 'Content-Type': 'application/octet-stream', [HEADER_LENGTH]: String(header.length) } };
}

interface ResponseOutput {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  parameters?: { binary_data_size?: unknown } | null;
  data?: unknown;
}

/**
 * Tensors from an infer response. `headerLength` is the Inference-Header-Content-Length value (null when the
 * header is absent or hidden: then a body that is more than JSON is split where its top JSON object ends).
 * Throws a plain Error describing what is malformed; the caller adds server and model.
 */
export function decodeInferResponse(body: Uint8Array, headerLength: string | null, wanted: readonly string[]): Record<string, Tensor> {
  let jsonEnd = body.length;
  if (headerLength !== null && headerLength.trim() !== '') {
    jsonEnd = Number(headerLength);
    if (!Number.isInteger(jsonEnd) || jsonEnd < 0 || jsonEnd > body.length) throw new Error(`${HEADER_LENGTH} is ${headerLength} but the body has ${body.length} bytes`);
  } else {
    const end = findJsonHeaderEnd(body);
    if (end > 0) jsonEnd = end;
  }
  let parsed: { outputs?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder().decode(body.subarray(0, jsonEnd))) as { outputs?: unknown };
  } catch {
    throw new Error('the response is not the JSON of an inference response');
  }
  if (!parsed || !Array.isArray(parsed.outputs)) throw new Error('the response has no "outputs" array');
  const result: Record<string, Tensor> = {};
  let offset = jsonEnd;
  // Binary outputs take their bytes in the order the outputs are listed, whether we asked for them or not.
  for (const out of parsed.outputs as ResponseOutput[]) {
    const name = String(out?.name);
    if (!Array.isArray(out?.shape) || !out.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`output "${name}" has no valid shape`);
    const shape = out.shape as number[];
    const datatype = String(out.datatype);
    const size = out.parameters?.binary_data_size;
    let byteRange: Uint8Array | null = null;
    if (size !== undefined && size !== null) {
      if (!Number.isInteger(size) || (size as number) < 0 || offset + (size as number) > body.length) {
        throw new Error(`output "${name}" claims ${String(size)} binary bytes but only ${body.length - offset} remain`);
      }
      byteRange = body.subarray(offset, offset + (size as number));
      offset += size as number;
    }
    if (!wanted.includes(name)) continue;
    if (!dtypeOf(datatype)) throw new Error(`output "${name}" has datatype ${datatype}, which Frontier cannot read (FP32, FP16, UINT8 and INT64 only)`);
    result[name] = byteRange ? tensorFromBytes(datatype as OipDatatype, shape, byteRange) : tensorFromJsonData(datatype as OipDatatype, shape, out.data);
  }
  const rest = body.subarray(offset);
  if (rest.some((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)) throw new Error(`${rest.length} unexpected bytes after the last binary output`);
  for (const name of wanted) if (!result[name]) throw new Error(`the response has no output "${name}"`);
  return result;
}
