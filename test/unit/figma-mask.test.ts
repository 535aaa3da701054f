// Inpainting masks from Figma shapes, against the fake (which renders rectangles and ellipses alone, as Figma does):
// a shape selected with the image it covers marks the image item; read-image withMask sends each shape exported at
// the image's pixel scale, placed in its pixel coordinates; combined, the mask is exactly the shape's pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { readImage } from '../../plugin/figma/read.ts';
import { summarizeSelection } from '../../plugin/figma/selection.ts';
import { composeMask } from '../../worker/image/mask.ts';
import type { RgbaImage } from '../../worker/job.ts';
import { fixtureBytes } from '../fakes/figma-harness.ts';
import { FakeFigma } from '../fakes/figma.ts';

const decode = (png: Uint8Array | undefined): RgbaImage => {
  assert.ok(png, 'Figma sends its mask pieces as PNG files');
  const p = PNG.sync.read(Buffer.from(png));
  return { width: p.width, height: p.height, data: new Uint8Array(p.data) };
};

async function maskOf(fake: FakeFigma, nodeId: string): Promise<RgbaImage> {
  const msg = await readImage(fake.figma, 'r', nodeId, true);
  assert.ok(msg.mask && msg.mask.length > 0, 'the answer carries mask pieces');
  for (const part of msg.mask) assert.deepEqual([part.width, part.height], [decode(part.png).width, decode(part.png).height]);
  return composeMask(msg.width, msg.height, msg.mask.map((p) => ({ image: decode(p.png), x: p.x, y: p.y })));
}

function filled(mask: RgbaImage): Set<string> {
  const out = new Set<string>();
  for (let y = 0; y < mask.height; y++) for (let x = 0; x < mask.width; x++) if (mask.data[(y * mask.width + x) * 4] > 0) out.add(`${x},${y}`);
  return out;
}

function rectSet(x0: number, y0: number, w: number, h: number): Set<string> {
  const out = new Set<string>();
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) out.add(`${x},${y}`);
  return out;
}

test('a rectangle over an image marks exactly its pixels, at native scale and when the image is shown smaller', async () => {
  const fake = new FakeFigma();
  // 451×300 photo shown at its size at (100, 50); a 48×60 rectangle at (303, 151) on the canvas.
  const photo = fake.addImage(fake.currentPageNode, 'Cat', { x: 100, y: 50, width: 451, height: 300 }, fixtureBytes('chelsea.png'));
  const rect = fake.addRectangle(fake.currentPageNode, 'Hole', { x: 303, y: 151, width: 48, height: 60 }, [{ type: 'SOLID', color: { r: 1, g: 0, b: 0 } }]);
  fake.select(photo, rect);
  const summary = await summarizeSelection(fake.figma);
  assert.deepEqual(summary.items.find((i) => i.nodeId === photo.id)?.mask, { label: 'Hole' });
  assert.equal(summary.items.find((i) => i.nodeId === rect.id)?.mask, undefined, 'the shape itself stays an ordinary item');
  assert.deepEqual(filled(await maskOf(fake, photo.id)), rectSet(203, 101, 48, 60));

  // The same photo shown at half size: one canvas unit = 2 image pixels; the mask lands on the image's grid.
  photo.resize(225.5, 150);
  rect.x = 100 + 101.5;
  rect.y = 50 + 50.5;
  rect.resize(24, 30);
  assert.deepEqual(filled(await maskOf(fake, photo.id)), rectSet(203, 101, 48, 60));
});

test('a half-transparent shape still marks its whole area; an ellipse marks a disc; shapes past the edge are clipped', async () => {
  const fake = new FakeFigma();
  const photo = fake.addImage(fake.currentPageNode, 'Cat', { x: 0, y: 0, width: 451, height: 300 }, fixtureBytes('chelsea.png'));
  const ghost = fake.addRectangle(fake.currentPageNode, 'Ghost', { x: 10, y: 10, width: 20, height: 20 }, [{ type: 'SOLID', color: { r: 0, g: 0, b: 0 }, opacity: 0.3 }]);
  const disc = fake.addEllipse(fake.currentPageNode, 'Disc', { x: 100, y: 100, width: 40, height: 40 }, [{ type: 'SOLID', color: { r: 0, g: 0, b: 1 } }]);
  const edge = fake.addRectangle(fake.currentPageNode, 'Edge', { x: 440, y: 290, width: 30, height: 30 }, [{ type: 'SOLID', color: { r: 1, g: 1, b: 1 } }]);
  fake.select(photo, ghost, disc, edge);
  assert.equal((await summarizeSelection(fake.figma)).items[0].mask?.label, 'Ghost + Disc + Edge');
  const mask = await maskOf(fake, photo.id);
  const at = (x: number, y: number) => mask.data[(y * mask.width + x) * 4];
  assert.equal(at(10, 10), 255, 'a black, 30%-opaque shape marks fully');
  assert.equal(at(29, 29), 255);
  assert.equal(at(30, 30), 0);
  assert.equal(at(120, 120), 255, 'disc centre');
  assert.equal(at(101, 101), 0, 'disc corner is outside the ellipse');
  assert.equal(at(450, 299), 255, 'the shape past the edge covers the corner');
  assert.deepEqual([mask.width, mask.height], [451, 300]);
});

test('no shape over the image, or an image shown cropped, is explained', async () => {
  const fake = new FakeFigma();
  const photo = fake.addImage(fake.currentPageNode, 'Cat', { x: 0, y: 0, width: 451, height: 300 }, fixtureBytes('chelsea.png'));
  const far = fake.addRectangle(fake.currentPageNode, 'Far', { x: 1000, y: 1000, width: 20, height: 20 });
  fake.select(photo, far);
  assert.equal((await summarizeSelection(fake.figma)).items[0].mask, undefined, 'a shape elsewhere is no mask');
  await assert.rejects(readImage(fake.figma, 'r', photo.id, true), /Nothing marks what to fill in "Cat": draw a rectangle/);
  const near = fake.addRectangle(fake.currentPageNode, 'Near', { x: 5, y: 5, width: 20, height: 20 });
  photo.resize(300, 300); // FILL crops a 451×300 image into a square
  fake.select(photo, near);
  await assert.rejects(readImage(fake.figma, 'r', photo.id, true), /cropped or stretched part of its image/);
  const plain = await readImage(fake.figma, 'r', photo.id);
  assert.equal(plain.mask, undefined, 'without withMask nothing changes');
});
