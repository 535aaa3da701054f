// The Photoshop panel's host bridge against the fake photoshop/uxp modules, through the JSON-only webview bridge:
// what the UI is told about the selection, the pixels it reads, and the layer a result becomes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultMeta } from '../../worker/job.ts';
import type { UiMessage } from '../../plugin/messages.ts';
import { NO_DOCUMENT_PROBLEM, nodeIdOf, parseNodeId } from '../../plugin/photoshop/document.ts';
import { META_FILE } from '../../plugin/photoshop/meta-store.ts';
import { PHOTOSHOP_BUSY, PLACE_CANCELLED, READ_CANCELLED } from '../../plugin/photoshop/pixels.ts';
import { SETTINGS_KEY, TOKEN_KEY } from '../../plugin/photoshop/settings.ts';
import { FakePhotoshop, PHOTOSHOP_VERSION, type FakeDocument } from '../fakes/photoshop.ts';
import { rawPixels, expectedPixels, pattern, ready } from './photoshop-util.ts';

const META: ResultMeta = { task: 'upscale', model: 'esrgan-slim-x2', target: 'wasm', params: { scale: 2 }, seed: 7, version: '0.1.0' } as unknown as ResultMeta;

/** A recognisable colour per document pixel. */

function photo(fake: FakePhotoshop, init: Partial<Parameters<FakePhotoshop['openDocument']>[0]> = {}): FakeDocument {
  return fake.openDocument({
    title: 'photo.psd', path: '/work/photo.psd', width: 64, height: 48, background: [255, 255, 255, 255],
    layers: [{ name: 'Cat', rect: { left: 8, top: 6, width: 40, height: 30 }, fill: pattern }],
    ...init,
  });
}

function placeMessage(requestId: string, sourceNodeId: string, width: number, height: number, fill: (x: number, y: number) => [number, number, number, number], name = 'Upscale ×2 · ESRGAN slim'): UiMessage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(fill(x, y), (y * width + x) * 4);
  return { type: 'place-result', requestId, sourceNodeId, rgba: data, width, height, name, mode: 'beside', meta: META };
}

test('ui-ready answers init: Photoshop host info, default settings, the active layer, the theme', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake, { theme: { current: () => 'dark' } });
  const init = await s.next('init');
  assert.deepEqual(init.host, { name: 'photoshop', version: PHOTOSHOP_VERSION, maxImageEdge: 4096, video: true, videoPlace: 'saved-file', pixels: 'rgba' });
  assert.equal(init.settings.serverUrl, 'http://127.0.0.1:8740');
  assert.equal(init.selection.problem, undefined);
  const [item] = init.selection.items;
  assert.equal(item.name, 'Cat');
  assert.equal(item.kind, 'layer');
  assert.deepEqual([item.width, item.height], [40, 30]);
  assert.deepEqual(parseNodeId(item.nodeId), { docId: doc.id, layerId: doc.layerNamed('Cat').id, region: null });
  assert.equal((await s.next('theme')).mode, 'dark');
  await s.close();
});

test('select a region → read-image gives exactly its pixels, raw RGBA, read in one modal scope, image data disposed', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  doc.setMarquee({ left: 20, top: 10, right: 60, bottom: 20 }); // runs past the layer's right edge (48)
  const changed = await s.next('selection-changed');
  const [item] = changed.selection.items;
  assert.equal(item.kind, 'region');
  assert.equal(item.name, 'Cat (selection)');
  assert.deepEqual(item.mask, { label: 'Marquee selection' }, 'the marquee is also the item’s inpainting mask');
  assert.deepEqual([item.width, item.height], [28, 10], 'cut to the layer pixels inside the marquee');

  const before = s.received.length;
  await s.send({ type: 'read-image', requestId: 'r1', nodeId: item.nodeId });
  const image = await s.next('image', before);
  assert.equal(image.mime, 'rgba');
  assert.deepEqual([image.width, image.height], [28, 10]);
  const png = rawPixels(image);
  assert.deepEqual([png.width, png.height], [28, 10]);
  assert.deepEqual(png.data, expectedPixels(20, 10, 28, 10));
  assert.deepEqual(fake.modalScopes, ['Frontier: reading “Cat”']);
  assert.equal(fake.selectionReads, 0, 'a plain read does not read the selection');
  assert.ok(fake.progress.length >= 2 && fake.progress.at(-1)!.progress === 1, 'Photoshop shows read progress');
  assert.equal(fake.liveImageData, 0);
  assert.deepEqual(doc.historyNames, [], 'reading changes nothing');
  await s.close();
});

test('the Background layer (no alpha) reads as opaque pixels', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake, { layers: [], background: pattern });
  const s = await ready(fake);
  doc.setMarquee({ left: 0, top: 0, right: 5, bottom: 4 });
  const { selection } = await s.next('selection-changed');
  await s.send({ type: 'read-image', requestId: 'bg', nodeId: selection.items[0].nodeId });
  const png = rawPixels(await s.next('image'));
  assert.deepEqual(png.data, expectedPixels(0, 0, 5, 4));
  await s.close();
});

test('a region whose layer lost pixels after the summary still reads at the promised size (transparent where trimmed)', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  doc.setMarquee({ left: 0, top: 0, right: 64, bottom: 48 });
  const { nodeId, width, height } = (await s.next('selection-changed')).selection.items[0];
  assert.deepEqual([width, height], [40, 30]);
  const cat = doc.layerNamed('Cat');
  const store = cat.store!;
  for (let y = 0; y < store.height; y++) for (let x = 0; x < 10; x++) store.data[(y * store.width + x) * 4 + 3] = 0; // erase the left 10 columns
  await s.send({ type: 'read-image', requestId: 'r', nodeId });
  const png = rawPixels(await s.next('image'));
  assert.deepEqual([png.width, png.height], [40, 30]);
  assert.equal(png.data[3], 0, 'the erased column is transparent');
  assert.deepEqual(png.data.subarray(40, 44), Uint8Array.from(pattern(18, 6)), 'column 10 holds the pixel that was there');
  await s.close();
});

test('place-result → one new layer named for the result, one history step, the right pixels at the source, meta kept', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  doc.setMarquee({ left: 10, top: 8, right: 20, bottom: 16 });
  const source = (await s.next('selection-changed')).selection.items[0];
  const layersBefore = doc.allLayers().length;
  doc.select(doc.layerNamed('Background').id); // the user clicks another layer while the job runs

  const fill = (x: number, y: number): [number, number, number, number] => [x * 10, y * 10, 200, x === 0 ? 128 : 255];
  const before = s.received.length;
  await s.send(placeMessage('p1', source.nodeId, 20, 16, fill));
  const placed = await s.next('placed', before);
  const ref = parseNodeId(placed.nodeId)!;
  const layer = doc.layer(ref.layerId!)!;
  assert.equal(layer.name, 'Upscale ×2 · ESRGAN slim');
  assert.equal(doc.allLayers().length, layersBefore + 1);
  assert.deepEqual(doc.historyNames, ['Upscale ×2 · ESRGAN slim'], 'exactly one history step');
  assert.deepEqual(doc.activeIds, [layer.id], 'the new layer is active');
  assert.deepEqual(doc.layers.map((l) => l.name), ['Upscale ×2 · ESRGAN slim', 'Cat', 'Background'], 'directly above its source');
  const expected = new Uint8Array(20 * 16 * 4);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 20; x++) expected.set(fill(x, y), (y * 20 + x) * 4);
  assert.deepEqual(layer.pixels({ left: 10, top: 8, right: 30, bottom: 24 }), expected, 'at the source region’s corner, straight alpha kept');
  assert.equal(fake.liveImageData, 0);
  assert.deepEqual(fake.warnings, []);

  // The new layer is selected now; its summary carries how it was made.
  const summary = await s.next('selection-changed', before);
  const item = summary.selection.items.find((it) => parseNodeId(it.nodeId)?.layerId === layer.id);
  assert.deepEqual(item?.meta, META);
  assert.ok(fake.dataFiles.get(META_FILE)?.includes('esrgan-slim-x2'), 'meta is kept in the plugin data folder');

  // check-nodes: the placed layer is there; after Undo it is not (the UI then drops its result card).
  const check = async (requestId: string) => {
    const at = s.received.length;
    await s.send({ type: 'check-nodes', requestId, nodeIds: [placed.nodeId, `${placed.nodeId}-nope`] });
    const answer = await s.next('nodes', at);
    assert.equal(answer.requestId, requestId);
    return answer.present;
  };
  assert.deepEqual(await check('c1'), [placed.nodeId]);
  assert.equal(doc.undo(), 'Upscale ×2 · ESRGAN slim');
  assert.equal(doc.layer(layer.id), null, 'one undo removes the whole placement');
  assert.deepEqual(await check('c2'), []);
  await s.close();
});

test('a result with no source (generated) lands centred in the active document; with no document, it is refused', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  await s.send(placeMessage('g1', '', 16, 8, () => [1, 2, 3, 255], 'Generate · seed 7'));
  const layer = doc.layerNamed('Generate · seed 7');
  assert.deepEqual(layer.boundsNoEffects, { left: 24, top: 20, right: 40, bottom: 28 });

  fake.closeDocument(doc);
  const before = s.received.length;
  await s.send(placeMessage('g2', '', 16, 8, () => [1, 2, 3, 255]));
  const failed = await s.next('request-failed', before);
  assert.match(failed.message, /No document is open/);
  await s.close();
});

test('writes outside executeAsModal throw in the fake, as in Photoshop', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  await assert.rejects(() => doc.createPixelLayer({ name: 'x' }), /only allowed from inside a modal scope/);
  assert.throws(() => (doc.layerNamed('Cat').name = 'Dog'), /only allowed from inside a modal scope/);
  assert.throws(() => (doc.layerNamed('Cat').selected = true), /only allowed from inside a modal scope/);
  assert.throws(() => (fake.photoshop.app.activeDocument = doc), /only allowed from inside a modal scope/);
  const data = await fake.photoshop.imaging.createImageDataFromBuffer(new Uint8Array(4), { width: 1, height: 1, components: 4, colorSpace: 'RGB' });
  await assert.rejects(() => fake.photoshop.imaging.putPixels({ layerID: doc.layerNamed('Cat').id, imageData: data }), /modal scope/);
  await data.dispose();
  assert.deepEqual(doc.historyNames, []);
});

test('Cancel on Photoshop’s progress while placing leaves no layer and no history step', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  const source = (await s.next('init')).selection.items[0];
  const layersBefore = doc.allLayers().map((l) => l.id);
  fake.cancelWhen = (e) => e.commandName.startsWith('Frontier: placing') && (e.progress ?? 0) >= 0.3;
  const before = s.received.length;
  await s.send(placeMessage('p', source.nodeId, 8, 8, () => [9, 9, 9, 255]));
  assert.equal((await s.next('request-failed', before)).message, PLACE_CANCELLED);
  assert.deepEqual(doc.allLayers().map((l) => l.id), layersBefore);
  assert.deepEqual(doc.historyNames, []);
  assert.equal(fake.liveImageData, 0);

  fake.cancelWhen = (e) => e.commandName.startsWith('Frontier: reading') && e.progress === 0.5;
  const mark = s.received.length;
  await s.send({ type: 'read-image', requestId: 'r', nodeId: source.nodeId });
  assert.equal((await s.next('request-failed', mark)).message, READ_CANCELLED);
  assert.equal(fake.liveImageData, 0);
  await s.close();
});

test('selection problems: no document, no layer, an empty layer, a group, a marquee beside the pixels', async () => {
  const fake = new FakePhotoshop();
  const s = await ready(fake);
  assert.equal((await s.next('init')).selection.problem, NO_DOCUMENT_PROBLEM);
  const doc = fake.openDocument({
    title: 'a.psd', width: 64, height: 48,
    layers: [
      { name: 'Empty' },
      { name: 'Group', children: [{ name: 'Inner', rect: { left: 0, top: 0, width: 4, height: 4 } }] },
      { name: 'Dot', rect: { left: 2, top: 2, width: 4, height: 4 } },
    ],
  });
  let mark = s.received.length;
  const problem = async () => {
    const msg = await s.next('selection-changed', mark);
    mark = s.received.length;
    return msg.selection.problem;
  };
  assert.match((await problem())!, /“Empty” is empty/);
  doc.select(doc.layerNamed('Group').id);
  assert.match((await problem())!, /“Group” is a group/);
  doc.select(doc.layerNamed('Dot').id);
  doc.setMarquee({ left: 30, top: 30, right: 40, bottom: 40 });
  assert.match((await problem())!, /does not overlap the pixels of “Dot”/);
  doc.select();
  assert.match((await problem())!, /Select a layer in the Layers panel/);
  await s.close();
});

test('Photoshop busy with another modal: the request fails saying so', async () => {
  const fake = new FakePhotoshop();
  photo(fake);
  const s = await ready(fake);
  fake.busy = true;
  await s.send({ type: 'read-image', requestId: 'b', nodeId: (await s.next('init')).selection.items[0].nodeId });
  assert.equal((await s.next('request-failed')).message, PHOTOSHOP_BUSY);
  await s.close();
});

test('settings: the token goes to secureStorage only, comes back on the next start, and never reaches logs or alerts', async () => {
  const fake = new FakePhotoshop();
  photo(fake);
  const s = await ready(fake);
  const token = 'sekret-token-123';
  await s.send({ type: 'save-settings', settings: { target: 'server', serverUrl: 'http://127.0.0.1:9000', token, placeMode: 'beside' } });
  assert.ok(!fake.localStorage.getItem(SETTINGS_KEY)!.includes(token));
  assert.equal(JSON.parse(fake.localStorage.getItem(SETTINGS_KEY)!).target, 'server');
  assert.equal(new TextDecoder().decode(fake.secrets.get(TOKEN_KEY)), token);
  await s.send({ type: 'notify', message: `Server said: bad token ${token}`, error: true });
  assert.deepEqual(fake.alerts, ['Server said: bad token •••']);
  await s.close();

  const again = await ready(fake);
  const init = await again.next('init');
  assert.equal(init.settings.token, token);
  assert.equal(init.settings.serverUrl, 'http://127.0.0.1:9000');
  await again.send({ type: 'save-settings', settings: { ...init.settings, token: '' } });
  assert.equal(fake.secrets.has(TOKEN_KEY), false, 'an empty token removes the entry (secureStorage refuses empty values)');
  assert.ok(!JSON.stringify([s.logs, again.logs]).includes(token));
  await again.close();
});

test('selection-changed follows Photoshop events, once per change', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake, { layers: [{ name: 'A', rect: { left: 0, top: 0, width: 8, height: 8 } }, { name: 'B', rect: { left: 0, top: 0, width: 16, height: 4 } }] });
  const s = await ready(fake);
  const mark = s.received.length;
  doc.select(doc.layerNamed('B').id);
  doc.select(doc.layerNamed('B').id); // same selection again: nothing new to say
  await new Promise((resolve) => setTimeout(resolve, 30));
  await s.settle();
  const changes = s.received.slice(mark).filter((m) => m.type === 'selection-changed');
  assert.equal(changes.length, 1);
  assert.equal(changes[0].type === 'selection-changed' && changes[0].selection.items[0].name, 'B');
  doc.select(doc.layerNamed('A').id, doc.layerNamed('B').id);
  const both = await s.next('selection-changed', mark + 1);
  assert.deepEqual(both.selection.items.map((i) => i.name), ['A', 'B']);
  await s.close();
});

test('the JSON bridge carries a result over 1 MB exactly, in frames, both ways', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake, { width: 800, height: 800, layers: [{ name: 'Noise', rect: { left: 0, top: 0, width: 700, height: 700 }, fill: (x, y) => [(x * 31 + y * 17) & 255, (x * y) & 255, (x ^ y) & 255, 255] }] });
  const s = await ready(fake);
  const item = (await s.next('init')).selection.items[0];
  const toPanel = fake.webview.framesToPanel;
  let seed = 1;
  const noise = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 255;
  const message = placeMessage('big', item.nodeId, 700, 700, () => [noise(), noise(), noise(), 255]);
  const sent = (message as { rgba: Uint8Array }).rgba;
  assert.equal(sent.length, 700 * 700 * 4, 'raw RGBA, about 2 MB');
  const before = s.received.length;
  await s.send(message);
  await s.next('placed', before);
  assert.ok(fake.webview.framesToPanel - toPanel > 1, 'sent in several frames');
  assert.ok(fake.webview.largestMessageChars < 1.2 * 1024 * 1024, `no frame over ~1 MiB (${fake.webview.largestMessageChars})`);
  const layer = doc.layerNamed('Upscale ×2 · ESRGAN slim');
  assert.deepEqual(layer.pixels({ left: 0, top: 0, right: 700, bottom: 700 }), sent);

  // And back: reading the 700×700 layer crosses as several frames too, byte-exact.
  const toPage = fake.webview.framesToPage;
  const mark = s.received.length;
  await s.send({ type: 'read-image', requestId: 'big-read', nodeId: item.nodeId });
  const image = await s.next('image', mark);
  assert.ok(fake.webview.framesToPage - toPage > 1);
  assert.deepEqual(rawPixels(image).data, doc.layerNamed('Noise').pixels({ left: 0, top: 0, right: 700, bottom: 700 }));
  await s.close();
});

test('a malformed message is ignored with a warning; read-video is answered with what to do (Choose a clip…)', async () => {
  const fake = new FakePhotoshop();
  photo(fake);
  const s = await ready(fake);
  await s.send({ type: 'read-image', requestId: 7 } as unknown as UiMessage);
  assert.ok(s.logs.some((l) => l.level === 'warn' && /read-image\.requestId must be string/.test(l.message)));
  await s.send({ type: 'read-video', requestId: 'v', nodeId: 'ps:1:1' });
  assert.match((await s.next('request-failed')).message, /layers cannot be read as video: use Choose a clip…/);
  await s.close();
});

test('show-node (the Results list) makes the result the one selected layer, bringing its document to the front; a gone one changes nothing', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  const cat = doc.layerNamed('Cat');
  const source = (await s.next('init')).selection.items[0];
  let at = s.received.length;
  await s.send(placeMessage('p1', source.nodeId, 20, 16, () => [9, 9, 9, 255]));
  const placed = await s.next('placed', at);
  const layerId = parseNodeId(placed.nodeId)!.layerId!;
  doc.select(cat.id, doc.layerNamed('Background').id); // the designer moved on: two other layers selected
  const other = fake.openDocument({ title: 'other.psd', width: 32, height: 32, background: [0, 0, 0, 255] }); // and to another document
  await s.settle();
  const historyBefore = doc.historyNames.length;

  at = s.received.length;
  await s.send({ type: 'show-node', nodeId: placed.nodeId });
  assert.equal(fake.photoshop.app.activeDocument?.id, doc.id, 'its document is in front');
  assert.deepEqual(doc.activeIds, [layerId], 'the result is the one selected layer');
  assert.ok(fake.modalScopes.at(-1)?.startsWith('Frontier: showing'), 'changed in a modal scope');
  assert.equal(doc.historyNames.length, historyBefore, 'selecting is not a history step');
  const changed = await s.next('selection-changed', at);
  assert.deepEqual(changed.selection.items.map((i) => parseNodeId(i.nodeId)?.layerId), [layerId], 'the UI hears of the new selection');

  // Gone (Undo): nothing changes, no alert (the UI's next check marks the entry Removed).
  assert.equal(doc.undo(), 'Upscale ×2 · ESRGAN slim');
  const scopes = fake.modalScopes.length;
  await s.send({ type: 'show-node', nodeId: placed.nodeId });
  assert.equal(fake.modalScopes.length, scopes, 'no modal scope for a layer that is gone');
  await s.send({ type: 'show-node', nodeId: nodeIdOf({ docId: other.id + 40, layerId: 1, region: null }) }); // a closed document
  assert.deepEqual(fake.alerts, []);
  assert.deepEqual(s.logs.filter((l) => l.level !== 'info'), []);
  await s.close();
});
