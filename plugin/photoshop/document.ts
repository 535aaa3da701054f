// What the panel can read from the active document, and how: the active layer(s), or the merged image of the visible
// layers (the readMerged setting), cut to the marquee selection when there is one; the marquee is also the item's
// inpainting mask. The same plan serves the selection summary and read-image, so the size the UI is promised is the
// size it gets. Node ids name the document, the layer (or "merged") and the region, so a later read reads what was shown.
import { MAX_IMAGE_EDGE, type SelectedItem, type SelectionSummary } from '../messages.ts';
import type { ResultMeta } from '../../worker/job.ts';
import { activeDocument, type PsApp, type PsBounds, type PsDocument, type PsLayer } from './api.ts';

export interface NodeRef {
  docId: number;
  /** The layer read, or null for the merged image of all visible layers. */
  layerId: number | null;
  /** The marquee region (document pixels) the item was cut to, or null for the whole layer. */
  region: PsBounds | null;
}

export interface ReadPlan {
  docId: number;
  /** null: the merged image of all visible layers (getPixels without layerID). */
  layerId: number | null;
  /** Document pixels to read. */
  bounds: PsBounds;
  /** Size delivered: the bounds' size, or smaller when an edge passes the host limit. */
  width: number;
  height: number;
}

export type LayerReading = { item: SelectedItem; plan: ReadPlan } | { problem: string };

export const NO_DOCUMENT_PROBLEM = 'Open a document in Photoshop, then select a layer.';
export const NO_LAYER_PROBLEM = 'Select a layer in the Layers panel, then choose what to do with it.';
/** Item name when the readMerged setting is on. */
export const MERGED_NAME = 'Merged (visible layers)';
/** SelectedItem.mask label for Photoshop's marquee. */
export const MARQUEE_MASK_LABEL = 'Marquee selection';

const MODE_NAMES: Record<string, string> = {
  bitmapMode: 'Bitmap', CMYKColorMode: 'CMYK', duotoneMode: 'Duotone', grayscaleMode: 'Grayscale',
  indexedColorMode: 'Indexed Color', labColorMode: 'Lab', multichannelMode: 'Multichannel',
};
const DEPTH_NAMES: Record<string, string> = { bitDepth1: '1 bit', bitDepth16: '16 bits', bitDepth32: '32 bits' };
/** Depths read as 8-bit (getPixels componentSize 8) and written back at the document's own depth. */
const DEPTHS: Record<string, 8 | 16> = { bitDepth8: 8, bitDepth16: 16 };
/** Layer kinds whose rendered pixels getPixels returns. */
const PIXEL_KINDS = new Set(['pixel', 'smartObject', 'text', 'solidColor', 'gradientFill', 'pattern']);

export function nodeIdOf(ref: NodeRef): string {
  const r = ref.region;
  return `ps:${ref.docId}:${ref.layerId ?? 'merged'}${r ? `@${r.left},${r.top},${r.right},${r.bottom}` : ''}`;
}

export function parseNodeId(id: string): NodeRef | null {
  const m = /^ps:(\d+):(\d+|merged)(?:@(-?\d+),(-?\d+),(-?\d+),(-?\d+))?$/.exec(id);
  if (!m) return null;
  const region = m[3] !== undefined ? { left: +m[3], top: +m[4], right: +m[5], bottom: +m[6] } : null;
  return { docId: +m[1], layerId: m[2] === 'merged' ? null : +m[2], region };
}

/** Why Frontier cannot work on `doc` (not RGB at 8 or 16 bits per channel), or null when it can. */
export function documentProblem(doc: PsDocument): string | null {
  const mode = MODE_NAMES[doc.mode];
  if (doc.mode !== 'RGBColorMode') {
    return `“${doc.title}” is in ${mode ?? doc.mode} mode. Frontier works on RGB documents (8 or 16 bits per channel): choose Image ▸ Mode ▸ RGB Color (or work on a copy), then select the layer again.`;
  }
  if (!documentDepth(doc)) {
    const depth = DEPTH_NAMES[doc.bitsPerChannel] ?? doc.bitsPerChannel;
    return `“${doc.title}” has ${depth} per channel. Frontier reads and writes RGB at 8 or 16 bits per channel: choose Image ▸ Mode ▸ 16 Bits/Channel (or work on a copy), then select the layer again.`;
  }
  return null;
}

/** Bits per channel of a document Frontier can write (8 or 16), or null. */
export function documentDepth(doc: PsDocument): 8 | 16 | null {
  return DEPTHS[doc.bitsPerChannel] ?? null;
}

export function documentBounds(doc: PsDocument): PsBounds {
  return { left: 0, top: 0, right: doc.width, bottom: doc.height };
}

/** The marquee selection's bounds in whole pixels, or null when there is none (or the build cannot say). */
export function marqueeBounds(doc: PsDocument): PsBounds | null {
  let bounds: PsBounds | null;
  try {
    bounds = doc.selection?.bounds ?? null;
  } catch {
    return null;
  }
  if (!bounds) return null;
  const whole = roundOut(bounds);
  return whole.right > whole.left && whole.bottom > whole.top ? whole : null;
}

function roundOut(b: PsBounds): PsBounds {
  return { left: Math.floor(b.left), top: Math.floor(b.top), right: Math.ceil(b.right), bottom: Math.ceil(b.bottom) };
}

export function intersect(a: PsBounds, b: PsBounds): PsBounds | null {
  const r = { left: Math.max(a.left, b.left), top: Math.max(a.top, b.top), right: Math.min(a.right, b.right), bottom: Math.min(a.bottom, b.bottom) };
  return r.right > r.left && r.bottom > r.top ? r : null;
}

/** Delivered size for `bounds`: itself, or scaled down to fit MAX_IMAGE_EDGE. */
export function deliveredSize(bounds: PsBounds): { width: number; height: number } {
  const w = bounds.right - bounds.left;
  const h = bounds.bottom - bounds.top;
  if (w <= MAX_IMAGE_EDGE && h <= MAX_IMAGE_EDGE) return { width: w, height: h };
  const scale = MAX_IMAGE_EDGE / Math.max(w, h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/**
 * Decide how `layer` would be read (cut to `region` when given), or say why it cannot be. `exact` reads `region` as
 * is: a read-image for an item the UI was shown gets that item's size even if the layer lost pixels since.
 */
export function readingFor(doc: PsDocument, layer: PsLayer, region: PsBounds | null, meta?: ResultMeta, exact = false): LayerReading {
  if (layer.kind === 'group') return { problem: `“${layer.name}” is a group: select a layer inside it. Frontier reads one layer's pixels.` };
  if (!PIXEL_KINDS.has(layer.kind)) {
    return { problem: `“${layer.name}” is a ${layer.kind} layer and has no pixels of its own. Select a pixel layer.` };
  }
  const layerBounds = roundOut(layer.boundsNoEffects);
  if (layerBounds.right <= layerBounds.left || layerBounds.bottom <= layerBounds.top) {
    return { problem: `“${layer.name}” is empty: paint on it, or select a layer with pixels.` };
  }
  const bounds = region ? (exact ? region : intersect(layerBounds, region)) : layerBounds;
  if (!bounds) return { problem: `The selection does not overlap the pixels of “${layer.name}”. Move the selection, or select another layer.` };
  const size = deliveredSize(bounds);
  const item: SelectedItem = {
    nodeId: nodeIdOf({ docId: doc.id, layerId: layer.id, region: region ? bounds : null }),
    name: region ? `${layer.name} (selection)` : layer.name,
    width: size.width,
    height: size.height,
    kind: region ? 'region' : 'layer',
    ...(meta ? { meta } : {}),
    ...(region ? { mask: { label: MARQUEE_MASK_LABEL } } : {}),
  };
  return { item, plan: { docId: doc.id, layerId: layer.id, bounds, ...size } };
}

/** Like readingFor, for the merged image of all visible layers (the whole canvas, or the marquee on it). */
export function mergedReading(doc: PsDocument, region: PsBounds | null, exact = false): LayerReading {
  const canvas = documentBounds(doc);
  const bounds = region ? (exact ? region : intersect(canvas, region)) : canvas;
  if (!bounds) return { problem: 'The selection lies outside the canvas. Select an area inside the document.' };
  const size = deliveredSize(bounds);
  const item: SelectedItem = {
    nodeId: nodeIdOf({ docId: doc.id, layerId: null, region: region ? bounds : null }),
    name: region ? 'Merged (visible layers, selection)' : MERGED_NAME,
    width: size.width,
    height: size.height,
    kind: region ? 'region' : 'layer',
    ...(region ? { mask: { label: MARQUEE_MASK_LABEL } } : {}),
  };
  return { item, plan: { docId: doc.id, layerId: null, bounds, ...size } };
}

/**
 * What an inpainting read (read-image withMask) covers: the whole layer clipped to the canvas, or the whole merged
 * image, never cut to the marquee (the marquee becomes the mask instead).
 */
export function wholePlan(doc: PsDocument, layer: PsLayer | null): ReadPlan | { problem: string } {
  if (!layer) return (mergedReading(doc, null) as { plan: ReadPlan }).plan;
  const reading = readingFor(doc, layer, null);
  if ('problem' in reading) return reading;
  const bounds = intersect(reading.plan.bounds, documentBounds(doc));
  if (!bounds) return { problem: `“${layer.name}” lies outside the canvas. Move it onto the canvas, or select another layer.` };
  return { docId: doc.id, layerId: layer.id, bounds, ...deliveredSize(bounds) };
}

export interface SummaryOptions {
  /** Settings.readMerged: one item for the merged image of all visible layers instead of the active layers. */
  readMerged?: boolean;
}

/** The selection as the UI sees it: usable items, or the reason nothing is usable. */
export async function summarizeSelection(
  app: PsApp,
  metaFor: (doc: PsDocument, layerId: number) => Promise<ResultMeta | undefined>,
  options: SummaryOptions = {},
): Promise<SelectionSummary> {
  const doc = activeDocument(app);
  if (!doc) return { items: [], problem: NO_DOCUMENT_PROBLEM };
  const docProblem = documentProblem(doc);
  if (docProblem) return { items: [], problem: docProblem };
  const region = marqueeBounds(doc);
  if (options.readMerged) {
    const reading = mergedReading(doc, region);
    return 'item' in reading ? { items: [reading.item] } : { items: [], problem: reading.problem };
  }
  const layers: PsLayer[] = [];
  for (let i = 0; i < doc.activeLayers.length; i++) layers.push(doc.activeLayers[i]);
  if (layers.length === 0) return { items: [], problem: NO_LAYER_PROBLEM };
  const items: SelectedItem[] = [];
  const problems: string[] = [];
  for (const layer of layers) {
    const reading = readingFor(doc, layer, region, await metaFor(doc, layer.id));
    if ('item' in reading) items.push(reading.item);
    else problems.push(reading.problem);
  }
  if (items.length > 0) return { items };
  return { items, problem: problems.length === 1 ? problems[0] : `None of the ${problems.length} selected layers can be used. ${problems[0]}` };
}
