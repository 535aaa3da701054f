// Inpainting masks from shapes: a rectangle, ellipse, vector… drawn over an image and selected with it marks the
// region to fill. Each shape is exported alone at the image's own pixel scale, so its PNG lands on the image's pixel
// grid exactly; the UI combines the pieces (plugin/messages.ts MaskPart).
import type { MaskPart, SelectedItem } from '../messages.ts';
import type { FigmaApi } from './api.ts';
import { errorMessage, HostRequestError } from './api.ts';
import { readImageHeader } from './bytes.ts';

/** Node types a user draws to mark a region. */
const SHAPE_TYPES = new Set(['RECTANGLE', 'ELLIPSE', 'POLYGON', 'STAR', 'VECTOR', 'BOOLEAN_OPERATION']);

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function hasImageFill(node: SceneNode): boolean {
  return 'fills' in node && Array.isArray(node.fills) && (node.fills as ReadonlyArray<Paint>).some((p) => p.type === 'IMAGE' && p.visible !== false);
}

function boxOf(node: SceneNode): Box | null {
  return ('absoluteRenderBounds' in node ? node.absoluteRenderBounds : null) ?? node.absoluteBoundingBox ?? null;
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Whether `node` is a shape that can mark a region (drawn, visible, not itself an image). */
export function isMaskShape(node: SceneNode): boolean {
  return SHAPE_TYPES.has(node.type) && node.visible && !hasImageFill(node) && !!boxOf(node);
}

/** The selected shapes over `image` (its box on the canvas). */
export function shapesOver(selection: readonly SceneNode[], image: SceneNode): SceneNode[] {
  const box = image.absoluteBoundingBox;
  if (!box) return [];
  return selection.filter((n) => n.id !== image.id && isMaskShape(n) && overlaps(boxOf(n)!, box));
}

/**
 * Marks the selected images that have selected shapes over them (`mask` on the item: inpainting fills there). The
 * shapes stay items too: other tasks (upscale) process them as before, and inpainting takes only items with a mask.
 */
export function attachMasks(selection: readonly SceneNode[], items: SelectedItem[]): SelectedItem[] {
  return items.map((item) => {
    const node = item.kind === 'image' ? selection.find((n) => n.id === item.nodeId) : undefined;
    const shapes = node ? shapesOver(selection, node) : [];
    return shapes.length ? { ...item, mask: { label: shapes.map((s) => s.name).join(' + ') } } : item;
  });
}

/**
 * The mask pieces for `image` (whose fill is `pixelWidth` × `pixelHeight` native pixels): each shape over it, exported
 * at the image's pixel scale and placed in its pixel coordinates.
 */
export async function maskParts(figma: FigmaApi, image: SceneNode, pixelWidth: number, pixelHeight: number): Promise<MaskPart[]> {
  const shapes = shapesOver(figma.currentPage.selection, image);
  if (shapes.length === 0) {
    throw new HostRequestError(`Nothing marks what to fill in "${image.name}": draw a rectangle or shape over it, select the image and the shape together, then run again.`);
  }
  const [[a, b, tx], [c, d, ty]] = image.absoluteTransform;
  if (b !== 0 || c !== 0 || a <= 0 || d <= 0) {
    throw new HostRequestError(`"${image.name}" is rotated or flipped: inpainting needs it upright. Reset its rotation (or flatten it), then run again.`);
  }
  // The fill must show the whole image stretched over the node: then one image pixel = node width / pixel width.
  const scaleX = pixelWidth / image.width;
  const scaleY = pixelHeight / image.height;
  if (Math.abs(scaleX - scaleY) > 0.01 * Math.max(scaleX, scaleY)) {
    throw new HostRequestError(`"${image.name}" shows a cropped or stretched part of its image: resize it to the image's proportions (or flatten it), then run again.`);
  }
  const parts: MaskPart[] = [];
  for (const shape of shapes) {
    const box = boxOf(shape)!;
    let png: Uint8Array;
    try {
      png = await shape.exportAsync({ format: 'PNG', constraint: { type: 'SCALE', value: scaleX } });
    } catch (err) {
      throw new HostRequestError(`Figma could not draw the shape "${shape.name}": ${errorMessage(err)}. Use a simple rectangle or ellipse.`);
    }
    const header = readImageHeader(png);
    if (!header) throw new HostRequestError(`Figma gave no PNG for the shape "${shape.name}". Use a simple rectangle or ellipse.`);
    parts.push({ png, x: Math.round((box.x - tx) * scaleX), y: Math.round((box.y - ty) * scaleY), width: header.width, height: header.height });
  }
  return parts;
}
