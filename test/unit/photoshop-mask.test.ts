// The marquee selection as the inpainting mask (read-image withMask) against the fake Photoshop: the whole layer's
// pixels plus the selection as raw grey levels in that image's coordinates, pixel-exact, in one modal scope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostToUi } from '../../plugin/messages.ts';
import { MARQUEE_MASK_LABEL, parseNodeId } from '../../plugin/photoshop/document.ts';
import { PHOTOSHOP_BUSY, READ_CANCELLED } from '../../plugin/photoshop/pixels.ts';
import { FakePhotoshop, type FakeDocument, type LayerInit, type PanelSession } from '../fakes/photoshop.ts';
import { rawPixels, expectedPixels, pattern, ready } from './photoshop-util.ts';


function photo(fake: FakePhotoshop, layer: LayerInit = { name: 'Cat', rect: { left: 8, top: 6, width: 40, height: 30 }, fill: pattern }, bitsPerChannel?: string): FakeDocument {
  return fake.openDocument({ title: 'photo.psd', width: 64, height: 48, background: [255, 255, 255, 255], layers: [layer], bitsPerChannel });
}

/** The mask parts painted into one width×height grey image (max of the pieces), checking each piece's raw levels. */
function maskImage(image: HostToUi['image']): Uint8Array {
  assert.ok(image.mask && image.mask.length > 0, 'the answer carries mask parts');
  const out = new Uint8Array(image.width * image.height);
  for (const part of image.mask) {
    assert.equal(part.png, undefined, 'raw, not a PNG');
    assert.ok(part.alpha, 'one level per pixel');
    assert.equal(part.alpha.length, part.width * part.height, 'the levels fill the part’s size');
    for (let y = 0; y < part.height; y++) {
      for (let x = 0; x < part.width; x++) {
        const level = part.alpha[y * part.width + x];
        const tx = part.x + x;
        const ty = part.y + y;
        if (tx < 0 || ty < 0 || tx >= image.width || ty >= image.height) continue;
        out[ty * image.width + tx] = Math.max(out[ty * image.width + tx], level);
      }
    }
  }
  return out;
}

/** Expected grey image: level(document x, y) for each pixel of the image whose top-left is document (left, top). */
function expectedMask(width: number, height: number, left: number, top: number, level: (x: number, y: number) => number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = level(left + x, top + y);
  return out;
}

const inRect = (r: { left: number; top: number; right: number; bottom: number }) => (x: number, y: number) =>
  x >= r.left && x < r.right && y >= r.top && y < r.bottom ? 255 : 0;

async function readWithMask(s: PanelSession, nodeId: string, requestId = 'm'): Promise<HostToUi['image']> {
  const mark = s.received.length;
  await s.send({ type: 'read-image', requestId, nodeId, withMask: true });
  const answer = s.received.slice(mark).find((m) => m.type === 'image' || m.type === 'request-failed');
  if (!answer || answer.type !== 'image') throw new Error(`no image: ${JSON.stringify(answer)}`);
  return answer;
}

async function failureOf(s: PanelSession, nodeId: string): Promise<string> {
  const mark = s.received.length;
  await s.send({ type: 'read-image', requestId: 'f', nodeId, withMask: true });
  return (await s.next('request-failed', mark)).message;
}

test('a marquee marks the active layer’s item as masked; withMask reads the whole layer and the marquee as 255s in layer pixels', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  const marquee = { left: 20, top: 10, right: 30, bottom: 20 };
  doc.setMarquee(marquee);
  const [item] = (await s.next('selection-changed')).selection.items;
  assert.deepEqual(item.mask, { label: MARQUEE_MASK_LABEL });
  assert.equal(item.kind, 'region');

  const image = await readWithMask(s, item.nodeId);
  assert.deepEqual([image.width, image.height], [40, 30], 'the whole layer, not the marquee');
  const png = rawPixels(image);
  assert.deepEqual(png.data, expectedPixels(8, 6, 40, 30));
  assert.deepEqual(maskImage(image), expectedMask(40, 30, 8, 6, inRect(marquee)));
  assert.deepEqual(image.mask!.map(({ x, y, width, height }) => ({ x, y, width, height })), [{ x: 12, y: 4, width: 10, height: 10 }], 'one piece, at the marquee in layer pixels');
  assert.deepEqual(parseNodeId(image.nodeId), { docId: doc.id, layerId: doc.layerNamed('Cat').id, region: { left: 8, top: 6, right: 48, bottom: 36 } }, 'the answer names what was read');
  assert.deepEqual(fake.modalScopes, ['Frontier: reading “Cat”'], 'pixels and selection in one modal scope');
  assert.equal(fake.selectionReads, 1);
  assert.equal(fake.liveImageData, 0, 'both image data disposed');
  assert.equal(fake.inModal, false);
  assert.deepEqual(doc.historyNames, []);
  await s.close();
});

test('a layer offset in the document and past the canvas: pixels clipped to the canvas, the mask in that image’s pixels', async () => {
  const fake = new FakePhotoshop();
  // The layer starts 10 px left of and 5 px above the canvas: its readable part is document (0,0)–(30,25).
  const doc = photo(fake, { name: 'Offset', rect: { left: -10, top: -5, width: 40, height: 30 }, fill: pattern });
  const s = await ready(fake);
  const marquee = { left: 20, top: 10, right: 50, bottom: 40 }; // crosses the layer's right and bottom edges
  doc.setMarquee(marquee);
  const [item] = (await s.next('selection-changed')).selection.items;
  const image = await readWithMask(s, item.nodeId);
  assert.deepEqual([image.width, image.height], [30, 25]);
  assert.deepEqual(rawPixels(image).data, expectedPixels(0, 0, 30, 25));
  assert.deepEqual(maskImage(image), expectedMask(30, 25, 0, 0, inRect(marquee)));
  assert.deepEqual(image.mask!.map(({ x, y, width, height }) => ({ x, y, width, height })), [{ x: 20, y: 10, width: 10, height: 15 }], 'cut at the layer’s edge');
  assert.equal(fake.liveImageData, 0);
  await s.close();
});

test('a layer inside the document away from its origin: the marquee lands at its layer coordinates', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake, { name: 'Small', rect: { left: 30, top: 20, width: 20, height: 16 }, fill: pattern });
  const s = await ready(fake);
  const marquee = { left: 25, top: 15, right: 35, bottom: 25 }; // over the layer's top-left corner
  doc.setMarquee(marquee);
  const [item] = (await s.next('selection-changed')).selection.items;
  const image = await readWithMask(s, item.nodeId);
  assert.deepEqual([image.width, image.height], [20, 16]);
  assert.deepEqual(rawPixels(image).data, expectedPixels(30, 20, 20, 16));
  const mask = maskImage(image);
  assert.deepEqual(mask, expectedMask(20, 16, 30, 20, inRect(marquee)));
  assert.equal(mask.reduce((n, v) => n + (v === 255 ? 1 : 0), 0), 25, 'exactly the 5×5 overlap is 255');
  await s.close();
});

test('a feathered, elliptical selection keeps its grey levels exactly (8- and 16-bit documents)', async () => {
  for (const depth of ['bitDepth8', 'bitDepth16']) {
    const fake = new FakePhotoshop();
    const doc = photo(fake, undefined, depth);
    const s = await ready(fake);
    const bounds = { left: 4, top: 2, right: 44, bottom: 30 }; // passes the layer's left and top edges
    const level = (x: number, y: number) => {
      const d = Math.hypot((x - 24) / 20, (y - 16) / 14);
      return d >= 1 ? 0 : Math.round(255 * Math.min(1, (1 - d) * 3)); // solid centre, soft edge
    };
    doc.setSelection(bounds, level);
    const [item] = (await s.next('selection-changed')).selection.items;
    assert.deepEqual(item.mask, { label: MARQUEE_MASK_LABEL });
    const image = await readWithMask(s, item.nodeId);
    const mask = maskImage(image);
    const expected = expectedMask(40, 30, 8, 6, (x, y) => (x >= bounds.left && x < bounds.right && y >= bounds.top && y < bounds.bottom ? level(x, y) : 0));
    assert.deepEqual(mask, expected, `${depth}: every grey level as Photoshop has it`);
    assert.ok(new Set(mask).size > 20, 'many grey levels, not a thresholded mask');
    assert.equal(fake.liveImageData, 0);
    await s.close();
  }
});

test('no marquee: withMask gives the whole layer and no mask, without asking Photoshop for a selection', async () => {
  const fake = new FakePhotoshop();
  photo(fake);
  const s = await ready(fake);
  const item = (await s.next('init')).selection.items[0];
  assert.equal(item.mask, undefined);
  const image = await readWithMask(s, item.nodeId);
  assert.deepEqual([image.width, image.height], [40, 30]);
  assert.equal(image.mask, undefined);
  assert.equal(fake.selectionReads, 0);
  assert.deepEqual(fake.modalScopes, ['Frontier: reading “Cat”']);
  await s.close();
});

test('a marquee that misses the layer, or a selection whose pixels miss it, fails saying what to do', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  const nodeId = (await s.next('init')).selection.items[0].nodeId;
  doc.setMarquee({ left: 50, top: 38, right: 60, bottom: 46 }); // beside the layer (8..48 × 6..36)
  assert.match(await failureOf(s, nodeId), /marquee selection does not cover any pixels of “Cat”. Select the area to fill inside the layer/);
  assert.equal(fake.selectionReads, 0, 'known from the bounds alone');
  // A ring whose bounds overlap the layer but whose selected pixels all lie outside it.
  doc.setSelection({ left: 0, top: 0, right: 64, bottom: 48 }, (x, y) => (x < 4 || y < 3 ? 255 : 0));
  assert.match(await failureOf(s, nodeId), /does not cover any pixels of “Cat”/);
  assert.equal(fake.liveImageData, 0);
  await s.close();
});

test('Cancel during a masked read, and Photoshop busy: the request fails, nothing leaks', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  const s = await ready(fake);
  doc.setMarquee({ left: 20, top: 10, right: 30, bottom: 20 });
  const { nodeId } = (await s.next('selection-changed')).selection.items[0];
  fake.cancelWhen = (e) => e.commandName.startsWith('Frontier: reading') && e.progress === 0.5;
  assert.equal(await failureOf(s, nodeId), READ_CANCELLED);
  assert.equal(fake.liveImageData, 0);
  assert.equal(fake.inModal, false);
  fake.cancelWhen = null;
  fake.busy = true;
  assert.equal(await failureOf(s, nodeId), PHOTOSHOP_BUSY);
  fake.busy = false;
  const image = await readWithMask(s, nodeId);
  assert.ok(image.mask, 'works again afterwards');
  assert.equal(fake.liveImageData, 0);
  await s.close();
});

test('a layer over the host’s edge limit: pixels and mask scaled by the same factor', async () => {
  const fake = new FakePhotoshop();
  const doc = fake.openDocument({ title: 'wide.psd', width: 4200, height: 12, layers: [{ name: 'Strip', rect: { left: 0, top: 0, width: 4200, height: 12 }, fill: [10, 20, 30, 255] }] });
  const s = await ready(fake);
  doc.setMarquee({ left: 2100, top: 0, right: 4200, bottom: 12 }); // the right half
  const [item] = (await s.next('selection-changed')).selection.items;
  const image = await readWithMask(s, item.nodeId);
  assert.deepEqual([image.width, image.height], [4096, 12]);
  const mask = maskImage(image);
  assert.equal(mask[2047], 0);
  assert.equal(mask[2048], 255);
  assert.equal(mask[4095], 255);
  assert.deepEqual(image.mask!.map(({ x, width }) => [x, width]), [[2048, 2048]], 'the right half of the scaled image');
  assert.equal(fake.liveImageData, 0);
  await s.close();
});

test('the fake’s getSelection: grey, 8-bit, trimmed to the selection and the canvas; zeros where nothing is selected', async () => {
  const fake = new FakePhotoshop();
  const doc = photo(fake);
  doc.setSelection({ left: -5, top: 40, right: 10, bottom: 60 }, () => 128); // passes the canvas's left and bottom edges
  const { imageData, sourceBounds } = await fake.photoshop.imaging.getSelection({ documentID: doc.id, sourceBounds: { left: 0, top: 0, right: 64, bottom: 48 } });
  assert.deepEqual(sourceBounds, { left: 0, top: 40, right: 10, bottom: 48 });
  assert.deepEqual([imageData.width, imageData.height, imageData.components, imageData.componentSize, imageData.colorSpace], [10, 8, 1, 8, 'Grayscale']);
  assert.ok((await imageData.getData()).every((v) => v === 128));
  await imageData.dispose();
  doc.setMarquee(null);
  const none = await fake.photoshop.imaging.getSelection({ documentID: doc.id, sourceBounds: { left: 0, top: 0, right: 4, bottom: 4 } });
  assert.ok((await none.imageData.getData()).every((v) => v === 0));
  await none.imageData.dispose();
  assert.equal(fake.liveImageData, 0);
});
