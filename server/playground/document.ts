// The playground's tiny document: image nodes on a canvas, a selection (nodes or one rectangular region), and an
// undo history where every user-visible action is one step. Pure data: the bitmap type is whatever the page uses.
import type { SelectedItem, SelectionSummary } from '../../plugin/messages.ts';
import { parseResultMeta } from '../../worker/job.ts';

export interface Sized {
  width: number;
  height: number;
}

export interface DocNode<B extends Sized, C = unknown> {
  id: string;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  bitmap: B;
  /** The bitmap before a 'replace-fill' result covered it; restorable. */
  original?: B;
  /** pluginData as it was before the first 'replace-fill', restored with the original. */
  originalPluginData?: Record<string, string>;
  /** Like Figma's setPluginData: string values, here how a result was made. */
  pluginData: Record<string, string>;
  /** Set on a video node: its clip (the bitmap is then its first frame). */
  clip?: C;
}

/** A rectangle of a node's pixels, selected by dragging; read-image returns exactly this crop. */
export interface Region {
  id: string;
  nodeId: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Action {
  label: string;
  apply(): void;
  revert(): void;
}

/** Gap between a source node and a result placed beside it, in canvas pixels. */
export const PLACE_GAP = 60;
export const EMPTY_CANVAS_PROBLEM = 'The canvas is empty: open an image or pick a sample in the top bar.';
export const NOTHING_SELECTED_PROBLEM = 'Nothing selected: click an image on the canvas, or drag across one to select a region.';

function overlaps(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

export class PlaygroundDocument<B extends Sized, C = unknown> {
  nodes: DocNode<B, C>[] = [];
  selection: string[] = [];
  region: Region | null = null;
  private undoStack: Action[] = [];
  private redoStack: Action[] = [];
  private nextId = 1;
  private listeners = new Set<() => void>();

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private newId(prefix: string): string {
    return `${prefix}${this.nextId++}`;
  }

  node(id: string): DocNode<B, C> | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }
  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }
  get undoLabel(): string | undefined {
    return this.undoStack.at(-1)?.label;
  }
  get redoLabel(): string | undefined {
    return this.redoStack.at(-1)?.label;
  }

  private perform(action: Action): void {
    action.apply();
    this.undoStack.push(action);
    this.redoStack = [];
    this.changed();
  }

  undo(): string | undefined {
    const action = this.undoStack.pop();
    if (!action) return undefined;
    action.revert();
    this.redoStack.push(action);
    this.pruneSelection();
    this.changed();
    return action.label;
  }

  redo(): string | undefined {
    const action = this.redoStack.pop();
    if (!action) return undefined;
    action.apply();
    this.undoStack.push(action);
    this.pruneSelection();
    this.changed();
    return action.label;
  }

  /** Drops selected ids whose nodes an undo/redo removed. */
  private pruneSelection(): void {
    this.selection = this.selection.filter((id) => this.node(id));
    if (this.region && !this.node(this.region.nodeId)) this.region = null;
  }

  /** First free spot to the right of `source` on its row where a width×height box touches no other node. */
  freeSpotBeside(source: { x: number; y: number; width: number; height: number }, width: number, height: number): { x: number; y: number } {
    const box = { x: source.x + source.width + PLACE_GAP, y: source.y, width, height };
    for (;;) {
      const hit = this.nodes.find((n) => overlaps(box, n));
      if (!hit) return { x: box.x, y: box.y };
      box.x = hit.x + hit.width + PLACE_GAP;
    }
  }

  /**
   * A spot inside `area` where a width×height box keeps PLACE_GAP from every node: rows from the top of the area (its
   * top, then under each node), each scanned left to right; null when none is free. Never left of or above 0.
   */
  freeSpotIn(area: { x: number; y: number; width: number; height: number }, width: number, height: number): { x: number; y: number } | null {
    const left = Math.max(0, Math.ceil(area.x));
    const top = Math.max(0, Math.ceil(area.y));
    const right = area.x + area.width;
    const bottom = area.y + area.height;
    const rows = [...new Set([top, ...this.nodes.map((n) => n.y + n.height + PLACE_GAP)])].filter((y) => y >= top && y + height <= bottom).sort((a, b) => a - b);
    for (const y of rows) {
      for (let x = left; x + width <= right; ) {
        const room = { x: x - PLACE_GAP, y: y - PLACE_GAP, width: width + 2 * PLACE_GAP, height: height + 2 * PLACE_GAP };
        const hits = this.nodes.filter((n) => overlaps(room, n));
        if (hits.length === 0) return { x, y };
        x = Math.max(...hits.map((n) => n.x + n.width)) + PLACE_GAP;
      }
    }
    return null;
  }

  /**
   * Adds an opened image (or, with `clip`, a video whose first frame is `bitmap`), one undo step: at a free spot inside
   * `area` (the part of the canvas in view) when one is given and has room, else on a new row below the existing
   * nodes. With `select`, the step selects it too (and its undo gives back the selection it replaced).
   */
  addImage(name: string, bitmap: B, clip?: C, opts: { area?: { x: number; y: number; width: number; height: number }; select?: boolean } = {}): DocNode<B, C> {
    const spot = (opts.area && this.freeSpotIn(opts.area, bitmap.width, bitmap.height)) ?? { x: 0, y: this.bottomRow() };
    return this.addNode(`Open ${name}`, name, spot, bitmap, {}, clip, opts.select ?? false).node;
  }

  /** Places a result as a new node to the right of the source, overlapping nothing (one undo step). */
  placeBeside(sourceId: string, name: string, bitmap: B, pluginData: Record<string, string>, clip?: C): DocNode<B, C> {
    const { node: source } = this.resolve(sourceId);
    return this.addNode(`Place ${name}`, name, this.freeSpotBeside(source, bitmap.width, bitmap.height), bitmap, pluginData, clip).node;
  }

  /**
   * Places a result that has no source (a generated image): on a new row below everything, or — when the previous
   * action placed one too — right of it on the same row, so a batch lands side by side (one undo step each).
   */
  placeNew(name: string, bitmap: B, pluginData: Record<string, string>): DocNode<B, C> {
    const last = this.undoStack.at(-1);
    const previous = last && this.lastNew?.action === last ? this.node(this.lastNew.id) : undefined;
    const rowY = previous?.y ?? this.bottomRow();
    const spot = this.freeSpotBeside({ x: -PLACE_GAP, y: rowY, width: 0, height: bitmap.height }, bitmap.width, bitmap.height);
    const { node, action } = this.addNode(`Place ${name}`, name, spot, bitmap, pluginData);
    this.lastNew = { action, id: node.id };
    return node;
  }
  private lastNew: { action: Action; id: string } | null = null;

  /**
   * Places a result that has no source and is not one of a batch (a clip chosen from a file): at a free spot inside
   * `area` (the canvas in view) when it has room, else on a new row below everything; selected, one undo step.
   */
  placeInView(name: string, bitmap: B, pluginData: Record<string, string>, clip?: C, area?: { x: number; y: number; width: number; height: number }): DocNode<B, C> {
    const spot = (area && this.freeSpotIn(area, bitmap.width, bitmap.height)) ?? { x: 0, y: this.bottomRow() };
    return this.addNode(`Place ${name}`, name, spot, bitmap, pluginData, clip).node;
  }

  /** The y of a new row below every node. */
  private bottomRow(): number {
    return this.nodes.reduce((y, n) => Math.max(y, n.y + n.height + PLACE_GAP), 0);
  }

  /**
   * Adds a node at `at` as one undoable action that selects it (unless `select` is false), as Figma's bridge selects
   * what it places. Undo removes it and, while it is still the selection, gives back the selection it replaced (the
   * source, or the dragged region, ready for another run).
   */
  private addNode(label: string, name: string, at: { x: number; y: number }, bitmap: B, pluginData: Record<string, string>, clip?: C, select = true): { node: DocNode<B, C>; action: Action } {
    const node: DocNode<B, C> = { id: this.newId('n'), name, x: at.x, y: at.y, width: bitmap.width, height: bitmap.height, bitmap, pluginData: { ...pluginData }, ...(clip ? { clip } : {}) };
    const before = { selection: this.selection, region: this.region };
    const action: Action = {
      label,
      apply: () => {
        this.nodes.push(node);
        if (!select) return;
        this.selection = [node.id];
        this.region = null;
      },
      revert: () => {
        // Still selected as placing left it: the selection goes back to what it was; else the user's stays (less the node).
        const untouched = this.selection.length === 1 && this.selection[0] === node.id && !this.region;
        this.nodes = this.nodes.filter((n) => n !== node);
        if (!select || !untouched) return;
        this.selection = before.selection;
        this.region = before.region;
      },
    };
    this.perform(action);
    return { node, action };
  }

  /** Cell `index` of a `columns`-wide grid whose first cell is `anchorId`; a taken cell falls back to placeNew. */
  placeInGrid(anchorId: string, index: number, columns: number, name: string, bitmap: B, pluginData: Record<string, string>): DocNode<B, C> {
    const anchor = this.requireNode(anchorId);
    const cell = {
      x: anchor.x + (index % columns) * (bitmap.width + PLACE_GAP),
      y: anchor.y + Math.floor(index / columns) * (bitmap.height + PLACE_GAP),
      width: bitmap.width,
      height: bitmap.height,
    };
    if (this.nodes.some((n) => overlaps(cell, n))) return this.placeNew(name, bitmap, pluginData);
    return this.addNode(`Place ${name}`, name, cell, bitmap, pluginData).node;
  }

  /** Shows `bitmap` on the node instead of its image, keeping the first original restorable (one undo step). */
  replaceFill(nodeId: string, bitmap: B, pluginData: Record<string, string>): DocNode<B, C> {
    const node = this.requireNode(nodeId);
    const before = { bitmap: node.bitmap, original: node.original, originalPluginData: node.originalPluginData, pluginData: node.pluginData };
    const after = {
      bitmap,
      original: node.original ?? node.bitmap,
      originalPluginData: node.original ? node.originalPluginData : node.pluginData,
      pluginData: { ...node.pluginData, ...pluginData },
    };
    this.perform({
      label: `Replace fill of ${node.name}`,
      apply: () => Object.assign(node, after),
      revert: () => Object.assign(node, before),
    });
    return node;
  }

  /** Puts the original bitmap back after a 'replace-fill' (one undo step). */
  restoreOriginal(nodeId: string): void {
    const node = this.requireNode(nodeId);
    if (!node.original) throw new Error(`${node.name} has no replaced fill to restore.`);
    const before = { bitmap: node.bitmap, original: node.original, originalPluginData: node.originalPluginData, pluginData: node.pluginData };
    const after = { bitmap: node.original, original: undefined, originalPluginData: undefined, pluginData: node.originalPluginData ?? {} };
    this.perform({
      label: `Restore original of ${node.name}`,
      apply: () => Object.assign(node, after),
      revert: () => Object.assign(node, before),
    });
  }

  select(ids: string[]): void {
    for (const id of ids) this.requireNode(id);
    this.selection = [...new Set(ids)];
    this.region = null;
    this.changed();
  }

  /** Selects a rectangle of a node, clamped to its pixels; replaces any other selection. */
  selectRegion(nodeId: string, x: number, y: number, width: number, height: number): Region {
    const node = this.requireNode(nodeId);
    if (node.clip) throw new Error(`${node.name} is a video: regions are selected on images only.`);
    const x0 = Math.max(0, Math.min(node.width - 1, Math.round(x)));
    const y0 = Math.max(0, Math.min(node.height - 1, Math.round(y)));
    const x1 = Math.max(x0 + 1, Math.min(node.width, Math.round(x + width)));
    const y1 = Math.max(y0 + 1, Math.min(node.height, Math.round(y + height)));
    this.region = { id: this.newId('r'), nodeId, x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    this.selection = [];
    this.changed();
    return this.region;
  }

  private requireNode(id: string): DocNode<B, C> {
    const node = this.node(id);
    if (!node) throw new Error(`No node ${id} on the canvas (it may have been undone).`);
    return node;
  }

  /** Finds what an item id (node or region) refers to. Throws with a message for unknown ids. */
  resolve(itemId: string): { node: DocNode<B, C>; region?: Region } {
    if (this.region && this.region.id === itemId) return { node: this.requireNode(this.region.nodeId), region: this.region };
    const node = this.node(itemId);
    if (!node) throw new Error(`No image or region with id ${itemId}: select it again on the canvas.`);
    return { node };
  }

  selectionSummary(): SelectionSummary {
    const items: SelectedItem[] = [];
    if (this.region) {
      const node = this.requireNode(this.region.nodeId);
      const r = this.region;
      // Like Photoshop's marquee: the region is what most tasks read, and the mask inpainting fills.
      items.push({ nodeId: r.id, name: `${node.name} (region ${r.width}×${r.height} at ${r.x},${r.y})`, width: r.width, height: r.height, kind: 'region', mask: { label: 'Dragged region' } });
    }
    for (const id of this.selection) {
      const node = this.requireNode(id);
      const meta = parseResultMeta(node.pluginData.frontier);
      const base = { nodeId: node.id, name: node.name, width: node.width, height: node.height, ...(meta ? { meta } : {}) };
      items.push(node.clip ? { ...base, kind: 'video', video: true } : { ...base, kind: 'image' });
    }
    if (items.length > 0) return { items };
    return { items, problem: this.nodes.length === 0 ? EMPTY_CANVAS_PROBLEM : NOTHING_SELECTED_PROBLEM };
  }
}
