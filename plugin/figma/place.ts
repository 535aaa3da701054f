// place-result: put a finished image into the document without destroying anything, as one undo step.
// Everything that can fail is checked before the first document change, and all changes happen
// synchronously after the last await, so no other message's changes interleave with this undo step.
import { MAX_IMAGE_EDGE, resultPng, type Message, type UiToHost } from '../messages.ts';
import type { FigmaApi } from './api.ts';
import { errorMessage, HostRequestError } from './api.ts';
import { findNode, PLUGIN_DATA_KEY, topImagePaint } from './nodes.ts';

type PlaceMessage = Message<UiToHost, 'place-result'>;

export { PLUGIN_DATA_KEY };
/** Figma's limit on one plugin data entry. */
export const MAX_PLUGIN_DATA_BYTES = 100_000;
/** Canvas units between a source and the result placed beside it. */
export const RESULT_GAP = 40;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** UTF-8 size of a string (the main thread has no TextEncoder to rely on). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

export function tooLargeMessage(width: number, height: number): string {
  return `The result is ${width}×${height} px, but Figma places images up to ${MAX_IMAGE_EDGE} px per edge. Choose a smaller scale in Frontier and run again.`;
}

function checkPlaceable(msg: PlaceMessage): string {
  const { width, height } = msg;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new HostRequestError(`The result size ${width}×${height} is not a whole number of pixels. Run the task again.`);
  }
  if (width > MAX_IMAGE_EDGE || height > MAX_IMAGE_EDGE) throw new HostRequestError(tooLargeMessage(width, height));
  if (msg.mode !== 'beside' && msg.mode !== 'replace-fill') {
    throw new HostRequestError(`Unknown place mode "${String(msg.mode)}". Choose "beside" or "replace-fill" in the settings.`);
  }
  const metaJson = JSON.stringify(msg.meta);
  if (utf8Length(metaJson) > MAX_PLUGIN_DATA_BYTES) {
    throw new HostRequestError('The record of how this result was made is over Figma\'s 100 kB limit. Use fewer or shorter parameters.');
  }
  return metaJson;
}

function createImage(figma: FigmaApi, png: Uint8Array): Image {
  try {
    return figma.createImage(png);
  } catch (err) {
    throw new HostRequestError(`Figma refused the result image (${errorMessage(err)}). Run the task again; if it repeats, choose a smaller scale.`);
  }
}

function boxesOverlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * Where a result may go: the source's parent unless adding a child there would reflow an auto-layout,
 * clip the result away, or edit a component (and every instance of it); then the nearest ancestor that can.
 */
export function containerFor(source: SceneNode): BaseNode & ChildrenMixin {
  let node = source.parent;
  while (node) {
    if (node.type === 'PAGE' || node.type === 'SECTION' || node.type === 'GROUP') return node;
    if (node.type === 'FRAME' && node.layoutMode === 'NONE' && !node.clipsContent) return node;
    node = node.parent;
  }
  throw new HostRequestError(`"${source.name}" is not on a page any more. Select it again and retry.`);
}

export function pageOf(node: BaseNode): PageNode | null {
  let current: BaseNode | null = node;
  while (current && current.type !== 'PAGE') current = current.parent;
  return current;
}

/** Page coordinates → the coordinates x/y are expressed in for a child of `container`. */
function toLocal(container: BaseNode, x: number, y: number): { x: number; y: number } {
  // Children of groups and boolean operations are positioned relative to the group's own container.
  let origin: BaseNode | null = container;
  while (origin && (origin.type === 'GROUP' || origin.type === 'BOOLEAN_OPERATION')) origin = origin.parent;
  if (!origin || origin.type === 'PAGE' || !('absoluteTransform' in origin)) return { x, y };
  const [[a, b, tx], [c, d, ty]] = origin.absoluteTransform;
  const det = a * d - b * c;
  const dx = x - tx;
  const dy = y - ty;
  return { x: (d * dx - b * dy) / det, y: (-c * dx + a * dy) / det };
}

/** Right of the source, stepping further right past anything already there (earlier results included). */
function besidePosition(container: BaseNode & ChildrenMixin, sourceBox: Box, width: number, height: number): Box {
  const candidate: Box = { x: sourceBox.x + sourceBox.width + RESULT_GAP, y: sourceBox.y, width, height };
  const siblings = container.children.map((child) => child.absoluteBoundingBox).filter((box): box is Rect => box !== null);
  for (let step = 0; step <= siblings.length; step++) {
    const blocking = siblings.filter((box) => boxesOverlap(candidate, box));
    if (blocking.length === 0) break;
    candidate.x = Math.max(...blocking.map((box) => box.x + box.width)) + RESULT_GAP;
  }
  return candidate;
}

/** A new rectangle right of `source` (or mid-view without one) showing `paint`, selected and scrolled into view. */
export function placeBeside(figma: FigmaApi, source: SceneNode | null, msg: { width: number; height: number; name: string }, paint: Paint, metaJson: string): SceneNode {
  const container = source ? containerFor(source) : figma.currentPage;
  const sourceBox: Box = source?.absoluteBoundingBox ?? {
    x: figma.viewport.center.x - msg.width / 2 - RESULT_GAP - msg.width,
    y: figma.viewport.center.y - msg.height / 2,
    width: msg.width,
    height: msg.height,
  };
  const target = besidePosition(container, sourceBox, msg.width, msg.height);
  const rect = addResultRect(figma, container, target, msg, paint, metaJson);
  if (pageOf(rect) === figma.currentPage) figma.viewport.scrollAndZoomIntoView([rect]);
  return rect;
}

/** A new rectangle in `container` at page position `at`, showing `paint`, with its meta; selected. Nothing is left on failure. */
function addResultRect(figma: FigmaApi, container: BaseNode & ChildrenMixin, at: { x: number; y: number }, msg: { width: number; height: number; name: string }, paint: Paint, metaJson: string): RectangleNode {
  const rect = figma.createRectangle();
  try {
    container.appendChild(rect);
    rect.name = msg.name;
    rect.resize(msg.width, msg.height);
    const local = toLocal(container, at.x, at.y);
    rect.x = local.x;
    rect.y = local.y;
    rect.fills = [paint];
    rect.setPluginData(PLUGIN_DATA_KEY, metaJson);
  } catch (err) {
    rect.remove();
    throw err;
  }
  const page = pageOf(rect);
  if (page) page.selection = [rect];
  return rect;
}

/**
 * Cell `index` of a grid whose first cell is `anchor` (same-size images, RESULT_GAP apart), in the anchor's container.
 * A cell that would cover another layer falls back to the first free spot beside the anchor's row.
 */
function placeInGrid(figma: FigmaApi, anchor: SceneNode, grid: { index: number; columns: number }, msg: { width: number; height: number; name: string }, paint: Paint, metaJson: string): SceneNode {
  const box = anchor.absoluteBoundingBox;
  const container = anchor.parent && 'appendChild' in anchor.parent ? (anchor.parent as BaseNode & ChildrenMixin) : containerFor(anchor);
  if (!box || !Number.isInteger(grid.index) || !Number.isInteger(grid.columns) || grid.index < 1 || grid.columns < 1) return placeBeside(figma, anchor, msg, paint, metaJson);
  const column = grid.index % grid.columns;
  const row = Math.floor(grid.index / grid.columns);
  const cell: Box = { x: box.x + column * (msg.width + RESULT_GAP), y: box.y + row * (msg.height + RESULT_GAP), width: msg.width, height: msg.height };
  const taken = container.children.some((child) => child.absoluteBoundingBox && boxesOverlap(cell, child.absoluteBoundingBox));
  if (taken) return placeBeside(figma, anchor, msg, paint, metaJson);
  return addResultRect(figma, container, cell, msg, paint, metaJson);
}

/** Tiled images repeat at their pixel size, so a larger result needs a smaller scaling factor to look the same. */
async function newImagePaint(figma: FigmaApi, original: ImagePaint | null, image: Image, width: number): Promise<ImagePaint> {
  if (!original) return { type: 'IMAGE', imageHash: image.hash, scaleMode: 'FILL' };
  const paint: ImagePaint = { ...original, imageHash: image.hash, visible: true };
  if (original.scaleMode !== 'TILE' || !original.imageHash) return paint;
  const originalImage = figma.getImageByHash(original.imageHash);
  if (!originalImage) return paint;
  const { width: originalWidth } = await originalImage.getSizeAsync();
  return { ...paint, scalingFactor: ((original.scalingFactor ?? 1) * originalWidth) / width };
}

async function replaceFill(figma: FigmaApi, node: BaseNode, msg: PlaceMessage, image: Image, metaJson: string): Promise<SceneNode> {
  if (!('fills' in node) || !Array.isArray(node.fills)) {
    throw new HostRequestError(`"${node.name}" has no fill to replace (it is a ${node.type.toLowerCase()}). Use "Place beside" instead.`);
  }
  const target = node as SceneNode & MinimalFillsMixin;
  const originalFills = target.fills as ReadonlyArray<Paint>;
  const paint = await newImagePaint(figma, topImagePaint(target), image, msg.width);
  // Earlier image paints stay in the list, hidden, so the original can be brought back from the fill panel.
  const hidden = originalFills.map((p) => (p.type === 'IMAGE' && p.visible !== false ? { ...p, visible: false } : p));
  try {
    target.fills = [...hidden, paint];
    target.setPluginData(PLUGIN_DATA_KEY, metaJson);
  } catch (err) {
    target.fills = originalFills;
    throw err;
  }
  return target;
}

/** The source node, or null when it was deleted meanwhile: the result must not be lost, it goes mid-view. */
export async function sourceIfPresent(figma: FigmaApi, nodeId: string): Promise<SceneNode | null> {
  const node = await figma.getNodeByIdAsync(nodeId);
  return node && !node.removed && 'absoluteBoundingBox' in node ? (node as SceneNode) : null;
}

/** Places the result and answers the id of the node that now shows it. */
export async function placeResult(figma: FigmaApi, msg: PlaceMessage): Promise<string> {
  const metaJson = checkPlaceable(msg);
  let placed: SceneNode;
  if (msg.mode === 'replace-fill') {
    const node = await findNode(figma, msg.sourceNodeId);
    const image = createImage(figma, resultPng(msg));
    placed = await replaceFill(figma, node, msg, image, metaJson);
  } else {
    const source = await sourceIfPresent(figma, msg.sourceNodeId);
    const anchor = msg.grid ? await sourceIfPresent(figma, msg.grid.anchorNodeId) : null;
    const image = createImage(figma, resultPng(msg));
    const paint: ImagePaint = { type: 'IMAGE', imageHash: image.hash, scaleMode: 'FILL' };
    placed = anchor && msg.grid ? placeInGrid(figma, anchor, msg.grid, msg, paint, metaJson) : placeBeside(figma, source, msg, paint, metaJson);
  }
  figma.commitUndo();
  return placed.id;
}
