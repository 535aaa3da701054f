// Renders the document on the page's canvas and turns pointer input into selection: click selects a node,
// shift-click adds or removes it, a drag across an image selects a rectangular region of its pixels. Scrolls and
// zooms the canvas to show a node (what the host does with every result it places, as Figma's bridge does).
import type { Bitmap } from './bitmap.ts';
import type { Clip } from './video.ts';
import type { DocNode, PlaygroundDocument } from './document.ts';
import { META_KEY } from './host.ts';
import { ORIGIN, revealRect, scrollForZoom, toScreen, usableRect, visibleRect, type Rect, type ViewState } from './viewport.ts';

/** Screen pixels a pointer must move before a press becomes a region drag. */
const DRAG_THRESHOLD = 4;
/** Margin around the content so nodes are never glued to the canvas edge. */
const MARGIN = ORIGIN;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class CanvasView {
  zoom = 0.5;

  constructor(
    private doc: PlaygroundDocument<Bitmap, Clip>,
    /** The scrolling canvas element around `world`. */
    private scroller: HTMLElement,
    private world: HTMLElement,
    private emptyHint: HTMLElement,
    private inspector: HTMLElement,
    private onRestore: (nodeId: string) => void,
    /** Told when the view changes the zoom by itself (to fit a node), so the zoom menu can show it. */
    private onZoom: (zoom: number) => void = () => {},
  ) {
    world.addEventListener('pointerdown', (e) => this.pointerDown(e));
  }

  private toScreen(v: number): number {
    return toScreen(v, this.zoom);
  }

  /** The canvas's scroll, size and zoom. */
  state(): ViewState {
    return { scrollLeft: this.scroller.scrollLeft, scrollTop: this.scroller.scrollTop, width: this.scroller.clientWidth, height: this.scroller.clientHeight, zoom: this.zoom };
  }

  /** The part of the document in view, in document units. */
  visible(): Rect {
    return visibleRect(this.state());
  }

  /** Where a node can sit and be seen whole (label included), in document units. */
  usable(): Rect {
    return usableRect(this.state());
  }

  /** Changes the zoom keeping the middle of the view where it is. */
  setZoom(zoom: number): void {
    if (zoom === this.zoom) return;
    const scroll = scrollForZoom(this.state(), zoom);
    this.zoom = zoom;
    this.render();
    this.scroller.scrollTo({ left: scroll.scrollLeft, top: scroll.scrollTop, behavior: 'instant' });
  }

  /** Scrolls, and zooms out when it must (never in), until the node is wholly in view with its label. */
  reveal(nodeId: string): void {
    const node = this.doc.node(nodeId);
    if (!node) return;
    const next = revealRect(node, this.state());
    if (next.zoom !== this.zoom) {
      this.zoom = next.zoom;
      this.render();
      this.onZoom(next.zoom);
    }
    this.scroller.scrollTo({ left: next.scrollLeft, top: next.scrollTop, behavior: 'instant' });
  }

  render(): void {
    const { doc, world } = this;
    world.replaceChildren();
    let right = 0;
    let bottom = 0;
    for (const node of doc.nodes) {
      const box = el('div', 'node');
      box.dataset.nodeId = node.id;
      box.classList.toggle('selected', doc.selection.includes(node.id));
      Object.assign(box.style, {
        left: `${this.toScreen(node.x)}px`,
        top: `${this.toScreen(node.y)}px`,
        width: `${node.width * this.zoom}px`,
        height: `${node.height * this.zoom}px`,
      });
      let media: HTMLImageElement | HTMLVideoElement;
      if (node.clip) {
        // A video node plays its clip, muted and looping, like a video fill on Figma's canvas.
        const video = el('video');
        Object.assign(video, { src: node.clip.url, poster: node.bitmap.url, muted: true, loop: true, autoplay: true, playsInline: true });
        video.setAttribute('aria-label', node.name);
        media = video;
      } else {
        const img = el('img');
        img.src = node.bitmap.url;
        img.alt = node.name;
        media = img;
      }
      media.draggable = false;
      box.append(el('div', 'label', `${node.name} · ${node.width}×${node.height}${node.clip ? ' · video' : ''}`), media);
      if (node.original) box.append(el('span', 'badge', 'replaced fill'));
      if (doc.region?.nodeId === node.id) {
        const r = doc.region;
        const mark = el('div', 'region');
        Object.assign(mark.style, { left: `${r.x * this.zoom}px`, top: `${r.y * this.zoom}px`, width: `${r.width * this.zoom}px`, height: `${r.height * this.zoom}px` });
        box.append(mark);
      }
      world.append(box);
      right = Math.max(right, this.toScreen(node.x + node.width));
      bottom = Math.max(bottom, this.toScreen(node.y + node.height));
    }
    world.style.width = `${right + MARGIN}px`;
    world.style.height = `${bottom + MARGIN}px`;
    this.emptyHint.hidden = doc.nodes.length > 0;
    this.renderInspector();
  }

  private inspected(): DocNode<Bitmap, Clip> | undefined {
    const id = this.doc.region?.nodeId ?? this.doc.selection.at(-1);
    return id ? this.doc.node(id) : undefined;
  }

  private renderInspector(): void {
    const node = this.inspected();
    const box = this.inspector;
    box.replaceChildren();
    box.classList.toggle('muted', !node);
    if (!node) {
      box.textContent = 'Select a node to see how it was made.';
      return;
    }
    const dl = el('dl');
    const row = (k: string, v: string) => dl.append(el('dt', undefined, k), el('dd', undefined, v));
    row('Name', node.name);
    row('Id', node.id);
    row('Size', `${node.width}×${node.height}` + (node.bitmap.width !== node.width ? ` (fill ${node.bitmap.width}×${node.bitmap.height})` : ''));
    row('Position', `${node.x}, ${node.y}`);
    if (this.doc.region) row('Region', `${this.doc.region.width}×${this.doc.region.height} at ${this.doc.region.x}, ${this.doc.region.y}`);
    box.append(dl);
    const keys = Object.keys(node.pluginData);
    if (keys.length === 0) {
      box.append(el('p', 'muted', 'No pluginData: an original image, not a Frontier result.'));
    }
    for (const key of keys) {
      let text = node.pluginData[key];
      try {
        text = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // Not JSON: show it as stored.
      }
      const pre = el('pre', undefined, key === META_KEY ? text : `${key}: ${text}`);
      pre.dataset.key = key;
      box.append(pre);
    }
    if (node.original) {
      const restore = el('button', undefined, 'Restore original image');
      restore.addEventListener('click', () => this.onRestore(node.id));
      box.append(restore);
    }
  }

  private pointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    const box = (e.target as HTMLElement).closest<HTMLElement>('.node');
    if (!box) {
      if (this.doc.selection.length || this.doc.region) this.doc.select([]);
      return;
    }
    const node = this.doc.node(box.dataset.nodeId ?? '');
    if (!node) return;
    e.preventDefault();
    const rect = box.getBoundingClientRect();
    const startX = e.clientX;
    const startY = e.clientY;
    let rubber: HTMLElement | null = null;
    const clampX = (cx: number) => Math.max(0, Math.min(rect.width, cx - rect.left));
    const clampY = (cy: number) => Math.max(0, Math.min(rect.height, cy - rect.top));

    const move = (ev: PointerEvent) => {
      if (!rubber && Math.hypot(ev.clientX - startX, ev.clientY - startY) < DRAG_THRESHOLD) return;
      if (!rubber) {
        rubber = el('div', 'rubber');
        box.append(rubber);
      }
      const x0 = clampX(Math.min(startX, ev.clientX));
      const y0 = clampY(Math.min(startY, ev.clientY));
      Object.assign(rubber.style, {
        left: `${x0}px`,
        top: `${y0}px`,
        width: `${clampX(Math.max(startX, ev.clientX)) - x0}px`,
        height: `${clampY(Math.max(startY, ev.clientY)) - y0}px`,
      });
    };
    const up = (ev: PointerEvent) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      if (rubber) {
        const x0 = clampX(Math.min(startX, ev.clientX)) / this.zoom;
        const y0 = clampY(Math.min(startY, ev.clientY)) / this.zoom;
        const x1 = clampX(Math.max(startX, ev.clientX)) / this.zoom;
        const y1 = clampY(Math.max(startY, ev.clientY)) / this.zoom;
        rubber.remove();
        this.doc.selectRegion(node.id, x0, y0, x1 - x0, y1 - y0);
        return;
      }
      if (e.shiftKey) {
        const has = this.doc.selection.includes(node.id);
        this.doc.select(has ? this.doc.selection.filter((id) => id !== node.id) : [...this.doc.selection, node.id]);
      } else {
        this.doc.select([node.id]);
      }
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  }
}
