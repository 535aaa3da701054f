// Restore end to end in real Chromium: the playground hosts the exact dist/figma/ui.html in a null-origin iframe, as
// Figma does; the user picks Restore and a fix in the UI (the task table drives the form: `task-select`, then the
// `mode` param, a select of the seven fixes) and the worker runs the real converted MAXIM weights on onnxruntime-web.
// The placed image equals onnxruntime-node's for the same pixels within a measured tolerance, lands beside the source
// with its recipe, and the progress counts tiles. Cancel mid-run and an empty selection place nothing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { convertMaxim, describeMaximModel } from '../../models/convert/maxim.ts';
import { NOTHING_SELECTED_PROBLEM } from '../../server/playground/document.ts';
import { Engine } from '../../worker/engine.ts';
import type { ResultMeta, RgbaImage } from '../../worker/job.ts';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { createNodePlatform, REGISTRY_PATH } from '../../worker/platform-node.ts';
import { withBrowserTiles } from '../node/helpers.ts';
import { compareImages, nodes, openPlayground, openSampleRegion, pixels, tempPlaygroundRoot, uiFrame, type NodeInfo, type Playground } from './harness.ts';

/**
 * onnxruntime-web and -node differ by float rounding between kernels, which can flip a rounded byte. Measured on
 * chelsea.png: WASM (2 tiles, 160×120) max 0–1 level, mean < 0.0001; WebGPU/SwiftShader (one 64-px tile) max 0. The
 * upscale tests' bounds hold with margin: 3 levels at worst, mean 0.05.
 */
const MAX_ABS_DIFF = 3;
const MAX_MEAN_DIFF = 0.05;
/** Remove rain: one of the five 61 MB MAXIM graphs (denoise and deblur are 96 MB and slower). */
const MODE = 'derain';
const MODEL = `maxim-${MODE}`;

type Region = { x: number; y: number; width: number; height: number };

/** The same job on onnxruntime-node (the CLI's engine), on the pixels the browser read. */
/** Node's result on the browser's 128-px tiles (Node would use the 256-px build for an image larger than a tile). */
async function nodeResult(image: RgbaImage, platform = createNodePlatform()): Promise<RgbaImage> {
  return (await new Engine(withBrowserTiles(platform)).run({ id: 'node', task: 'restore', params: { mode: MODE }, image })).images[0];
}

/** Chooses Restore, the fix and the target in the UI, as a user would. */
async function chooseRestore(pg: Playground, target: string): Promise<void> {
  await pg.ui.locator('[data-testid="task-select"]').selectOption('restore');
  await pg.ui.locator('[data-testid="param-mode"]').selectOption(MODE);
  await pg.ui.locator('[data-testid="target-select"]').selectOption(target);
}

/** UI error text, if one shows (fails the test at once instead of waiting out the deadline). */
async function uiError(pg: Playground): Promise<string | null> {
  return pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
}

/**
 * Clicks Run and waits until one new node is placed and the run has ended, failing at once with the UI's error;
 * returns the node and the progress texts the UI showed on the way. A MutationObserver in the UI frame records each
 * progress text as the UI shows it, so the check reads a record, not a moment on screen (polling the screen missed
 * nearly every tile on a loaded machine). `onProgress` gets each recorded text, in order, as the wait loop reads it.
 */
async function runAndWatch(pg: Playground, timeoutMs: number, onProgress: (text: string) => void = () => {}): Promise<{ placed: NodeInfo; progress: string[] }> {
  const before = await nodes(pg.page);
  const ui = uiFrame(pg.page);
  await ui.evaluate(() => {
    const w = window as unknown as { progressSeen: string[]; progressObserver?: MutationObserver };
    w.progressSeen = [];
    w.progressObserver?.disconnect();
    // No named functions in here: tsx's keepNames would wrap them in a __name the page does not have.
    w.progressObserver = new MutationObserver(() => {
      const text = document.querySelector('[data-testid="progress"]')?.getAttribute('aria-valuetext');
      if (text && w.progressSeen.at(-1) !== text) w.progressSeen.push(text);
    });
    w.progressObserver.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-valuetext'] });
  });
  const seen = () => ui.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen.slice());
  let told = 0;
  const tell = (progress: string[]) => {
    for (; told < progress.length; told++) onProgress(progress[told]);
  };
  await pg.ui.locator('[data-testid="run"]:not([disabled])').click();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    tell(await seen());
    const placed = (await nodes(pg.page)).find((n) => !before.some((b) => b.id === n.id));
    if (placed) {
      await pg.ui.locator('[data-testid="progress"]').waitFor({ state: 'detached', timeout: 30_000 });
      assert.equal((await nodes(pg.page)).length, before.length + 1, 'exactly one node placed');
      const progress = await seen();
      tell(progress);
      return { placed, progress };
    }
    const error = await uiError(pg);
    if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`nothing placed\n${pg.logs.join('\n')}`);
    await pg.page.waitForTimeout(250);
  }
}

/** The checks every placed restore passes: beside the source, the region's size, its recipe. */
async function checkPlaced(pg: Playground, sourceId: string, placed: NodeInfo, region: Region, target: string): Promise<void> {
  const source = (await nodes(pg.page)).find((n) => n.id === sourceId)!;
  assert.deepEqual([placed.width, placed.height], [region.width, region.height], 'the size of the selected region');
  assert.ok(placed.x >= source.x + source.width, 'placed to the right of the source');
  assert.match(placed.name, /^Restore · Remove rain/);
  const meta = JSON.parse(placed.pluginData.frontier) as ResultMeta;
  assert.equal(meta.task, 'restore');
  assert.equal(meta.params.mode, MODE);
  assert.equal(meta.model, MODEL);
  assert.equal(meta.modelVariant, 'full');
  assert.equal(meta.target, target);
}

describe('restore in the playground (real Chromium, WASM)', { timeout: 600_000 }, () => {
  let pg: Playground;
  before(async () => {
    pg = await openPlayground();
  });
  after(async () => {
    await pg?.close();
  });

  test('an empty selection: the panel says what to select, Run is disabled and Enter places nothing', async () => {
    await pg.page.evaluate(() => (window as unknown as { playground: { openSample(n: string): Promise<string> } }).playground.openSample('chelsea.png'));
    await pg.page.evaluate(() => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([]));
    await pg.ui.locator('[data-testid="task-select"]').selectOption('restore');
    await pg.ui.locator('[data-testid="param-mode"]').selectOption(MODE);
    await pg.ui.locator('[data-testid="selection"]', { hasText: NOTHING_SELECTED_PROBLEM }).waitFor();
    const run = pg.ui.locator('[data-testid="run"]');
    assert.equal(await run.isDisabled(), true);
    assert.equal(await run.getAttribute('title'), NOTHING_SELECTED_PROBLEM, 'Run says why it is disabled');
    const before = await nodes(pg.page);
    await pg.ui.locator('[data-testid="param-mode"]').press('Enter'); // Enter in a field runs, when anything can run
    // Whatever Enter set off has rendered by the second animation frame after it.
    await uiFrame(pg.page).evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    assert.equal(await pg.ui.locator('[data-testid="progress"]').count(), 0, 'no run started');
    assert.equal(await uiError(pg), null);
    assert.deepEqual(await nodes(pg.page), before, 'nothing placed');
  });

  test('select → Restore, Remove rain on WASM → placed beside the source with its recipe, progress by tiles, equal to onnxruntime-node', async () => {
    const region = { x: 150, y: 60, width: 160, height: 120 }; // mirrored out to 160×128: 2 tiles
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', region);
    await chooseRestore(pg, 'wasm');
    const input = await pixels(pg.page, sourceId, region);
    let reference: Promise<RgbaImage> | undefined;
    const started = Date.now();
    const { placed, progress } = await runAndWatch(pg, 400_000, (text) => {
      // Once the browser computes (the model is in: our server, in this process, is no longer needed), onnxruntime-node
      // restores the same pixels on one thread, beside the browser's single-threaded WASM.
      if (!reference && text.startsWith('Restoring')) {
        reference = nodeResult(input, createNodePlatform({ threads: 1 }));
        reference.catch(() => undefined); // awaited below; a failure then is the test's
      }
    });
    console.log(`WASM: placed in ${((Date.now() - started) / 1000).toFixed(1)} s; progress: ${progress.join(' | ')}`);
    await checkPlaced(pg, sourceId, placed, region, 'wasm');
    // aria-valuetext is the task's message and the percentage ("Restoring tile 1 / 2, 40%").
    const tiles = progress.map((t) => t.replace(/, \d+%$/, '')).filter((t) => /tile/.test(t));
    assert.ok(tiles.includes('Restoring tile 1 / 2') && tiles.includes('Restoring tile 2 / 2'), `the progress shows each tile: ${progress.join(' | ')}`);
    // The record holds the task's last message too ("Restored 2 tiles"): every tile message names 2 tiles.
    for (const t of tiles) assert.match(t, /^(Restoring tile [12] \/ 2|Restored 2 tiles)$/);

    const diff = compareImages(await pixels(pg.page, placed.id), await (reference ?? nodeResult(input)));
    console.log(`WASM vs onnxruntime-node: max abs diff ${diff.max}, mean ${diff.mean.toFixed(4)}`);
    assert.ok(diff.max <= MAX_ABS_DIFF && diff.mean <= MAX_MEAN_DIFF, `browser and node differ: ${JSON.stringify(diff)}`);

    await pg.page.evaluate(() => (window as unknown as { playground: { undo(): string | undefined } }).playground.undo());
    assert.ok(!(await nodes(pg.page)).some((n) => n.id === placed.id), 'one undo removes the result');
  });

  test('cancel mid-run (while tiles run) places nothing', async () => {
    const region = { x: 60, y: 40, width: 300, height: 220 }; // 3 × 2 tiles
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', region);
    const before = await nodes(pg.page);
    await chooseRestore(pg, 'wasm');
    await pg.ui.locator('[data-testid="run"]').click();
    await pg.ui.locator('[data-testid="progress"]', { hasText: /Restoring tile \d \/ 6/ }).waitFor({ timeout: 180_000 });
    await pg.ui.locator('[data-testid="cancel"]').click();
    await pg.ui.locator('[data-testid="error"]', { hasText: /cancel/i }).waitFor({ timeout: 30_000 });
    // The run has ended (Run is back): the UI places only what a finished run returns, so nothing can come later.
    await pg.ui.locator('[data-testid="run"]').waitFor({ timeout: 30_000 });
    assert.deepEqual(await nodes(pg.page), before, 'nothing placed');
    assert.ok(before.some((n) => n.id === sourceId));
  });
});

/**
 * WebGPU in this headless Chromium is SwiftShader (a CPU implementation of Vulkan). One 128-px MAXIM tile there took
 * 474 s (measured on 2 cores shared with other jobs; loading the model ≈25 s more), against ≈10 s on WASM. The
 * smallest input is one tile, whatever the selection (it is mirrored out to the tile), so this test shrinks the tile:
 * the same Remove rain weights converted at 64 px (the smallest MAXIM accepts: its divisibility factor), served in
 * place of the 128-px card from a temporary server root, run in the browser on WebGPU and in Node on the same file.
 * One 64-px tile on WebGPU/SwiftShader took 113–147 s here (the slowest check of the restore tests by far).
 */
describe('restore on WebGPU (SwiftShader), one 64-px tile', { timeout: 600_000 }, () => {
  const TILE = 64;
  let pg: Playground;
  let root: { root: string; remove(): Promise<void> };
  before(async () => {
    const registry = JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
    const card = registry.models.find((m) => m.id === MODEL)!;
    const { bytes } = convertMaxim(describeMaximModel('deraining'), TILE);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const name = `${MODEL}.${sha256.slice(0, 16)}.onnx`;
    const shape = [1, TILE, TILE, 3];
    const small: ModelCard = {
      ...card,
      files: [{ name, sha256, bytes: bytes.length }],
      io: { ...card.io, inputs: [{ ...card.io.inputs[0], shape }], outputs: [{ ...card.io.outputs[0], shape }], tile: { size: TILE, overlap: 16 } },
    };
    const models = registry.models.map((m) => (m.id === MODEL ? small : m));
    root = await tempPlaygroundRoot({ 'models/registry.json': JSON.stringify({ ...registry, models }), [`models/build/files/${name}`]: bytes });
    pg = await openPlayground({ webgpu: true, root: root.root });
  });
  after(async () => {
    await pg?.close();
    await root?.remove();
  });

  test('select → Restore, Remove rain on WebGPU → placed beside the source with its recipe, equal to onnxruntime-node', async () => {
    const region = { x: 200, y: 100, width: 40, height: 30 };
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', region);
    await chooseRestore(pg, 'webgpu');
    await pg.ui.locator('[data-testid="target-reason"]', { hasText: /graphics card/ }).waitFor();
    const started = Date.now();
    const { placed } = await runAndWatch(pg, 540_000);
    console.log(`WebGPU (${TILE}-px tile): placed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await checkPlaced(pg, sourceId, placed, region, 'webgpu');

    const node = createNodePlatform({ registryPath: join(root.root, 'models', 'registry.json'), modelDir: join(root.root, 'models', 'build', 'files') });
    const diff = compareImages(await pixels(pg.page, placed.id), await nodeResult(await pixels(pg.page, sourceId, region), node));
    console.log(`WebGPU vs onnxruntime-node (${TILE}-px graph): max abs diff ${diff.max}, mean ${diff.mean.toFixed(4)}`);
    assert.ok(diff.max <= MAX_ABS_DIFF && diff.mean <= MAX_MEAN_DIFF, `WebGPU and node differ: ${JSON.stringify(diff)}`);
  });
});
