// Shared by the Open Inference Protocol tests: requests with the binary tensor extension, response parsing, a direct
// onnxruntime-node run to compare against, and tiny hand-encoded ONNX models (Identity in FP16 / UINT8) in a
// throwaway server root.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { REPO, tempRoot, type TempRoot } from './helpers.ts';

export const MODEL = 'esrgan-slim-x2';

export interface BinaryInput {
  name: string;
  shape: number[];
  datatype: string;
  bytes: Uint8Array;
}

/** A request body with every input in binary; `extra` is merged into the JSON header. */
export function binaryRequest(inputs: BinaryInput[], extra: Record<string, unknown> = {}): { body: Buffer; headers: Record<string, string> } {
  const header = Buffer.from(
    JSON.stringify({
      ...extra,
      inputs: inputs.map((i) => ({ name: i.name, shape: i.shape, datatype: i.datatype, parameters: { binary_data_size: i.bytes.length } })),
    }),
  );
  return {
    body: Buffer.concat([header, ...inputs.map((i) => Buffer.from(i.bytes.buffer, i.bytes.byteOffset, i.bytes.byteLength))]),
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
  };
}

export interface InferReply {
  status: number;
  headers: Headers;
  json: Record<string, unknown> & { outputs?: { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size?: number } }[]; error?: string };
  /** Binary outputs by name (copied, aligned). */
  binary: Map<string, Uint8Array>;
}

/** POSTs and splits the reply: JSON, or a JSON header plus binary outputs. */
export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<InferReply> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: body as BodyInit });
  const bytes = Buffer.from(await res.arrayBuffer());
  const headerLength = res.headers.get('inference-header-content-length');
  const jsonEnd = headerLength === null ? bytes.length : Number(headerLength);
  const json = JSON.parse(bytes.subarray(0, jsonEnd).toString('utf8')) as InferReply['json'];
  const binary = new Map<string, Uint8Array>();
  let offset = jsonEnd;
  for (const out of json.outputs ?? []) {
    const size = out.parameters?.binary_data_size;
    if (size === undefined) continue;
    binary.set(out.name, new Uint8Array(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  if (offset !== bytes.length) throw new Error(`response has ${bytes.length - offset} unaccounted bytes`);
  return { status: res.status, headers: res.headers, json, binary };
}

export function asFloat32(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer);
}

export function bytesOf(data: Float32Array | Uint16Array | Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The registry card of a built model in this repository. */
export function repoCard(id: string): ModelCard {
  const registry = JSON.parse(readFileSync(join(REPO, 'models', 'registry.json'), 'utf8')) as Registry;
  const card = registry.models.find((m) => m.id === id);
  if (!card) throw new Error(`no model ${id} in models/registry.json`);
  return card;
}

/** Runs a repository model directly on onnxruntime-node (CPU), as the reference for the server's answers. */
export async function directRun(id: string, input: Float32Array, dims: number[]): Promise<Float32Array> {
  const path = join(REPO, 'models', 'build', 'files', repoCard(id).files[0].name);
  const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input, dims) });
    return out.output.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Deterministic pseudo-random pixel values 0..255 (integers, so UINT8 and FP32 carry the same image). */
export function pixels(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s >>> 16) & 0xff;
  }
  return out;
}

/** IEEE half → number, written independently of the server's converter. */
export function halfToNumber(bits: number): number {
  const sign = bits >> 15 ? -1 : 1;
  const exponent = (bits >> 10) & 31;
  const fraction = bits & 1023;
  if (exponent === 0) return sign * Math.pow(2, -14) * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * Math.pow(2, exponent - 15) * (1 + fraction / 1024);
}

// --- a tiny ONNX model, hand-encoded --------------------------------------------------------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const field = (no: number, wire: number) => varint(no * 8 + wire);
const int = (no: number, v: number) => [...field(no, 0), ...varint(v)];
const bytes = (no: number, b: number[]) => [...field(no, 2), ...varint(b.length), ...b];
const str = (no: number, s: string) => bytes(no, [...Buffer.from(s, 'utf8')]);

/** ONNX elem types: FLOAT16 = 10, UINT8 = 2. */
const ELEM = { float16: 10, uint8: 2 } as const;

/** An ONNX model `y = Identity(x)` with x, y of `type` and shape [1, "n"]. */
export function identityModel(type: keyof typeof ELEM): Uint8Array {
  const valueInfo = (name: string) =>
    str(1, name).concat(bytes(2, bytes(1, [...int(1, ELEM[type]), ...bytes(2, [...bytes(1, int(1, 1)), ...bytes(1, str(2, 'n'))])])));
  const node = [...str(1, 'x'), ...str(2, 'y'), ...str(3, 'identity'), ...str(4, 'Identity')];
  const graph = [...bytes(1, node), ...str(2, 'g'), ...bytes(11, valueInfo('x')), ...bytes(12, valueInfo('y'))];
  return new Uint8Array([...int(1, 8), ...str(2, 'frontier-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 17)])]);
}

/** A server root whose registry holds the Identity models `identity-fp16` and `identity-uint8`. */
export async function identityRoot(): Promise<TempRoot> {
  const files: Record<string, Uint8Array | string> = {};
  const models: ModelCard[] = [];
  for (const type of ['float16', 'uint8'] as const) {
    const id = type === 'float16' ? 'identity-fp16' : 'identity-uint8';
    const model = identityModel(type);
    const sha256 = createHash('sha256').update(model).digest('hex');
    const name = `${id}.${sha256.slice(0, 16)}.onnx`;
    files[`models/build/files/${name}`] = model;
    models.push({
      id,
      task: 'identity',
      label: `Identity ${type}`,
      description: 'test model',
      variant: 'tiny',
      files: [{ name, sha256, bytes: model.length }],
      io: {
        inputs: [{ name: 'x', dtype: type, shape: [1, -1] }],
        outputs: [{ name: 'y', dtype: type, shape: [1, -1] }],
        image: { layout: 'NHWC', range: [0, 255] },
        scale: 1,
        tile: { size: 64, overlap: 0 },
      },
      license: 'MIT',
      source: { checkpoint: 'none' },
      targets: ['server'],
    });
  }
  files['models/registry.json'] = JSON.stringify({ version: 1, models } satisfies Registry);
  return tempRoot(files);
}
