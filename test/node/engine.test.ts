// The engine on onnxruntime-node with the real converted ESRGAN weights (built by `npm run build`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../worker/engine.ts';
import { cudaLibraryPath } from '../../worker/runtime/ort-node.ts';
import { createNodePlatform, MODEL_FILES_DIR, REGISTRY_PATH } from '../../worker/platform-node.ts';
import { crop, psnr, resizeBicubic } from '../../worker/image/rgba.ts';
import type { Registry } from '../../worker/models/card.ts';
import type { Progress } from '../../worker/job.ts';
import { degrade, loadPhoto } from './helpers.ts';

const engine = new Engine(createNodePlatform({ threads: 2 }));

test('ESRGAN thick ×4 beats bicubic in PSNR on real photos downscaled ×4', async () => {
  for (const name of ['chelsea.png', 'astronaut.png'] as const) {
    const { original, small } = degrade(await loadPhoto(name), 4);
    const result = await engine.run({ id: `psnr-${name}`, task: 'upscale', params: { scale: 4, quality: 'best' }, image: small });
    const up = result.images[0];
    assert.equal(up.width, original.width);
    assert.equal(up.height, original.height);
    const model = psnr(original, up);
    const bicubic = psnr(original, resizeBicubic(small, original.width, original.height));
    console.log(`${name}: bicubic ${bicubic.toFixed(2)} dB, esrgan-thick ${model.toFixed(2)} dB (${(model - bicubic).toFixed(2)} dB)`);
    assert.ok(model > bicubic + 0.2, `${name}: ESRGAN ${model.toFixed(2)} dB does not beat bicubic ${bicubic.toFixed(2)} dB`);
    assert.equal(result.meta.model, 'esrgan-thick-x4');
    assert.equal(result.meta.target, 'node');
  }
});

test('tiling is seamless: a small-tile run matches a single-tile run closely', async () => {
  const small = crop(await loadPhoto('chelsea.png'), 150, 80, 120, 90);
  const registry = JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
  const dir = await mkdtemp(join(tmpdir(), 'frontier-tiles-'));
  const card = registry.models.find((m) => m.id === 'esrgan-slim-x2')!;
  const whole = { ...registry, models: [{ ...card, io: { ...card.io, tile: { size: 512, overlap: 16 } } }] };
  const tiled = { ...registry, models: [{ ...card, io: { ...card.io, tile: { size: 48, overlap: 12 } } }] };
  await writeFile(join(dir, 'whole.json'), JSON.stringify(whole));
  await writeFile(join(dir, 'tiled.json'), JSON.stringify(tiled));
  const run = (file: string) =>
    new Engine(createNodePlatform({ registryPath: join(dir, file) })).run({ id: file, task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, image: small });
  const a = (await run('whole.json')).images[0];
  const b = (await run('tiled.json')).images[0];
  const p = psnr(a, b);
  console.log(`tiled (48 px tiles) vs whole: ${p.toFixed(1)} dB`);
  assert.ok(p > 40, `tiled output differs from the whole-image output: ${p.toFixed(1)} dB`);
});

test('progress goes download → load → run tile by tile, and cancel stops between tiles', async () => {
  const image = crop(await loadPhoto('astronaut.png'), 0, 0, 300, 300);
  const stages: Progress[] = [];
  const fresh = new Engine(createNodePlatform());
  await assert.rejects(
    fresh.run({ id: 'c1', task: 'upscale', params: { scale: 2, quality: 'fast' }, image }, (p) => {
      stages.push(p);
      if (p.stage === 'run' && p.done === 1) fresh.cancel('c1');
    }),
    (err: Error & { code?: string }) => err.code === 'cancelled',
  );
  const kinds = [...new Set(stages.map((s) => s.stage))];
  assert.deepEqual(kinds, ['download', 'load', 'run']);
  const runs = stages.filter((s) => s.stage === 'run');
  assert.ok(runs[0].total > 2, 'a 300 px image at 128 px tiles has several tiles');
  assert.ok(runs.length < runs[0].total, `stopped after ${runs.length} of ${runs[0].total} tiles`);
  // The engine is still usable after a cancel, with the cached session.
  const ok = await fresh.run({ id: 'c2', task: 'upscale', params: { scale: 2, quality: 'fast' }, image: crop(image, 0, 0, 40, 40) });
  assert.equal(ok.images[0].width, 80);
});

test('a corrupted model file gives the hash-mismatch error', async () => {
  const registry = JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
  const card = registry.models.find((m) => m.id === 'esrgan-slim-x2')!;
  const dir = await mkdtemp(join(tmpdir(), 'frontier-corrupt-'));
  await mkdir(join(dir, 'files'));
  const file = join(dir, 'files', card.files[0].name);
  await copyFile(join(MODEL_FILES_DIR, card.files[0].name), file);
  const bytes = await readFile(file);
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(file, bytes);
  const broken = new Engine(createNodePlatform({ modelDir: join(dir, 'files') }));
  const image = crop(await loadPhoto('chelsea.png'), 0, 0, 16, 16);
  await assert.rejects(broken.run({ id: 'h', task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, image }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'hash-mismatch');
    assert.match(err.message, /corrupt/);
    return true;
  });
});

test('bad jobs are refused with messages that say what to do', async () => {
  const image = crop(await loadPhoto('chelsea.png'), 0, 0, 8, 8);
  await assert.rejects(engine.run({ id: 'b1', task: 'paint', params: {} }), /Unknown task "paint"/);
  await assert.rejects(engine.run({ id: 'b2', task: 'upscale', params: {} }), /needs an image/);
  await assert.rejects(engine.run({ id: 'b3', task: 'upscale', params: { scale: 2 }, model: 'esrgan-slim-x4', image }), /upscales ×4; set Scale to ×4/);
  await assert.rejects(engine.run({ id: 'b4', task: 'upscale', params: {}, model: 'nope', image }), /Model "nope" is not available/);
  await assert.rejects(engine.run({ id: 'b5', task: 'upscale', params: {}, image: { width: 2, height: 2, data: new Uint8Array(3) } }), /expected 2×2×4/);
  await assert.rejects(engine.run({ id: 'b6', task: 'upscale', params: {}, image, target: 'webgpu' }), /exists only in the browser/);
  await assert.rejects(engine.decode(new Uint8Array(0)), /no image bytes/);
});

test('dispose releases every loaded session, and the engine loads again on the next run', async () => {
  const fresh = new Engine(createNodePlatform());
  const image = crop(await loadPhoto('chelsea.png'), 0, 0, 12, 12);
  await fresh.run({ id: 'd1', task: 'upscale', params: { scale: 2, quality: 'fast' }, image });
  assert.ok((await fresh.models()).some((m) => m.loaded), 'a session is loaded after a run');
  await fresh.dispose();
  assert.ok((await fresh.models()).every((m) => !m.loaded), 'no session is loaded after dispose');
  const again = await fresh.run({ id: 'd2', task: 'upscale', params: { scale: 2, quality: 'fast' }, image });
  assert.equal(again.images[0].width, 24);
});

test('asking for CUDA where onnxruntime-node has no CUDA files runs on the CPU with the same result', async () => {
  assert.ok(!existsSync(cudaLibraryPath() ?? ''), 'this check needs a machine without onnxruntime-node\'s CUDA files (npm install skips them)');
  const photo = await loadPhoto('chelsea.png');
  const image = crop(photo, 100, 80, 32, 24);
  const job = { task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2, quality: 'fast' }, image };
  const cpu = await new Engine(createNodePlatform()).run({ id: 'cpu', ...job });
  const asked = await new Engine(createNodePlatform({ cuda: true })).run({ id: 'cuda', ...job });
  assert.deepEqual(asked.images[0].data, cpu.images[0].data);
});
