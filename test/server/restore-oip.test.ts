// Restore through the Open Inference Protocol: the Engine with target 'server' sends each tile of a real photo to
// Frontier's own server (onnxruntime-node behind /v2/models/maxim-*/infer; 256-px tiles, the larger-tile build, for an
// image larger than one 128-px tile) and blends the answers; the result must be the one the Engine computes on this
// machine, since both run the same file on onnxruntime-node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/server.ts';
import { Engine } from '../../worker/engine.ts';
import { createNodePlatform, REPO_ROOT } from '../../worker/platform-node.ts';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import { crop } from '../../worker/image/rgba.ts';
import type { Progress, RgbaImage } from '../../worker/job.ts';

const TOKEN = 'restore-oip-test-token-31';
let server: RunningServer;

before(async () => {
  server = await startServer({ port: 0, token: TOKEN });
});
after(async () => {
  await server?.close();
});

async function photo(): Promise<RgbaImage> {
  const img = await nodeCodec.decode(new Uint8Array(await readFile(join(REPO_ROOT, 'test', 'fixtures', 'images', 'chelsea.png'))));
  return crop(img, 60, 60, 300, 180); // 2 × 1 tiles of 256 with overlap (the height mirrored out to 256)
}

test("restore on target 'server' (OIP) gives the image restore gives on 'node', tile by tile, on the 256-px build", { timeout: 600_000 }, async () => {
  const image = await photo();
  const events: Progress[] = [];
  const remote = await new Engine(createNodePlatform({ serverUrl: server.url, token: TOKEN }))
    .run({ id: 'restore-oip', task: 'restore', params: { mode: 'derain' }, image, target: 'server' }, (p) => events.push(p));
  const here = await new Engine(createNodePlatform()).run({ id: 'restore-node', task: 'restore', params: { mode: 'derain' }, image, target: 'node' });
  assert.equal(remote.meta.target, 'server');
  assert.equal(remote.meta.model, 'maxim-derain');
  assert.deepEqual([remote.images[0].width, remote.images[0].height], [image.width, image.height]);
  // Two tiles: the 256-px build (the 128-px graph would take 3 × 2 tiles).
  const runs = events.filter((e) => e.stage === 'run');
  assert.deepEqual(runs.map((e) => `${e.done}/${e.total}`), ['0/2', '1/2', '2/2']);
  // Same file, same runtime; the server may use other thread counts, whose sums can round differently by a level.
  let max = 0;
  for (let i = 0; i < image.data.length; i++) max = Math.max(max, Math.abs(remote.images[0].data[i] - here.images[0].data[i]));
  assert.ok(max <= 1, `server and node differ by up to ${max} levels`);
});

test('the restore models answer OIP metadata with their fixed tile shape, and refuse another shape with a clear error', async () => {
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const meta = await fetch(`${server.url}/v2/models/maxim-derain`, { headers });
  assert.equal(meta.status, 200);
  const body = (await meta.json()) as { inputs: { name: string; shape: number[] }[] };
  assert.deepEqual(body.inputs.map((i) => [i.name, i.shape]), [['input', [1, 128, 128, 3]]]);
  const large = await fetch(`${server.url}/v2/models/maxim-derain-256`, { headers });
  assert.equal(large.status, 200);
  assert.deepEqual(((await large.json()) as typeof body).inputs.map((i) => [i.name, i.shape]), [['input', [1, 256, 256, 3]]]);
  const wrong = await fetch(`${server.url}/v2/models/maxim-derain/infer`, {
    method: 'POST', headers,
    body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64, 64, 3], data: new Array(64 * 64 * 3).fill(0.5) }] }),
  });
  assert.equal(wrong.status, 400);
  assert.match(await wrong.text(), /128/);
});
