// Text-to-image in real Chromium on the playground: the tiny (random-weight) VQ-Diffusion pipeline runs in the plugin's
// worker on WASM and WebGPU (SwiftShader) and its placed image equals onnxruntime-node's for the same prompt and seed;
// previews show while it samples; the model list offers the pipeline once, labelled as a test model.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../worker/engine.ts';
import type { ResultMeta, RgbaImage } from '../../worker/job.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { compareImages, openPlayground, runAndWaitForNode, pixels, uiFrame, type Playground } from './harness.ts';

const TRANSFORMER = 'vqdiffusion-ithq-transformer-tiny';
const PROMPT = 'a red fox in the snow';
/** Kernels differ between onnxruntime-web and -node by float rounding; the sampled codes must not. */
const MAX_ABS_DIFF = 3;

describe('text-to-image in the plugin', { timeout: 600_000 }, () => {
  let pg: Playground;
  let reference: RgbaImage;
  before(async () => {
    [pg, reference] = await Promise.all([
      openPlayground({ webgpu: true }),
      new Engine(createNodePlatform()).run({ id: 'ref', task: 'text-to-image', params: { prompt: PROMPT, seed: 7, steps: 30 } }).then((r) => r.images[0]),
    ]);
  });
  after(async () => {
    await pg?.close();
  });

  const runAndWait = () => runAndWaitForNode(pg);

  async function choose(target: string) {
    await pg.ui.locator('[data-testid="task-select"]').selectOption('text-to-image');
    await pg.ui.locator('[data-testid="model-select"]').selectOption(TRANSFORMER);
    await pg.ui.locator('[data-testid="param-prompt"]').fill(PROMPT);
    await pg.ui.locator('input[data-testid="param-seed"]').fill('7');
    await pg.ui.locator('input[data-testid="param-steps"]').fill('30');
    await pg.ui.locator('[data-testid="target-select"]').selectOption(target);
  }

  const maxDiff = (out: { width: number; height: number; data: Uint8Array }): number => compareImages(out, reference).max;

  test('WASM: the placed image equals Node\'s for the same prompt and seed; previews show while sampling', async () => {
    await choose('wasm');
    const options = await pg.ui.locator('[data-testid="model-select"] option').allTextContents();
    assert.equal(options.filter((o) => /VQ-Diffusion/.test(o)).length, 1, `the pipeline is offered once: ${options.join(' | ')}`);
    assert.match(options.join(' '), /test model, results are noise/);
    // Previews come and go within the run: remember whether one was drawn.
    await uiFrame(pg.page).evaluate(() => {
      const w = window as unknown as { sawPreview: boolean };
      w.sawPreview = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="sampling-preview"] canvas')) w.sawPreview = true;
      }).observe(document.body, { childList: true, subtree: true });
    });
    const placed = await runAndWait();
    const meta = JSON.parse(placed.pluginData.frontier) as ResultMeta;
    assert.equal(meta.task, 'text-to-image');
    assert.equal(meta.target, 'wasm');
    assert.equal(meta.params.prompt, PROMPT);
    const diff = maxDiff(await pixels(pg.page, placed.id));
    assert.ok(diff <= MAX_ABS_DIFF, `WASM vs Node: max ${diff}`);
    assert.equal(await uiFrame(pg.page).evaluate(() => (window as unknown as { sawPreview: boolean }).sawPreview), true, 'a preview was drawn');
  });

  test('WebGPU: the same image', async () => {
    await choose('webgpu');
    const placed = await runAndWait();
    assert.equal((JSON.parse(placed.pluginData.frontier) as ResultMeta).target, 'webgpu');
    const diff = maxDiff(await pixels(pg.page, placed.id));
    assert.ok(diff <= MAX_ABS_DIFF, `WebGPU vs Node: max ${diff}`);
  });
});
