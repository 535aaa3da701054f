// Malformed input → a 4xx with a message that says what is wrong, and the server keeps serving: after each bad
// request (and after an oversized body) a good request still succeeds. Inputs past the model's own bounds (one tile
// per request) are 413 before any work; inputs onnxruntime itself rejects at run time are 400 about the input,
// never with onnxruntime's source paths.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { TempRoot } from './helpers.ts';
import { BAD_REQUESTS } from './oip-bad-inputs.ts';
import { bearer, binaryRequest, MODEL, post, probeRoot } from './oip-util.ts';

const LIMIT = 256 * 1024; // a small body limit so the 413 tests send little
let server: RunningServer;
const good = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 2, 2, 3], datatype: 'FP32', data: Array.from({ length: 12 }, (_, i) => i) }] });

async function assertStillServes(): Promise<void> {
  const res = await post(`${server.url}/v2/models/${MODEL}/infer`, good, bearer(server));
  assert.equal(res.status, 200, `a good request after the bad one: ${JSON.stringify(res.json)}`);
  assert.deepEqual(res.json.outputs?.[0].shape, [1, 4, 4, 3]);
}

before(async () => {
  server = await startServer({ port: 0, maxBodyBytes: LIMIT });
});
after(async () => {
  await server.close();
});

describe('bad inference requests', () => {
  for (const bad of BAD_REQUESTS) {
    test(`${bad.name} → ${bad.status}`, async () => {
      const res = await post(server.url + bad.path, bad.body, { ...bad.headers, ...bearer(server) });
      assert.equal(res.status, bad.status, JSON.stringify(res.json));
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.match(res.json.error ?? '', bad.message);
      await assertStillServes();
    });
  }
});

/** Sends `size` bytes, optionally without Content-Length (chunked), and returns the status and error. */
function sendLarge(size: number, chunked: boolean, on = server): Promise<{ status: number; error: string }> {
  const url = new URL(`${on.url}/v2/models/${MODEL}/infer`);
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/json', ...bearer(on), ...(chunked ? {} : { 'Content-Length': size }) };
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, error: (JSON.parse(Buffer.concat(chunks).toString()) as { error: string }).error }));
      },
    );
    req.on('error', reject);
    // Written in pieces, as a real upload; the server may answer before the last piece.
    const piece = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(piece.length, size - sent);
        sent += n;
        if (!req.write(piece.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('oversized bodies', () => {
  test('a declared Content-Length over the limit → 413 before the body is read', async () => {
    const res = await sendLarge(LIMIT * 4, false);
    assert.equal(res.status, 413);
    assert.match(res.error, /larger than this server's 0\.3 MB limit.*--max-body-mb/);
    await assertStillServes();
  });

  test('a chunked body that grows past the limit → 413', async () => {
    const res = await sendLarge(LIMIT * 3, true);
    assert.equal(res.status, 413);
    await assertStillServes();
  });

  test('a body just under the limit is read (and judged on its content)', async () => {
    const res = await post(`${server.url}/v2/models/${MODEL}/infer`, `${good}${' '.repeat(LIMIT - good.length - 1)}`, bearer(server));
    assert.equal(res.status, 200, JSON.stringify(res.json));
  });
});

describe('wrong methods and unknown paths', () => {
  test('GET on …/infer → 405 with Allow; POST on metadata → 405', async () => {
    const get = await fetch(`${server.url}/v2/models/${MODEL}/infer`, { headers: bearer(server) });
    assert.equal(get.status, 405);
    assert.match(get.headers.get('allow') ?? '', /POST/);
    const postMeta = await fetch(`${server.url}/v2/models/${MODEL}`, { method: 'POST', body: good, headers: { 'Content-Type': 'application/json', ...bearer(server) } });
    assert.equal(postMeta.status, 405);
    await assertStillServes();
  });
});

describe("the model's own bounds, with the server's default 64 MB body limit", () => {
  let big: RunningServer;
  before(async () => {
    big = await startServer({ port: 0 });
  });
  after(() => big.close());

  test('the 2048×2048 UINT8 request of the issue (12 MB) → 413 that says to tile, before its body is read', async () => {
    const size = 2048;
    const { body, headers } = binaryRequest([{ name: 'input', shape: [1, size, size, 3], datatype: 'UINT8', bytes: new Uint8Array(size * size * 3) }]);
    const res = await post(`${big.url}/v2/models/${MODEL}/infer`, body, { ...headers, ...bearer(big) });
    assert.equal(res.status, 413, JSON.stringify(res.json));
    assert.match(res.json.error ?? '', /larger than esrgan-slim-x2 can take in one request \(2\.3 MB: one 128 × 128 tile per request\)\. Split the image into tiles of at most 128 × 128 pixels/);
    assert.equal(big.inferStats().started, 0, 'nothing ran');
  });

  test('a chunked body past the model bound → 413 while it streams', async () => {
    const res = await sendLarge(4 * 2 ** 20, true, big);
    assert.equal(res.status, 413);
    assert.match(res.error, /Split the image into tiles of at most 128 × 128 pixels/);
  });

  test('the largest admitted request (one 128 × 128 tile, binary UINT8) runs', async () => {
    const { body, headers } = binaryRequest([{ name: 'input', shape: [1, 128, 128, 3], datatype: 'UINT8', bytes: new Uint8Array(128 * 128 * 3).fill(9) }], { parameters: { binary_data_output: true } });
    const res = await post(`${big.url}/v2/models/${MODEL}/infer`, body, { ...headers, ...bearer(big) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json.outputs?.[0].shape, [1, 256, 256, 3]);
  });
});

describe('inputs onnxruntime rejects at run time → 400 about the input, no internal path', () => {
  let root: TempRoot;
  let probe: RunningServer;
  before(async () => {
    root = await probeRoot();
    probe = await startServer({ port: 0, root: root.root });
  });
  after(async () => {
    await probe.close();
    await root.remove();
  });

  const assertNoInternals = (message: string) => {
    assert.doesNotMatch(message, /onnxruntime_src|\.(cc|h|cpp):\d+|onnxruntime::|was false/, message);
  };

  test('an index out of range (Gather) → 400 that names the bound, and the model keeps serving', async () => {
    const url = `${probe.url}/v2/models/gather/infer`;
    const bad = await post(url, JSON.stringify({ inputs: [{ name: 'index', shape: [1, 2], datatype: 'INT64', data: [1, 9] }] }), bearer(probe));
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.match(bad.json.error ?? '', /^gather cannot run on this input: indices element out of data bounds, idx=9 must be within the inclusive range \[-4,3\] \(in its Gather node .*\)\. Check the input's values and shapes/);
    assertNoInternals(bad.json.error ?? '');
    const ok = await post(url, JSON.stringify({ inputs: [{ name: 'index', shape: [1, 2], datatype: 'INT64', data: [1, 3] }] }), bearer(probe));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.outputs?.[0].data, [11, 13]);
  });

  test('shapes a node cannot combine (an ORT_ENFORCE in onnxruntime) → 400 without its source path or C++ signature', async () => {
    const url = `${probe.url}/v2/models/add/infer`;
    const body = JSON.stringify({ inputs: [{ name: 'a', shape: [1, 2], datatype: 'FP32', data: [1, 2] }, { name: 'b', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });
    const res = await post(url, body, bearer(probe));
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.match(res.json.error ?? '', /^add cannot run on this input: Attempting to broadcast an axis by a dimension other than 1\. 2 by 3 \(in its Add node/);
    assertNoInternals(res.json.error ?? '');
  });
});
