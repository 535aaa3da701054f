// End to end in real Chromium: the built Photoshop webview page with a simulated `window.uxpHost` that carries JSON
// text only, wired to the real panel bridge running in Node against the fake Photoshop (test/e2e/photoshop-harness.ts).
// The UI runs the engine worker on onnxruntime-web with the real converted ESRGAN weights served by our server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { META_FILE } from '../../plugin/photoshop/meta-store.ts';
import { PLACE_CANCELLED } from '../../plugin/photoshop/pixels.ts';
import { Engine } from '../../worker/engine.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { chelsea, fillFrom, openPanel, selectRegion, waitForLayerCount, type PanelOptions, type PanelSession } from './photoshop-harness.ts';
import { compareImages } from './harness.ts';

const TIMEOUT = { timeout: 240_000 };
/** Browser (onnxruntime-web) and CLI (onnxruntime-node) may differ by a rounded byte here and there. */
const MAX_ABS_DIFF = 3;
const MAX_MEAN_DIFF = 0.05;

/** Photoshop (fake) with chelsea.png as its one layer, at the document's origin, and the panel on it. */
async function openChelsea(opts: PanelOptions & { bitsPerChannel?: string } = {}): Promise<PanelSession> {
  const source = await chelsea();
  const rect = { left: 0, top: 0, width: source.width, height: source.height };
  return openPanel({
    title: 'chelsea.psd', path: '/photos/chelsea.psd', width: source.width, height: source.height, bitsPerChannel: opts.bitsPerChannel,
    layers: [{ name: 'Chelsea', rect, fill: fillFrom(source, 0, 0) }],
  }, opts);
}

async function run(s: PanelSession, opts: { scale: number; quality: string }): Promise<void> {
  await s.page.locator(`[data-testid="param-scale-${opts.scale}"]`).click();
  await s.page.locator(`[data-testid="param-quality-${opts.quality}"]`).click();
  await s.page.locator('[data-testid="target-select"]').selectOption('wasm');
  await s.page.locator('[data-testid="run"]').click();
}

test('Photoshop panel: select → Upscale ×2 (ESRGAN slim, WASM) → a new layer with the upscaled pixels, one history step', TIMEOUT, async () => {
  const s = await openChelsea();
  try {
    const region = { left: 190, top: 120, right: 214, bottom: 140 };
    await selectRegion(s, region);
    await run(s, { scale: 2, quality: 'fast' });
    await waitForLayerCount(s, 2);
    await s.page.locator('[data-testid="progress"]').waitFor({ state: 'detached', timeout: 30_000 });

    const layer = s.doc.activeLayers[0];
    assert.notEqual(layer.name, 'Chelsea');
    assert.match(layer.name, /^Upscale ×2/);
    assert.deepEqual(s.doc.historyNames, [layer.name], 'one history step, named for the result');
    const placed = { left: region.left, top: region.top, right: region.left + 48, bottom: region.top + 40 };
    assert.deepEqual(layer.boundsNoEffects, placed, 'over the source region, twice its size');

    const width = region.right - region.left;
    const height = region.bottom - region.top;
    const crop = s.doc.layerNamed('Chelsea').pixels(region);
    const engine = new Engine(createNodePlatform());
    const cli = (await engine.run({ id: 'cli', task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, image: { width, height, data: crop } })).images[0];
    const diff = compareImages({ width: 48, height: 40, data: layer.pixels(placed) }, cli);
    console.log(`Photoshop panel (browser WASM) vs CLI: max abs diff ${diff.max}, mean ${diff.mean.toFixed(4)}`);
    assert.ok(diff.max <= MAX_ABS_DIFF && diff.mean <= MAX_MEAN_DIFF, `panel and CLI differ: ${JSON.stringify(diff)}`);

    // Photoshop took the raw pixels (nothing was encoded to place them): the result card and Compare draw them.
    const natural = (selector: string) => s.page.locator(selector).evaluate((img) => new Promise<[number, number]>((resolve) => {
      const i = img as HTMLImageElement;
      if (i.complete && i.naturalWidth > 0) resolve([i.naturalWidth, i.naturalHeight]);
      else i.addEventListener('load', () => resolve([i.naturalWidth, i.naturalHeight]), { once: true });
    }));
    assert.deepEqual(await natural('[data-testid="result"] > img'), [48, 40], 'the result card shows the result');
    await s.page.locator('[data-testid="compare-open"]').click();
    assert.deepEqual(await natural('[data-testid="compare-before"]'), [width, height], 'Compare shows the pixels read');
    assert.deepEqual(await natural('[data-testid="compare-after"]'), [48, 40]);
    await s.page.locator('[data-testid="compare-close"]').click();
    // …and the Results list's thumbnail, drawn small from them.
    await s.page.locator('[data-testid="results"]').getByRole('button', { name: 'Results (1)' }).click();
    assert.deepEqual(await natural('[data-testid="results-entry"] img.history-thumb'), [48, 40], 'under 64 px: drawn at its size');

    const meta = JSON.parse(s.fake.dataFiles.get(META_FILE)!) as { records: [string, string][] };
    const [key, json] = meta.records.at(-1)!;
    assert.equal(key, `file:/photos/chelsea.psd#${layer.id}`);
    assert.equal(JSON.parse(json).model, 'esrgan-slim-x2');
    assert.equal(s.fake.liveImageData, 0);
    assert.deepEqual(s.fake.warnings, []);
    assert.equal(s.doc.undo(), layer.name);
    assert.deepEqual(s.doc.allLayers().map((l) => l.name), ['Chelsea'], 'one undo removes the result');
  } finally {
    await s.close();
  }
});

test('Photoshop panel: Cancel in the UI mid-run, and Cancel on Photoshop’s progress while placing, leave the document as it was', TIMEOUT, async () => {
  const s = await openChelsea();
  try {
    // 1. The panel's own Cancel while the engine runs (a large region with the big model runs long enough).
    await selectRegion(s, { left: 60, top: 40, right: 360, bottom: 260 });
    await run(s, { scale: 4, quality: 'best' });
    await s.page.locator('[data-testid="progress"]', { hasText: /tile/i }).waitFor({ timeout: 120_000 });
    await s.page.locator('[data-testid="cancel"]').click();
    await s.page.locator('[data-testid="error"]', { hasText: /cancel/i }).waitFor({ timeout: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 2000)); // nothing arrives late
    assert.deepEqual(s.doc.allLayers().map((l) => l.name), ['Chelsea']);
    assert.deepEqual(s.doc.historyNames, []);

    // 2. Photoshop's Cancel while the result is being written: the half-made layer is dropped with its history.
    s.fake.cancelWhen = (e) => e.commandName.startsWith('Frontier: placing') && (e.progress ?? 0) >= 0.3;
    await selectRegion(s, { left: 10, top: 10, right: 26, bottom: 26 });
    await run(s, { scale: 2, quality: 'fast' });
    await s.page.locator('[data-testid="error"]', { hasText: PLACE_CANCELLED }).waitFor({ timeout: 120_000 });
    assert.deepEqual(s.doc.allLayers().map((l) => l.name), ['Chelsea']);
    assert.deepEqual(s.doc.historyNames, []);
    assert.ok(s.fake.modalScopes.some((c) => c.startsWith('Frontier: placing')), 'the write was attempted');
  } finally {
    await s.close();
  }
});

test('Photoshop panel: a 16-bit document is upscaled and written back at 16 bits; a 32-bit one is explained and nothing runs', TIMEOUT, async () => {
  const s = await openChelsea({ bitsPerChannel: 'bitDepth16' });
  try {
    const region = { left: 100, top: 80, right: 116, bottom: 92 };
    await selectRegion(s, region);
    await run(s, { scale: 2, quality: 'fast' });
    await waitForLayerCount(s, 2);
    const layer = s.doc.activeLayers[0];
    assert.match(layer.name, /^Upscale ×2/);
    assert.deepEqual(s.doc.historyNames, [layer.name]);
    const put = s.fake.puts.at(-1)!;
    assert.equal(put.componentSize, 16, 'written at the document’s depth');
    assert.deepEqual([put.width, put.height], [32, 24]);
    assert.ok(put.samples.every((v) => v <= 32768), 'in Photoshop’s 16-bit range');
    // The engine saw the same 8-bit pixels an 8-bit copy of the document gives: compare with the CLI on that crop.
    const crop = s.doc.layerNamed('Chelsea').pixels(region);
    const engine = new Engine(createNodePlatform());
    const cli = (await engine.run({ id: 'cli16', task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, image: { width: 16, height: 12, data: crop } })).images[0];
    const placed = { left: region.left, top: region.top, right: region.left + 32, bottom: region.top + 24 };
    const diff = compareImages({ width: 32, height: 24, data: layer.pixels(placed) }, cli);
    assert.ok(diff.max <= MAX_ABS_DIFF && diff.mean <= MAX_MEAN_DIFF, `panel (16-bit document) and CLI differ: ${JSON.stringify(diff)}`);
    assert.equal(s.fake.liveImageData, 0);

    // A 32-bit document becoming active is explained, and Run is disabled until an RGB 8/16-bit document is active again.
    s.fake.openDocument({ title: 'hdr.psd', width: 32, height: 32, bitsPerChannel: 'bitDepth32', layers: [{ name: 'Sky', rect: { left: 0, top: 0, width: 32, height: 32 }, fill: [1, 2, 3, 255] }] });
    await s.page.locator('[data-testid="selection"]', { hasText: /32 bits per channel.*16 Bits\/Channel/ }).waitFor({ timeout: 30_000 });
    assert.equal(await s.page.locator('[data-testid="run"]').isDisabled(), true);
    s.fake.openDocument({ title: 'copy.psd', width: 32, height: 32, layers: [{ name: 'Copy', rect: { left: 0, top: 0, width: 32, height: 32 }, fill: [1, 2, 3, 255] }] });
    await s.page.locator('[data-testid="selection"]', { hasText: 'Copy' }).waitFor({ timeout: 10_000 });
    await s.page.locator('[data-testid="run"]:not([disabled])').waitFor({ timeout: 30_000 });
  } finally {
    await s.close();
  }
});

test('Photoshop panel: with “read merged” saved, the panel offers and reads the merged image of the visible layers', TIMEOUT, async () => {
  const s = await openChelsea({ readMerged: true });
  try {
    await s.page.locator('[data-testid="selection"]', { hasText: 'Merged (visible layers)' }).waitFor({ timeout: 30_000 });
    const region = { left: 40, top: 30, right: 56, bottom: 42 };
    await selectRegion(s, region);
    await run(s, { scale: 2, quality: 'fast' });
    await waitForLayerCount(s, 2);
    const layer = s.doc.activeLayers[0];
    assert.match(layer.name, /^Upscale ×2/);
    assert.deepEqual(layer.boundsNoEffects, { left: 40, top: 30, right: 72, bottom: 54 }, 'over the marquee on the canvas');
    assert.equal(s.fake.liveImageData, 0);
  } finally {
    await s.close();
  }
});
