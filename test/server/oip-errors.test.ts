// Malformed input → a 4xx with a message that says what is wrong, and the server keeps serving: after each bad
// request (and after an oversized body) a good request still succeeds.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import { BAD_REQUESTS } from './oip-bad-inputs.ts';
import { MODEL, post } from './oip-util.ts';

const LIMIT = 256 * 1024; // a small body limit so the 413 tests send little
let server: RunningServer;
const good = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 2, 2, 3], datatype: 'FP32', data: Array.from({ length: 12 }, (_, i) => i) }] });

async function assertStillServes(): Promise<void> {
  const res = await post(`${server.url}/v2/models/${MODEL}/infer`, good);
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
      const res = await post(server.url + bad.path, bad.body, bad.headers);
      assert.equal(res.status, bad.status, JSON.stringify(res.json));
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.match(res.json.error ?? '', bad.message);
      await assertStillServes();
    });
  }
});

/** Sends `size` bytes, optionally without Content-Length (chunked), and returns the status and error. */
function sendLarge(size: number, chunked: boolean): Promise<{ status: number; error: string }> {
  const url = new URL(`${server.url}/v2/models/${MODEL}/infer`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: chunked ? { 'Content-Type': 'application/json' } : { 'Content-Length': size } },
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
    const res = await post(`${server.url}/v2/models/${MODEL}/infer`, `${good}${' '.repeat(LIMIT - good.length - 1)}`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
  });
});

describe('wrong methods and unknown paths', () => {
  test('GET on …/infer → 405 with Allow; POST on metadata → 405', async () => {
    const get = await fetch(`${server.url}/v2/models/${MODEL}/infer`);
    assert.equal(get.status, 405);
    assert.match(get.headers.get('allow') ?? '', /POST/);
    const postMeta = await fetch(`${server.url}/v2/models/${MODEL}`, { method: 'POST', body: good });
    assert.equal(postMeta.status, 405);
    await assertStillServes();
  });
});
