// The playground's document model: placement beside the source, one undo step per action, selection summaries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_CANVAS_PROBLEM, NOTHING_SELECTED_PROBLEM, PLACE_GAP, PlaygroundDocument } from '../../server/playground/document.ts';
import { cleanSettings, defaultSettings } from '../../server/playground/settings.ts';

const bmp = (width: number, height: number, tag = '') => ({ width, height, tag });

function overlap(a: { x: number; y: number; width: number; height: number }, b: typeof a): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

test('results go to the right of the source and never overlap another node', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  const a = doc.addImage('a', bmp(100, 80));
  const first = doc.placeBeside(a.id, 'r1', bmp(200, 160), { k: 'v' });
  assert.deepEqual([first.x, first.y], [a.x + a.width + PLACE_GAP, a.y]);
  const second = doc.placeBeside(a.id, 'r2', bmp(50, 50), {});
  assert.equal(second.x, first.x + first.width + PLACE_GAP);
  for (const n of doc.nodes) for (const m of doc.nodes) if (n !== m) assert.ok(!overlap(n, m), `${n.name} overlaps ${m.name}`);
  assert.deepEqual(first.pluginData, { k: 'v' });
});

test('opened images stack below each other', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  const a = doc.addImage('a', bmp(100, 80));
  const b = doc.addImage('b', bmp(100, 80));
  assert.equal(b.y, a.y + a.height + PLACE_GAP);
});

test('every action is one undo step, and redo replays it', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  const a = doc.addImage('a', bmp(10, 10));
  const r = doc.placeBeside(a.id, 'r', bmp(20, 20), {});
  doc.select([a.id, r.id]);
  assert.equal(doc.undo(), 'Place r');
  assert.deepEqual(doc.nodes.map((n) => n.name), ['a']);
  assert.deepEqual(doc.selection, [a.id], 'undo drops the removed node from the selection');
  assert.equal(doc.redo(), 'Place r');
  assert.deepEqual(doc.nodes.map((n) => n.name), ['a', 'r']);
  doc.undo();
  doc.undo();
  assert.equal(doc.nodes.length, 0);
  assert.equal(doc.undo(), undefined);
  doc.redo();
  doc.addImage('b', bmp(5, 5));
  assert.equal(doc.canRedo, false, 'a new action clears the redo stack');
});

test('replace-fill keeps the original restorable, in one undo step each', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  const original = bmp(10, 10, 'original');
  const a = doc.addImage('a', original);
  doc.replaceFill(a.id, bmp(40, 40, 'result'), { frontier: '{"task":"upscale"}' });
  assert.equal(a.bitmap.tag, 'result');
  assert.equal(a.original, original);
  assert.deepEqual([a.width, a.height], [10, 10], 'the node keeps its size, like an image fill');
  doc.replaceFill(a.id, bmp(40, 40, 'second'), { frontier: '{"task":"denoise"}' });
  assert.equal(a.original, original, 'the first original stays the original');
  doc.restoreOriginal(a.id);
  assert.equal(a.bitmap, original);
  assert.deepEqual(a.pluginData, {});
  doc.undo();
  assert.equal(a.bitmap.tag, 'second');
  doc.undo();
  assert.equal(a.bitmap.tag, 'result');
  doc.undo();
  assert.equal(a.bitmap, original);
  assert.equal(a.original, undefined);
});

test('selection summaries: images, a clamped region, and a problem when nothing is usable', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  assert.deepEqual(doc.selectionSummary(), { items: [], problem: EMPTY_CANVAS_PROBLEM });
  const a = doc.addImage('a', bmp(100, 80));
  assert.deepEqual(doc.selectionSummary(), { items: [], problem: NOTHING_SELECTED_PROBLEM });
  doc.select([a.id]);
  assert.deepEqual(doc.selectionSummary().items, [{ nodeId: a.id, name: 'a', width: 100, height: 80, kind: 'image' }]);
  const region = doc.selectRegion(a.id, 90.4, -5, 50, 20);
  assert.deepEqual([region.x, region.y, region.width, region.height], [90, 0, 10, 15]);
  const items = doc.selectionSummary().items;
  assert.equal(items.length, 1);
  assert.equal(items[0].kind, 'region');
  assert.equal(items[0].nodeId, region.id);
  assert.deepEqual(doc.resolve(region.id).region, region);
  assert.throws(() => doc.resolve('nope'), /No image or region with id nope/);
});

test('stored settings are cleaned against the defaults', () => {
  const defaults = defaultSettings('http://127.0.0.1:9999');
  assert.equal(defaults.serverUrl, 'http://127.0.0.1:9999');
  const cleaned = cleanSettings({ serverUrl: 'http://x', token: 42, placeMode: 'replace-fill', extra: true }, defaults);
  assert.deepEqual(cleaned, { ...defaults, serverUrl: 'http://x', placeMode: 'replace-fill' });
});

test('generated images without a source: a new row below everything, then a grid from the first; each one undo step', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  const photo = doc.addImage('photo', bmp(100, 80));
  const first = doc.placeNew('g0', bmp(32, 32), {});
  assert.ok(first.y >= photo.y + photo.height, 'below what is there');
  const cells = [first, ...[1, 2, 3].map((i) => doc.placeInGrid(first.id, i, 2, `g${i}`, bmp(32, 32), {}))];
  assert.deepEqual(cells.map((c) => [c.x - first.x, c.y - first.y]), [[0, 0], [32 + PLACE_GAP, 0], [0, 32 + PLACE_GAP], [32 + PLACE_GAP, 32 + PLACE_GAP]]);
  for (const n of doc.nodes) for (const m of doc.nodes) if (n !== m) assert.ok(!overlap(n, m), `${n.name} overlaps ${m.name}`);
  const taken = doc.placeInGrid(first.id, 1, 2, 'again', bmp(32, 32), {});
  for (const n of doc.nodes) if (n !== taken) assert.ok(!overlap(n, taken), 'a taken cell falls back to a free spot');
  doc.undo();
  doc.undo();
  assert.equal(doc.nodes.length, 4);
});
