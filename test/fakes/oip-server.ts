// A small Open Inference Protocol v2 server for client tests, written from the spec
// (../shared/specs/open-inference-protocol/) and Triton's binary tensor data extension — not from our server.
// Behaviours a real deployment shows can be switched on: Triton's empty health bodies, no binary extension,
// 503 + Retry-After under load, a slow model, a bearer token at a gateway, a model whose metadata differs from
// what the client expects, Triton's 400 "Request for unknown model".
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type FakeDatatype = 'FP32' | 'FP16' | 'UINT8' | 'INT64';

export interface FakeTensor {
  name: string;
  datatype: FakeDatatype;
  shape: number[];
  /** Little-endian element bytes. */
  bytes: Uint8Array;
}

export interface FakeModel {
  name: string;
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
  /** Output tensors from the inputs (already checked against `inputs`); a model run by onnxruntime answers later. */
  compute(inputs: Record<string, FakeTensor>): FakeTensor[] | Promise<FakeTensor[]>;
}

export interface FakeBehaviour {
  /** Advertise and accept the binary tensor data extension. */
  binary: boolean;
  /** Triton answers health and ready probes 200 with an empty body; otherwise the spec's JSON bodies. */
  emptyHealthBodies: boolean;
  /** The next N infer requests get 503. */
  busyInfers: number;
  /** Retry-After header (seconds) on those 503s; null leaves it out. */
  retryAfterS: number | null;
  /** Delay before answering an infer (a slow model). */
  inferDelayMs: number;
  /** Require `Authorization: Bearer <token>` on every route. */
  token: string | null;
  /** Status for an unknown model: 404, or 400 as Triton's "Request for unknown model" (with 503 in newer releases). */
  unknownModelStatus: 404 | 400 | 503;
  /** Send Inference-Header-Content-Length on binary responses (a browser may not be allowed to read it). */
  sendHeaderLength: boolean;
  /** A gateway that echoes the request's Authorization header in its error bodies (to test redaction). */
  echoAuthInErrors: boolean;
  /** Answer every infer with this status and `{ "error" }` body. */
  failInfers: { status: number; error: string } | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Uint8Array;
  at: number;
}

export interface FakeOipServer {
  url: string;
  behaviour: FakeBehaviour;
  requests: RecordedRequest[];
  /** Infer requests received (including refused ones). */
  infers(): RecordedRequest[];
  close(): Promise<void>;
}

const SIZE: Record<FakeDatatype, number> = { FP32: 4, FP16: 2, UINT8: 1, INT64: 8 };

const count = (shape: number[]) => shape.reduce((n, d) => n * d, 1);

function floats(t: FakeTensor): Float32Array {
  return new Float32Array(t.bytes.slice().buffer);
}

function fromFloats(name: string, shape: number[], data: Float32Array): FakeTensor {
  return { name, datatype: 'FP32', shape, bytes: new Uint8Array(data.buffer) };
}

/** output = input × gain, enlarged ×scale by nearest neighbour, NHWC [1,H,W,C] → [1,H·s,W·s,C]. */
export function nearestUpscaleModel(name: string, opts: { scale: number; gain: number; input?: string; output?: string }): FakeModel {
  const input = opts.input ?? 'input';
  const output = opts.output ?? 'output';
  return {
    name,
    platform: 'onnxruntime_onnx',
    inputs: [{ name: input, datatype: 'FP32', shape: [-1, -1, -1, 3] }],
    outputs: [{ name: output, datatype: 'FP32', shape: [-1, -1, -1, 3] }],
    compute(inputs) {
      const x = inputs[input];
      const [n, h, w, c] = x.shape;
      const s = opts.scale;
      const src = floats(x);
      const out = new Float32Array(n * h * s * w * s * c);
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < h * s; y++) {
          for (let xx = 0; xx < w * s; xx++) {
            for (let ch = 0; ch < c; ch++) {
              out[((b * h * s + y) * w * s + xx) * c + ch] = src[((b * h + Math.floor(y / s)) * w + Math.floor(xx / s)) * c + ch] * opts.gain;
            }
          }
        }
      }
      return [fromFloats(output, [n, h * s, w * s, c], out)];
    },
  };
}

const ECHO_TYPES: Record<string, FakeDatatype> = { fp32: 'FP32', fp16: 'FP16', u8: 'UINT8', i64: 'INT64' };

/** Inputs x_<kind> (1-D) come back unchanged as y_<kind>, for kinds fp32, fp16, u8, i64. */
export function echoModel(name = 'echo', kinds: (keyof typeof ECHO_TYPES)[] = ['fp32', 'fp16', 'u8', 'i64']): FakeModel {
  const types = kinds.map((k) => [k, ECHO_TYPES[k]] as const);
  return {
    name,
    platform: 'onnxruntime_onnx',
    inputs: types.map(([k, datatype]) => ({ name: `x_${k}`, datatype, shape: [-1] })),
    outputs: types.map(([k, datatype]) => ({ name: `y_${k}`, datatype, shape: [-1] })),
    compute: (inputs) => types.map(([k]) => ({ ...inputs[`x_${k}`], name: `y_${k}` })),
  };
}

export function defaultModels(): FakeModel[] {
  return [
    nearestUpscaleModel('double-up-x2', { scale: 2, gain: 2 }),
    echoModel(),
    echoModel('echo-no-fp16', ['fp32', 'u8', 'i64']),
    // Declares what a differently exported model would: another input name, UINT8, NCHW.
    {
      ...nearestUpscaleModel('mismatched', { scale: 2, gain: 1 }),
      inputs: [{ name: 'image', datatype: 'UINT8', shape: [-1, 3, -1, -1] }],
    },
  ];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startFakeOipServer(opts: { models?: FakeModel[]; behaviour?: Partial<FakeBehaviour> } = {}): Promise<FakeOipServer> {
  const models = new Map((opts.models ?? defaultModels()).map((m) => [m.name, m]));
  const behaviour: FakeBehaviour = {
    binary: true,
    emptyHealthBodies: true,
    busyInfers: 0,
    retryAfterS: null,
    inferDelayMs: 0,
    token: null,
    unknownModelStatus: 404,
    sendHeaderLength: true,
    echoAuthInErrors: false,
    failInfers: null,
    ...opts.behaviour,
  };
  const requests: RecordedRequest[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const path = (req.url ?? '/').split('?')[0];
      requests.push({ method: req.method ?? '', path, headers: req.headers, body, at: Date.now() });
      handle(req, res, path, body).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        let message = err instanceof Error ? err.message : String(err);
        if (behaviour.echoAuthInErrors) message += ` (request had Authorization: ${req.headers.authorization ?? 'none'})`;
        sendJson(res, status, { error: message });
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, body: Uint8Array): Promise<void> {
    if (behaviour.token !== null && req.headers.authorization !== `Bearer ${behaviour.token}`) {
      throw new HttpError(401, 'missing or wrong bearer token');
    }
    const get = req.method === 'GET';
    if (get && (path === '/v2' || path === '/v2/')) {
      return sendJson(res, 200, { name: 'fake-oip', version: '2.0.0', extensions: behaviour.binary ? ['binary_tensor_data', 'statistics'] : ['statistics'] });
    }
    if (get && (path === '/v2/health/live' || path === '/v2/health/ready')) {
      return behaviour.emptyHealthBodies ? sendEmpty(res, 200) : sendJson(res, 200, path.endsWith('live') ? { live: true } : { ready: true });
    }
    const match = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(path);
    if (!match) throw new HttpError(404, `no route ${req.method} ${path}`);
    const name = decodeURIComponent(match[1]);
    const model = models.get(name);
    if (!model) throw new HttpError(behaviour.unknownModelStatus, `Request for unknown model: '${name}' is not found`);
    if (match[2] !== undefined && match[2] !== '1') throw new HttpError(404, `model '${name}' has no version ${match[2]}`);
    const action = match[3];
    if (get && action === undefined) {
      return sendJson(res, 200, { name: model.name, versions: ['1'], platform: model.platform, inputs: model.inputs, outputs: model.outputs });
    }
    if (get && action === '/ready') return behaviour.emptyHealthBodies ? sendEmpty(res, 200) : sendJson(res, 200, { name: model.name, ready: true });
    if (req.method === 'POST' && action === '/infer') return infer(req, res, model, body);
    throw new HttpError(405, `${req.method} is not allowed on ${path}`);
  }

  async function infer(req: IncomingMessage, res: ServerResponse, model: FakeModel, body: Uint8Array): Promise<void> {
    if (behaviour.busyInfers > 0) {
      behaviour.busyInfers--;
      const headers: Record<string, string> = behaviour.retryAfterS === null ? {} : { 'Retry-After': String(behaviour.retryAfterS) };
      return sendJson(res, 503, { error: 'the server is busy: too many requests in the queue' }, headers);
    }
    if (behaviour.failInfers) throw new HttpError(behaviour.failInfers.status, behaviour.failInfers.error);
    const { request, inputs } = parseInferRequest(req, body);
    for (const spec of model.inputs) {
      const t = inputs[spec.name];
      if (!t) throw new HttpError(400, `expected input '${spec.name}' for model '${model.name}'`);
      if (t.datatype !== spec.datatype) throw new HttpError(400, `input '${spec.name}' has datatype ${t.datatype}, model expects ${spec.datatype}`);
      if (t.shape.length !== spec.shape.length || spec.shape.some((d, i) => d >= 0 && d !== t.shape[i])) {
        throw new HttpError(400, `input '${spec.name}' has shape [${t.shape}], model expects [${spec.shape}]`);
      }
    }
    if (behaviour.inferDelayMs > 0) {
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), behaviour.inferDelayMs);
        res.on('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (closed) return; // the client went away (cancel or timeout)
    }
    const produced = await model.compute(inputs);
    const wanted: NonNullable<ParsedRequest['outputs']> = request.outputs ?? produced.map((t) => ({ name: t.name }));
    const binaryAll = request.parameters?.binary_data_output === true;
    const outputs: Record<string, unknown>[] = [];
    const chunks: Uint8Array[] = [];
    for (const w of wanted) {
      const t = produced.find((p) => p.name === w.name);
      if (!t) throw new HttpError(400, `unexpected inference output '${w.name}' for model '${model.name}'`);
      const asBinary = w.parameters?.binary_data === true || binaryAll;
      if (asBinary && !behaviour.binary) throw new HttpError(400, 'binary tensor data is not supported by this server');
      if (asBinary) {
        outputs.push({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: t.bytes.length } });
        chunks.push(t.bytes);
      } else {
        if (t.datatype === 'FP16') throw new HttpError(400, `output '${t.name}' is FP16, which has no JSON representation: request it as binary data`);
        outputs.push({ name: t.name, datatype: t.datatype, shape: t.shape, data: toNumbers(t) });
      }
    }
    const response = { model_name: model.name, model_version: '1', ...(request.id !== undefined ? { id: request.id } : {}), outputs };
    if (chunks.length === 0) return sendJson(res, 200, response);
    const header = Buffer.from(JSON.stringify(response));
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (behaviour.sendHeaderLength) headers['Inference-Header-Content-Length'] = String(header.length);
    const all = Buffer.concat([header, ...chunks]);
    res.writeHead(200, { ...headers, 'Content-Length': all.length });
    res.end(all);
  }

  interface ParsedRequest {
    id?: string;
    parameters?: Record<string, unknown>;
    inputs: { name: string; shape: number[]; datatype: string; parameters?: Record<string, unknown>; data?: unknown }[];
    outputs?: { name: string; parameters?: Record<string, unknown> }[];
  }

  function parseInferRequest(req: IncomingMessage, body: Uint8Array): { request: ParsedRequest; inputs: Record<string, FakeTensor> } {
    const lengthHeader = req.headers['inference-header-content-length'];
    const jsonLength = lengthHeader === undefined ? body.length : Number(lengthHeader);
    if (!Number.isInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length) throw new HttpError(400, `bad Inference-Header-Content-Length ${String(lengthHeader)}`);
    if (lengthHeader !== undefined && !behaviour.binary) throw new HttpError(400, 'binary tensor data is not supported by this server');
    let request: ParsedRequest;
    try {
      request = JSON.parse(Buffer.from(body.subarray(0, jsonLength)).toString('utf8')) as ParsedRequest;
    } catch {
      throw new HttpError(400, 'failed to parse the request JSON');
    }
    if (!request || !Array.isArray(request.inputs)) throw new HttpError(400, 'the request has no "inputs" array');
    const inputs: Record<string, FakeTensor> = {};
    let offset = jsonLength;
    for (const input of request.inputs) {
      const datatype = input.datatype as FakeDatatype;
      if (!(datatype in SIZE)) throw new HttpError(400, `unsupported datatype ${input.datatype}`);
      if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new HttpError(400, `input '${input.name}' has a bad shape`);
      const expectedBytes = count(input.shape) * SIZE[datatype];
      const size = input.parameters?.binary_data_size;
      if (size !== undefined) {
        if (size !== expectedBytes || offset + expectedBytes > body.length) {
          throw new HttpError(400, `input '${input.name}' declares ${String(size)} binary bytes; shape [${input.shape}] of ${datatype} needs ${expectedBytes}`);
        }
        inputs[input.name] = { name: input.name, datatype, shape: input.shape, bytes: body.slice(offset, offset + expectedBytes) };
        offset += expectedBytes;
      } else {
        if (datatype === 'FP16') throw new HttpError(400, `input '${input.name}': FP16 cannot be given as JSON`);
        if (!Array.isArray(input.data) || input.data.flat(Infinity).length !== count(input.shape)) {
          throw new HttpError(400, `input '${input.name}' needs ${count(input.shape)} values in "data"`);
        }
        inputs[input.name] = { name: input.name, datatype, shape: input.shape, bytes: fromNumbers(datatype, input.data.flat(Infinity) as number[]) };
      }
    }
    if (offset !== body.length) throw new HttpError(400, `${body.length - offset} unexpected bytes after the input tensors`);
    return { request, inputs };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    behaviour,
    requests,
    infers: () => requests.filter((r) => r.method === 'POST' && r.path.endsWith('/infer')),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function fromNumbers(datatype: FakeDatatype, values: number[]): Uint8Array {
  if (datatype === 'FP32') return new Uint8Array(Float32Array.from(values).buffer);
  if (datatype === 'INT64') return new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
  return Uint8Array.from(values);
}

function toNumbers(t: FakeTensor): number[] {
  const buffer = t.bytes.slice().buffer;
  if (t.datatype === 'FP32') return Array.from(new Float32Array(buffer));
  if (t.datatype === 'INT64') return Array.from(new BigInt64Array(buffer), Number);
  return Array.from(t.bytes);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}
