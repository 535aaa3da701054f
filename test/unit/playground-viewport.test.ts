// The playground's view arithmetic (server/playground/viewport.ts): what the canvas shows, the scroll and zoom that
// bring a placed result into view (Figma's scrollAndZoomIntoView, never zooming in), and, in the document model, where
// an opened file goes and what placing and undoing do to the selection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLACE_GAP, PlaygroundDocument } from '../../server/playground/document.ts';
import { contains, fitZoom, LABEL_ROOM, ORIGIN, REVEAL_PAD, revealRect, scrollForZoom, usableRect, visibleRect, type Rect, type ViewState } from '../../server/playground/viewport.ts';

/** A 960×750 canvas (the playground at 1280×800) at 50 %, scrolled to the top left. */
const VIEW: ViewState = { scrollLeft: 0, scrollTop: 0, width: 960, height: 750, zoom: 0.5 };

/** Where `rect` appears after `next`, as the page computes it. */
function shownAfter(view: ViewState, next: { zoom: number; scrollLeft: number; scrollTop: number }): Rect {
  return visibleRect({ ...view, ...next });
}

/** `rect` grown by the label above it and the padding, in document units at `zoom`. */
function withRoom(rect: Rect, zoom: number): Rect {
  const pad = REVEAL_PAD / zoom;
  const label = LABEL_ROOM / zoom;
  return { x: rect.x - pad, y: rect.y - pad - label, width: rect.width + 2 * pad, height: rect.height + 2 * pad + label };
}

test('the visible rectangle: scroll and zoom map back to document units (document 0 sits ORIGIN px into the world)', () => {
  assert.deepEqual(visibleRect(VIEW), { x: -ORIGIN / 0.5, y: -ORIGIN / 0.5, width: 1920, height: 1500 });
  assert.deepEqual(visibleRect({ ...VIEW, scrollLeft: ORIGIN + 100, scrollTop: ORIGIN, zoom: 1 }), { x: 100, y: 0, width: 960, height: 750 });
  const usable = usableRect({ ...VIEW, zoom: 1, scrollLeft: ORIGIN, scrollTop: ORIGIN });
  assert.deepEqual(usable, { x: REVEAL_PAD, y: REVEAL_PAD + LABEL_ROOM, width: 960 - 2 * REVEAL_PAD, height: 750 - 2 * REVEAL_PAD - LABEL_ROOM });
});

test('a node already in view: nothing moves', () => {
  const rect = { x: 100, y: 100, width: 300, height: 200 };
  assert.deepEqual(revealRect(rect, VIEW), { zoom: 0.5, scrollLeft: 0, scrollTop: 0 });
  const scrolled = { ...VIEW, scrollLeft: 40, scrollTop: 30 };
  assert.deepEqual(revealRect(rect, scrolled), { zoom: 0.5, scrollLeft: 40, scrollTop: 30 });
});

test('a node off to the right or below: the least scroll that shows it whole with its label, same zoom', () => {
  const right = { x: 3000, y: 100, width: 400, height: 300 };
  const next = revealRect(right, VIEW);
  assert.equal(next.zoom, 0.5);
  assert.equal(next.scrollTop, 0, 'no vertical move when it is in view vertically');
  assert.ok(contains(shownAfter(VIEW, next), withRoom(right, 0.5)), 'in view with room');
  // The least scroll: its right edge (plus the padding) on the canvas's right edge.
  assert.equal(next.scrollLeft, ORIGIN + (3000 + 400) * 0.5 + REVEAL_PAD - VIEW.width);

  const below = { x: 0, y: 5000, width: 512, height: 512 };
  const down = revealRect(below, VIEW);
  assert.deepEqual([down.zoom, down.scrollLeft], [0.5, 0]);
  assert.ok(contains(shownAfter(VIEW, down), withRoom(below, 0.5)));
});

test('a node above or left of the view: scrolled back so its label shows too', () => {
  const view = { ...VIEW, scrollLeft: 2000, scrollTop: 2000 };
  const rect = { x: 100, y: 200, width: 100, height: 100 };
  const next = revealRect(rect, view);
  assert.equal(next.scrollLeft, ORIGIN + 100 * 0.5 - REVEAL_PAD);
  assert.equal(next.scrollTop, ORIGIN + 200 * 0.5 - REVEAL_PAD - LABEL_ROOM);
  assert.ok(contains(shownAfter(view, next), withRoom(rect, 0.5)));
});

test('a node too large for the view at this zoom: zoomed out to a whole percentage that fits, never in', () => {
  const tall = { x: 0, y: 0, width: 64, height: 4096 };
  const next = revealRect(tall, VIEW);
  assert.ok(next.zoom < 0.5 && next.zoom <= fitZoom(tall, VIEW), `zoom ${next.zoom}`);
  assert.equal(Math.round(next.zoom * 100), next.zoom * 100, 'a whole percentage');
  assert.ok(next.zoom >= fitZoom(tall, VIEW) - 0.01, 'as little zooming out as it takes');
  assert.ok(contains(shownAfter(VIEW, next), withRoom(tall, next.zoom)));

  // Small nodes never zoom the view in, at any zoom, and the zoom never exceeds 100 %.
  for (const zoom of [0.25, 0.5, 1]) {
    const view = { ...VIEW, zoom };
    assert.equal(revealRect({ x: 10, y: 10, width: 8, height: 8 }, view).zoom, zoom);
  }
  // Zooming out keeps the middle of the view where it was before the node is scrolled in.
  const view = { ...VIEW, scrollLeft: 1000, scrollTop: 800 };
  const mid = scrollForZoom(view, 0.25);
  assert.deepEqual(visibleRect({ ...view, ...mid, zoom: 0.25 }).x + 3840 / 2, visibleRect(view).x + 1920 / 2);
});

test('largest images at 100 % in a small canvas still fit (down to MIN_ZOOM)', () => {
  const view = { scrollLeft: 0, scrollTop: 0, width: 400, height: 300, zoom: 1 };
  const huge = { x: 8000, y: 8000, width: 4096, height: 4096 };
  const next = revealRect(huge, view);
  assert.ok(contains(shownAfter(view, next), withRoom(huge, next.zoom)), JSON.stringify(next));
});

const bmp = (width: number, height: number) => ({ width, height });

test('an opened file goes to a free spot in view (PLACE_GAP from others); with no room, to a new row below', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  const area = { x: 0, y: 0, width: 1200, height: 800 };
  const a = doc.addImage('a', bmp(451, 300), undefined, { area, select: true });
  assert.deepEqual([a.x, a.y], [0, 0]);
  const b = doc.addImage('b', bmp(451, 300), undefined, { area, select: true });
  assert.deepEqual([b.x, b.y], [451 + PLACE_GAP, 0], 'beside the first, on the same row');
  const c = doc.addImage('c', bmp(451, 300), undefined, { area, select: true });
  assert.deepEqual([c.x, c.y], [0, 300 + PLACE_GAP], 'next row when the row is full');
  const d = doc.addImage('d', bmp(451, 300), undefined, { area, select: true });
  assert.deepEqual([d.x, d.y], [451 + PLACE_GAP, 300 + PLACE_GAP]);
  const e = doc.addImage('e', bmp(451, 300), undefined, { area, select: true });
  assert.deepEqual([e.x, e.y], [0, 2 * (300 + PLACE_GAP)], 'no room in view: a new row below everything');
  // Scrolled somewhere else: it lands there.
  const far = { x: 5000, y: 3000, width: 1000, height: 700 };
  const f = doc.addImage('f', bmp(200, 100), undefined, { area: far, select: true });
  assert.deepEqual([f.x, f.y], [5000, 3000]);
  assert.ok(contains(far, f));
  // Part of the view left of or above the document's origin is not used.
  assert.deepEqual(new PlaygroundDocument<ReturnType<typeof bmp>>().freeSpotIn({ x: -96, y: -96, width: 1920, height: 1500 }, 10, 10), { x: 0, y: 0 });
});

test('placing selects the new node; one undo removes it and gives back the selection it replaced; redo selects it again', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  const photo = doc.addImage('photo', bmp(100, 80), undefined, { select: true });
  assert.deepEqual(doc.selection, [photo.id], 'opening selects');
  const region = doc.selectRegion(photo.id, 10, 10, 20, 20);
  const result = doc.placeBeside(photo.id, 'r', bmp(40, 40), {});
  assert.deepEqual([doc.selection, doc.region], [[result.id], null], 'the result is the selection');
  assert.equal(doc.undo(), 'Place r');
  assert.deepEqual(doc.nodes.map((n) => n.id), [photo.id]);
  assert.deepEqual([doc.selection, doc.region], [[], region], 'the dragged region is back, same id: run again at once');
  assert.equal(doc.redo(), 'Place r');
  assert.deepEqual(doc.selection, [result.id]);

  const generated = doc.placeNew('g', bmp(32, 32), {});
  const cell = doc.placeInGrid(generated.id, 1, 2, 'g1', bmp(32, 32), {});
  assert.deepEqual(doc.selection, [cell.id]);
  doc.undo();
  assert.deepEqual(doc.selection, [generated.id]);

  // Replacing a fill leaves the selection as it is (as in Figma).
  doc.select([photo.id]);
  doc.replaceFill(photo.id, bmp(100, 80), {});
  assert.deepEqual(doc.selection, [photo.id]);
  // Undo never selects what is gone.
  doc.select([]);
  doc.undo(); // the fill
  doc.undo(); // g1
  doc.undo(); // g
  doc.undo(); // r: gives back the region on the photo
  doc.undo(); // opening the photo: the selection it replaced was empty
  assert.deepEqual([doc.nodes.length, doc.selection, doc.region], [0, [], null]);
});

test('undo after the user selected something else keeps that selection (less the removed node)', () => {
  const doc = new PlaygroundDocument<ReturnType<typeof bmp>>();
  const a = doc.addImage('a', bmp(10, 10), undefined, { select: true });
  const b = doc.addImage('b', bmp(10, 10), undefined, { select: true });
  doc.selectRegion(a.id, 0, 0, 5, 5);
  const r = doc.placeBeside(a.id, 'r', bmp(20, 20), {});
  doc.select([b.id, r.id]);
  doc.undo();
  assert.deepEqual([doc.selection, doc.region], [[b.id], null]);
});
