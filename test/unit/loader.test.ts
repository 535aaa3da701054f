// Model loading: sha256 verification, clear errors, and resume with HTTP Range, against a real HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { HttpModelSource } from '../../worker/models/http-source.ts';
import { loadModelBytes, sha256Hex } from '../../worker/models/loader.ts';
import type { ModelCard } from '../../worker/models/card.ts';

const payload = randomBytes(300_000);
const sha = createHash('sha256').update(payload).digest('hex');

function card(overrides: Partial<ModelCard['files'][0]> = {}): ModelCard {
  return {
    id: 'm',
    task: 'upscale',
    label: 'Test model',
    description: '',
    variant: 'tiny',
    files: [{ name: `m.${sha.slice(0, 16)}.onnx`, sha256: sha, bytes: payload.length, ...overrides }],
    io: { inputs: [], outputs: [], image: { layout: 'NHWC', range: [0, 255] }, scale: 1, tile: { size: 64, overlap: 8 } },
    license: 'test',
    source: { checkpoint: 'test' },
    targets: ['node'],
  };
}

/** mode: 'ok' | 'drop-once' (first response dies half-way) | 'no-range' | '404' | 'corrupt' */
async function serve(mode: string): Promise<{ url: string; server: Server; ranges: string[] }> {
  const ranges: string[] = [];
  let dropped = false;
  const server = createServer((req, res) => {
    if (mode === '404') return res.writeHead(404).end('{"error":"no"}');
    const body = mode === 'corrupt' ? Buffer.from(payload).fill(7, 0, 10) : payload;
    const range = req.headers.range;
    if (range) ranges.push(range);
    if (range && mode !== 'no-range') {
      const start = Number(/bytes=(\d+)-/.exec(range)![1]);
      res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
      return res.end(body.subarray(start));
    }
    res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
    if (mode === 'drop-once' && !dropped) {
      dropped = true;
      res.write(body.subarray(0, 100_000), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, ranges };
}

test('sha256Hex matches node:crypto', async () => {
  assert.equal(await sha256Hex(new Uint8Array(payload)), sha);
});

test('a complete download is verified and reports byte progress up to the total', async () => {
  const { url, server } = await serve('ok');
  try {
    const seen: number[] = [];
    const bytes = await loadModelBytes(card(), new HttpModelSource(url), (done, total) => {
      assert.equal(total, payload.length);
      seen.push(done);
    });
    assert.deepEqual(Buffer.from(bytes), payload);
    assert.equal(seen[seen.length - 1], payload.length);
    assert.ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]), 'progress never goes backwards');
  } finally {
    server.close();
  }
});

test('an interrupted download resumes with a Range request', async () => {
  const { url, server, ranges } = await serve('drop-once');
  try {
    const bytes = await loadModelBytes(card(), new HttpModelSource(url), () => {});
    assert.deepEqual(Buffer.from(bytes), payload);
    assert.equal(ranges.length, 1);
    assert.match(ranges[0], /^bytes=\d+-$/);
    assert.notEqual(ranges[0], 'bytes=0-');
  } finally {
    server.close();
  }
});

test('a corrupt file gives the hash-mismatch error with what to do', async () => {
  const { url, server } = await serve('corrupt');
  try {
    await assert.rejects(loadModelBytes(card(), new HttpModelSource(url), () => {}), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'hash-mismatch');
      assert.match(err.message, /corrupt .*Clear the model cache/);
      return true;
    });
  } finally {
    server.close();
  }
});

test('404, unreachable host and a size mismatch each say what to do', async () => {
  const { url, server } = await serve('404');
  try {
    await assert.rejects(loadModelBytes(card(), new HttpModelSource(url), () => {}), /no file .* \(404\)\. Run "npm run build"/);
  } finally {
    server.close();
  }
  await assert.rejects(loadModelBytes(card(), new HttpModelSource('http://127.0.0.1:9'), () => {}), /Cannot reach the model host .*npm start/);
  const ok = await serve('ok');
  try {
    await assert.rejects(loadModelBytes(card({ bytes: payload.length + 5 }), new HttpModelSource(ok.url), () => {}), /truncated/);
    await assert.rejects(loadModelBytes(card({ bytes: payload.length - 5 }), new HttpModelSource(ok.url), () => {}), /larger than its card/);
  } finally {
    ok.server.close();
  }
});

test('the pure-JS SHA-256 (for non-secure contexts) matches node:crypto at every padding boundary', async () => {
  const { sha256PureHex } = await import('../../worker/models/sha256.ts');
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 300_000]) {
    const data = new Uint8Array(payload.subarray(0, n));
    assert.equal(sha256PureHex(data), createHash('sha256').update(data).digest('hex'), `length ${n}`);
  }
});
