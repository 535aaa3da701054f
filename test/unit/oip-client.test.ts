// The `oip` runtime against a spec-faithful fake server: binary and JSON tensor paths, byte-exact encodings,
// the request shape on the wire, server metadata checks and probeServer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOipRuntime, probeServer } from '../../worker/runtime/oip.ts';
import { findJsonHeaderEnd, tensorFromJsonData } from '../../worker/runtime/oip-codec.ts';
import { retryAfterMs } from '../../worker/runtime/oip-http.ts';
import type { Tensor } from '../../worker/runtime/runtime.ts';
import { startFakeOipServer, type RecordedRequest } from '../fakes/oip-server.ts';
import { echoCard, noBytes, upscaleCard } from './oip-client-helpers.ts';

/** A deterministic NHWC float image with fractional values (they must survive JSON exactly). */
function image(h: number, w: number): Tensor {
  const data = new Float32Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 256) + i / 1024;
  return { dtype: 'float32', dims: [1, h, w, 3], data };
}

/** What the fake's double-up-x2 computes: ×2 values, nearest-neighbour ×2 size. */
function expectedDoubleUp(t: Tensor): Float32Array {
  const [, h, w, c] = t.dims;
  const src = t.data as Float32Array;
  const out = new Float32Array(h * 2 * w * 2 * c);
  for (let y = 0; y < h * 2; y++) {
    for (let x = 0; x < w * 2; x++) {
      for (let ch = 0; ch < c; ch++) out[(y * w * 2 + x) * c + ch] = src[(Math.floor(y / 2) * w + Math.floor(x / 2)) * c + ch] * 2;
    }
  }
  return out;
}

function splitBinaryRequest(r: RecordedRequest): { header: Record<string, unknown> & { inputs: { name: string; parameters?: Record<string, unknown>; data?: unknown }[]; outputs: { name: string; parameters?: Record<string, unknown> }[] }; tensors: Uint8Array } {
  const length = Number(r.headers['inference-header-content-length']);
  return { header: JSON.parse(Buffer.from(r.body.subarray(0, length)).toString('utf8')), tensors: r.body.subarray(length) };
}

test('binary and JSON paths give identical tensors, equal to what the model computes', async () => {
  const binary = await startFakeOipServer({ behaviour: { binary: true } });
  const json = await startFakeOipServer({ behaviour: { binary: false } });
  const hidden = await startFakeOipServer({ behaviour: { binary: true, sendHeaderLength: false } });
  try {
    const input = image(5, 7);
    const results: Float32Array[] = [];
    for (const server of [binary, json, hidden]) {
      const session = await createOipRuntime({ baseUrl: server.url }).createSession(upscaleCard(), noBytes);
      assert.deepEqual(session.inputNames, ['input']);
      assert.deepEqual(session.outputNames, ['output']);
      const out = await session.run({ input });
      assert.deepEqual(out.output.dims, [1, 10, 14, 3]);
      assert.equal(out.output.dtype, 'float32');
      results.push(out.output.data as Float32Array);
    }
    assert.deepEqual(results[0], expectedDoubleUp(input));
    assert.deepEqual(results[1], results[0], 'JSON result differs from binary');
    assert.deepEqual(results[2], results[0], 'result differs when Inference-Header-Content-Length is hidden');

    // On the wire: binary when advertised, JSON otherwise.
    const [b] = binary.infers();
    assert.equal(b.headers['content-type'], 'application/octet-stream');
    const { header, tensors } = splitBinaryRequest(b);
    assert.deepEqual(header.inputs, [{ name: 'input', shape: [1, 5, 7, 3], datatype: 'FP32', parameters: { binary_data_size: 5 * 7 * 3 * 4 } }]);
    assert.deepEqual(header.outputs, [{ name: 'output', parameters: { binary_data: true } }]);
    assert.deepEqual(new Float32Array(tensors.slice().buffer), input.data);
    const [j] = json.infers();
    assert.match(String(j.headers['content-type']), /^application\/json/);
    assert.equal(j.headers['inference-header-content-length'], undefined);
    const body = JSON.parse(Buffer.from(j.body).toString('utf8'));
    assert.deepEqual(body.outputs, [{ name: 'output' }]);
    assert.equal(body.inputs[0].datatype, 'FP32');
    assert.deepEqual(Float32Array.from(body.inputs[0].data), input.data);
  } finally {
    await Promise.all([binary.close(), json.close(), hidden.close()]);
  }
});

test('FP16, UINT8, INT64 and FP32 travel byte-exact, little-endian, and come back unchanged', async () => {
  const server = await startFakeOipServer();
  try {
    const session = await createOipRuntime({ baseUrl: server.url }).createSession(echoCard(), noBytes);
    const feeds: Record<string, Tensor> = {
      x_fp16: { dtype: 'float16', dims: [4], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) }, // 1, -2, 65504, smallest subnormal
      x_u8: { dtype: 'uint8', dims: [4], data: new Uint8Array([0, 1, 127, 255]) },
      x_i64: { dtype: 'int64', dims: [2], data: new BigInt64Array([-1n, 0x0102030405060708n]) },
      x_fp32: { dtype: 'float32', dims: [2], data: new Float32Array([1.5, -0.1]) },
    };
    const out = await session.run(feeds);
    // Insertion order of the feeds is the byte order on the wire.
    const { header, tensors } = splitBinaryRequest(server.infers()[0]);
    assert.deepEqual(
      header.inputs.map((i) => [i.name, i.parameters]),
      [['x_fp16', { binary_data_size: 8 }], ['x_u8', { binary_data_size: 4 }], ['x_i64', { binary_data_size: 16 }], ['x_fp32', { binary_data_size: 8 }]],
    );
    const expectedBytes = [
      ...[0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00], // FP16 little-endian
      ...[0, 1, 127, 255],
      ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01], // INT64 little-endian
      ...[0x00, 0x00, 0xc0, 0x3f, 0xcd, 0xcc, 0xcc, 0xbd], // 1.5f, -0.1f
    ];
    assert.deepEqual([...tensors], expectedBytes);
    assert.deepEqual(out.y_fp16, { dtype: 'float16', dims: [4], data: feeds.x_fp16.data });
    assert.deepEqual(out.y_u8, { dtype: 'uint8', dims: [4], data: feeds.x_u8.data });
    assert.deepEqual(out.y_i64, { dtype: 'int64', dims: [2], data: feeds.x_i64.data });
    assert.deepEqual(out.y_fp32, { dtype: 'float32', dims: [2], data: feeds.x_fp32.data });
    // Requested outputs as binary; only the extension's own parameter names, none of Triton's reserved ones.
    for (const o of header.outputs) assert.deepEqual(o.parameters, { binary_data: true });
    assert.doesNotMatch(JSON.stringify(header), /"(sequence_\w*|priority|timeout|triton_\w*)"/);
  } finally {
    await server.close();
  }
});

test('JSON path: UINT8 and INT64 as JSON numbers; FP16 needs the binary extension and says so', async () => {
  const server = await startFakeOipServer({ behaviour: { binary: false } });
  try {
    const runtime = createOipRuntime({ baseUrl: server.url });
    const session = await runtime.createSession(echoCard('echo-no-fp16', ['fp32', 'u8', 'i64']), noBytes);
    const feeds: Record<string, Tensor> = {
      x_fp32: { dtype: 'float32', dims: [3], data: new Float32Array([0.1, -3.25, 1e-30]) },
      x_u8: { dtype: 'uint8', dims: [3], data: new Uint8Array([0, 128, 255]) },
      x_i64: { dtype: 'int64', dims: [2], data: new BigInt64Array([-5n, 9007199254740991n]) },
    };
    const out = await session.run(feeds);
    const body = JSON.parse(Buffer.from(server.infers()[0].body).toString('utf8'));
    assert.deepEqual(body.inputs[1], { name: 'x_u8', shape: [3], datatype: 'UINT8', data: [0, 128, 255] });
    assert.deepEqual(body.inputs[2].data, [-5, 9007199254740991]);
    for (const k of ['fp32', 'u8', 'i64']) assert.deepEqual(out[`y_${k}`].data, feeds[`x_${k}`].data, k);

    const unsafe = await session.run({ ...feeds, x_i64: { dtype: 'int64', dims: [1], data: new BigInt64Array([2n ** 60n]) } }).catch((e: Error & { code?: string }) => e);
    assert.ok(unsafe instanceof Error);
    assert.equal(unsafe.code, 'bad-input');
    assert.match(unsafe.message, /JSON numbers cannot carry/);

    const fp16 = await runtime.createSession(echoCard(), noBytes).catch((e: Error & { code?: string }) => e);
    assert.ok(fp16 instanceof Error);
    assert.equal(fp16.code, 'model-load-failed');
    assert.match(fp16.message, /FP16.*binary tensor data extension/);
    assert.ok(fp16.message.includes(server.url));
  } finally {
    await server.close();
  }
});

test('every infer carries a fresh request id, and a wrong feed name is refused before sending', async () => {
  const server = await startFakeOipServer();
  try {
    const session = await createOipRuntime({ baseUrl: server.url }).createSession(upscaleCard(), noBytes);
    await Promise.all([session.run({ input: image(2, 2) }), session.run({ input: image(2, 2) }), session.run({ input: image(2, 2) })]);
    const ids = server.infers().map((r) => splitBinaryRequest(r).header.id);
    assert.equal(new Set(ids).size, 3);
    for (const id of ids) assert.match(String(id), /^frontier-/);
    const wrong = await session.run({ image: image(2, 2) }).catch((e: Error & { code?: string }) => e);
    assert.ok(wrong instanceof Error);
    assert.equal(wrong.code, 'bad-input');
    assert.equal(server.infers().length, 3);
    const badDims = await session.run({ input: { dtype: 'float32', dims: [1, 2, 2, 3], data: new Float32Array(5) } }).catch((e: Error & { code?: string }) => e);
    assert.ok(badDims instanceof Error);
    assert.equal(badDims.code, 'bad-input');
  } finally {
    await server.close();
  }
});

test('createSession reads server and model metadata only: no model bytes, a trailing slash in the URL is fine', async () => {
  const server = await startFakeOipServer();
  try {
    const session = await createOipRuntime({ baseUrl: `${server.url}/` }).createSession(upscaleCard(), noBytes);
    assert.ok(session);
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /v2', 'GET /v2/models/double-up-x2'],
    );
    await session.dispose();
  } finally {
    await server.close();
  }
});

test('probeServer (Triton-style empty health bodies) reports name, version, extensions, latency and which given models are ready', async () => {
  const server = await startFakeOipServer({ behaviour: { emptyHealthBodies: true } });
  try {
    const probe = await probeServer({ baseUrl: server.url, modelIds: ['double-up-x2', 'not-there', 'echo'] });
    assert.equal(probe.ok, true, probe.error);
    assert.equal(probe.name, 'fake-oip');
    assert.equal(probe.version, '2.0.0');
    assert.ok(probe.extensions.includes('binary_tensor_data'));
    assert.equal(probe.binary, true);
    assert.deepEqual(probe.models, ['double-up-x2', 'echo']);
    assert.ok(probe.latencyMs >= 0 && probe.latencyMs < 5000);
    assert.equal(probe.error, undefined);

    server.behaviour.binary = false;
    server.behaviour.emptyHealthBodies = false;
    const plain = await probeServer({ baseUrl: server.url });
    assert.equal(plain.ok, true);
    assert.equal(plain.binary, false);
    assert.equal(plain.models, undefined);
  } finally {
    await server.close();
  }
});

test('codec details: JSON header end inside tricky strings, nested data, Retry-After forms', () => {
  const text = '{"a":"}{\\"]","b":[{"c":1}]}';
  const bytes = new Uint8Array([...new TextEncoder().encode(text), 1, 2, 3]);
  assert.equal(findJsonHeaderEnd(bytes), new TextEncoder().encode(text).length);
  assert.equal(findJsonHeaderEnd(new TextEncoder().encode('{"open": ')), -1);
  assert.deepEqual(tensorFromJsonData('FP32', [2, 2], [[1, 2], [4, 5]]).data, new Float32Array([1, 2, 4, 5]));
  assert.throws(() => tensorFromJsonData('FP32', [2, 2], [1, 2, 3]), /needs 4 values/);
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs('soon'), null);
  const inTwoSeconds = retryAfterMs(new Date(Date.now() + 2500).toUTCString())!;
  assert.ok(inTwoSeconds > 1000 && inTwoSeconds <= 2500, String(inTwoSeconds));
});
