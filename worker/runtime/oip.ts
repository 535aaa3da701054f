// Runtime `oip`: models run on a server speaking the Open Inference Protocol v2 (REST) — our companion server,
// NVIDIA Triton or KServe. Written from the spec (../shared/specs/open-inference-protocol/) plus Triton's binary
// tensor data extension; nothing here depends on our own server. Browser and Node alike: fetch only.
import { FrontierError } from '../job.ts';
import type { ModelCard, TensorSpec } from '../models/card.ts';
import type { Runtime, Session, Tensor } from './runtime.ts';
import { OIP_DATATYPE } from './oip-codec.ts';
import { errorText, OipHttp, type OipClientOptions, type OipResponse } from './oip-http.ts';
import { decodeInferResponse, encodeInferRequest, HEADER_LENGTH } from './oip-infer.ts';

export type { OipClientOptions } from './oip-http.ts';

export const BINARY_EXTENSION = 'binary_tensor_data';

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs?: MetadataTensor[];
  outputs?: MetadataTensor[];
}

export interface OipRuntime extends Runtime {
  readonly name: 'oip';
  /** The server as shown to users (no credentials). */
  readonly where: string;
}

export function createOipRuntime(opts: OipClientOptions): OipRuntime {
  const http = new OipHttp(opts);
  return {
    name: 'oip',
    where: http.where,
    // The server has the model: `loadBytes` is never called, nothing is downloaded.
    async createSession(card: ModelCard): Promise<Session> {
      const server = await getServerMetadata(http);
      const model = await getModelMetadata(http, card);
      checkModelIo(card, model, http.where);
      const binary = server.extensions.includes(BINARY_EXTENSION);
      const needsBinary = [...card.io.inputs, ...card.io.outputs].find((t) => t.dtype === 'float16');
      if (needsBinary && !binary) {
        throw new FrontierError('model-load-failed', `${card.label} exchanges FP16 tensors, which need the binary tensor data extension, but the server at ${http.where} does not offer it. Use a server that lists "${BINARY_EXTENSION}" in GET /v2 (Triton does).`);
      }
      return new OipSession(http, card, binary);
    },
  };
}

let requestCounter = 0;

/** A fresh request id. Not crypto.randomUUID: it needs a secure context, which Figma's worker is not. */
function newRequestId(): string {
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `frontier-${Date.now().toString(36)}-${requestCounter.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

class OipSession implements Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly http: OipHttp,
    private readonly card: ModelCard,
    /** Whether the server advertised the binary tensor data extension. */
    readonly binary: boolean,
  ) {
    this.inputNames = card.io.inputs.map((t) => t.name);
    this.outputNames = card.io.outputs.map((t) => t.name);
  }

  async run(feeds: Record<string, Tensor>, options: { signal?: AbortSignal } = {}): Promise<Record<string, Tensor>> {
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) throw new FrontierError('bad-input', `${this.card.label} has no input "${name}" (inputs: ${this.inputNames.join(', ')}).`);
    }
    const id = newRequestId();
    const { body, headers } = encodeInferRequest(id, feeds, this.outputNames, this.binary);
    const res = await this.http.send({
      method: 'POST',
      path: `${modelPath(this.card.id)}/infer`,
      headers,
      body,
      retry: 'before-response',
      signal: options.signal,
      what: `run ${this.card.id}`,
    });
    if (res.status !== 200) throw inferError(this.http, this.card, res, body.length);
    try {
      return decodeInferResponse(res.body, res.headers.get(HEADER_LENGTH), this.outputNames);
    } catch (err) {
      throw new FrontierError('run-failed', `The server at ${this.http.where} sent a malformed answer for model ${this.card.id}: ${(err as Error).message}.`);
    }
  }

  async dispose(): Promise<void> {
    // Nothing is held on the client; the server keeps its model loaded for others.
  }
}

function modelPath(id: string): string {
  return `/v2/models/${encodeURIComponent(id)}`;
}

async function getServerMetadata(http: OipHttp): Promise<ServerMetadata> {
  const res = await http.send({ method: 'GET', path: '/v2', retry: 'always', what: 'server metadata' });
  if (res.status === 401 || res.status === 403) throw authError(http, res);
  if (res.status !== 200) {
    const hint = res.status === 404 ? ' The URL should be the server root (e.g. http://host:8000 for Triton), without /v2.' : '';
    throw new FrontierError('target-unavailable', `The server at ${http.where} does not answer like an Open Inference Protocol server: GET /v2 gave ${describe(http, res)}.${hint}`);
  }
  const meta = parseJson(res) as Partial<ServerMetadata> | null;
  if (!meta || typeof meta !== 'object') {
    throw new FrontierError('target-unavailable', `The server at ${http.where} answered GET /v2 with something that is not Open Inference Protocol server metadata. Check the URL.`);
  }
  return {
    name: typeof meta.name === 'string' ? meta.name : '',
    version: typeof meta.version === 'string' ? meta.version : '',
    extensions: Array.isArray(meta.extensions) ? meta.extensions.filter((e): e is string => typeof e === 'string') : [],
  };
}

/** Triton says "Request for unknown model" with 400 (older) or 503 (newer) instead of 404. */
function isUnknownModel(res: OipResponse): boolean {
  return res.status === 404 || ((res.status === 400 || res.status === 503) && /unknown model|not found/i.test(errorText(res.body)));
}

async function getModelMetadata(http: OipHttp, card: ModelCard): Promise<ModelMetadata> {
  const res = await http.send({ method: 'GET', path: modelPath(card.id), retry: 'always', what: `metadata of ${card.id}` });
  if (res.status === 401 || res.status === 403) throw authError(http, res);
  if (isUnknownModel(res)) {
    throw new FrontierError(
      'model-not-found',
      `The server at ${http.where} has no model ${card.id}: add it to the server's model repository (for Triton, export it with "npm run export:triton" and load it), or pick another target or model.${serverSays(http, res)}`,
    );
  }
  if (res.status !== 200) throw new FrontierError('model-load-failed', `The server at ${http.where} could not give the metadata of model ${card.id}: ${describe(http, res)}. Check the server's log.`);
  const meta = parseJson(res) as ModelMetadata | null;
  if (!meta || typeof meta !== 'object') throw new FrontierError('model-load-failed', `The server at ${http.where} sent unreadable metadata for model ${card.id}.`);
  return meta;
}

/**
 * Throws model-load-failed unless every tensor of the card exists on the server with the same datatype, rank
 * and fixed dimensions (-1 on the server and named dims on the card match anything). The spec makes inputs and
 * outputs optional in model metadata: when a server leaves them out there is nothing to check.
 */
export function checkModelIo(card: ModelCard, meta: ModelMetadata, where: string): void {
  const problems: string[] = [];
  const compare = (kind: 'input' | 'output', expected: TensorSpec[], actual: MetadataTensor[] | undefined) => {
    if (!Array.isArray(actual)) return;
    for (const spec of expected) {
      const found = actual.find((t) => t?.name === spec.name);
      const want = `${OIP_DATATYPE[spec.dtype]} [${spec.shape.join(', ')}]`;
      if (!found) {
        problems.push(`no ${kind} "${spec.name}" (${want}); it has ${actual.map((t) => `"${t?.name}"`).join(', ') || 'none'}`);
        continue;
      }
      const shape = Array.isArray(found.shape) ? found.shape : [];
      const got = `${found.datatype} [${shape.join(', ')}]`;
      const dimsMatch = shape.length === spec.shape.length && spec.shape.every((d, i) => typeof d !== 'number' || d < 0 || shape[i] < 0 || shape[i] === d);
      if (found.datatype !== OIP_DATATYPE[spec.dtype] || !dimsMatch) problems.push(`${kind} "${spec.name}" is ${got}, expected ${want}`);
    }
    if (kind === 'input') {
      for (const t of actual) if (!expected.some((s) => s.name === t?.name)) problems.push(`it needs an input "${t?.name}" that ${card.label} does not provide`);
    }
  };
  compare('input', card.io.inputs, meta.inputs);
  compare('output', card.io.outputs, meta.outputs);
  if (problems.length) {
    throw new FrontierError(
      'model-load-failed',
      `The server at ${where} serves a model ${card.id} that does not match Frontier's ${card.label}: ${problems.join('; ')}. Re-export the model to the server (npm run export:triton) or pick another target.`,
    );
  }
}

function inferError(http: OipHttp, card: ModelCard, res: OipResponse, sentBytes: number): FrontierError {
  const what = `model ${card.id}`;
  if (res.status === 401 || res.status === 403) return authError(http, res);
  if (isUnknownModel(res)) return new FrontierError('model-not-found', `The server at ${http.where} no longer has model ${card.id} loaded: load it there again or pick another target.${serverSays(http, res)}`);
  if (res.status === 413) {
    return new FrontierError('too-large', `The request for ${what} (${(sentBytes / 1e6).toFixed(1)} MB) is larger than the server at ${http.where} accepts: use smaller tiles or raise the server's limit (Triton: --http-max-input-size).`);
  }
  if (res.status === 503) return new FrontierError('target-unavailable', `The server at ${http.where} is busy and kept refusing ${what} after ${http.retries} ${http.retries === 1 ? 'retry' : 'retries'}: try again in a moment.${serverSays(http, res)}`);
  if (res.status >= 400 && res.status < 500) return new FrontierError('run-failed', `The server at ${http.where} rejected the request for ${what}: ${describe(http, res)}.`);
  return new FrontierError('run-failed', `The server at ${http.where} failed to run ${what}: ${describe(http, res)}. Check the server's log, then run again.`);
}

/** A server that refused for want of the right pairing code (401/403): the UI offers to pair. */
export class PairingError extends FrontierError {
  constructor(
    message: string,
    /** 'needed': no code was sent; 'refused': the code sent is not the server's. */
    readonly pairing: 'needed' | 'refused',
    /** What the server said (where its code is), if anything. */
    readonly serverMessage?: string,
  ) {
    super('target-unavailable', message);
  }
}

function authError(http: OipHttp, res: OipResponse): FrontierError {
  const todo = http.hasToken
    ? `did not accept the pairing code (HTTP ${res.status}): check it in Settings → Pairing code, then test the connection.`
    : `asks for its pairing code (HTTP ${res.status}): enter it in Settings → Pairing code, then test the connection.`;
  const said = http.redact(errorText(res.body));
  return new PairingError(`The server at ${http.where} ${todo}${serverSays(http, res)}`, http.hasToken ? 'refused' : 'needed', said || undefined);
}

/** "HTTP 400: <the server's error>" (the token removed from anything the server echoed). */
function describe(http: OipHttp, res: OipResponse): string {
  const text = http.redact(errorText(res.body));
  return text ? `HTTP ${res.status}: ${text}` : `HTTP ${res.status}`;
}

function serverSays(http: OipHttp, res: OipResponse): string {
  const text = http.redact(errorText(res.body));
  return text ? ` (The server said: ${text})` : '';
}

function parseJson(res: OipResponse): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(res.body));
  } catch {
    return null;
  }
}

export interface ProbeResult {
  /** Reachable, speaking OIP, and ready (GET /v2/health/ready answered 2xx). */
  ok: boolean;
  name?: string;
  version?: string;
  extensions: string[];
  /** Whether inference will use the binary tensor data extension. */
  binary: boolean;
  /**
   * Which of `modelIds` the server has ready (GET /v2/models/{id}/ready). The protocol has no model listing,
   * so the client asks for the ids it knows. Absent when no ids were given or the server is not ok.
   */
  models?: string[];
  /** Round trip of GET /v2/health/ready. */
  latencyMs: number;
  /** What went wrong and what to do, when not ok. */
  error?: string;
  /** Set when the server refused for want of the right pairing code: 'needed' (none sent) or 'refused' (wrong). */
  pairing?: 'needed' | 'refused';
  /** The server's own words on where its pairing code is, when it said (HTTP 401). */
  pairingHint?: string;
}

/** For the UI's "Test connection": one quick check of the server, never throws. */
export async function probeServer(opts: OipClientOptions & { modelIds?: string[]; signal?: AbortSignal }): Promise<ProbeResult> {
  const result: ProbeResult = { ok: false, extensions: [], binary: false, latencyMs: 0 };
  try {
    const http = new OipHttp({ ...opts, retries: opts.retries ?? 0, timeoutMs: opts.timeoutMs ?? 10_000 });
    const started = Date.now();
    // Health: trust the status code only (Triton answers 200 with an empty body).
    const health = await http.send({ method: 'GET', path: '/v2/health/ready', retry: 'always', signal: opts.signal, what: 'health check' });
    result.latencyMs = Date.now() - started;
    if (health.status === 401 || health.status === 403) throw authError(http, health);
    const meta = await getServerMetadata(http);
    result.name = meta.name;
    result.version = meta.version;
    result.extensions = meta.extensions;
    result.binary = meta.extensions.includes(BINARY_EXTENSION);
    if (health.status < 200 || health.status >= 300) {
      result.error = `The server at ${http.where} is up but not ready (${describe(http, health)}): its models may still be loading; try again shortly.`;
      return result;
    }
    result.ok = true;
    if (opts.modelIds?.length) {
      const ready = await Promise.all(
        opts.modelIds.map(async (id) => {
          const res = await http.send({ method: 'GET', path: `${modelPath(id)}/ready`, retry: 'always', signal: opts.signal, what: `readiness of ${id}` });
          return res.status >= 200 && res.status < 300 ? id : null;
        }),
      );
      result.models = ready.filter((id): id is string => id !== null);
    }
  } catch (err) {
    result.ok = false;
    result.error = err instanceof Error ? err.message : String(err);
    if (err instanceof PairingError) {
      result.pairing = err.pairing;
      result.pairingHint = err.serverMessage;
    }
  }
  return result;
}
