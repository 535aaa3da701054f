// Binary tensors wherever they start in the body. The server reads a binary input in place when its offset suits the
// datatype (no copy) and copies it to an aligned buffer otherwise; the JSON header's length decides which, so every
// test here pads the header (JSON allows trailing spaces) to put the tensor at each offset a datatype can have. Every
// answer must be byte-exact: the largest tile esrgan-slim-x2 admits against onnxruntime-node called directly, FP16 and
// UINT8 through Identity models, INT64 through Gather, two FP32 inputs of one request through Add. The answer is sent
// in pieces (its JSON header, then the output as the inference process returned it): its length and byte count must
// agree. A malformed binary body between them is a 400, and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { TempRoot } from './helpers.ts';
import { addModel, asFloat32, bearer, bytesOf, directRun, gatherModel, identityModel, MODEL, modelsRoot, pixels, post } from './oip-util.ts';

let root: TempRoot;
let server: RunningServer;

before(async () => {
  root = await modelsRoot(
    [
      { id: 'identity-fp16', bytes: identityModel('float16'), inputs: [{ name: 'x', dtype: 'float16', shape: [1, -1] }], outputs: [{ name: 'y', dtype: 'float16', shape: [1, -1] }] },
      { id: 'identity-uint8', bytes: identityModel('uint8'), inputs: [{ name: 'x', dtype: 'uint8', shape: [1, -1] }], outputs: [{ name: 'y', dtype: 'uint8', shape: [1, -1] }] },
      { id: 'gather', bytes: gatherModel(), inputs: [{ name: 'index', dtype: 'int64', shape: [1, 'n'] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 'n'] }] },
      { id: 'add', bytes: addModel(), inputs: [{ name: 'a', dtype: 'float32', shape: [1, 'n'] }, { name: 'b', dtype: 'float32', shape: [1, 'm'] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 'k'] }] },
    ],
    [MODEL],
  );
  server = await startServer({ port: 0, root: root.root });
});
after(async () => {
  await server?.close();
  await root?.remove();
});

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  bytes: Uint8Array;
}

/** A binary request whose first tensor starts `offset` bytes past a multiple of 8 in the body. */
function requestAt(offset: number, inputs: Tensor[]): { body: Buffer; headers: Record<string, string> } {
  const json = JSON.stringify({
    inputs: inputs.map((i) => ({ name: i.name, shape: i.shape, datatype: i.datatype, parameters: { binary_data_size: i.bytes.length } })),
    outputs: [{ name: inputs[0].name === 'input' ? 'output' : 'y', parameters: { binary_data: true } }],
  });
  const padded = json + ' '.repeat((((offset - json.length) % 8) + 8) % 8);
  assert.equal(padded.length % 8, offset);
  const header = Buffer.from(padded, 'utf8');
  return {
    body: Buffer.concat([header, ...inputs.map((i) => Buffer.from(i.bytes.buffer, i.bytes.byteOffset, i.bytes.byteLength))]),
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length), ...bearer(server) },
  };
}

async function infer(model: string, offset: number, inputs: Tensor[]): Promise<Uint8Array> {
  const { body, headers } = requestAt(offset, inputs);
  const res = await post(`${server.url}/v2/models/${model}/infer`, body, headers);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const header = Number(res.headers.get('inference-header-content-length'));
  const size = res.json.outputs?.[0].parameters?.binary_data_size ?? -1;
  assert.equal(Number(res.headers.get('content-length')), header + size, 'Content-Length is the header plus the output');
  return res.binary.values().next().value as Uint8Array;
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const first = actual.findIndex((v, i) => v !== expected[i]);
  assert.equal(first, -1, `${what}: differs at byte ${first}`);
}

describe('binary inputs at every offset', () => {
  test(`${MODEL}: its largest tile (128 × 128 FP32, 192 KB in, 768 KB out) at offsets 0–3 mod 4 equals a direct run, byte for byte`, async () => {
    const shape = [1, 128, 128, 3];
    const input = pixels(128 * 128 * 3, 11);
    const expected = bytesOf(await directRun(MODEL, input, shape));
    for (const offset of [0, 1, 2, 3]) {
      const out = await infer(MODEL, offset, [{ name: 'input', shape, datatype: 'FP32', bytes: bytesOf(input) }]);
      assertSameBytes(out, expected, `offset ${offset}`);
    }
  });

  test('FP16 and UINT8 pass through Identity unchanged at even and odd offsets (4,096 elements, the bound)', async () => {
    const halves = new Uint16Array(4096).map((_, i) => (i * 2654435761) >>> 16);
    const bytes = new Uint8Array(4096).map((_, i) => (i * 97 + 13) & 0xff);
    for (const offset of [0, 1, 2, 7]) {
      assertSameBytes(await infer('identity-fp16', offset, [{ name: 'x', shape: [1, 4096], datatype: 'FP16', bytes: bytesOf(halves) }]), bytesOf(halves), `FP16 at ${offset}`);
      assertSameBytes(await infer('identity-uint8', offset, [{ name: 'x', shape: [1, 4096], datatype: 'UINT8', bytes }]), bytes, `UINT8 at ${offset}`);
    }
  });

  test('INT64 indices at offsets 0–7 mod 8 reach Gather as the same integers', async () => {
    const index = BigInt64Array.from({ length: 64 }, (_, i) => BigInt((i * 3) % 4));
    const expected = Float32Array.from(index, (i) => 10 + Number(i)); // the table is 10, 11, 12, 13
    for (let offset = 0; offset < 8; offset++) {
      const out = await infer('gather', offset, [{ name: 'index', shape: [1, 64], datatype: 'INT64', bytes: bytesOf(new Uint8Array(index.buffer)) }]);
      assertSameBytes(out, bytesOf(expected), `offset ${offset}`);
    }
  });

  test('two FP32 inputs of one request, the second right after the first at an odd length: Add sees both exactly', async () => {
    const a = Float32Array.from({ length: 1001 }, (_, i) => i / 7);
    const b = Float32Array.from({ length: 1001 }, (_, i) => 1000 - i * 0.37);
    const expected = Float32Array.from(a, (v, i) => v + b[i]); // float32 + float32, rounded to float32 as onnxruntime does
    for (const offset of [0, 3]) {
      const out = await infer('add', offset, [
        { name: 'a', shape: [1, 1001], datatype: 'FP32', bytes: bytesOf(a) },
        { name: 'b', shape: [1, 1001], datatype: 'FP32', bytes: bytesOf(b) },
      ]);
      assertSameBytes(out, bytesOf(expected), `offset ${offset}`);
    }
  });
});

describe('a malformed binary body between good ones', () => {
  test('a body cut short of its binary_data_size → 400; the next request, at an odd offset, still round-trips', async () => {
    const halves = new Uint16Array(256).map((_, i) => i * 251);
    const { body, headers } = requestAt(5, [{ name: 'x', shape: [1, 256], datatype: 'FP16', bytes: bytesOf(halves) }]);
    const cut = await post(`${server.url}/v2/models/identity-fp16/infer`, body.subarray(0, body.length - 3), headers);
    assert.equal(cut.status, 400);
    assert.match(cut.json.error ?? '', /runs past the binary data/);
    const longer = await post(`${server.url}/v2/models/identity-fp16/infer`, Buffer.concat([body, Buffer.alloc(2)]), headers);
    assert.equal(longer.status, 400);
    assert.match(longer.json.error ?? '', /no input's parameters\.binary_data_size accounts for/);
    assertSameBytes(await infer('identity-fp16', 5, [{ name: 'x', shape: [1, 256], datatype: 'FP16', bytes: bytesOf(halves) }]), bytesOf(halves), 'after the bad ones');
    const input = pixels(16 * 16 * 3, 3);
    const out = await infer(MODEL, 1, [{ name: 'input', shape: [1, 16, 16, 3], datatype: 'FP32', bytes: bytesOf(input) }]);
    assertSameBytes(out, bytesOf(await directRun(MODEL, input, [1, 16, 16, 3])), `${MODEL} after the bad ones`);
    assert.equal(asFloat32(out).length, 32 * 32 * 3);
  });
});
