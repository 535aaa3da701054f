// What the bridge can read from each selected node, and how: an image fill at its native resolution, or a
// PNG export that fits Figma's 4096 px limit. The same plan serves the selection summary and read-image,
// so the size the UI is promised is the size it gets.
import { MAX_IMAGE_EDGE, type SelectedItem, type SelectionSummary } from '../messages.ts';
import type { FigmaApi } from './api.ts';
import { parseResultMeta } from '../../worker/job.ts';
import { PLUGIN_DATA_KEY, topImagePaint } from './nodes.ts';
import { attachMasks } from './mask.ts';

export type ReadPlan =
  | { type: 'image-fill'; imageHash: string }
  | { type: 'export'; settings: ExportSettingsImage };

export type NodeReading = { item: SelectedItem; plan: ReadPlan } | { problem: string };

export const EMPTY_SELECTION_PROBLEM = 'Select an image, frame or layer on the canvas, then choose what to do with it.';

/** Interactive or embedded content that renders outside the document's own pixels. */
const UNREADABLE_TYPES = new Set(['WIDGET', 'EMBED', 'LINK_UNFURL', 'MEDIA', 'CONNECTOR', 'STAMP']);
const FRAME_TYPES = new Set(['FRAME', 'COMPONENT', 'COMPONENT_SET', 'INSTANCE', 'SECTION']);

function hasChildren(node: BaseNode): boolean {
  return 'children' in node && node.children.length > 0;
}

/** Export settings at scale 1, or a fixed width/height when an edge would pass the host limit. */
export function exportPlanFor(width: number, height: number): { settings: ExportSettingsImage; width: number; height: number } {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  if (w <= MAX_IMAGE_EDGE && h <= MAX_IMAGE_EDGE) {
    return { settings: { format: 'PNG', constraint: { type: 'SCALE', value: 1 } }, width: w, height: h };
  }
  if (width >= height) {
    const scaledHeight = Math.max(1, Math.round((height * MAX_IMAGE_EDGE) / width));
    return { settings: { format: 'PNG', constraint: { type: 'WIDTH', value: MAX_IMAGE_EDGE } }, width: MAX_IMAGE_EDGE, height: scaledHeight };
  }
  const scaledWidth = Math.max(1, Math.round((width * MAX_IMAGE_EDGE) / height));
  return { settings: { format: 'PNG', constraint: { type: 'HEIGHT', value: MAX_IMAGE_EDGE } }, width: scaledWidth, height: MAX_IMAGE_EDGE };
}

/** Size an export covers: the rendered bounds (shadows, strokes) when known, else the node's box. */
function exportBounds(node: SceneNode): { width: number; height: number } {
  const rendered = 'absoluteRenderBounds' in node ? node.absoluteRenderBounds : null;
  if (rendered) return rendered;
  return node.absoluteBoundingBox ?? { width: node.width, height: node.height };
}

function kindOf(node: SceneNode): SelectedItem['kind'] {
  if (FRAME_TYPES.has(node.type)) return 'frame';
  if (node.type === 'SLICE') return 'region';
  return 'layer';
}

/** Decide how `node` would be read, or say why it cannot be. */
export async function readingFor(figma: FigmaApi, node: BaseNode): Promise<NodeReading> {
  if (node.type === 'DOCUMENT' || node.type === 'PAGE') return { problem: 'Select a layer on the page, not the page itself.' };
  const scene = node as SceneNode;
  if (UNREADABLE_TYPES.has(scene.type) || !('exportAsync' in scene)) {
    return { problem: `"${scene.name}" is a ${scene.type.toLowerCase()} and has no pixels to read. Select an image, frame or layer.` };
  }
  if (!scene.visible) return { problem: `"${scene.name}" is hidden. Show it, or select a visible image, frame or layer.` };

  const paint = hasChildren(scene) ? null : topImagePaint(scene);
  const image = paint?.imageHash ? figma.getImageByHash(paint.imageHash) : null;
  // A Frontier result remembers how it was made (seed, latent, pose): tasks that vary or turn it need that.
  const meta = parseResultMeta(scene.getPluginData(PLUGIN_DATA_KEY));
  if (paint?.imageHash && image) {
    const size = await image.getSizeAsync();
    return {
      item: { nodeId: scene.id, name: scene.name, width: size.width, height: size.height, kind: 'image', ...(meta ? { meta } : {}) },
      plan: { type: 'image-fill', imageHash: paint.imageHash },
    };
  }

  const bounds = exportBounds(scene);
  if (bounds.width <= 0 || bounds.height <= 0) {
    return { problem: `"${scene.name}" has no area to read (a line or an empty group). Select an image, frame or layer.` };
  }
  const plan = exportPlanFor(bounds.width, bounds.height);
  // A top-level frame may hold animation: Figma exports it as MP4 (only then can a video task read it).
  const video = scene.type === 'FRAME' && scene.parent?.type === 'PAGE';
  return {
    item: { nodeId: scene.id, name: scene.name, width: plan.width, height: plan.height, kind: kindOf(scene), ...(video ? { video } : {}), ...(meta ? { meta } : {}) },
    plan: { type: 'export', settings: plan.settings },
  };
}

/** The selection as the UI sees it: usable items, or the reason nothing is usable. */
export async function summarizeSelection(figma: FigmaApi): Promise<SelectionSummary> {
  const selection = figma.currentPage.selection;
  if (selection.length === 0) return { items: [], problem: EMPTY_SELECTION_PROBLEM };
  const readings = await Promise.all(selection.map((node) => readingFor(figma, node)));
  const items: SelectedItem[] = [];
  const problems: string[] = [];
  for (const reading of readings) {
    if ('item' in reading) items.push(reading.item);
    else problems.push(reading.problem);
  }
  if (items.length > 0) return { items: attachMasks(selection, items) };
  return { items, problem: problems.length === 1 ? problems[0] : `None of the ${problems.length} selected layers can be used. ${problems[0]}` };
}
