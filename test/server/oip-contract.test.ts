// Contract tests derived from the Open Inference Protocol's OpenAPI file (../shared/specs/open-inference-protocol/
// open_inference_rest.yaml): every path and method it lists is called on our server (with and without the optional
// /versions/<v> part), every documented response is validated against the schema the spec gives, and every
// error shape ({ "error": … }) for 400 and 404.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { startServer, type RunningServer } from '../../server/server.ts';
import { REPO } from './helpers.ts';
import { bearer, MODEL, pixels } from './oip-util.ts';

const SPEC_PATH = join(REPO, '..', 'shared', 'specs', 'open-inference-protocol', 'open_inference_rest.yaml');
if (!existsSync(SPEC_PATH)) {
  throw new Error(
    `The OpenAPI file of the Open Inference Protocol is missing at ${SPEC_PATH}: these contract tests are derived from it. ` +
      'Run the tests with the shared folder (../shared) beside the repository.',
  );
}

// --- a JSON-schema validator for the subset the spec uses ------------------------------------------------------------

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
};

interface Spec {
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, { schema: Schema }> }>; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
}

const spec = parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
const KEYWORDS = new Set(['$ref', 'type', 'properties', 'required', 'items', 'additionalProperties', 'anyOf', 'oneOf', 'allOf', 'enum', 'title', 'description', 'x-examples', 'format']);

function resolve(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const m = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref);
  const target = m ? spec.components.schemas[m[1]] : undefined;
  if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
  return resolve(target);
}

function typeOk(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      throw new Error(`the validator does not know type ${type}`);
  }
}

/** Returns the list of violations (empty when `value` matches). */
export function validate(schemaIn: Schema, value: unknown, path = '$'): string[] {
  const schema = resolve(schemaIn);
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key)) throw new Error(`the validator does not implement "${key}" (at ${path}): extend it`);
  }
  const errors: string[] = [];
  if (schema.type && !typeOk(schema.type, value)) return [`${path}: expected ${schema.type}, got ${JSON.stringify(value)?.slice(0, 60)}`];
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.anyOf && !schema.anyOf.some((s) => validate(s, value, path).length === 0)) errors.push(`${path}: matches none of anyOf`);
  if (schema.oneOf && schema.oneOf.filter((s) => validate(s, value, path).length === 0).length !== 1) errors.push(`${path}: does not match exactly one of oneOf`);
  for (const s of schema.allOf ?? []) errors.push(...validate(s, value, path));
  if (typeOk('object', value)) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${path}: missing required "${key}"`);
    for (const [key, v] of Object.entries(obj)) {
      const prop = schema.properties?.[key];
      if (prop) errors.push(...validate(prop, v, `${path}.${key}`));
      else if (typeof schema.additionalProperties === 'object') errors.push(...validate(schema.additionalProperties, v, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected "${key}"`);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errors.push(...validate(schema.items as Schema, v, `${path}[${i}]`)));
  return errors;
}

function assertValid(schema: Schema, value: unknown, what: string): void {
  const errors = validate(schema, value);
  assert.deepEqual(errors, [], `${what} does not match the spec's schema:\n${errors.join('\n')}`);
}

const schemaRef = (name: string): Schema => {
  assert.ok(spec.components.schemas[name], `the spec defines components.schemas.${name}`);
  return { $ref: `#/components/schemas/${name}` };
};

// --- requests derived from the spec's paths --------------------------------------------------------------------------

/** The spec's path with its ${MODEL_NAME}/${MODEL_VERSION} parameters filled in. */
function concrete(path: string, model = MODEL, version = '1'): string {
  return path.replace('${MODEL_NAME}', encodeURIComponent(model)).replace('${MODEL_VERSION}', encodeURIComponent(version));
}

/** The same path without the optional /versions/<v> part (the spec's prose marks it optional). */
function unversioned(path: string): string | null {
  const p = path.replace('/versions/${MODEL_VERSION}', '');
  return p === path ? null : p;
}

const size = 8;
function goodInferRequest(): Record<string, unknown> {
  return { id: 'contract-1', inputs: [{ name: 'input', shape: [1, size, size, 3], datatype: 'FP32', data: Array.from(pixels(size * size * 3)) }] };
}

let server: RunningServer;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; contentType: string | null }> {
  const res = await fetch(server.url + path, {
    method: method.toUpperCase(),
    headers: { ...bearer(server), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    assert.fail(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, json, contentType: res.headers.get('content-type') };
}

/** A raw request whose Content-Length is malformed: node's parser refuses it before any route, on any path. */
function malformedRequest(path: string): Promise<{ status: number; json: unknown }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (c) => (data += c.toString('utf8')));
    socket.on('end', () => {
      const [head, body] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), json: JSON.parse(body) });
    });
    socket.on('error', reject);
  });
}

/** How to provoke each documented non-200 response, by operationId and status. */
const PROVOKE: Record<string, (path: string) => Promise<{ status: number; json: unknown }>> = {
  // GET /v2/ cannot fail on its own; a malformed request to it is the 400 a client can meet there.
  'get-v2 400': (path) => malformedRequest(path),
  'post-v2-models-$-MODEL_NAME-versions-$-MODEL_VERSION-infer 400': (path) => call('post', path, '{"inputs": [ not json'),
};

before(async () => {
  server = await startServer({ port: 0 });
});
after(async () => {
  await server.close();
});

describe('OpenAPI contract: every path and method', () => {
  const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'post', 'put', 'delete', 'patch', 'head'].includes(method))
      .map(([method, op]) => ({ path, method, op })),
  );

  test('the spec was read: it lists the six OIP REST operations', () => {
    assert.equal(operations.length, 6, operations.map((o) => `${o.method} ${o.path}`).join(', '));
  });

  for (const { path, method, op } of operations) {
    for (const [status, response] of Object.entries(op.responses)) {
      const schema = response.content?.['application/json']?.schema;
      test(`${method.toUpperCase()} ${path} → ${status}${schema ? ' matches its schema' : ''}`, async () => {
        if (status === '200') {
          const variants = [concrete(path), ...(unversioned(path) ? [concrete(unversioned(path) as string)] : [])];
          for (const url of variants) {
            let body: unknown;
            if (method === 'post') {
              body = goodInferRequest();
              const requestSchema = op.requestBody?.content['application/json']?.schema;
              assert.ok(requestSchema, 'the spec gives the request body schema');
              assertValid(requestSchema, body, 'our test request'); // the request itself is what the spec describes
            }
            const res = await call(method, url, body);
            assert.equal(res.status, 200, `${method} ${url}: ${JSON.stringify(res.json)}`);
            if (schema) {
              assert.match(res.contentType ?? '', /^application\/json/);
              assertValid(schema, res.json, `${method.toUpperCase()} ${url}`);
            }
          }
          return;
        }
        const provoke = PROVOKE[`${op.operationId} ${status}`];
        assert.ok(provoke, `no way to provoke ${status} on ${op.operationId}: the spec changed, add one to PROVOKE`);
        const res = await provoke(concrete(path));
        assert.equal(res.status, Number(status));
        assert.ok(schema, `the spec documents a body for ${status}`);
        assertValid(schema, res.json, `${status} from ${method.toUpperCase()} ${path}`);
        assert.ok(((res.json as { error: string }).error ?? '').length > 10, 'the error says what happened');
      });
    }
  }
});

describe('response bodies in detail', () => {
  test('GET /v2 and /v2/: name, version, extensions with binary_tensor_data, and the execution provider', async () => {
    for (const path of ['/v2', '/v2/']) {
      const res = await call('get', path);
      assertValid(schemaRef('metadata_server_response'), res.json, path);
      const body = res.json as { name: string; extensions: string[]; execution_provider: string };
      assert.equal(body.name, 'frontier');
      assert.ok(body.extensions.includes('binary_tensor_data'));
      assert.ok(['cpu', 'cuda'].includes(body.execution_provider), body.execution_provider);
    }
  });

  test('model metadata: platform, version "1", the real graph inputs/outputs with -1 for dynamic dims', async () => {
    const res = await call('get', `/v2/models/${MODEL}`);
    assertValid(schemaRef('metadata_model_response'), res.json, 'metadata');
    assert.deepEqual(res.json, {
      name: MODEL,
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, -1, -1, 3] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [1, -1, -1, 3] }],
      properties: (res.json as { properties: unknown }).properties,
    });
    const props = (res.json as { properties: Record<string, string> }).properties;
    assert.equal(props.scale, '2');
    assert.equal(props.layout, 'NHWC');
  });

  test('inference response: model_name, model_version, the request id, outputs with shape ×2', async () => {
    const res = await call('post', `/v2/models/${MODEL}/infer`, goodInferRequest());
    assertValid(schemaRef('inference_response'), res.json, 'inference response');
    const body = res.json as { model_name: string; model_version: string; id: string; outputs: { name: string; shape: number[]; datatype: string; data: number[] }[] };
    assert.equal(body.model_name, MODEL);
    assert.equal(body.model_version, '1');
    assert.equal(body.id, 'contract-1');
    assert.deepEqual(body.outputs.map((o) => [o.name, o.datatype, o.shape]), [['output', 'FP32', [1, size * 2, size * 2, 3]]]);
    assert.equal(body.outputs[0].data.length, size * 2 * size * 2 * 3);
  });

  test('health: live and ready answer 200 with JSON; model ready names the model', async () => {
    assert.deepEqual((await call('get', '/v2/health/live')).json, { live: true });
    assert.deepEqual((await call('get', '/v2/health/ready')).json, { ready: true });
    for (const path of [`/v2/models/${MODEL}/ready`, `/v2/models/${MODEL}/versions/1/ready`]) {
      const res = await call('get', path);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { name: MODEL, ready: true });
    }
  });
});

describe('error shapes ({ "error": … }) on every model path', () => {
  const error = () => schemaRef('inference_error_response');
  const modelPaths = Object.keys(spec.paths).filter((p) => p.includes('${MODEL_NAME}'));

  for (const path of modelPaths) {
    const method = Object.keys(spec.paths[path]).find((m) => m === 'get' || m === 'post') ?? 'get';
    const body = method === 'post' ? goodInferRequest() : undefined;

    test(`${method.toUpperCase()} ${path}: unknown model → 404 { error }`, async () => {
      for (const url of [concrete(path, 'no-such-model'), concrete(unversioned(path) ?? path, 'no-such-model')]) {
        const res = await call(method, url, body);
        assert.equal(res.status, 404, url);
        assertValid(error(), res.json, url);
        assertValid(schemaRef('metadata_model_error_response'), res.json, url);
        assert.match((res.json as { error: string }).error, /No model named no-such-model.*esrgan-slim-x2/);
      }
    });

    test(`${method.toUpperCase()} ${path}: unknown version → 404 { error }`, async () => {
      const url = concrete(path, MODEL, '7');
      const res = await call(method, url, body);
      assert.equal(res.status, 404, url);
      assertValid(error(), res.json, url);
      assert.match((res.json as { error: string }).error, /no version 7; its versions: 1/);
    });
  }

  test('POST …/infer: a malformed request → 400 { error }, and the same path then succeeds', async () => {
    const url = `/v2/models/${MODEL}/infer`;
    for (const bad of ['{', '[]', '{"inputs": []}', JSON.stringify({ inputs: [{ name: 'input', shape: [1, 2, 2, 3], datatype: 'FP32', data: [1] }] })]) {
      const res = await call('post', url, bad);
      assert.equal(res.status, 400, bad);
      assertValid(error(), res.json, bad);
    }
    assert.equal((await call('post', url, goodInferRequest())).status, 200);
  });

  test('an unknown /v2 route → 404 { error }', async () => {
    const res = await call('get', '/v2/repository/index');
    assert.equal(res.status, 404);
    assertValid(schemaRef('metadata_server_error_response'), res.json, '404');
  });
});

describe('the validator itself', () => {
  test('rejects what the schemas forbid', () => {
    assert.notDeepEqual(validate(schemaRef('metadata_server_response'), { name: 'x', version: '1' }), []);
    assert.notDeepEqual(validate(schemaRef('metadata_tensor'), { name: 'x', datatype: 'FP32', shape: [1.5] }), []);
    assert.notDeepEqual(validate(schemaRef('inference_response'), { model_name: 'm', outputs: [{ name: 'o', shape: [1], datatype: 'FP32' }] }), []);
    assert.notDeepEqual(validate(schemaRef('tensor_data'), [[1, { a: 1 }]]), []);
    assert.deepEqual(validate(schemaRef('tensor_data'), [[1, 2], [3, 'x'], [true]]), []);
  });
});
