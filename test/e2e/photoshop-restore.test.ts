// Restore in the Photoshop panel, end to end in real Chromium: the built webview page with onnxruntime-web (WASM) and
// the real converted MAXIM weights, the real panel bridge, the fake Photoshop (test/e2e/photoshop-harness.ts). A marquee
// on an 8-bit document, then on a 16-bit one (opened in the same Photoshop, as a user switches documents) → Restore,
// Remove rain → one new layer over the marquee in ONE history step, with the pixels onnxruntime-node gives for that
// crop, written at the document's depth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PsBounds } from '../../plugin/photoshop/api.ts';
import { META_FILE } from '../../plugin/photoshop/meta-store.ts';
import { Engine } from '../../worker/engine.ts';
import type { ResultMeta, RgbaImage } from '../../worker/job.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import type { DocumentInit } from '../fakes/photoshop.ts';
import { compareImages } from './harness.ts';
import { withBrowserTiles } from '../node/helpers.ts';
import { chelsea, fillFrom, openPanel, runAndWaitForLayer, selectRegion, type PanelSession } from './photoshop-harness.ts';

const MODE = 'derain';
const MODEL = `maxim-${MODE}`;
/**
 * Browser (onnxruntime-web) and onnxruntime-node differ by float rounding (test/e2e/restore.test.ts measures it); the
 * 16-bit document adds a conversion 8 → 16 → 8 bits on the way out. Measured: 8-bit max 0–1 level, mean ≤ 0.0001;
 * 16-bit max 0. The upscale tests' bounds hold with margin.
 */
const MAX_ABS_DIFF = 3;
const MAX_MEAN_DIFF = 0.05;

// The browser's 128-px tiles (the marquees here fit one tile anyway, which Node also runs on the 128-px graph).
const engine = new Engine(withBrowserTiles(createNodePlatform()));

function chelseaDocument(source: RgbaImage, opts: { title: string; bitsPerChannel?: string }): DocumentInit {
  return {
    title: `${opts.title}.psd`, path: `/photos/${opts.title}.psd`, width: source.width, height: source.height, bitsPerChannel: opts.bitsPerChannel,
    layers: [{ name: 'Chelsea', rect: { left: 0, top: 0, width: source.width, height: source.height }, fill: fillFrom(source, 0, 0) }],
  };
}

/** Marquee → Restore, Remove rain on WASM → the one new layer; checks what every restore must leave behind. */
async function restoreMarquee(s: PanelSession, region: PsBounds): Promise<{ diff: { max: number; mean: number }; meta: ResultMeta }> {
  await selectRegion(s, region);
  await s.page.locator('[data-testid="task-select"]').selectOption('restore');
  await s.page.locator('[data-testid="param-mode"]').selectOption(MODE);
  await s.page.locator('[data-testid="target-select"]').selectOption('wasm');
  await runAndWaitForLayer(s);

  const layers = s.doc.allLayers();
  assert.equal(layers.length, 2, 'one new layer, the source untouched beside it');
  const layer = s.doc.activeLayers[0];
  assert.match(layer.name, /^Restore · Remove rain/);
  assert.deepEqual(s.doc.historyNames, [layer.name], 'one history step, named for the result');
  assert.deepEqual(layer.boundsNoEffects, region, 'over the marquee, at its size');

  const width = region.right - region.left;
  const height = region.bottom - region.top;
  const source = { width, height, data: s.doc.layerNamed('Chelsea').pixels(region) };
  const node = (await engine.run({ id: `node-${s.doc.id}`, task: 'restore', params: { mode: MODE }, image: source })).images[0];
  const diff = compareImages({ width, height, data: layer.pixels(region) }, node);

  const records = (JSON.parse(s.fake.dataFiles.get(META_FILE)!) as { records: [string, string][] }).records;
  const [key, json] = records.at(-1)!;
  assert.equal(key, `file:${s.doc.path}#${layer.id}`);
  const meta = JSON.parse(json) as ResultMeta;
  assert.equal(meta.task, 'restore');
  assert.equal(meta.model, MODEL);
  assert.equal(meta.params.mode, MODE);
  assert.equal(s.fake.liveImageData, 0, 'every image data disposed');
  assert.deepEqual(s.fake.warnings, []);
  return { diff, meta };
}

test('Photoshop panel: Restore on an 8-bit and a 16-bit document → one new layer each, one history step, equal to onnxruntime-node', { timeout: 600_000 }, async () => {
  const photo = await chelsea();
  const s = await openPanel(chelseaDocument(photo, { title: 'chelsea' }));
  try {
    const eight = await restoreMarquee(s, { left: 150, top: 60, right: 230, bottom: 120 });
    console.log(`Photoshop 8-bit (browser WASM) vs onnxruntime-node: max abs diff ${eight.diff.max}, mean ${eight.diff.mean.toFixed(4)}`);
    assert.ok(eight.diff.max <= MAX_ABS_DIFF && eight.diff.mean <= MAX_MEAN_DIFF, `panel and node differ: ${JSON.stringify(eight.diff)}`);
    assert.equal(s.fake.puts.at(-1)!.componentSize, 8);
    const restored = s.doc.activeLayers[0].name;
    assert.equal(s.doc.undo(), restored);
    assert.deepEqual(s.doc.allLayers().map((l) => l.name), ['Chelsea'], 'one undo removes the result');

    // The user switches to a 16-bit document: the panel follows it, reads 16-bit pixels and writes 16 bits back.
    const doc16 = s.fake.openDocument(chelseaDocument(photo, { title: 'chelsea-16bit', bitsPerChannel: 'bitDepth16' }));
    const s16: PanelSession = { ...s, doc: doc16 };
    const sixteen = await restoreMarquee(s16, { left: 200, top: 100, right: 264, bottom: 148 });
    console.log(`Photoshop 16-bit (browser WASM) vs onnxruntime-node: max abs diff ${sixteen.diff.max}, mean ${sixteen.diff.mean.toFixed(4)}`);
    assert.ok(sixteen.diff.max <= MAX_ABS_DIFF && sixteen.diff.mean <= MAX_MEAN_DIFF, `panel (16-bit document) and node differ: ${JSON.stringify(sixteen.diff)}`);
    const put = s.fake.puts.at(-1)!;
    assert.equal(put.componentSize, 16, 'written at the document’s depth');
    assert.deepEqual([put.width, put.height], [64, 48]);
    assert.ok(put.samples.every((v) => v <= 32768), 'in Photoshop’s 16-bit range');
    assert.deepEqual(s.doc.allLayers().map((l) => l.name), ['Chelsea'], 'the 8-bit document is left as it was');
  } finally {
    await s.close();
  }
});
