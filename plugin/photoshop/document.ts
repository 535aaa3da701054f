// What the panel can read from the active document, and how: the active layer(s), cut to the marquee selection
// when there is one. The same plan serves the selection summary and read-image, so the size the UI is promised
// is the size it gets. Node ids name the document, the layer and the region, so a later read reads what was shown.
import { MAX_IMAGE_EDGE, type SelectedItem, type SelectionSummary } from '../messages.ts';
import type { ResultMeta } from '../../worker/job.ts';
import { activeDocument, type PsApp, type PsBounds, type PsDocument, type PsLayer } from './api.ts';

export interface NodeRef {
  docId: number;
  layerId: number;
  /** The marquee region (document pixels) the item was cut to, or null for the whole layer. */
  region: PsBounds | null;
}

export interface ReadPlan {
  docId: number;
  layerId: number;
  /** Document pixels to read. */
  bounds: PsBounds;
  /** Size delivered: the bounds' size, or smaller when an edge passes the host limit. */
  width: number;
  height: number;
}

export type LayerReading = { item: SelectedItem; plan: ReadPlan } | { problem: string };

export const NO_DOCUMENT_PROBLEM = 'Open a document in Photoshop, then select a layer.';
export const NO_LAYER_PROBLEM = 'Select a layer in the Layers panel, then choose what to do with it.';

const MODE_NAMES: Record<string, string> = {
  bitmapMode: 'Bitmap', CMYKColorMode: 'CMYK', duotoneMode: 'Duotone', grayscaleMode: 'Grayscale',
  indexedColorMode: 'Indexed Color', labColorMode: 'Lab', multichannelMode: 'Multichannel',
};
const DEPTH_NAMES: Record<string, string> = { bitDepth1: '1 bit', bitDepth16: '16 bits', bitDepth32: '32 bits' };
/** Layer kinds whose rendered pixels getPixels returns. */
const PIXEL_KINDS = new Set(['pixel', 'smartObject', 'text', 'solidColor', 'gradientFill', 'pattern']);

export function nodeIdOf(ref: NodeRef): string {
  const r = ref.region;
  return `ps:${ref.docId}:${ref.layerId}${r ? `@${r.left},${r.top},${r.right},${r.bottom}` : ''}`;
}

export function parseNodeId(id: string): NodeRef | null {
  const m = /^ps:(\d+):(\d+)(?:@(-?\d+),(-?\d+),(-?\d+),(-?\d+))?$/.exec(id);
  if (!m) return null;
  const region = m[3] !== undefined ? { left: +m[3], top: +m[4], right: +m[5], bottom: +m[6] } : null;
  return { docId: +m[1], layerId: +m[2], region };
}

/** Why Frontier cannot work on `doc` (not 8-bit RGB), or null when it can. */
export function documentProblem(doc: PsDocument): string | null {
  const mode = MODE_NAMES[doc.mode];
  if (doc.mode !== 'RGBColorMode') {
    return `“${doc.title}” is in ${mode ?? doc.mode} mode. Frontier works on 8-bit RGB documents: choose Image ▸ Mode ▸ RGB Color (or work on a copy), then select the layer again.`;
  }
  if (doc.bitsPerChannel !== 'bitDepth8') {
    const depth = DEPTH_NAMES[doc.bitsPerChannel] ?? doc.bitsPerChannel;
    return `“${doc.title}” has ${depth} per channel. Frontier reads and writes 8-bit RGB: choose Image ▸ Mode ▸ 8 Bits/Channel (or work on a copy), then select the layer again.`;
  }
  return null;
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
  };
  return { item, plan: { docId: doc.id, layerId: layer.id, bounds, ...size } };
}

/** The selection as the UI sees it: usable items, or the reason nothing is usable. */
export async function summarizeSelection(app: PsApp, metaFor: (doc: PsDocument, layerId: number) => Promise<ResultMeta | undefined>): Promise<SelectionSummary> {
  const doc = activeDocument(app);
  if (!doc) return { items: [], problem: NO_DOCUMENT_PROBLEM };
  const docProblem = documentProblem(doc);
  if (docProblem) return { items: [], problem: docProblem };
  const layers: PsLayer[] = [];
  for (let i = 0; i < doc.activeLayers.length; i++) layers.push(doc.activeLayers[i]);
  if (layers.length === 0) return { items: [], problem: NO_LAYER_PROBLEM };
  const region = marqueeBounds(doc);
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
