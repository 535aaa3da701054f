// The marquee selection as an inpainting mask: imaging.getSelection inside the read's modal scope, as 8-bit grey
// levels (255 fill, 0 keep; feathered and anti-aliased edges keep their levels) in the read image's pixel coordinates.
// Adobe's reference (ps_reference/media/imaging, getSelection) promises a PhotoshopImageData and the bounds actually
// used; it does not promise the depth, the component count or the returned bounds, so each is read, not assumed.
import type { MaskPart } from '../messages.ts';
import { HostRequestError, type ComponentData, type PhotoshopModule, type PsBounds } from './api.ts';
import { intersect, type ReadPlan } from './document.ts';

/** A grey mask piece at (x, y) of the read image. */
export interface GreyPiece {
  x: number;
  y: number;
  width: number;
  height: number;
  grey: Uint8Array;
}

export const maskOutsideProblem = (name: string) =>
  `The marquee selection does not cover any pixels of “${name}”. Select the area to fill inside the layer (or select the layer the marquee is on), then run again.`;

/** Samples of any depth (8: 0..255, 16: Photoshop's 0..32768, 32: 0..1) as bytes 0..255. */
export function to8Bit(data: ComponentData, componentSize: number): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (componentSize !== 16 && componentSize !== 32) throw new HostRequestError(`Photoshop returned ${componentSize}-bit data Frontier does not read. Convert the document to 8- or 16-bit RGB.`);
  const scale = componentSize === 16 ? 255 / 32768 : 255;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i] * scale);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** The first component of each pixel (the grey level; a grey+alpha answer's alpha is dropped), as bytes. */
export function greyLevels(data: ComponentData, components: number, componentSize: number): Uint8Array {
  const bytes = to8Bit(data, componentSize);
  if (components === 1) return bytes;
  const out = new Uint8Array(Math.floor(bytes.length / components));
  for (let i = 0; i < out.length; i++) out[i] = bytes[i * components];
  return out;
}

/**
 * Reads the selection over `plan` (call inside executeAsModal). `selection` is the marquee's bounds (document pixels).
 * Returns the non-zero part of the mask, clipped to the image, or null when the selection covers none of it.
 */
export async function readSelectionMask(ps: PhotoshopModule, plan: ReadPlan, selection: PsBounds): Promise<GreyPiece | null> {
  const request = intersect(selection, plan.bounds);
  if (!request) return null;
  // A read scaled down to the host limit scales the mask by the same factors.
  const sx = plan.width / (plan.bounds.right - plan.bounds.left);
  const sy = plan.height / (plan.bounds.bottom - plan.bounds.top);
  const scaled = sx !== 1 || sy !== 1;
  const targetSize = { width: Math.max(1, Math.round((request.right - request.left) * sx)), height: Math.max(1, Math.round((request.bottom - request.top) * sy)) };
  const { imageData, sourceBounds } = await ps.imaging.getSelection({ documentID: plan.docId, sourceBounds: request, ...(scaled ? { targetSize } : {}) });
  let grey: Uint8Array;
  let width: number;
  let height: number;
  try {
    width = imageData.width;
    height = imageData.height;
    grey = greyLevels(await imageData.getData({ chunky: true }), imageData.components, imageData.componentSize);
  } finally {
    await imageData.dispose();
  }
  if (grey.length < width * height) throw new HostRequestError('Photoshop returned less selection data than it announced. Run again; if it repeats, reload the plugin.');
  const origin = sourceBounds ?? request;
  return trimmed(grey, width, height, Math.round((origin.left - plan.bounds.left) * sx), Math.round((origin.top - plan.bounds.top) * sy), plan.width, plan.height);
}

/** The non-zero part of a width×height grey image placed at (dx, dy), clipped to imageWidth×imageHeight. */
export function trimmed(grey: Uint8Array, width: number, height: number, dx: number, dy: number, imageWidth: number, imageHeight: number): GreyPiece | null {
  let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
  const x0 = Math.max(0, -dx), x1 = Math.min(width, imageWidth - dx);
  const y0 = Math.max(0, -dy), y1 = Math.min(height, imageHeight - dy);
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    for (let x = x0; x < x1; x++) {
      if (grey[row + x] === 0) continue;
      if (x < left) left = x;
      if (x >= right) right = x + 1;
      if (y < top) top = y;
      bottom = y + 1;
    }
  }
  if (left === Infinity) return null;
  const w = right - left;
  const h = bottom - top;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) out.set(grey.subarray((top + y) * width + left, (top + y) * width + right), y * w);
  return { x: left + dx, y: top + dy, width: w, height: h, grey: out };
}

/** The contract's mask parts: the selection's levels raw (`alpha`, one byte per pixel = how much to fill). */
export function maskParts(piece: GreyPiece): MaskPart[] {
  return [{ alpha: piece.grey, x: piece.x, y: piece.y, width: piece.width, height: piece.height }];
}
