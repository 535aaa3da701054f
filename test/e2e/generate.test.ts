// Generation in real Chromium on the playground: the tiny (random-weight) StyleSwin and GRAM run in the plugin's
// worker on WASM and on WebGPU (SwiftShader) and match onnxruntime-node's images for the same seed; a generated
// image, once placed, can be varied from its stored latent; the UI labels tiny models as test models.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../worker/engine.ts';
import type { ResultMeta, RgbaImage } from '../../worker/job.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { compareImages, nodes, openPlayground, pixels, type NodeInfo, type Playground } from './harness.ts';

const STYLESWIN = 'styleswin-ffhq-256-tiny';
const GRAM = 'gram-ffhq-256-tiny';
/** Kernels differ between onnxruntime-web and -node by float rounding: a byte may flip by a few levels. */
const MAX_ABS_DIFF = 3;

async function nodeImage(task: string, model: string, params: Record<string, number>): Promise<RgbaImage> {
  return (await new Engine(createNodePlatform()).run({ id: 'ref', task, model, params })).images[0];
}

const maxDiff = (a: { width: number; height: number; data: Uint8Array }, b: RgbaImage): number => compareImages(a, b).max;

describe('generation in the plugin', { timeout: 900_000 }, () => {
  let pg: Playground;
  before(async () => {
    pg = await openPlayground({ webgpu: true });
  });
  after(async () => {
    await pg?.close();
  });

  async function runAndWait(count: number, timeoutMs = 240_000): Promise<NodeInfo[]> {
    const before = (await nodes(pg.page)).length;
    await pg.ui.locator('[data-testid="run"]').click();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await nodes(pg.page);
      if (list.length >= before + count && (await pg.ui.locator('[data-testid="run"]').count()) > 0) return list.slice(before);
      const error = await pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
      if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`nothing placed\n${pg.logs.join('\n')}`);
      await pg.page.waitForTimeout(250);
    }
  }

  async function choose(task: string, model: string, target: string, params: Record<string, string>) {
    await pg.ui.locator('[data-testid="task-select"]').selectOption(task);
    await pg.ui.locator('[data-testid="model-select"]').selectOption(model);
    await pg.ui.locator('[data-testid="target-select"]').selectOption(target);
    for (const [name, value] of Object.entries(params)) {
      const choice = pg.ui.locator(`[data-testid="param-${name}-${value}"]`);
      if (await choice.count()) await choice.click();
      else await pg.ui.locator(`input[data-testid="param-${name}"]`).fill(value);
    }
  }

  test('StyleSwin tiny, seed 7: WASM and WebGPU images match onnxruntime-node; nothing needs selecting', async () => {
    const reference = await nodeImage('generate', STYLESWIN, { seed: 7 });
    await pg.page.evaluate(() => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([]));
    await choose('generate', STYLESWIN, 'wasm', { seed: '7', count: '1' });
    // Tiny models say what they are wherever they can be picked.
    assert.match((await pg.ui.locator('[data-testid="model-select"]').textContent()) ?? '', /test model, results are noise/);
    assert.match((await pg.ui.locator('[data-testid="convert-hint"]').textContent()) ?? '', /npm run convert -- styleswin-ffhq-256 --checkpoint/);
    const [wasm] = await runAndWait(1);
    const meta = JSON.parse(wasm.pluginData.frontier) as ResultMeta;
    assert.equal(meta.seed, 7);
    assert.equal(meta.target, 'wasm');
    assert.ok(meta.latent, 'the node remembers its latent');
    assert.match(wasm.name, /^Generate · seed 7 · /);
    assert.ok(maxDiff(await pixels(pg.page, wasm.id), reference) <= MAX_ABS_DIFF, 'WASM matches Node');

    await choose('generate', STYLESWIN, 'webgpu', { seed: '7' });
    const [gpu] = await runAndWait(1);
    assert.equal((JSON.parse(gpu.pluginData.frontier) as ResultMeta).target, 'webgpu');
    assert.ok(maxDiff(await pixels(pg.page, gpu.id), reference) <= MAX_ABS_DIFF, 'WebGPU matches Node');
    if (process.env.FRONTIER_SCREENSHOTS) await pg.page.screenshot({ path: join(process.env.FRONTIER_SCREENSHOTS, 'generate.png') });
  });

  test('a placed image is varied from its stored latent: select it, Variations, two new images', async () => {
    const made = (await nodes(pg.page)).find((n) => n.name.startsWith('Generate'))!;
    await pg.page.evaluate((id) => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([id]), made.id);
    await pg.ui.locator('[data-testid="task-select"]').selectOption('vary');
    await pg.ui.locator('[data-testid="target-select"]').selectOption('wasm');
    await pg.ui.locator('input[data-testid="param-count"]').fill('2');
    const placed = await runAndWait(2);
    assert.equal(placed.length, 2);
    for (const node of placed) assert.equal((JSON.parse(node.pluginData.frontier) as ResultMeta).model, STYLESWIN);
    await pg.page.evaluate(() => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([]));
    await pg.ui.locator('[data-testid="task-select"]').selectOption('vary');
    assert.match((await pg.ui.locator('[data-testid="run"]').getAttribute('title')) ?? '', /Select an image generated here/);
  });

  test('GRAM tiny, a 64 px view at yaw 20°: WASM matches onnxruntime-node', async () => {
    const reference = await nodeImage('rotate-view', GRAM, { seed: 3, yaw: 20, size: 64 });
    await pg.page.evaluate(() => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([]));
    await choose('rotate-view', GRAM, 'wasm', { seed: '3', yaw: '20', size: '64' });
    const [view] = await runAndWait(1);
    assert.equal(JSON.parse(view.pluginData.frontier).params.yaw, 20);
    assert.ok(maxDiff(await pixels(pg.page, view.id), reference) <= MAX_ABS_DIFF, 'WASM matches Node');
  });

  test('rotate-view preview: dragging the yaw slider renders 32 px, letting go renders the chosen size; nothing is placed', async () => {
    const before = (await nodes(pg.page)).length;
    await pg.page.evaluate(() => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([]));
    await choose('rotate-view', GRAM, 'wasm', { seed: '4', size: '128' });
    const panel = pg.ui.locator('[data-testid="view-preview"]');
    await pg.ui.locator('[data-testid="view-preview"][data-size="128"][data-busy="false"]').waitFor({ timeout: 60_000 });
    const slider = pg.ui.locator('[data-testid="param-yaw-slider"]');
    // A drag sends input events; the release sends change.
    await slider.evaluate((el: HTMLInputElement) => {
      el.value = '25';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await pg.ui.locator('[data-testid="view-preview"][data-size="32"][data-busy="false"]').waitFor({ timeout: 60_000 });
    await slider.evaluate((el: HTMLInputElement) => el.dispatchEvent(new Event('change', { bubbles: true })));
    await pg.ui.locator('[data-testid="view-preview"][data-size="128"][data-busy="false"]').waitFor({ timeout: 60_000 });
    assert.match((await panel.textContent()) ?? '', /Preview 128 px/);
    assert.equal((await nodes(pg.page)).length, before, 'previews are not placed');
    if (process.env.FRONTIER_SCREENSHOTS) await pg.page.screenshot({ path: join(process.env.FRONTIER_SCREENSHOTS, 'rotate-preview.png') });
  });

  test('GRAM tiny, a 64 px view on WebGPU (SwiftShader: ≈100× slower than WASM, minutes) matches onnxruntime-node too', async () => {
    const reference = await nodeImage('rotate-view', GRAM, { seed: 3, yaw: -10, size: 64 });
    await pg.page.evaluate(() => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([]));
    // Params first on WASM, then WebGPU: the live preview renders once on WebGPU (at 64 px), and Run places that render
    // (or follows it to its end): the view renders once on WebGPU.
    await choose('rotate-view', GRAM, 'wasm', { seed: '3', yaw: '-10', size: '64' });
    await pg.ui.locator('[data-testid="target-select"]').selectOption('webgpu');
    const [view] = await runAndWait(1, 600_000);
    assert.equal(JSON.parse(view.pluginData.frontier).target, 'webgpu');
    assert.ok(maxDiff(await pixels(pg.page, view.id), reference) <= MAX_ABS_DIFF, 'WebGPU matches Node');
  });

});
