// Inpainting in real Chromium on the playground: a region dragged over a photo is the mask (as Photoshop's marquee
// is); the tiny (random-weight) SimMIM runs in the plugin's worker on WASM and WebGPU; the placed result equals
// onnxruntime-node's for the same photo and mask within float rounding, and outside the region it is the photo,
// byte for byte. Without a region the UI says how to mark one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../worker/engine.ts';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import type { ResultMeta, RgbaImage } from '../../worker/job.ts';
import { createNodePlatform, REPO_ROOT } from '../../worker/platform-node.ts';
import { nodes, openPlayground, runAndWaitForNode, openSampleRegion, pixels, type Playground } from './harness.ts';

const TINY = 'simmim-swin-base-192-tiny';
/** Kernels differ between onnxruntime-web and -node by float rounding: a byte may flip by a few levels. */
const MAX_ABS_DIFF = 3;
// chelsea.png is 451×300; the region is in canvas units, which the playground shows at the image's own size.
const REGION = { x: 203, y: 101, width: 48, height: 60 };

async function nodeResult(): Promise<{ photo: RgbaImage; out: RgbaImage }> {
  const photo = await nodeCodec.decode(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'images', 'chelsea.png')));
  const data = new Uint8Array(photo.width * photo.height * 4);
  for (let y = 0; y < photo.height; y++) {
    for (let x = 0; x < photo.width; x++) {
      const inside = x >= REGION.x && x < REGION.x + REGION.width && y >= REGION.y && y < REGION.y + REGION.height;
      data.set(inside ? [255, 255, 255, 255] : [0, 0, 0, 255], (y * photo.width + x) * 4);
    }
  }
  const mask = { width: photo.width, height: photo.height, data };
  const out = (await new Engine(createNodePlatform()).run({ id: 'ref', task: 'inpaint', model: TINY, params: {}, image: photo, mask })).images[0];
  return { photo, out };
}

describe('inpainting in the plugin', { timeout: 600_000 }, () => {
  let pg: Playground;
  let reference: { photo: RgbaImage; out: RgbaImage };
  before(async () => {
    [pg, reference] = await Promise.all([openPlayground({ webgpu: true }), nodeResult()]);
  });
  after(async () => {
    await pg?.close();
  });

  const runAndWait = () => runAndWaitForNode(pg);

  function compare(out: { width: number; height: number; data: Uint8Array }): void {
    const { photo, out: ref } = reference;
    assert.deepEqual([out.width, out.height], [photo.width, photo.height], 'the whole image comes back');
    let max = 0;
    for (let y = 0; y < photo.height; y++) {
      for (let x = 0; x < photo.width; x++) {
        const i = (y * photo.width + x) * 4;
        const inside = x >= REGION.x && x < REGION.x + REGION.width && y >= REGION.y && y < REGION.y + REGION.height;
        if (!inside) {
          assert.deepEqual([...out.data.subarray(i, i + 3)], [...photo.data.subarray(i, i + 3)], `(${x}, ${y}) outside the region is the photo`);
          continue;
        }
        for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(out.data[i + c] - ref.data[i + c]));
      }
    }
    assert.ok(max <= MAX_ABS_DIFF, `the fill equals onnxruntime-node's within ${MAX_ABS_DIFF} levels (max ${max})`);
  }

  test('without a marked region the UI says how to mark one; Run stays disabled', async () => {
    await pg.page.evaluate(() => (window as unknown as { playground: { openSample(n: string): Promise<string> } }).playground.openSample('chelsea.png'));
    await pg.ui.locator('[data-testid="task-select"]').selectOption('inpaint');
    await pg.ui.locator('text=Mark what to fill').first().waitFor();
    assert.equal(await pg.ui.locator('[data-testid="run"]').isDisabled(), true);
  });

  test('a dragged region is filled on WASM; outside it the placed image is the photo; it equals Node\'s', async () => {
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', REGION);
    await pg.ui.locator('[data-testid="selection-mask"]').filter({ hasText: 'Dragged region' }).waitFor();
    await pg.ui.locator('[data-testid="task-select"]').selectOption('inpaint');
    await pg.ui.locator('[data-testid="model-select"]').selectOption(TINY);
    await pg.ui.locator('[data-testid="target-select"]').selectOption('wasm');
    const placed = await runAndWait();
    assert.notEqual(placed.id, sourceId);
    const meta = JSON.parse(placed.pluginData.frontier) as ResultMeta;
    assert.equal(meta.task, 'inpaint');
    assert.equal(meta.target, 'wasm');
    compare(await pixels(pg.page, placed.id));
    assert.match((await pg.ui.locator('[data-testid="model-select"]').textContent()) ?? '', /test model, results are noise/);
  });

  test('WebGPU gives the same fill', async () => {
    await openSampleRegion(pg.page, 'chelsea.png', REGION);
    await pg.ui.locator('[data-testid="task-select"]').selectOption('inpaint');
    await pg.ui.locator('[data-testid="model-select"]').selectOption(TINY);
    await pg.ui.locator('[data-testid="target-select"]').selectOption('webgpu');
    const placed = await runAndWait();
    assert.equal((JSON.parse(placed.pluginData.frontier) as ResultMeta).target, 'webgpu');
    compare(await pixels(pg.page, placed.id));
  });

  // Last: it leaves the place mode set to replace-fill.
  test('with "Replace the image fill" the filled image replaces the photo in place; one undo brings the photo back', async () => {
    await pg.ui.locator('[data-testid="settings-panel"] summary').click();
    await pg.ui.locator('[data-testid="setting-place"]').selectOption('replace-fill');
    await pg.ui.locator('[data-testid="settings-save"]').click();
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', REGION);
    const before = await nodes(pg.page);
    await pg.ui.locator('[data-testid="task-select"]').selectOption('inpaint');
    await pg.ui.locator('[data-testid="model-select"]').selectOption(TINY);
    await pg.ui.locator('[data-testid="target-select"]').selectOption('wasm');
    await pg.ui.locator('[data-testid="run"]').click();
    // Nothing new is placed: wait until the photo's own pixels change.
    let filled = await pixels(pg.page, sourceId);
    for (let i = 0; i < 480 && filled.data.every((v, j) => v === reference.photo.data[j]); i++) {
      const error = await pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
      if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
      await pg.page.waitForTimeout(250);
      filled = await pixels(pg.page, sourceId);
    }
    assert.equal((await nodes(pg.page)).length, before.length, 'no new node');
    compare(filled);
    await pg.page.evaluate(() => (window as unknown as { playground: { undo(): void } }).playground.undo());
    const photo = await pixels(pg.page, sourceId);
    assert.deepEqual(photo.data, reference.photo.data, 'the photo is back');
  });
});
