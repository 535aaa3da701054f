// The plugin's engine (browser platform) pointed at a Triton-like server (no model list, no model files): it falls
// back to the cards it was built with, its auto target chooses the server, Test connection lists the ready models,
// and a job runs there. Runs in Node: the browser platform needs only fetch for these paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../worker/engine.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { createBrowserPlatform } from '../../worker/platform-browser.ts';
import { nearestUpscaleModel, startFakeOipServer } from '../fakes/oip-server.ts';

test('a Triton-like server: built-in cards, auto → server, Test connection, and a job', async () => {
  const triton = await startFakeOipServer({ models: [nearestUpscaleModel('esrgan-slim-x2', { scale: 2, gain: 1 })] });
  try {
    const engine = new Engine(createBrowserPlatform({ modelBaseUrl: triton.url }));
    const models = await engine.models();
    assert.ok(models.some((m) => m.card.id === 'esrgan-thick-x4'), 'the built-in registry is used when the server has no model list');

    const choice = await engine.chooseTarget('upscale', 'esrgan-slim-x2', 'auto', { scale: 2 });
    assert.equal(choice.target, 'server');
    assert.match(choice.reason, /auto → local server/);

    const status = await engine.testServer(triton.url, '');
    assert.equal(status.ok, true);
    assert.deepEqual(status.models, ['esrgan-slim-x2']);

    const image = { width: 3, height: 2, data: new Uint8Array(3 * 2 * 4).map((_, i) => (i % 4 === 3 ? 255 : i * 9)) };
    const result = await engine.run({ id: 't1', task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, image, target: 'server' });
    assert.equal(result.meta.target, 'server');
    const out = result.images[0];
    assert.equal(out.width, 6);
    // The fake is nearest-neighbour ×2: pixel (5,3) comes from source pixel (2,1).
    assert.deepEqual([...out.data.subarray((3 * 6 + 5) * 4, (3 * 6 + 5) * 4 + 3)], [...image.data.subarray((1 * 3 + 2) * 4, (1 * 3 + 2) * 4 + 3)]);
    assert.ok(!triton.requests.some((r) => r.path.startsWith('/models/files/')), 'no model file was downloaded');
  } finally {
    await triton.close();
  }
});

test('a server-only card (e.g. StyleSwin 1024) never falls back to WASM: auto picks the server, or says it needs one', async () => {
  // chooseTarget reads only the card's label and targets.
  const serverOnly = { id: 'styleswin-ffhq-1024', label: 'StyleSwin FFHQ 1024', targets: ['node', 'server'] } as ModelCard;
  const down = createBrowserPlatform({ modelBaseUrl: 'http://127.0.0.1:9' });
  await assert.rejects(down.chooseTarget(serverOnly, 'auto'), /StyleSwin FFHQ 1024 runs only on a server, and none answers at http:\/\/127\.0\.0\.1:9: start it with "npm start"/);
  await assert.rejects(down.chooseTarget(serverOnly, 'wasm'), /does not run in the browser \(WASM\): choose Server or Auto/);
  const triton = await startFakeOipServer({ models: [nearestUpscaleModel('styleswin-ffhq-1024', { scale: 1, gain: 1 })] });
  try {
    const choice = await createBrowserPlatform({ modelBaseUrl: triton.url }).chooseTarget(serverOnly, 'auto');
    assert.equal(choice.target, 'server');
  } finally {
    await triton.close();
  }
});
