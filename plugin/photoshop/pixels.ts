// Reading and writing pixels with Photoshop's imaging API, each inside executeAsModal so Photoshop shows its own
// progress bar and its Cancel (Escape) works. Modal scopes stay short. Pixels cross to the UI raw (straight RGBA,
// plugin/messages.ts RAW_RGBA) both ways: no encoding here, and none needed by the imaging API.
// A placed result is one history step: suspendHistory before the first change, resumeHistory(commit) after the
// last, and resumeHistory(…, false) on any failure or cancel, which drops the half-made layer.
// 16-bit documents: pixels are read as 8-bit (getPixels componentSize 8: Photoshop converts) and results are written
// at 16 bits in Photoshop's 16-bit range 0..32768 (Adobe's Imaging API reference, "value range" table).
import { MAX_IMAGE_EDGE, rawSizeProblem, type Message, type UiToHost } from '../messages.ts';
import type { RgbaImage } from '../../worker/job.ts';
import { rgbToRgba } from '../../worker/image/rgba.ts';
import {
  activeDocument, errorMessage, findDocument, findLayer, HostRequestError,
  type ExecutionContext, type PhotoshopModule, type PsBounds, type PsCore, type PsDocument, type PsLayer,
} from './api.ts';
import { documentDepth, documentProblem, parseNodeId, type ReadPlan } from './document.ts';
import { readSelectionMask, to8Bit, type GreyPiece } from './selection-mask.ts';

type PlaceMessage = Message<UiToHost, 'place-result'>;
/** Straight 8-bit RGBA, width × height × 4 bytes. */
export type RgbaPixels = RgbaImage;

export const READ_CANCELLED = 'Cancelled in Photoshop: nothing was read.';
export const PLACE_CANCELLED = 'Cancelled in Photoshop: the result was not placed.';
export const PHOTOSHOP_BUSY = 'Photoshop is busy with another dialog, tool or plugin. Finish or close it, then run again.';

/** Runs executeAsModal scopes one after another: Photoshop refuses a second modal scope while one is open. */
export class ModalQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly core: PsCore) {}

  run<T>(commandName: string, work: (context: ExecutionContext) => Promise<T>): Promise<T> {
    const job = this.tail.then(async () => {
      let result: T | undefined;
      let done = false;
      // Some builds resolve executeAsModal with undefined instead of the callback's value: keep it ourselves.
      await this.core.executeAsModal(async (context) => {
        result = await work(context);
        done = true;
        return result;
      }, { commandName, timeOut: 5 });
      if (!done) throw new HostRequestError(`Photoshop ended “${commandName}” before it finished. Try again.`);
      return result as T;
    });
    this.tail = job.catch(() => undefined);
    return job.catch((err: unknown) => {
      if (err instanceof HostRequestError) throw err;
      if (/modal state|is modal|modal scope/i.test(errorMessage(err))) throw new HostRequestError(PHOTOSHOP_BUSY);
      throw err;
    });
  }
}

/** Converts chunky 8-bit RGB or RGBA components to RGBA. */
export function toRgba(data: Uint8Array, width: number, height: number, components: number): Uint8Array {
  if (components === 4) return data.length === width * height * 4 ? data : data.slice(0, width * height * 4);
  if (components !== 3) throw new HostRequestError(`Photoshop returned ${components} colour components per pixel; Frontier reads RGB documents only.`);
  return rgbToRgba(data.length === width * height * 3 ? data : data.subarray(0, width * height * 3), width, height).data;
}

/** `src` placed at (dx, dy) in a transparent width×height canvas (getPixels trims transparent edges). */
function padInto(src: Uint8Array, srcWidth: number, srcHeight: number, width: number, height: number, dx: number, dy: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < srcHeight; y++) {
    const ty = y + dy;
    if (ty < 0 || ty >= height) continue;
    const x0 = Math.max(0, -dx);
    const x1 = Math.min(srcWidth, width - dx);
    if (x1 <= x0) continue;
    out.set(src.subarray((y * srcWidth + x0) * 4, (y * srcWidth + x1) * 4), (ty * width + x0 + dx) * 4);
  }
  return out;
}

export interface ReadImage {
  pixels: RgbaPixels;
  /** The selection over the image, when asked for with `selection`; null when it covers none of the image. */
  mask?: GreyPiece | null;
}

/**
 * The planned region's pixels as straight RGBA, read in one modal scope; with `selection` (the marquee's bounds),
 * the selection mask over the same region in the same scope, so pixels and mask come from one document state.
 */
export async function readPixels(ps: PhotoshopModule, modal: ModalQueue, plan: ReadPlan, label: string, options: { selection?: PsBounds } = {}): Promise<ReadImage> {
  const commandName = `Frontier: reading “${label}”`;
  return modal.run(commandName, async (context) => {
    if (context.isCancelled) throw new HostRequestError(READ_CANCELLED);
    context.reportProgress({ value: 0, commandName });
    const pixels = await pixelsOf(ps, context, plan, commandName);
    if (!options.selection) {
      context.reportProgress({ value: 1, commandName });
      return { pixels };
    }
    if (context.isCancelled) throw new HostRequestError(READ_CANCELLED);
    const mask = await readSelectionMask(ps, plan, options.selection);
    if (context.isCancelled) throw new HostRequestError(READ_CANCELLED);
    context.reportProgress({ value: 1, commandName });
    return { pixels, mask };
  });
}

async function pixelsOf(ps: PhotoshopModule, context: ExecutionContext, plan: ReadPlan, commandName: string): Promise<RgbaPixels> {
  const full = plan.width === plan.bounds.right - plan.bounds.left && plan.height === plan.bounds.bottom - plan.bounds.top;
  const { imageData, sourceBounds } = await ps.imaging.getPixels({
    documentID: plan.docId,
    // No layerID: the merged image of all visible layers (Imaging API reference, getPixels).
    ...(plan.layerId === null ? {} : { layerID: plan.layerId }),
    sourceBounds: plan.bounds,
    ...(full ? {} : { targetSize: { width: plan.width, height: plan.height } }),
    componentSize: 8,
    colorSpace: 'RGB',
  });
  try {
    if (context.isCancelled) throw new HostRequestError(READ_CANCELLED);
    context.reportProgress({ value: 0.5, commandName });
    const raw = await imageData.getData({ chunky: true });
    if (context.isCancelled) throw new HostRequestError(READ_CANCELLED);
    // 8-bit was asked for; a build that answers at the document's depth is converted here rather than refused.
    const rgba = toRgba(to8Bit(raw, imageData.componentSize), imageData.width, imageData.height, imageData.components);
    if (imageData.width === plan.width && imageData.height === plan.height) return { width: plan.width, height: plan.height, data: rgba };
    // Transparent edges were trimmed: put the pixels back where they belong in the planned region.
    const scale = plan.width / (plan.bounds.right - plan.bounds.left);
    const dx = Math.round((sourceBounds.left - plan.bounds.left) * scale);
    const dy = Math.round((sourceBounds.top - plan.bounds.top) * scale);
    return { width: plan.width, height: plan.height, data: padInto(rgba, imageData.width, imageData.height, plan.width, plan.height, dx, dy) };
  } finally {
    await imageData.dispose();
  }
}

/** 8-bit → Photoshop's 16-bit range 0..32768 (so 255 is 32768 and 16 → 8 bits gives the same byte back). */
const TO_16 = Uint16Array.from({ length: 256 }, (_, v) => Math.round((v * 32768) / 255));

/** RGBA bytes as samples of the document's depth, for createImageDataFromBuffer (the array type sets the depth). */
export function samplesForDepth(rgba: Uint8Array, depth: 8 | 16): Uint8Array | Uint16Array {
  if (depth === 8) return rgba;
  const out = new Uint16Array(rgba.length);
  for (let i = 0; i < rgba.length; i++) out[i] = TO_16[rgba[i]];
  return out;
}

/** Checks a place-result message and gives its raw pixels (the UI sends Photoshop raw RGBA: nothing to decode). */
export function resultImage(msg: Pick<PlaceMessage, 'png' | 'rgba' | 'width' | 'height' | 'mode'>): RgbaPixels {
  const { width, height } = msg;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new HostRequestError(`The result size ${width}×${height} is not a whole number of pixels. Run the task again.`);
  }
  if (width > MAX_IMAGE_EDGE || height > MAX_IMAGE_EDGE) {
    throw new HostRequestError(`The result is ${width}×${height} px; the Photoshop panel places up to ${MAX_IMAGE_EDGE} px per edge. Choose a smaller scale, or select a smaller area.`);
  }
  if (msg.mode !== 'beside' && msg.mode !== 'replace-fill') {
    throw new HostRequestError(`Unknown place mode "${String(msg.mode)}". Choose "beside" or "replace-fill" in the settings.`);
  }
  // A PNG comes from a UI older than this panel (the panel no longer decodes files): both parts must be updated.
  if (!msg.rgba) throw new HostRequestError('The plugin’s window sent a PNG where the panel takes raw pixels. Reload the plugin so both parts are the same version.');
  const problem = rawSizeProblem('The result', msg.rgba, width, height);
  if (problem) throw new HostRequestError(`${problem}. Run the task again.`);
  return { width, height, data: msg.rgba };
}

export interface PlaceTarget {
  doc: PsDocument;
  /** The source layer: the result goes directly above it (else above the active layer). */
  above: PsLayer | null;
  /** Document pixel where the result's top-left corner goes. */
  left: number;
  top: number;
}

/**
 * Where a result goes: over its source (the source region's corner, or the source layer's), in the source's document.
 * A deleted source or a generated image (no source) lands centred in the active document: the result is not lost.
 */
export function placeTarget(ps: PhotoshopModule, sourceNodeId: string, width: number, height: number): PlaceTarget {
  const ref = sourceNodeId ? parseNodeId(sourceNodeId) : null;
  const sourceDoc = ref ? findDocument(ps.app, ref.docId) : null;
  const doc = sourceDoc ?? activeDocument(ps.app);
  if (!doc) throw new HostRequestError('No document is open to place the result in. Open or create a document, then run again.');
  const problem = documentProblem(doc);
  if (problem) throw new HostRequestError(problem);
  // A merged source (layerId null) has no layer to go above: the result goes above the active layer.
  const above = ref && sourceDoc && ref.layerId !== null ? findLayer(sourceDoc, ref.layerId) : null;
  const merged = ref?.layerId === null ? { left: 0, top: 0 } : null; // the merged image starts at the canvas origin
  const corner: Pick<PsBounds, 'left' | 'top'> | null = ref && sourceDoc ? (ref.region ?? above?.boundsNoEffects ?? merged) : null;
  if (corner) return { doc, above, left: Math.round(corner.left), top: Math.round(corner.top) };
  return { doc, above, left: Math.round((doc.width - width) / 2), top: Math.round((doc.height - height) / 2) };
}

/** Creates one pixel layer named `name` holding `image` at the target, as one history step; returns its id. */
export async function writeLayer(ps: PhotoshopModule, modal: ModalQueue, target: PlaceTarget, image: RgbaPixels, name: string): Promise<number> {
  const commandName = `Frontier: placing “${name}”`;
  const { doc, above, left, top } = target;
  return modal.run(commandName, async (context) => {
    if (context.isCancelled) throw new HostRequestError(PLACE_CANCELLED);
    context.reportProgress({ value: 0, commandName });
    const suspension = await context.hostControl.suspendHistory({ documentID: doc.id, name });
    let committed = false;
    try {
      const layer = await doc.createPixelLayer({ name });
      if (!layer) throw new HostRequestError('Photoshop did not create the new layer. Check that the document is not locked, then run again.');
      // New layers go above the active one; the user may have selected another layer while the job ran.
      if (above && above.id !== layer.id && layer.move) await layer.move(above, 'placeBefore');
      if (context.isCancelled) throw new HostRequestError(PLACE_CANCELLED);
      context.reportProgress({ value: 0.3, commandName });
      const imageData = await ps.imaging.createImageDataFromBuffer(samplesForDepth(image.data, documentDepth(doc) ?? 8), {
        width: image.width,
        height: image.height,
        components: 4,
        chunky: true,
        colorSpace: 'RGB', // no colorProfile: Photoshop takes the document's, so the pixels land unconverted
      });
      try {
        if (context.isCancelled) throw new HostRequestError(PLACE_CANCELLED);
        await ps.imaging.putPixels({
          documentID: doc.id,
          layerID: layer.id,
          imageData,
          replace: true,
          targetBounds: { left, top, right: left + image.width, bottom: top + image.height },
        });
      } finally {
        await imageData.dispose();
      }
      if (context.isCancelled) throw new HostRequestError(PLACE_CANCELLED);
      context.reportProgress({ value: 1, commandName });
      await context.hostControl.resumeHistory(suspension, true);
      committed = true;
      return layer.id;
    } finally {
      // Dropping the suspended state removes everything this scope made: no half-placed layer remains.
      if (!committed) await context.hostControl.resumeHistory(suspension, false).catch(() => undefined);
    }
  });
}

