// Shared by the Open Inference Protocol tests: requests with the binary tensor extension and the server's token,
// response parsing, a direct onnxruntime-node run to compare against, tiny hand-encoded ONNX models in a throwaway
// server root (Identity in FP16 / UINT8; a Loop that runs as long as asked, for deadlines and kills; models that
// onnxruntime rejects inputs of at run time), and the server's child processes as Linux lists them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
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

// --- tiny ONNX models, hand-encoded ---------------------------------------------------------------------------------

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

/** ONNX elem types. */
const ELEM = { float32: 1, uint8: 2, int64: 7, bool: 9, float16: 10 } as const;
type Elem = keyof typeof ELEM;

/** A ValueInfoProto: a tensor of `elem`; `dims` numbers are fixed, strings named (dim_param); null = rank unknown. */
function valueInfo(name: string, elem: Elem, dims: (number | string)[] | null): number[] {
  const shape = dims === null ? [] : bytes(2, dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d))));
  return [...str(1, name), ...bytes(2, bytes(1, [...int(1, ELEM[elem]), ...shape]))];
}

function node(op: string, inputs: string[], outputs: string[], attributes: number[][] = []): number[] {
  return [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(3, `${op}-${outputs[0]}`), ...str(4, op), ...attributes.flatMap((a) => bytes(5, a))];
}

interface GraphParts {
  nodes: number[][];
  inputs: number[][];
  outputs: number[][];
  initializers?: number[][];
}

function graph(name: string, g: GraphParts): number[] {
  return [...g.nodes.flatMap((n) => bytes(1, n)), ...str(2, name), ...(g.initializers ?? []).flatMap((t) => bytes(5, t)), ...g.inputs.flatMap((i) => bytes(11, i)), ...g.outputs.flatMap((o) => bytes(12, o))];
}

function model(g: number[]): Uint8Array {
  return new Uint8Array([...int(1, 8), ...str(2, 'frontier-test'), ...bytes(7, g), ...bytes(8, [...str(1, ''), ...int(2, 17)])]);
}

/** An ONNX model `y = Identity(x)` with x, y of `type` and shape [1, "n"]. */
export function identityModel(type: 'float16' | 'uint8'): Uint8Array {
  return model(graph('g', { nodes: [node('Identity', ['x'], ['y'])], inputs: [valueInfo('x', type, [1, 'n'])], outputs: [valueInfo('y', type, [1, 'n'])] }));
}

/**
 * `y = Loop(iterations, true, x)` whose body passes x through: a run that takes as long as `iterations` (an INT64
 * scalar) says, on any machine. 10^15 iterations never end in a test: a stuck run, for deadlines and kills.
 */
export function spinModel(): Uint8Array {
  const body = graph('body', {
    nodes: [node('Identity', ['cond_in'], ['cond_out']), node('Identity', ['v_in'], ['v_out'])],
    inputs: [valueInfo('i', 'int64', []), valueInfo('cond_in', 'bool', []), valueInfo('v_in', 'float32', null)],
    outputs: [valueInfo('cond_out', 'bool', []), valueInfo('v_out', 'float32', null)],
  });
  const keepGoing = [...int(2, ELEM.bool), ...bytes(5, [1]), ...str(8, 'keep_going')]; // a bool scalar, true
  const loop = node('Loop', ['iterations', 'keep_going', 'x'], ['y'], [[...str(1, 'body'), ...int(20, 5), ...bytes(6, body)]]);
  return model(graph('spin', { nodes: [loop], initializers: [keepGoing], inputs: [valueInfo('x', 'float32', [1, 'n']), valueInfo('iterations', 'int64', [])], outputs: [valueInfo('y', 'float32', [1, 'n'])] }));
}

/** `y = Gather(table, index)` over a 4-entry table: an index outside 0..3 fails inside onnxruntime, at run time. */
export function gatherModel(): Uint8Array {
  const table = [...int(1, 4), ...int(2, ELEM.float32), ...bytes(4, [...Buffer.from(Float32Array.of(10, 11, 12, 13).buffer)]), ...str(8, 'table')];
  return model(graph('gather', { nodes: [node('Gather', ['table', 'index'], ['y'])], initializers: [table], inputs: [valueInfo('index', 'int64', [1, 'n'])], outputs: [valueInfo('y', 'float32', [1, 'n'])] }));
}

/** `y = a + b` with differently named dims: sizes that do not broadcast fail inside onnxruntime (an ORT_ENFORCE). */
export function addModel(): Uint8Array {
  return model(graph('add', { nodes: [node('Add', ['a', 'b'], ['y'])], inputs: [valueInfo('a', 'float32', [1, 'n']), valueInfo('b', 'float32', [1, 'm'])], outputs: [valueInfo('y', 'float32', [1, 'k'])] }));
}

interface TestModel {
  id: string;
  bytes: Uint8Array;
  inputs: ModelCard['io']['inputs'];
  outputs: ModelCard['io']['outputs'];
}

/** A server root whose registry holds `models` (tile 64: at most 4,096 positions per input) and copies of the
 * repository's built models named in `repoModels`. */
export async function modelsRoot(list: TestModel[], repoModels: string[] = []): Promise<TempRoot> {
  const files: Record<string, Uint8Array | string> = {};
  const copied = repoModels.map((id) => {
    const card = repoCard(id);
    for (const f of card.files) files[`models/build/files/${f.name}`] = readFileSync(join(REPO, 'models', 'build', 'files', f.name));
    return card;
  });
  const models = list.map((m): ModelCard => {
    const sha256 = createHash('sha256').update(m.bytes).digest('hex');
    const name = `${m.id}.${sha256.slice(0, 16)}.onnx`;
    files[`models/build/files/${name}`] = m.bytes;
    return {
      id: m.id,
      task: 'test',
      label: m.id,
      description: 'test model',
      variant: 'tiny',
      files: [{ name, sha256, bytes: m.bytes.length }],
      io: { inputs: m.inputs, outputs: m.outputs, image: { layout: 'NHWC', range: [0, 255] }, scale: 1, tile: { size: 64, overlap: 0 } },
      license: 'MIT',
      source: { checkpoint: 'none' },
      targets: ['server'],
    };
  });
  files['models/registry.json'] = JSON.stringify({ version: 1, models: [...models, ...copied] } satisfies Registry);
  return tempRoot(files);
}

/** A server root whose registry holds the Identity models `identity-fp16` and `identity-uint8`. */
export function identityRoot(): Promise<TempRoot> {
  return modelsRoot(
    (['float16', 'uint8'] as const).map((type) => ({
      id: type === 'float16' ? 'identity-fp16' : 'identity-uint8',
      bytes: identityModel(type),
      inputs: [{ name: 'x', dtype: type, shape: [1, -1] }],
      outputs: [{ name: 'y', dtype: type, shape: [1, -1] }],
    })),
  );
}

export const SPIN = 'spin';
export const NEVER_ENDS = 10 ** 15;

/** The spin model as `spin`, the Gather model as `gather`, the Add model as `add`, and the repository's `repoModels`. */
export function probeRoot(repoModels: string[] = []): Promise<TempRoot> {
  return modelsRoot(
    [
      { id: SPIN, bytes: spinModel(), inputs: [{ name: 'x', dtype: 'float32', shape: [1, 'n'] }, { name: 'iterations', dtype: 'int64', shape: [] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 'n'] }] },
      { id: 'gather', bytes: gatherModel(), inputs: [{ name: 'index', dtype: 'int64', shape: [1, 'n'] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 'n'] }] },
      { id: 'add', bytes: addModel(), inputs: [{ name: 'a', dtype: 'float32', shape: [1, 'n'] }, { name: 'b', dtype: 'float32', shape: [1, 'm'] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 'k'] }] },
    ],
    repoModels,
  );
}

/** A JSON request body for the spin model: `iterations` loops over a 4-element x. */
export function spinRequest(iterations: number): string {
  return JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'iterations', shape: [], datatype: 'INT64', data: [iterations] }] });
}

/** Starts a POST that declares its body and sends only part of it: it holds its admission until `finish()`. */
export function heldUpload(url: string, body: string, headers: Record<string, string> = {}): { req: ClientRequest; finish(): void; reply: Promise<{ status: number; body: string }> } {
  const u = new URL(url);
  let req!: ClientRequest;
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, 10));
  req.flushHeaders();
  return { req, reply, finish: () => req.end(body.slice(10)) };
}

// --- processes ------------------------------------------------------------------------------------------------------

/** The Authorization header for a server's token. */
export function bearer(server: { token: string }): Record<string, string> {
  return { Authorization: `Bearer ${server.token}` };
}

/** The pids of the direct children of process `pid` (Linux /proc). */
export function childPids(pid = process.pid): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

/** The server's inference processes (ort-process.mjs) and engine processes (engine-process.mjs) among the children of `pid`. */
export function workPids(kind: 'inference' | 'engine', pid = process.pid): number[] {
  const entry = kind === 'inference' ? 'ort-process.mjs' : 'engine-process.mjs';
  return childPids(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').some((arg) => arg.endsWith(entry));
    } catch {
      return false;
    }
  });
}

/** Whether process `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `condition` until it holds (the test's own timeout bounds the wait). */
export async function waitFor(condition: () => boolean | Promise<boolean>, everyMs = 10): Promise<void> {
  while (!(await condition())) await new Promise((r) => setTimeout(r, everyMs));
}
