// The binary tensor data extension in both directions, and FP16/UINT8 inputs: every answer must equal a direct
// onnxruntime-node run of the same model on the same input, exactly.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { float16Bits, float16Value } from '../../server/oip/datatypes.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { TempRoot } from './helpers.ts';
import { asFloat32, bearer, binaryRequest, bytesOf, directRun, halfToNumber, identityRoot, MODEL, pixels, post } from './oip-util.ts';

const H = 12;
const W = 16;
const SHAPE = [1, H, W, 3];
const input = pixels(H * W * 3, 7);
let expected: Float32Array;
let server: RunningServer;
let inferUrl: string;

before(async () => {
  server = await startServer({ port: 0 });
  inferUrl = `${server.url}/v2/models/${MODEL}/infer`;
  expected = await directRun(MODEL, input, SHAPE);
});
after(async () => {
  await server.close();
});

function assertSameAsDirect(actual: Float32Array, reference = expected): void {
  assert.equal(actual.length, reference.length);
  const firstDiff = actual.findIndex((v, i) => !Object.is(v, reference[i]));
  assert.equal(firstDiff, -1, `differs at ${firstDiff}: ${actual[firstDiff]} vs ${reference[firstDiff]}`);
}

describe('round trips on esrgan-slim-x2', () => {
  test('binary request → binary response (Content-Type, Inference-Header-Content-Length, binary_data_size)', async () => {
    const { body, headers } = binaryRequest([{ name: 'input', shape: SHAPE, datatype: 'FP32', bytes: bytesOf(input) }], {
      id: 'bin-bin',
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    });
    const res = await post(inferUrl, body, { ...headers, ...bearer(server) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.ok(Number(res.headers.get('inference-header-content-length')) > 0);
    const out = res.json.outputs?.[0];
    assert.deepEqual(out?.shape, [1, H * 2, W * 2, 3]);
    assert.equal(out?.datatype, 'FP32');
    assert.equal(out?.data, undefined, 'binary outputs carry no JSON data');
    assert.equal(out?.parameters?.binary_data_size, expected.byteLength);
    assert.equal(res.json.id, 'bin-bin');
    assertSameAsDirect(asFloat32(res.binary.get('output') as Uint8Array));
  });

  test('JSON request → binary response (parameters.binary_data_output on the request)', async () => {
    const request = { inputs: [{ name: 'input', shape: SHAPE, datatype: 'FP32', data: Array.from(input) }], parameters: { binary_data_output: true } };
    const res = await post(inferUrl, JSON.stringify(request), bearer(server));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assertSameAsDirect(asFloat32(res.binary.get('output') as Uint8Array));
  });

  test('binary request → JSON response (float32 values survive JSON exactly)', async () => {
    const { body, headers } = binaryRequest([{ name: 'input', shape: SHAPE, datatype: 'FP32', bytes: bytesOf(input) }]);
    const res = await post(inferUrl, body, { ...headers, ...bearer(server) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('inference-header-content-length'), null);
    assertSameAsDirect(Float32Array.from(res.json.outputs?.[0].data ?? []));
  });

  test('JSON both ways, with nested (multi-dimensional) data', async () => {
    const nested = Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => Array.from(input.subarray((y * W + x) * 3, (y * W + x) * 3 + 3))));
    const res = await post(inferUrl, JSON.stringify({ inputs: [{ name: 'input', shape: SHAPE, datatype: 'FP32', data: [nested] }] }), bearer(server));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assertSameAsDirect(Float32Array.from(res.json.outputs?.[0].data ?? []));
  });

  test('binary_data: false on a requested output overrides binary_data_output', async () => {
    const { body, headers } = binaryRequest([{ name: 'input', shape: SHAPE, datatype: 'FP32', bytes: bytesOf(input) }], {
      parameters: { binary_data_output: true },
      outputs: [{ name: 'output', parameters: { binary_data: false } }],
    });
    const res = await post(inferUrl, body, { ...headers, ...bearer(server) });
    assert.equal(res.status, 200);
    assert.equal(res.binary.size, 0);
    assertSameAsDirect(Float32Array.from(res.json.outputs?.[0].data ?? []));
  });

  test('UINT8 input (binary and JSON) is converted to the model\'s float32', async () => {
    const u8 = Uint8Array.from(input);
    const { body, headers } = binaryRequest([{ name: 'input', shape: SHAPE, datatype: 'UINT8', bytes: u8 }], { parameters: { binary_data_output: true } });
    const bin = await post(inferUrl, body, { ...headers, ...bearer(server) });
    assert.equal(bin.status, 200, JSON.stringify(bin.json));
    assertSameAsDirect(asFloat32(bin.binary.get('output') as Uint8Array));

    const json = await post(inferUrl, JSON.stringify({ inputs: [{ name: 'input', shape: SHAPE, datatype: 'UINT8', data: Array.from(u8) }], parameters: { binary_data_output: true } }), bearer(server));
    assert.equal(json.status, 200, JSON.stringify(json.json));
    assertSameAsDirect(asFloat32(json.binary.get('output') as Uint8Array));
  });

  test('FP16 binary input is widened exactly to float32 for an fp32 model', async () => {
    // Random finite halves in 0..255 (bit patterns up to 0x5bf8 = 255.0), fractions included.
    const halves = new Uint16Array(H * W * 3);
    for (let i = 0; i < halves.length; i++) halves[i] = (i * 7919) % 0x5bf9;
    const widened = Float32Array.from(halves, halfToNumber);
    const reference = await directRun(MODEL, widened, SHAPE);

    const { body, headers } = binaryRequest([{ name: 'input', shape: SHAPE, datatype: 'FP16', bytes: bytesOf(halves) }], { parameters: { binary_data_output: true } });
    const res = await post(inferUrl, body, { ...headers, ...bearer(server) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assertSameAsDirect(asFloat32(res.binary.get('output') as Uint8Array), reference);
  });

  test('FP16 cannot travel as JSON numbers: 400 says to use the binary extension', async () => {
    const res = await post(inferUrl, JSON.stringify({ inputs: [{ name: 'input', shape: [1, 1, 1, 3], datatype: 'FP16', data: [1, 2, 3] }] }), bearer(server));
    assert.equal(res.status, 400);
    assert.match(res.json.error ?? '', /FP16 cannot travel as JSON.*binary/);
  });
});

describe('models that take FP16 and UINT8 themselves (Identity)', () => {
  let root: TempRoot;
  let idServer: RunningServer;
  before(async () => {
    root = await identityRoot();
    idServer = await startServer({ port: 0, root: root.root });
  });
  after(async () => {
    await idServer.close();
    await root.remove();
  });

  test('metadata reports FP16 and UINT8 with -1 for the dynamic dim', async () => {
    for (const [id, datatype] of [['identity-fp16', 'FP16'], ['identity-uint8', 'UINT8']]) {
      const meta = (await (await fetch(`${idServer.url}/v2/models/${id}`, { headers: bearer(idServer) })).json()) as { inputs: unknown[]; outputs: unknown[] };
      assert.deepEqual(meta.inputs, [{ name: 'x', datatype, shape: [1, -1] }]);
      assert.deepEqual(meta.outputs, [{ name: 'y', datatype, shape: [1, -1] }]);
    }
  });

  test('FP16 passes through an fp16 model bit for bit; FP32 and UINT8 are narrowed to it', async () => {
    const url = `${idServer.url}/v2/models/identity-fp16/infer`;
    const halves = Uint16Array.from([0x0000, 0x0001, 0x3c00, 0x3555, 0x7bff, 0xfc00, 0x8000, 0x5bf8]);
    const { body, headers } = binaryRequest([{ name: 'x', shape: [1, halves.length], datatype: 'FP16', bytes: bytesOf(halves) }], { parameters: { binary_data_output: true } });
    const res = await post(url, body, { ...headers, ...bearer(idServer) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.outputs?.[0].datatype, 'FP16');
    assert.deepEqual([...new Uint16Array(new Uint8Array(res.binary.get('y') as Uint8Array).buffer)], [...halves]);

    const floats = [0, 1, 0.1, 65504, 1e6, -2.5, 255];
    const fromFp32 = await post(url, JSON.stringify({ inputs: [{ name: 'x', shape: [1, floats.length], datatype: 'FP32', data: floats }], parameters: { binary_data_output: true } }), bearer(idServer));
    assert.equal(fromFp32.status, 200, JSON.stringify(fromFp32.json));
    const got = [...new Uint16Array(new Uint8Array(fromFp32.binary.get('y') as Uint8Array).buffer)].map(halfToNumber);
    assert.deepEqual(got, [0, 1, halfToNumber(0x2e66), 65504, Infinity, -2.5, 255]);

    const fromU8 = await post(url, JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'UINT8', data: [0, 128, 255] }], parameters: { binary_data_output: true } }), bearer(idServer));
    assert.deepEqual([...new Uint16Array(new Uint8Array(fromU8.binary.get('y') as Uint8Array).buffer)].map(halfToNumber), [0, 128, 255]);
  });

  test('an FP16 output requested as JSON is a 400 that says to ask for binary', async () => {
    const res = await post(`${idServer.url}/v2/models/identity-fp16/infer`, JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] }), bearer(idServer));
    assert.equal(res.status, 400);
    assert.match(res.json.error ?? '', /FP16.*binary_data: true/);
  });

  test('UINT8 passes through a uint8 model; FP32 into it is refused (lossy)', async () => {
    const url = `${idServer.url}/v2/models/identity-uint8/infer`;
    const ok = await post(url, JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'UINT8', data: [0, 1, 200, 255] }] }), bearer(idServer));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.outputs?.[0], { name: 'y', datatype: 'UINT8', shape: [1, 4], data: [0, 1, 200, 255] });
    const lossy = await post(url, JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [0.5] }] }), bearer(idServer));
    assert.equal(lossy.status, 400);
    assert.match(lossy.json.error ?? '', /takes UINT8.*FP32 cannot be converted/);
  });
});

describe('half-precision conversion', () => {
  test('every finite half survives half → float32 → half, and decodes like an independent decoder', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 31;
      if (exponent === 31 && (bits & 1023) !== 0) continue; // NaN payloads are not preserved, by design
      const value = float16Value(bits);
      assert.ok(Object.is(value, halfToNumber(bits)), `decode ${bits.toString(16)}`);
      assert.equal(float16Bits(value), bits, `round trip ${bits.toString(16)}`);
    }
  });

  test('float32 → half rounds to nearest even, overflows to Infinity, underflows to zero', () => {
    assert.equal(float16Bits(1 + 2 ** -11), 0x3c00); // tie → even (down)
    assert.equal(float16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
    assert.equal(float16Bits(65519), 0x7bff);
    assert.equal(float16Bits(65520), 0x7c00);
    assert.equal(float16Bits(2 ** -25), 0x0000); // tie with zero → even (zero)
    assert.equal(float16Bits(1.5 * 2 ** -25), 0x0001);
    assert.equal(float16Bits(-0), 0x8000);
    assert.equal(float16Bits(NaN) & 0x7c00, 0x7c00);
  });
});
