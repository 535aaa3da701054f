// End to end in real Chromium: the playground hosts the exact dist/figma/ui.html in a null-origin iframe, as Figma
// does; the UI runs the engine worker (onnxruntime-web) on the real converted ESRGAN weights served by our server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../worker/engine.ts';
import { createNodePlatform, MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../../worker/platform-node.ts';
import type { ResultMeta, RgbaImage } from '../../worker/job.ts';
import type { Registry } from '../../worker/models/card.ts';
import { compareImages, nodes, openPlayground, openSampleRegion, pixels, waitForTargetLine, type NodeInfo, type Playground } from './harness.ts';
import { tempRoot } from '../server/helpers.ts';

const TIMEOUT = { timeout: 240_000 };
/**
 * Browser (onnxruntime-web) and CLI (onnxruntime-node) results may differ by float rounding between kernels,
 * which can flip a rounded byte: allow 3 levels per channel at worst and a tiny mean.
 */
const MAX_ABS_DIFF = 3;
const MAX_MEAN_DIFF = 0.05;

async function waitForNodeCount(pg: Playground, count: number): Promise<NodeInfo[]> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const list = await nodes(pg.page);
    if (list.length >= count) return list;
    const error = await pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
    if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`no result placed\n${pg.logs.join('\n')}`);
    await pg.page.waitForTimeout(250);
  }
}

async function cliResult(source: RgbaImage, model: string, scale: number): Promise<RgbaImage> {
  const engine = new Engine(createNodePlatform());
  const result = await engine.run({ id: 'cli', task: 'upscale', model, params: { scale }, image: source });
  return result.images[0];
}

/** Picks the params and target in the UI, as a user would, and presses Run. */
async function chooseAndRun(pg: Playground, opts: { scale: number; quality: string; target: string }): Promise<void> {
  await pg.ui.locator(`[data-testid="param-scale-${opts.scale}"]`).click();
  await pg.ui.locator(`[data-testid="param-quality-${opts.quality}"]`).click();
  await pg.ui.locator('[data-testid="target-select"]').selectOption(opts.target);
  await pg.ui.locator('[data-testid="run"]').click();
}

async function upscaleRegion(pg: Playground, opts: { scale: number; quality: string; target: string; region: { x: number; y: number; width: number; height: number } }) {
  const sourceId = await openSampleRegion(pg.page, 'chelsea.png', opts.region);
  await chooseAndRun(pg, opts);
  const placed = await waitForNodeCount(pg, 2);
  const source = placed.find((n) => n.id === sourceId)!;
  const result = placed.find((n) => n.id !== sourceId)!;
  const sourcePixels = await pixels(pg.page, sourceId, opts.region);
  return { source, result, sourcePixels };
}

for (const variant of [
  { name: 'WASM', webgpu: false, target: 'wasm', scale: 4, quality: 'best', model: 'esrgan-thick-x4', region: { x: 180, y: 110, width: 40, height: 32 } },
  { name: 'WebGPU (SwiftShader)', webgpu: true, target: 'webgpu', scale: 2, quality: 'fast', model: 'esrgan-slim-x2', region: { x: 190, y: 120, width: 24, height: 20 } },
]) {
  test(`select → upscale on ${variant.name} → result placed beside the source, equal to the CLI result, undoable`, TIMEOUT, async () => {
    const pg = await openPlayground({ webgpu: variant.webgpu });
    try {
      const { source, result, sourcePixels } = await upscaleRegion(pg, variant);
      assert.equal(result.width, variant.region.width * variant.scale);
      assert.equal(result.height, variant.region.height * variant.scale);
      assert.ok(result.x >= source.x + source.width, 'placed to the right of the source');
      const meta = JSON.parse(result.pluginData.frontier) as ResultMeta;
      assert.equal(meta.task, 'upscale');
      assert.equal(meta.model, variant.model);
      assert.equal(meta.target, variant.target);
      assert.equal(meta.params.scale, variant.scale);

      const browser = await pixels(pg.page, result.id);
      const cli = await cliResult(sourcePixels, variant.model, variant.scale);
      const diff = compareImages(browser, cli);
      console.log(`${variant.name} vs CLI (onnxruntime-node): max abs diff ${diff.max}, mean ${diff.mean.toFixed(4)}`);
      assert.ok(diff.max <= MAX_ABS_DIFF && diff.mean <= MAX_MEAN_DIFF, `browser and CLI differ: ${JSON.stringify(diff)}`);

      await pg.page.evaluate(() => (window as unknown as { playground: { undo(): void } }).playground.undo());
      assert.deepEqual((await nodes(pg.page)).map((n) => n.id), [source.id], 'one undo removes the whole action');
    } finally {
      await pg.close();
    }
  });
}

test('cancel mid-run leaves the document unchanged', TIMEOUT, async () => {
  const pg = await openPlayground();
  try {
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', { x: 60, y: 40, width: 300, height: 220 });
    await chooseAndRun(pg, { scale: 4, quality: 'best', target: 'wasm' });
    await pg.ui.locator('[data-testid="progress"]', { hasText: /tile/i }).waitFor({ timeout: 120_000 });
    await pg.ui.locator('[data-testid="cancel"]').click();
    await pg.ui.locator('[data-testid="error"]', { hasText: /cancel/i }).waitFor({ timeout: 30_000 });
    await pg.page.waitForTimeout(3000); // nothing arrives late
    assert.deepEqual((await nodes(pg.page)).map((n) => n.id), [sourceId]);
    // The engine still works afterwards (a hard cancel recreates the worker).
    await pg.ui.locator('[data-testid="param-quality-fast"]').click();
    await pg.page.evaluate(() => (window as unknown as { playground: { selectRegion(id: string, x: number, y: number, w: number, h: number): string } }).playground.selectRegion('n1', 10, 10, 16, 16));
    await pg.ui.locator('[data-testid="run"]').click();
    await waitForNodeCount(pg, 2);
  } finally {
    await pg.close();
  }
});

test('a corrupted model file on the server: the server will not send it, the plugin says it is corrupt (hash-mismatch) and places nothing', TIMEOUT, async () => {
  const registry = JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
  const file = registry.models.find((m) => m.id === 'esrgan-slim-x2')!.files[0];
  const corrupt = new Uint8Array(await readFile(join(MODEL_FILES_DIR, file.name)));
  corrupt[corrupt.length >> 1] ^= 0xff;
  const tmp = await tempRoot({ 'models/registry.json': JSON.stringify(registry), [`models/build/files/${file.name}`]: corrupt });
  await mkdir(join(tmp.root, 'dist', 'figma'), { recursive: true });
  await mkdir(join(tmp.root, 'dist', 'playground'), { recursive: true });
  await copyFile(join(REPO_ROOT, 'dist', 'figma', 'ui.html'), join(tmp.root, 'dist', 'figma', 'ui.html'));
  await copyFile(join(REPO_ROOT, 'dist', 'playground', 'playground.js'), join(tmp.root, 'dist', 'playground', 'playground.js'));
  await writeFile(join(tmp.root, 'README.txt'), 'temporary root for the corrupt-model test');
  const pg = await openPlayground({ root: tmp.root });
  try {
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', { x: 0, y: 0, width: 16, height: 16 });
    await chooseAndRun(pg, { scale: 2, quality: 'fast', target: 'wasm' });
    const error = pg.ui.locator('[data-testid="error"]');
    await error.waitFor({ timeout: 60_000 });
    assert.match((await error.textContent()) ?? '', /corrupt.*sha256/i);
    assert.deepEqual((await nodes(pg.page)).map((n) => n.id), [sourceId]);
  } finally {
    await pg.close();
    await tmp.remove();
  }
});

test('the same job through the local server (Open Inference Protocol) and through the worker gives the same pixels', TIMEOUT, async () => {
  const pg = await openPlayground();
  try {
    const region = { x: 200, y: 120, width: 40, height: 30 };
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', region);
    await pg.ui.locator('[data-testid="target-select"]').selectOption('server');
    await waitForTargetLine(pg, /^On the Frontier server$/);
    await chooseAndRun(pg, { scale: 2, quality: 'fast', target: 'server' });
    const viaServer = (await waitForNodeCount(pg, 2)).find((n) => n.id !== sourceId)!;
    assert.equal((JSON.parse(viaServer.pluginData.frontier) as ResultMeta).target, 'server');
    await pg.page.evaluate(
      ([id, r]) => (window as unknown as { playground: { selectRegion(id: string, x: number, y: number, w: number, h: number): string } }).playground.selectRegion(id, r.x, r.y, r.width, r.height),
      [sourceId, region] as const,
    );
    await chooseAndRun(pg, { scale: 2, quality: 'fast', target: 'wasm' });
    const viaWorker = (await waitForNodeCount(pg, 3)).find((n) => n.id !== sourceId && n.id !== viaServer.id)!;
    assert.equal((JSON.parse(viaWorker.pluginData.frontier) as ResultMeta).target, 'wasm');
    const diff = compareImages(await pixels(pg.page, viaServer.id), await pixels(pg.page, viaWorker.id));
    console.log(`server vs worker: max abs diff ${diff.max}, mean ${diff.mean.toFixed(4)}`);
    assert.ok(diff.max <= MAX_ABS_DIFF && diff.mean <= MAX_MEAN_DIFF, `server and worker differ: ${JSON.stringify(diff)}`);
  } finally {
    await pg.close();
  }
});
