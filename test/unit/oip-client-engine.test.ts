// A whole engine job through the `oip` runtime: the Engine, a tiny platform whose 'server' target is the OIP
// client, and the fake server standing in for esrgan-slim-x2 (nearest-neighbour ×2, values unchanged), so the
// tiled result is known exactly. Proves the Runtime contract fits the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Engine, type EnginePlatform } from '../../worker/engine.ts';
import { FrontierError, type Progress, type RgbaImage } from '../../worker/job.ts';
import type { Registry } from '../../worker/models/card.ts';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import { REGISTRY_PATH } from '../../worker/platform-node.ts';
import { createOipRuntime } from '../../worker/runtime/oip.ts';
import type { OipClientOptions } from '../../worker/runtime/oip-http.ts';
import { nearestUpscaleModel, startFakeOipServer, type FakeOipServer } from '../fakes/oip-server.ts';

async function testPlatform(opts: OipClientOptions): Promise<EnginePlatform> {
  const registry = JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
  const runtime = createOipRuntime(opts);
  return {
    codec: nodeCodec,
    source: {
      where: 'nowhere',
      read: () => Promise.reject(new Error('a server target must not download model files')),
    },
    loadRegistry: async () => registry,
    capabilities: async () => ({
      webgpu: { available: false, detail: 'test' },
      wasm: { available: false, threads: 0, crossOriginIsolated: false, detail: 'test' },
      cache: { available: false, detail: 'test' },
    }),
    chooseTarget: async () => ({ target: 'server', reason: `server at ${runtime.where}` }),
    runtime(target) {
      if (target !== 'server') throw new FrontierError('target-unavailable', `test platform has no ${target}`);
      return runtime;
    },
  };
}

/** Opaque RGBA noise, deterministic. */
function photo(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = i % 4 === 3 ? 255 : s >>> 24;
  }
  return { width, height, data };
}

function nearest2x(img: RgbaImage): RgbaImage {
  const w = img.width * 2;
  const h = img.height * 2;
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = ((y >> 1) * img.width + (x >> 1)) * 4;
      data.set(img.data.subarray(src, src + 4), (y * w + x) * 4);
    }
  }
  return { width: w, height: h, data };
}

function maxAbsDiff(a: RgbaImage, b: RgbaImage): number {
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  return max;
}

async function withServer(binary: boolean, fn: (server: FakeOipServer) => Promise<void>): Promise<void> {
  const server = await startFakeOipServer({ models: [nearestUpscaleModel('esrgan-slim-x2', { scale: 2, gain: 1 })], behaviour: { binary } });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

for (const binary of [true, false]) {
  test(`engine job through the oip runtime (${binary ? 'binary' : 'JSON'} tensors): tiled ×2 result is exact, meta says server`, async () => {
    await withServer(binary, async (server) => {
      const engine = new Engine(await testPlatform({ baseUrl: server.url }));
      const image = photo(300, 170); // slim-x2 tiles are 128 px: several tiles with overlaps
      const progress: Progress[] = [];
      const result = await engine.run({ id: `oip-${binary}`, task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, image, target: 'server' }, (p) => progress.push(p));
      const [out] = result.images;
      assert.equal(out.width, 600);
      assert.equal(out.height, 340);
      assert.equal(maxAbsDiff(out, nearest2x(image)), 0);
      assert.equal(result.meta.target, 'server');
      assert.equal(result.meta.model, 'esrgan-slim-x2');
      const tiles = server.infers().length;
      assert.ok(tiles > 1, `expected several tiles, got ${tiles}`);
      assert.ok(!progress.some((p) => p.stage === 'download'), 'nothing is downloaded for a server target');
      assert.ok(progress.some((p) => p.stage === 'load' && p.done === 1));
      assert.equal(progress.filter((p) => p.stage === 'run').at(-1)?.done, tiles);
      for (const r of server.infers()) assert.equal(r.headers['content-type'], binary ? 'application/octet-stream' : 'application/json');

      // The session is reused: a second job sends no more metadata requests.
      const metadataGets = server.requests.filter((r) => r.method === 'GET').length;
      await engine.run({ id: 'again', task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, image: photo(20, 20), target: 'server' });
      assert.equal(server.requests.filter((r) => r.method === 'GET').length, metadataGets);
    });
  });
}

test('engine: cancel during a server job stops it with "cancelled"; a missing server model is model-not-found', async () => {
  await withServer(true, async (server) => {
    server.behaviour.inferDelayMs = 150;
    const engine = new Engine(await testPlatform({ baseUrl: server.url }));
    const job = { id: 'cancel-me', task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, image: photo(400, 300), target: 'server' as const };
    const running = engine.run(job, (p) => {
      if (p.stage === 'run' && p.done === 1) engine.cancel(job.id);
    });
    await assert.rejects(running, (err: FrontierError) => err.code === 'cancelled');
    assert.ok(server.infers().length < 6, `cancel stopped after ${server.infers().length} tiles`);

    const missing = engine.run({ id: 'x4', task: 'upscale', model: 'esrgan-slim-x4', params: { scale: 4 }, image: photo(8, 8), target: 'server' });
    await assert.rejects(missing, (err: FrontierError) => err.code === 'model-not-found' && err.message.includes(`The server at ${server.url} has no model esrgan-slim-x4`));
  });
});
