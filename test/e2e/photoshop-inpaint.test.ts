// Inpainting in the Photoshop panel, end to end in real Chromium: the built webview page with onnxruntime-web (WASM)
// and the tiny (random-weight) SimMIM, the real panel bridge, the fake Photoshop. The photo layer sits offset in a
// larger canvas, so layer and document coordinates differ: the bridge reads the whole layer plus the marquee as mask
// pieces in the layer's pixels, and the result must land exactly over the layer, equal to it outside the selection
// byte for byte and to onnxruntime-node's fill inside (within float rounding). A soft (feathered) selection blends;
// without a marquee the UI says how to mark what to fill; Cancel leaves the document as it was.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PsBounds } from '../../plugin/photoshop/api.ts';
import { META_FILE } from '../../plugin/photoshop/meta-store.ts';
import { Engine } from '../../worker/engine.ts';
import type { ResultMeta, RgbaImage } from '../../worker/job.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import type { DocumentInit, FakeLayer } from '../fakes/photoshop.ts';
import { chelsea, fillFrom, openPanel, runAndWaitForLayer, selectAsMask, type PanelSession } from './photoshop-harness.ts';

const TINY = 'simmim-swin-base-192-tiny';

/** Kernels differ between onnxruntime-web and -node by float rounding: a byte may flip by a few levels. */
const MAX_ABS_DIFF = 3;
const WHITE: [number, number, number, number] = [255, 255, 255, 255];

// chelsea.png (451×300) at an offset that is no multiple of the 32-px cell, in a 640×480 canvas.
const LAYER = { left: 97, top: 61, width: 451, height: 300 };
const LAYER_BOUNDS: PsBounds = { left: 97, top: 61, right: 548, bottom: 361 };
// A marquee crossing the layer's right edge; over the layer it is 39×55 px, at (412, 126) of the layer's pixels.
const MARQUEE: PsBounds = { left: 509, top: 187, right: 583, bottom: 242 };
const MARQUEE_ON_LAYER: PsBounds = { left: 509, top: 187, right: 548, bottom: 242 };
// A feathered selection inside the layer: 0 on its outer ring, then 32, 64, … 224 inward, 255 from 8 px in.
const SOFT: PsBounds = { left: 233, top: 149, right: 299, bottom: 203 };
function softLevel(x: number, y: number): number {
  const d = Math.min(x - SOFT.left, SOFT.right - 1 - x, y - SOFT.top, SOFT.bottom - 1 - y);
  return d <= 0 ? 0 : Math.min(255, d * 32);
}

const engine = new Engine(createNodePlatform());

/** Chooses Inpaint with the tiny model on WASM. */
async function chooseInpaint(s: PanelSession): Promise<void> {
  await s.page.locator('[data-testid="task-select"]').selectOption('inpaint');
  await s.page.locator('[data-testid="model-select"]').selectOption(TINY);
  await s.page.locator('[data-testid="target-select"]').selectOption('wasm');
}

/** Selection level (0..255) per pixel of the layer, from a selection given in document pixels. */
function levelsOnLayer(bounds: PsBounds, level: (x: number, y: number) => number): Uint8Array {
  const out = new Uint8Array(LAYER.width * LAYER.height);
  for (let y = 0; y < LAYER.height; y++) {
    for (let x = 0; x < LAYER.width; x++) {
      const dx = x + LAYER.left, dy = y + LAYER.top;
      if (dx >= bounds.left && dx < bounds.right && dy >= bounds.top && dy < bounds.bottom) out[y * LAYER.width + x] = level(dx, dy);
    }
  }
  return out;
}

function greyMask(levels: Uint8Array): RgbaImage {
  const data = new Uint8Array(levels.length * 4);
  levels.forEach((v, i) => data.set([v, v, v, 255], i * 4));
  return { width: LAYER.width, height: LAYER.height, data };
}

/** onnxruntime-node's inpainting of the photo with this mask (what the CLI and the server give). */
async function nodeInpaint(photo: RgbaImage, levels: Uint8Array): Promise<RgbaImage> {
  return (await engine.run({ id: `ref-${Math.random()}`, task: 'inpaint', model: TINY, params: {}, image: photo, mask: greyMask(levels) })).images[0];
}

function documentWithPhoto(photo: RgbaImage): DocumentInit {
  return {
    title: 'poster.psd', path: '/work/poster.psd', width: 640, height: 480, background: WHITE,
    layers: [{ name: 'Chelsea', rect: LAYER, fill: fillFrom(photo, LAYER.left, LAYER.top) }],
  };
}

/** The one layer the run added: asserts it is new, alone, above the source, over the source's pixels, one history step. */
function placedLayer(s: PanelSession, before: FakeLayer[]): FakeLayer {
  const added = s.doc.allLayers().filter((l) => !before.some((b) => b.id === l.id));
  assert.equal(added.length, 1, 'exactly one new layer');
  const layer = added[0];
  assert.match(layer.name, /^Inpaint/);
  assert.equal(layer.kind, 'pixel');
  assert.deepEqual(s.doc.allLayers().map((l) => l.name), [layer.name, 'Chelsea', 'Background'], 'directly above the source');
  assert.deepEqual(s.doc.historyNames, [layer.name], 'one history step, named for the result');
  assert.deepEqual(layer.boundsNoEffects, LAYER_BOUNDS, 'exactly over the source layer');
  return layer;
}

/**
 * Walks the placed layer's pixels against the source photo's: a pixel the selection leaves out (level 0) must be the
 * photo's exactly, a selected one stays opaque; `selected` gets each selected pixel's offset, level and position.
 */
function eachSelectedPixel(out: Uint8Array, source: Uint8Array, levels: Uint8Array, selected: (at: number, level: number, x: number, y: number) => void): void {
  for (let i = 0; i < levels.length; i++) {
    const x = i % LAYER.width, y = Math.floor(i / LAYER.width);
    const at = i * 4;
    if (levels[i] === 0) {
      if ([0, 1, 2, 3].some((c) => out[at + c] !== source[at + c])) {
        assert.fail(`(${x}, ${y}) of the layer is not selected but changed: ${[...out.subarray(at, at + 4)]} vs ${[...source.subarray(at, at + 4)]}`);
      }
      continue;
    }
    assert.equal(out[at + 3], 255, `(${x}, ${y}) stays opaque`);
    selected(at, levels[i], x, y);
  }
}

describe('Photoshop panel: inpainting an offset layer with the marquee', { timeout: 900_000 }, () => {
  let s: PanelSession;
  let photo: RgbaImage;
  let hardRef: RgbaImage;
  let softRef: RgbaImage;
  let softFull: RgbaImage;
  const hardLevels = levelsOnLayer(MARQUEE, () => 255);
  const softLevels = levelsOnLayer(SOFT, softLevel);
  // The same support fully selected: the model fills exactly the same cells (only which pixels are > 0 decides them).
  const softSupport = softLevels.map((v) => (v > 0 ? 255 : 0));

  before(async () => {
    photo = await chelsea();
    [s, hardRef, softRef, softFull] = await Promise.all([
      openPanel(documentWithPhoto(photo)),
      nodeInpaint(photo, hardLevels),
      nodeInpaint(photo, softLevels),
      nodeInpaint(photo, softSupport),
    ]);
  });
  after(async () => {
    await s?.close();
  });

  test('without a marquee the UI says how to mark what to fill, and Run is disabled', async () => {
    await s.page.locator('[data-testid="selection"]', { hasText: 'Chelsea' }).waitFor({ timeout: 30_000 });
    await s.page.locator('[data-testid="task-select"]').selectOption('inpaint');
    await s.page.locator('text=Mark what to fill').first().waitFor({ timeout: 30_000 });
    assert.match((await s.page.locator('text=Mark what to fill').first().textContent()) ?? '', /marquee selection/i, 'names Photoshop’s way');
    assert.equal(await s.page.locator('[data-testid="run"]').isDisabled(), true);

    // A marquee enables Run; removing it brings the hint back.
    await selectAsMask(s, MARQUEE, MARQUEE_ON_LAYER);
    await s.page.locator('[data-testid="run"]:not([disabled])').waitFor({ timeout: 30_000 });
    s.doc.setMarquee(null);
    await s.page.locator('text=Mark what to fill').first().waitFor({ timeout: 10_000 });
    assert.equal(await s.page.locator('[data-testid="run"]').isDisabled(), true);
    assert.deepEqual(s.doc.allLayers().map((l) => l.name), ['Chelsea', 'Background']);
    assert.deepEqual(s.doc.historyNames, []);
    assert.equal(s.fake.selectionReads, 0, 'nothing was read');
  });

  test('a marquee partly over the layer → one new layer over it: the photo outside, Node’s fill inside', async () => {
    const before = s.doc.allLayers();
    await selectAsMask(s, MARQUEE, MARQUEE_ON_LAYER);
    await chooseInpaint(s);
    await runAndWaitForLayer(s);

    const layer = placedLayer(s, before);
    const out = layer.pixels(LAYER_BOUNDS);
    assert.deepEqual(s.doc.layerNamed('Chelsea').pixels(LAYER_BOUNDS), photo.data, 'the source layer is untouched');
    let max = 0;
    let changed = 0;
    let inside = 0;
    eachSelectedPixel(out, photo.data, hardLevels, (at) => {
      inside++;
      for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(out[at + c] - hardRef.data[at + c]));
      if ([0, 1, 2].some((c) => out[at + c] !== photo.data[at + c])) changed++;
    });
    assert.equal(inside, 39 * 55, 'the marquee covers 39×55 px of the layer');
    console.log(`Photoshop inpaint (browser WASM) vs Node: max abs diff ${max} over ${inside} px, ${changed} changed`);
    assert.ok(max <= MAX_ABS_DIFF, `the fill equals onnxruntime-node's within ${MAX_ABS_DIFF} levels (max ${max})`);
    assert.ok(changed > inside / 2, `the marquee was filled (${changed} of ${inside} px changed)`);

    const meta = JSON.parse(s.fake.dataFiles.get(META_FILE)!) as { records: [string, string][] };
    const [key, json] = meta.records.at(-1)!;
    assert.equal(key, `file:/work/poster.psd#${layer.id}`);
    const stored = JSON.parse(json) as ResultMeta;
    assert.equal(stored.task, 'inpaint');
    assert.equal(stored.model, TINY);
    assert.equal(s.fake.liveImageData, 0, 'every image data disposed');
    assert.deepEqual(s.fake.warnings, []);

    assert.equal(s.doc.undo(), layer.name);
    assert.deepEqual(s.doc.allLayers().map((l) => l.name), ['Chelsea', 'Background'], 'one undo removes the result');
  });

  test('a feathered selection: unselected pixels stay identical, half-selected ones blend photo and fill', async () => {
    const before = s.doc.allLayers();
    s.doc.setMarquee(null);
    await s.page.locator('text=Mark what to fill').first().waitFor({ timeout: 10_000 });
    await selectAsMask(s, SOFT, SOFT, softLevel);
    await chooseInpaint(s);
    await runAndWaitForLayer(s);

    const layer = placedLayer(s, before);
    const out = layer.pixels(LAYER_BOUNDS);
    let maxRef = 0;
    let maxBlend = 0;
    let half = 0;
    let between = 0;
    eachSelectedPixel(out, photo.data, softLevels, (at, level) => {
      for (let c = 0; c < 3; c++) maxRef = Math.max(maxRef, Math.abs(out[at + c] - softRef.data[at + c]));
      if (level === 255) return;
      // Partly selected: photo·(1 − a) + fill·a, the fill being what a full selection of the same pixels gets.
      const a = level / 255;
      for (let c = 0; c < 3; c++) maxBlend = Math.max(maxBlend, Math.abs(out[at + c] - Math.round(photo.data[at + c] * (1 - a) + softFull.data[at + c] * a)));
      if (level === 128) {
        half++;
        // Neither the photo nor the fill where the two differ clearly: a blend of both.
        if ([0, 1, 2].some((c) => Math.abs(photo.data[at + c] - softFull.data[at + c]) >= 24 && Math.abs(out[at + c] - photo.data[at + c]) > MAX_ABS_DIFF && Math.abs(out[at + c] - softFull.data[at + c]) > MAX_ABS_DIFF)) between++;
      }
    });
    console.log(`feathered: max diff vs Node ${maxRef}, vs photo/fill blend ${maxBlend}; ${between} of ${half} half-selected px are a visible blend`);
    assert.ok(maxRef <= MAX_ABS_DIFF, `equals onnxruntime-node's result for the grey mask within ${MAX_ABS_DIFF} (max ${maxRef})`);
    assert.ok(maxBlend <= MAX_ABS_DIFF, `partly selected pixels are photo·(1 − a) + fill·a within ${MAX_ABS_DIFF} (max ${maxBlend})`);
    assert.ok(half > 0 && between > half / 4, `half-selected pixels blend (${between} of ${half})`);
    assert.equal(s.fake.liveImageData, 0);
  });
});

test('Photoshop panel: Cancel while inpainting runs leaves the document unchanged (no layer, no history step)', { timeout: 600_000 }, async () => {
  // A large layer with scattered dots selected: many tiles, so the run lasts long enough to cancel in the middle.
  const photo = await chelsea();
  const mural = { left: 37, top: 53, width: 1024, height: 704 };
  const tiled = (x: number, y: number) => fillFrom(photo, 0, 0)((x - mural.left) % photo.width, (y - mural.top) % photo.height);
  const s = await openPanel({
    title: 'mural.psd', path: '/work/mural.psd', width: 1100, height: 800, background: WHITE,
    layers: [{ name: 'Mural', rect: mural, fill: tiled }],
  });
  try {
    const bounds = { left: mural.left, top: mural.top, right: mural.left + mural.width, bottom: mural.top + mural.height };
    const original = s.doc.layerNamed('Mural').pixels(bounds);
    await selectAsMask(s, bounds, bounds, (x, y) => ((x - mural.left) % 48 < 6 && (y - mural.top) % 48 < 6 ? 255 : 0));
    await chooseInpaint(s);
    await s.page.locator('[data-testid="run"]:not([disabled])').click();
    const progress = s.page.locator('[data-testid="progress"]', { hasText: /tile \d+ \/ \d+/i });
    await progress.waitFor({ timeout: 120_000 });
    const at = (await progress.textContent()) ?? '';
    await s.page.locator('[data-testid="cancel"]').click();
    const error = s.page.locator('[data-testid="error"]', { hasText: /cancel/i });
    await error.waitFor({ timeout: 60_000 });
    console.log(`cancelled at “${at}”: ${await error.textContent()}`);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // nothing arrives late
    assert.deepEqual(s.doc.allLayers().map((l) => l.name), ['Mural', 'Background'], 'no new layer');
    assert.deepEqual(s.doc.historyNames, [], 'no history step');
    assert.deepEqual(s.doc.layerNamed('Mural').pixels(bounds), original, 'the layer’s pixels are as they were');
    assert.ok(s.fake.modalScopes.some((c) => c.startsWith('Frontier: reading')), 'the layer was read');
    assert.ok(!s.fake.modalScopes.some((c) => c.startsWith('Frontier: placing')), 'nothing was placed');
    assert.equal(s.fake.liveImageData, 0);
    assert.deepEqual(s.fake.warnings, []);
  } finally {
    await s.close();
  }
});
