// The binary tensor data extension (Triton's `binary_tensor_data`): a JSON header, then the raw little-endian
// tensors in order. `Inference-Header-Content-Length` says where the JSON ends.
import { HttpError } from '../http-util.ts';

export const HEADER_LENGTH = 'inference-header-content-length';

export interface SplitBody {
  json: unknown;
  /** Bytes after the JSON header; empty for a plain JSON request. */
  binary: Uint8Array;
}

/** Splits (and parses) a request body, with or without the binary extension. */
export function splitRequestBody(body: Buffer, headerLength: string | string[] | undefined): SplitBody {
  let jsonBytes = body;
  let binary: Uint8Array = new Uint8Array(0);
  if (headerLength !== undefined) {
    const text = Array.isArray(headerLength) ? headerLength[0] : headerLength;
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n > body.length) {
      throw new HttpError(
        400,
        `Inference-Header-Content-Length is "${text}" but must be the JSON header's byte length, at most the body's ${body.length} bytes.`,
      );
    }
    jsonBytes = body.subarray(0, n);
    binary = body.subarray(n);
  }
  let json: unknown;
  try {
    json = JSON.parse(jsonBytes.toString('utf8'));
  } catch (err) {
    const hint = headerLength === undefined ? ' (binary tensors need the Inference-Header-Content-Length header)' : '';
    throw new HttpError(400, `The request body is not valid JSON: ${(err as Error).message}${hint}.`);
  }
  return { json, binary };
}

/** Reads consecutive chunks of the binary section, refusing to run past its end. */
export class BinaryReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  take(size: number, where: string): Uint8Array {
    if (this.offset + size > this.bytes.length) {
      throw new HttpError(
        400,
        `${where}: binary_data_size ${size} runs past the binary data (${this.bytes.length - this.offset} bytes left after the JSON header).`,
      );
    }
    const chunk = this.bytes.subarray(this.offset, this.offset + size);
    this.offset += size;
    return chunk;
  }

  /** Every byte must belong to some input: leftovers mean the sizes and the data disagree. */
  finish(): void {
    if (this.offset !== this.bytes.length) {
      throw new HttpError(
        400,
        `The body has ${this.bytes.length - this.offset} bytes of binary data that no input's parameters.binary_data_size accounts for.`,
      );
    }
  }
}
