// Reading modes of the Photoshop panel against the fake: the merged image of the visible layers (Settings.readMerged)
// and 16-bit documents (read as 8-bit, results written back at 16 bits in Photoshop's 0..32768 range).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultMeta } from '../../worker/job.ts';
import type { HostToUi, UiMessage } from '../../plugin/messages.ts';
import { MARQUEE_MASK_LABEL, MERGED_NAME, parseNodeId } from '../../plugin/photoshop/document.ts';
import { samplesForDepth } from '../../plugin/photoshop/pixels.ts';
import { SETTINGS_KEY } from '../../plugin/photoshop/settings.ts';
import { FakePhotoshop, type FakeDocument } from '../fakes/photoshop.ts';
import { rawPixels, ready } from './photoshop-util.ts';

type Rgba = [number, number, number, number];
const pattern = (x: number, y: number): Rgba => [(x * 7) & 255, (y * 11) & 255, (x + y) & 255, 255];
const META = { task: 'upscale', model: 'esrgan-slim-x2', target: 'wasm', params: { scale: 2 }, version: '0.1.0' } as unknown as ResultMeta;

/** White background, the patterned "Cat" at (8,6) 40×30, and a hidden red layer over everything. */
function photo(fake: FakePhotoshop, bitsPerChannel?: string): FakeDocument {
  const doc = fake.openDocument({
    title: 'photo.psd', width: 64, height: 48, background: [255, 255, 255, 255], bitsPerChannel,
    layers: [
      { name: 'Hidden', rect: { left: 0, top: 0, width: 64, height: 48 }, fill: [255, 0, 0, 255], visible: false },
      { name: 'Cat', rect: { left: 8, top: 6, width: 40, height: 30 }, fill: pattern },
    ],
  });
  doc.activeIds = [doc.layerNamed('Cat').id]; // opened with Cat selected
  return doc;
}

/** What the merged image holds at a document pixel: Cat over white; the hidden layer does not count. */
const merged = (x: number, y: number): Rgba => (x >= 8 && x < 48 && y >= 6 && y < 36 ? pattern(x, y) : [255, 255, 255, 255]);

function pixels(fill: (x: number, y: number) => Rgba, left: number, top: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(fill(left + x, top + y), (y * width + x) * 4);
  return out;
}

const decode = (image: HostToUi['image']) => rawPixels(image).data;

function place(requestId: string, sourceNodeId: string, width: number, height: number, fill: (x: number, y: number) => Rgba): UiMessage {
  return { type: 'place-result', requestId, sourceNodeId, rgba: pixels(fill, 0, 0, width, height), width, height, name: 'Result', mode: 'beside', meta: META };
}

test('readMerged: one item for the merged image of the visible layers, read as that composite', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  fake.localStorage.setItem(SETTINGS_KEY, JSON.stringify({ target: 'wasm', readMerged: true }));
  const s = await ready(fake);
  const init = await s.next('init');
  assert.equal(init.settings.readMerged, true);
  assert.deepEqual(init.selection.items.map(({ name, width, height, kind }) => ({ name, width, height, kind })), [{ name: MERGED_NAME, width: 64, height: 48, kind: 'layer' }]);
  const { nodeId } = init.selection.items[0];
  assert.deepEqual(parseNodeId(nodeId), { docId: doc.id, layerId: null, region: null });

  await s.send({ type: 'read-image', requestId: 'm', nodeId });
  const image = await s.next('image');
  assert.deepEqual([image.width, image.height], [64, 48]);
  assert.deepEqual(decode(image), pixels(merged, 0, 0, 64, 48), 'the composite, without the hidden layer');
  assert.equal(fake.liveImageData, 0);

  // A marquee cuts the merged image and is its mask; a withMask read gives the whole canvas plus the mask.
  const mark = s.received.length;
  doc.setMarquee({ left: 40, top: 30, right: 60, bottom: 44 });
  const [item] = (await s.next('selection-changed', mark)).selection.items;
  assert.deepEqual([item.name, item.width, item.height, item.kind], ['Merged (visible layers, selection)', 20, 14, 'region']);
  assert.deepEqual(item.mask, { label: MARQUEE_MASK_LABEL });
  await s.send({ type: 'read-image', requestId: 'r', nodeId: item.nodeId });
  assert.deepEqual(decode(await s.next('image', mark)), pixels(merged, 40, 30, 20, 14));
  const before = s.received.length;
  await s.send({ type: 'read-image', requestId: 'w', nodeId: item.nodeId, withMask: true });
  const whole = await s.next('image', before);
  assert.deepEqual([whole.width, whole.height], [64, 48]);
  assert.deepEqual(whole.mask?.map(({ x, y, width, height }) => [x, y, width, height]), [[40, 30, 20, 14]]);
  assert.equal(fake.liveImageData, 0);
  await s.close();
});

test('readMerged is saved with the settings and switches the summary both ways', async () => {
  const fake = new FakePhotoshop();
  photo(fake);
  const s = await ready(fake);
  const init = await s.next('init');
  assert.equal(init.settings.readMerged, false);
  assert.equal(init.selection.items[0].name, 'Cat');
  let mark = s.received.length;
  await s.send({ type: 'save-settings', settings: { ...init.settings, readMerged: true } });
  assert.equal(JSON.parse(fake.localStorage.getItem(SETTINGS_KEY)!).readMerged, true);
  assert.equal((await s.next('selection-changed', mark)).selection.items[0].name, MERGED_NAME);
  mark = s.received.length;
  await s.send({ type: 'save-settings', settings: { ...init.settings, readMerged: false } });
  assert.equal((await s.next('selection-changed', mark)).selection.items[0].name, 'Cat');
  await s.close();

  // The next start remembers it.
  fake.localStorage.setItem(SETTINGS_KEY, JSON.stringify({ ...JSON.parse(fake.localStorage.getItem(SETTINGS_KEY)!), readMerged: true }));
  const again = await ready(fake);
  assert.equal((await again.next('init')).selection.items[0].name, MERGED_NAME);
  await again.close();
});

test('a result made from the merged image goes above the active layer, at the canvas origin or the marquee corner', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  fake.localStorage.setItem(SETTINGS_KEY, JSON.stringify({ readMerged: true }));
  const s = await ready(fake);
  const { nodeId } = (await s.next('init')).selection.items[0];
  await s.send(place('p1', nodeId, 8, 4, () => [1, 2, 3, 255]));
  const first = doc.layerNamed('Result');
  assert.deepEqual(first.boundsNoEffects, { left: 0, top: 0, right: 8, bottom: 4 });
  assert.deepEqual(doc.layers.map((l) => l.name), ['Hidden', 'Result', 'Cat', 'Background'], 'directly above the active layer');
  await s.send(place('p2', `ps:${doc.id}:merged@40,30,60,44`, 6, 6, () => [4, 5, 6, 255]));
  assert.deepEqual(doc.activeLayers[0].boundsNoEffects, { left: 40, top: 30, right: 46, bottom: 36 });
  assert.deepEqual(doc.historyNames, ['Result', 'Result']);
  await s.close();
});

test('16-bit documents: read as exact 8-bit pixels, results written at 16 bits (0..32768) in one history step', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake, 'bitDepth16');
  const s = await ready(fake);
  const init = await s.next('init');
  assert.equal(init.selection.problem, undefined);
  const [item] = init.selection.items;
  assert.deepEqual([item.name, item.width, item.height], ['Cat', 40, 30]);
  await s.send({ type: 'read-image', requestId: 'r', nodeId: item.nodeId });
  assert.deepEqual(decode(await s.next('image')), pixels(pattern, 8, 6, 40, 30));

  const fill = (x: number, y: number): Rgba => [x * 20, y * 30, 255, x === 0 ? 0 : 128 + y];
  const mark = s.received.length;
  await s.send(place('p', item.nodeId, 12, 8, fill));
  await s.next('placed', mark);
  const put = fake.puts.at(-1)!;
  assert.equal(put.componentSize, 16, 'written at the document’s depth');
  assert.ok(put.samples instanceof Uint16Array);
  const sent = pixels(fill, 0, 0, 12, 8);
  assert.deepEqual(Array.from(put.samples), Array.from(sent, (v) => Math.round((v * 32768) / 255)), 'v·32768/255: 255 → 32768, Photoshop’s 16-bit white');
  assert.equal(Math.max(...put.samples), 32768);
  assert.deepEqual(doc.layerNamed('Result').pixels({ left: 8, top: 6, right: 20, bottom: 14 }), sent, '16 → 8 bits gives every byte back');
  assert.deepEqual(doc.historyNames, ['Result']);
  assert.equal(fake.liveImageData, 0);
  await s.close();
});

test('samplesForDepth: 8-bit passes through; 16-bit is a 0..32768 ramp that rounds back to every byte', () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, v) => v);
  assert.equal(samplesForDepth(bytes, 8), bytes);
  const deep = samplesForDepth(bytes, 16);
  assert.ok(deep instanceof Uint16Array);
  assert.deepEqual([deep[0], deep[1], deep[128], deep[255]], [0, 129, 16448, 32768]);
  assert.deepEqual(Array.from(deep, (v) => Math.round((v * 255) / 32768)), Array.from(bytes));
});

test('32-bit and CMYK documents are refused with what to do, in the summary and on read and place', async () => {
  const fake = new FakePhotoshop();
  const hdr = photo(fake, 'bitDepth32');
  const s = await ready(fake);
  const init = await s.next('init');
  assert.deepEqual(init.selection.items, []);
  assert.match(init.selection.problem!, /“photo\.psd” has 32 bits per channel.*8 or 16 bits per channel.*Image ▸ Mode ▸ 16 Bits\/Channel/);
  const nodeId = `ps:${hdr.id}:${hdr.layerNamed('Cat').id}`;
  await s.send({ type: 'read-image', requestId: 'r32', nodeId, withMask: true });
  assert.match((await s.next('request-failed')).message, /32 bits per channel/);
  const mark = s.received.length;
  await s.send(place('p32', nodeId, 4, 4, () => [0, 0, 0, 255]));
  assert.match((await s.next('request-failed', mark)).message, /32 bits per channel/);
  assert.deepEqual(fake.puts, []);

  fake.openDocument({ title: 'print.psd', width: 8, height: 8, mode: 'CMYKColorMode', layers: [{ name: 'Ink', rect: { left: 0, top: 0, width: 8, height: 8 } }] });
  assert.match((await s.next('selection-changed')).selection.problem!, /“print\.psd” is in CMYK mode.*RGB Color/);
  await s.close();
});
