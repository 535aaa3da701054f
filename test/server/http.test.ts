// The server over real HTTP on an ephemeral port, against a throwaway root folder.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serverPaths } from '../../server/paths.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { raw, tempRoot, type TempRoot } from './helpers.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-DIST';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const MODEL_BYTES = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
const MODEL_SHA = sha256(MODEL_BYTES);
const MODEL_NAME = `tiny-up.${MODEL_SHA.slice(0, 16)}.onnx`;
// Right size, wrong content: what a disk error or a half-finished copy leaves behind.
const DAMAGED_NAME = 'damaged.cccccccccccccccc.onnx';
// A model converted on this machine (the local registry): the user's own weights, served with the token only.
const CONVERTED_BYTES = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) % 256);
const CONVERTED_NAME = `converted.${sha256(CONVERTED_BYTES).slice(0, 16)}.onnx`;

function card(id: string, file: string, bytes: number, hash = file.split('.')[1].padEnd(64, '0')) {
  return {
    id, task: 'upscale', label: id, description: '', variant: 'tiny', license: 'MIT', targets: ['wasm'],
    source: { checkpoint: 'seeded random' },
    files: [{ name: file, sha256: hash, bytes }],
    io: { inputs: [], outputs: [], image: { layout: 'NCHW', range: [0, 1] }, scale: 2, tile: { size: 64, overlap: 8 } },
  };
}

const REGISTRY = {
  version: 1,
  models: [
    card('present', MODEL_NAME, MODEL_BYTES.length, MODEL_SHA),
    card('absent', 'absent.aaaaaaaaaaaaaaaa.onnx', 10),
    card('truncated', 'truncated.bbbbbbbbbbbbbbbb.onnx', 999),
    card('damaged', DAMAGED_NAME, MODEL_BYTES.length),
  ],
};
const LOCAL_REGISTRY = { version: 1, models: [card('converted', CONVERTED_NAME, CONVERTED_BYTES.length, sha256(CONVERTED_BYTES))] };

let root: TempRoot;
let server: RunningServer;

before(async () => {
  root = await tempRoot({
    'secret.txt': SECRET,
    'models/registry.json': JSON.stringify(REGISTRY),
    [`models/build/files/${MODEL_NAME}`]: MODEL_BYTES,
    'models/build/files/truncated.bbbbbbbbbbbbbbbb.onnx': new Uint8Array(10),
    [`models/build/files/${DAMAGED_NAME}`]: MODEL_BYTES,
    'models/build/local-registry.json': JSON.stringify(LOCAL_REGISTRY),
    [`models/build/files/${CONVERTED_NAME}`]: CONVERTED_BYTES,
    'models/build/files/stray.dddddddddddddddd.onnx': MODEL_BYTES,
    'dist/figma/ui.html': '<!doctype html><p>plugin ui</p>',
    'dist/playground/playground.js': 'console.log("playground")',
  });
  server = await startServer({ port: 0, root: root.root });
});
after(async () => {
  await server.close();
  await root.remove();
});

function json(body: Buffer): { error?: string } & Record<string, unknown> {
  return JSON.parse(body.toString('utf8'));
}

describe('static routes', () => {
  test('listens on an ephemeral loopback port', () => {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });

  test('GET / serves the playground page; ?coi=1 adds cross-origin isolation', async () => {
    const page = await raw(server.url, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body.toString(), /src="\/playground\.js"/);
    assert.equal(page.headers['cross-origin-opener-policy'], undefined);
    const isolated = await raw(server.url, '/?coi=1');
    assert.equal(isolated.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(isolated.headers['cross-origin-embedder-policy'], 'require-corp');
  });

  test('every other response carries Cross-Origin-Resource-Policy: cross-origin', async () => {
    for (const path of ['/playground.js', '/dist/figma/ui.html', `/models/files/${MODEL_NAME}`, '/models/registry.json', '/samples/chelsea.png', '/nothing-here']) {
      const res = await raw(server.url, path);
      assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin', path);
    }
  });

  test('/playground.js and /dist/* serve the build output', async () => {
    const js = await raw(server.url, '/playground.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.equal(js.body.toString(), 'console.log("playground")');
    const ui = await raw(server.url, '/dist/figma/ui.html');
    assert.equal(ui.status, 200);
    assert.equal(ui.body.toString(), '<!doctype html><p>plugin ui</p>');
    assert.equal(ui.headers['content-length'], String(ui.body.length));
  });

  test('no directory listings, and a missing build file says to build', async () => {
    for (const path of ['/dist/', '/dist/figma', '/dist/figma/']) {
      const res = await raw(server.url, path);
      assert.ok(res.status === 404 || res.status === 400, `${path} → ${res.status}`);
      assert.doesNotMatch(res.body.toString(), /ui\.html/);
    }
    const missing = await raw(server.url, '/dist/photoshop/manifest.json');
    assert.equal(missing.status, 404);
    assert.match(json(missing.body).error ?? '', /npm run build/);
  });

  test('path traversal is refused in every encoding', async () => {
    const attempts = [
      '/dist/../secret.txt',
      '/dist/%2e%2e/secret.txt',
      '/dist/%2E%2E/secret.txt',
      '/dist/..%2fsecret.txt',
      '/dist/%2e%2e%2fsecret.txt',
      '/dist/figma/..%5c..%5csecret.txt',
      '/dist/figma/%2e%2e/%2e%2e/secret.txt',
      `/dist/${encodeURIComponent(join(root.root, 'secret.txt'))}`,
      `/dist/${join(root.root, 'secret.txt')}`,
      '/dist//etc/passwd',
      '/dist/C:%5csecret.txt',
      '/dist/secret.txt%00.html',
      '/models/files/..%2f..%2f..%2fsecret.txt',
      '/models/files/%2e%2e/%2e%2e/%2e%2e/secret.txt',
      '/samples/..%2f..%2f..%2fsecret.txt',
      '/ort/..%2fpackage.json',
      '/ort/../package.json',
    ];
    for (const path of attempts) {
      const res = await raw(server.url, path);
      assert.ok(res.status >= 400 && res.status < 500, `${path} → ${res.status}`);
      assert.ok(!res.body.toString().includes(SECRET), `${path} leaked the file`);
      assert.equal(typeof json(res.body).error, 'string', `${path} answers a JSON error`);
    }
  });

  test('/ort/ serves only onnxruntime-web .wasm and .mjs files', async () => {
    const ortDist = serverPaths(root.root).ortDist;
    const wasm = await raw(server.url, '/ort/ort-wasm-simd-threaded.wasm', { method: 'HEAD' });
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers['content-type'], 'application/wasm');
    assert.equal(Number(wasm.headers['content-length']), (await stat(join(ortDist, 'ort-wasm-simd-threaded.wasm'))).size);
    assert.equal(wasm.body.length, 0, 'HEAD has no body');
    const mjs = await raw(server.url, '/ort/ort-wasm-simd-threaded.jsep.mjs');
    assert.equal(mjs.status, 200);
    assert.match(String(mjs.headers['content-type']), /javascript/);
    assert.deepEqual(mjs.body, await readFile(join(ortDist, 'ort-wasm-simd-threaded.jsep.mjs')));
    // onnxruntime's pthread workers start from this script: in an isolated page they load only with COEP.
    assert.equal(mjs.headers['cross-origin-embedder-policy'], 'require-corp');
    for (const path of ['/ort/ort.js', '/ort/ort.min.js.map', '/ort/', '/ort/package.json']) {
      const res = await raw(server.url, path);
      assert.equal(res.status, 404, path);
      assert.match(json(res.body).error ?? '', /\.wasm and \.mjs/);
    }
  });

  test('/samples lists the photos and serves them', async () => {
    const list = await raw(server.url, '/samples');
    assert.deepEqual(json(list.body), { samples: ['astronaut.png', 'chelsea.png'] });
    const photo = await raw(server.url, '/samples/chelsea.png');
    assert.equal(photo.status, 200);
    assert.equal(photo.headers['content-type'], 'image/png');
    assert.deepEqual(photo.body, await readFile(join(root.root, 'test/fixtures/images/chelsea.png')));
    const missing = await raw(server.url, '/samples/nope.png');
    assert.equal(missing.status, 404);
    assert.match(json(missing.body).error ?? '', /astronaut\.png, chelsea\.png/);
  });
});

describe('models', () => {
  test('registry.json lists only models whose files are built with the right size', async () => {
    const res = await raw(server.url, '/models/registry.json');
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'no-cache');
    const body = json(res.body) as unknown as typeof REGISTRY;
    assert.equal(body.version, 1);
    assert.deepEqual(body.models.map((m) => m.id), ['present', 'damaged', 'converted']);
    assert.deepEqual(body.models[0], REGISTRY.models[0]);
  });

  test('a model file comes whole with immutable caching, its hash as ETag and byte ranges', async () => {
    const res = await raw(server.url, `/models/files/${MODEL_NAME}`);
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(res.body), MODEL_BYTES);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(res.headers.etag, `"${MODEL_SHA}"`);
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.equal(res.headers['content-length'], '1000');
    assert.equal(res.headers['content-type'], 'application/octet-stream');
  });

  test('HEAD gives the length without a body', async () => {
    const res = await raw(server.url, `/models/files/${MODEL_NAME}`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '1000');
    assert.equal(res.headers.etag, `"${MODEL_SHA}"`);
    assert.equal(res.body.length, 0);
  });

  test('Range requests answer 206 with Content-Range, or 416 when unsatisfiable', async () => {
    const cases: [string, number, number][] = [
      ['bytes=10-19', 10, 19],
      ['bytes=990-', 990, 999],
      ['bytes=-5', 995, 999],
      ['bytes=995-5000', 995, 999],
    ];
    for (const [range, start, end] of cases) {
      const res = await raw(server.url, `/models/files/${MODEL_NAME}`, { headers: { Range: range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/1000`, range);
      assert.equal(res.headers['content-length'], String(end - start + 1), range);
      assert.deepEqual(new Uint8Array(res.body), MODEL_BYTES.slice(start, end + 1), range);
    }
    const head = await raw(server.url, `/models/files/${MODEL_NAME}`, { method: 'HEAD', headers: { Range: 'bytes=100-199' } });
    assert.equal(head.status, 206);
    assert.equal(head.headers['content-length'], '100');
    assert.equal(head.body.length, 0);
    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
      const res = await raw(server.url, `/models/files/${MODEL_NAME}`, { headers: { Range: range } });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers['content-range'], 'bytes */1000', range);
    }
    // A stale If-Range means the client's partial copy is of another file: send it all.
    const stale = await raw(server.url, `/models/files/${MODEL_NAME}`, { headers: { Range: 'bytes=0-9', 'If-Range': '"ffff"' } });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, 1000);
  });

  test('If-None-Match with the hash answers 304', async () => {
    const res = await raw(server.url, `/models/files/${MODEL_NAME}`, { headers: { 'If-None-Match': `"${MODEL_SHA}"` } });
    assert.equal(res.status, 304);
    assert.equal(res.body.length, 0);
  });

  test('a model file that is not built is a 404 that says to build', async () => {
    const res = await raw(server.url, '/models/files/absent.aaaaaaaaaaaaaaaa.onnx');
    assert.equal(res.status, 404);
    assert.match(json(res.body).error ?? '', /npm run build/);
  });

  test('a damaged file (right size, wrong sha256) is never served, let alone as immutable', async () => {
    const res = await raw(server.url, `/models/files/${DAMAGED_NAME}`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.etag, undefined);
    assert.doesNotMatch(String(res.headers['cache-control']), /immutable/);
    assert.match(json(res.body).error ?? '', /damaged on the server.*sha256.*npm run build/);
    assert.doesNotMatch(json(res.body).error ?? '', new RegExp(root.root.replace(/[/\\.]/g, '\\$&')));
    // Truncated: known from the size alone.
    const short = await raw(server.url, '/models/files/truncated.bbbbbbbbbbbbbbbb.onnx');
    assert.equal(short.status, 503);
    assert.match(json(short.body).error ?? '', /10 bytes where its card says 999/);
  });

  test('a file that goes bad after it was served is checked again', async () => {
    const name = `later.${sha256(CONVERTED_BYTES.slice(0, 200)).slice(0, 16)}.onnx`;
    const bytes = CONVERTED_BYTES.slice(0, 200);
    const dir = join(root.root, 'models', 'build', 'files');
    const registry = { ...REGISTRY, models: [...REGISTRY.models, card('later', name, bytes.length, sha256(bytes))] };
    await writeFile(join(root.root, 'models', 'registry.json'), JSON.stringify(registry));
    try {
      await writeFile(join(dir, name), bytes);
      assert.equal((await raw(server.url, `/models/files/${name}`)).status, 200);
      const flipped = new Uint8Array(bytes);
      flipped[100] ^= 0xff;
      await writeFile(join(dir, name), flipped);
      const later = new Date(Date.now() + 5000); // a new modification time, whatever the clock's resolution
      await utimes(join(dir, name), later, later);
      assert.equal((await raw(server.url, `/models/files/${name}`)).status, 503);
    } finally {
      await writeFile(join(root.root, 'models', 'registry.json'), JSON.stringify(REGISTRY));
    }
  });

  test('files no card names are not served', async () => {
    const res = await raw(server.url, '/models/files/stray.dddddddddddddddd.onnx');
    assert.equal(res.status, 404);
    assert.match(json(res.body).error ?? '', /No model file named stray/);
  });

  test("a model converted on this machine needs the token; the shipped ones don't", async () => {
    const without = await raw(server.url, `/models/files/${CONVERTED_NAME}`);
    assert.equal(without.status, 401);
    const withToken = await raw(server.url, `/models/files/${CONVERTED_NAME}`, { headers: { Authorization: `Bearer ${server.token}` } });
    assert.equal(withToken.status, 200);
    assert.deepEqual(new Uint8Array(withToken.body), CONVERTED_BYTES);
    assert.equal(withToken.headers['cache-control'], 'private, max-age=31536000, immutable');
    assert.equal((await raw(server.url, `/models/files/${MODEL_NAME}`)).status, 200);
  });

  test('a root without a registry answers 404 with the path it looked for', async () => {
    const empty = await tempRoot();
    const other = await startServer({ port: 0, root: empty.root });
    try {
      const res = await raw(other.url, '/models/registry.json');
      assert.equal(res.status, 404);
      assert.match(json(res.body).error ?? '', /registry\.json/);
    } finally {
      await other.close();
      await empty.remove();
    }
  });
});

describe('CORS', () => {
  test('origin null (Figma plugin iframe) is admitted, with exposed headers and Vary', async () => {
    const res = await raw(server.url, `/models/files/${MODEL_NAME}`, { headers: { Origin: 'null' } });
    assert.equal(res.headers['access-control-allow-origin'], 'null');
    assert.equal(
      res.headers['access-control-expose-headers'],
      'Content-Length, Content-Range, Accept-Ranges, ETag, Inference-Header-Content-Length, Retry-After, WWW-Authenticate, Location, Upload-Offset, Upload-Length, Tus-Resumable, Tus-Version',
    );
    assert.equal(res.headers.vary, 'Origin');
  });

  test('loopback origins are echoed', async () => {
    for (const origin of ['http://127.0.0.1:5173', 'http://localhost:8740', 'http://localhost', 'http://[::1]:3000']) {
      const res = await raw(server.url, '/models/registry.json', { headers: { Origin: origin } });
      assert.equal(res.headers['access-control-allow-origin'], origin, origin);
    }
  });

  test('other origins get no grant', async () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1.evil.example', 'https://localhost:8740', 'http://localhost:8740.evil.example']) {
      const res = await raw(server.url, '/models/registry.json', { headers: { Origin: origin } });
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(res.headers.vary, 'Origin');
    }
  });

  test('preflight for origin null: 204 with methods, headers and private-network grant', async () => {
    const res = await raw(server.url, `/models/files/${MODEL_NAME}`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'null',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'range, authorization',
        'Access-Control-Request-Private-Network': 'true',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'null');
    assert.equal(res.headers['access-control-allow-methods'], 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
    assert.equal(
      res.headers['access-control-allow-headers'],
      'Authorization, Content-Type, Range, Inference-Header-Content-Length, Upload-Offset, Upload-Length, Upload-Metadata, Tus-Resumable, Last-Event-ID',
    );
    assert.equal(res.headers['access-control-allow-private-network'], 'true');
  });

  test('preflight from a foreign origin is refused', async () => {
    const res = await raw(server.url, '/models/registry.json', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], undefined);
    assert.match(json(res.body).error ?? '', /evil\.example/);
  });
});

describe('safety', () => {
  test('non-loopback hosts are refused with the reason', async () => {
    for (const host of ['0.0.0.0', '192.168.1.20', '::', 'example.com']) {
      await assert.rejects(startServer({ host, port: 0 }), (err: Error) => {
        assert.match(err.message, /loopback/);
        assert.match(err.message, /token/);
        return true;
      }, host);
    }
  });

  test('requests naming another host (DNS rebinding) are refused', async () => {
    const res = await raw(server.url, '/models/registry.json', { headers: { Host: `evil.example:${server.port}` } });
    assert.equal(res.status, 421);
    assert.match(json(res.body).error ?? '', /loopback/);
    const ok = await raw(server.url, '/models/registry.json', { headers: { Host: `localhost:${server.port}` } });
    assert.equal(ok.status, 200);
  });

  test('unknown routes and wrong methods answer JSON errors', async () => {
    const missing = await raw(server.url, '/v2/models');
    assert.equal(missing.status, 404);
    assert.match(json(missing.body).error ?? '', /Nothing at \/v2\/models/);
    const post = await raw(server.url, '/models/registry.json', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD, OPTIONS');
  });

  test('malformed requests get 400 and the server keeps serving', async () => {
    const badPercent = await raw(server.url, '/dist/%E0%A4%A');
    assert.equal(badPercent.status, 400);
    const badTarget = await raw(server.url, '*');
    assert.equal(badTarget.status, 400);

    const garbage = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write('THIS IS NOT HTTP\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('no answer to a malformed request')));
    });
    assert.match(garbage, /^HTTP\/1\.1 400/);

    // A client that vanishes mid-download must not take the server down either.
    await new Promise<void>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write(`GET /ort/ort-wasm-simd-threaded.wasm HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        socket.once('data', () => {
          socket.destroy();
          resolve();
        });
      });
    });

    const after = await raw(server.url, '/models/registry.json');
    assert.equal(after.status, 200);
  });

  test('close() stops listening, and a second close() is the same stop', async () => {
    const extra = await startServer({ port: 0, root: root.root });
    await Promise.all([extra.close(), extra.close()]);
    await extra.close();
    await assert.rejects(raw(extra.url, '/'), /ECONNREFUSED/);
  });

  test('a server that cannot listen gives its jobs folder back at once', async () => {
    const jobsDir = join(root.root, 'jobs-of-a-failed-start');
    await assert.rejects(startServer({ port: server.port, root: root.root, jobs: { dir: jobsDir } }), /EADDRINUSE/);
    const next = await startServer({ port: 0, root: root.root, jobs: { dir: jobsDir } }); // would be refused if the lock stayed
    await next.close();
  });
});
