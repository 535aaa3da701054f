// The playground canvas's view: which part of the document the scrolled, zoomed canvas shows, and the scroll and zoom
// that bring a node fully into view. It is the playground's counterpart of Figma's figma.viewport.scrollAndZoomIntoView
// (which the Figma bridge calls on every result it places), with one difference a designer expects from a result
// appearing: the view never zooms in. It keeps the zoom when the node fits and zooms out only as far as needed (so it
// never goes beyond 100 % either), and it scrolls as little as it can, so the source beside the result stays in view
// where there is room for both. Pure arithmetic, no DOM: unit-tested in test/unit/playground-viewport.test.ts.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The canvas's scroll offsets and visible size, in screen pixels, and its zoom (screen pixels per document unit). */
export interface ViewState {
  scrollLeft: number;
  scrollTop: number;
  width: number;
  height: number;
  zoom: number;
}

/** Screen pixels between the world's top-left corner and document point (0, 0): nodes never touch the canvas edge. */
export const ORIGIN = 48;
/** Screen pixels kept clear around a revealed node (at most ORIGIN, so the scroll it needs always exists). */
export const REVEAL_PAD = 24;
/** Screen pixels above a node for its name label. */
export const LABEL_ROOM = 18;
/** The zoom menu's steps. */
export const ZOOM_STEPS = [0.25, 0.5, 0.75, 1];
/** The least zoom the view goes down to (a 4096 px image still fits a 200 px canvas). */
export const MIN_ZOOM = 0.02;

/** Screen coordinate (within the world) of document coordinate `v`. */
export function toScreen(v: number, zoom: number): number {
  return ORIGIN + v * zoom;
}

/** The part of the document the canvas shows, in document units. */
export function visibleRect(view: ViewState): Rect {
  return {
    x: (view.scrollLeft - ORIGIN) / view.zoom,
    y: (view.scrollTop - ORIGIN) / view.zoom,
    width: view.width / view.zoom,
    height: view.height / view.zoom,
  };
}

/** Where a node can sit and be seen whole, label included: the visible part less the reveal padding, in document units. */
export function usableRect(view: ViewState): Rect {
  const visible = visibleRect(view);
  const side = REVEAL_PAD / view.zoom;
  const top = (REVEAL_PAD + LABEL_ROOM) / view.zoom;
  return { x: visible.x + side, y: visible.y + top, width: Math.max(0, visible.width - 2 * side), height: Math.max(0, visible.height - top - side) };
}

/** The scroll that keeps the document point at the middle of the canvas where it is when the zoom becomes `zoom`. */
export function scrollForZoom(view: ViewState, zoom: number): { scrollLeft: number; scrollTop: number } {
  const cx = (view.scrollLeft + view.width / 2 - ORIGIN) / view.zoom;
  const cy = (view.scrollTop + view.height / 2 - ORIGIN) / view.zoom;
  return { scrollLeft: Math.max(0, Math.round(toScreen(cx, zoom) - view.width / 2)), scrollTop: Math.max(0, Math.round(toScreen(cy, zoom) - view.height / 2)) };
}

/** The largest zoom at which `rect`, its label and the padding fit in the canvas. */
export function fitZoom(rect: Rect, view: Pick<ViewState, 'width' | 'height'>): number {
  const across = (view.width - 2 * REVEAL_PAD) / Math.max(1, rect.width);
  const down = (view.height - 2 * REVEAL_PAD - LABEL_ROOM) / Math.max(1, rect.height);
  return Math.min(across, down);
}

/** The smallest move of a window [start, start + size) that shows [lo, hi); `lo` first when both cannot show. */
function nearest(start: number, size: number, lo: number, hi: number): number {
  if (lo < start || hi - lo > size) return lo;
  if (hi > start + size) return hi - size;
  return start;
}

/**
 * The zoom and scroll that show `rect` (document units) whole, with its label and some room around it: the same zoom
 * when it fits, else the largest whole percentage that fits; the same scroll when it is already in view, else the
 * least scroll that brings it in.
 */
export function revealRect(rect: Rect, view: ViewState): { zoom: number; scrollLeft: number; scrollTop: number } {
  const fit = fitZoom(rect, view);
  const zoom = view.zoom <= fit ? view.zoom : Math.max(MIN_ZOOM, Math.floor(fit * 100) / 100);
  const start = zoom === view.zoom ? { scrollLeft: view.scrollLeft, scrollTop: view.scrollTop } : scrollForZoom(view, zoom);
  const left = nearest(start.scrollLeft, view.width, toScreen(rect.x, zoom) - REVEAL_PAD, toScreen(rect.x + rect.width, zoom) + REVEAL_PAD);
  const top = nearest(start.scrollTop, view.height, toScreen(rect.y, zoom) - REVEAL_PAD - LABEL_ROOM, toScreen(rect.y + rect.height, zoom) + REVEAL_PAD);
  return { zoom, scrollLeft: Math.max(0, Math.round(left)), scrollTop: Math.max(0, Math.round(top)) };
}

/** True when `inner` lies wholly inside `outer`. */
export function contains(outer: Rect, inner: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
}
