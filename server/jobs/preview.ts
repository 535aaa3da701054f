// The latest finished frame of a video job as a small preview for its progress events: the output frame (packed RGB24)
// shrunk to at most PREVIEW_EDGE pixels on its longer side by averaging the pixels each preview pixel covers (a
// box filter: a ×4 frame shrunk 10× stays smooth rather than aliased), then JPEG (jpeg-js, pure JS), base64. A 256×144
// preview is ≈ 10 KB of text: an event that carries one stays small, and only the newest event keeps it (job.ts).
import jpeg from 'jpeg-js';
import type { FramePreview } from './job.ts';

/** Longest side of a preview, in pixels. */
export const PREVIEW_EDGE = 256;
const QUALITY = 80;

/** The preview size of a `width`×`height` frame: the same aspect ratio, at most `edge` on the longer side. */
export function previewSize(width: number, height: number, edge = PREVIEW_EDGE): { width: number; height: number } {
  const scale = Math.min(1, edge / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Packed RGB24 `width`×`height` → RGBA at `out` size, each pixel the mean of the source area it covers. */
export function shrinkRgb(rgb: Uint8Array, width: number, height: number, out: { width: number; height: number }): Uint8Array {
  if (rgb.length !== 3 * width * height) throw new Error(`a ${width}×${height} RGB24 frame has ${3 * width * height} bytes, got ${rgb.length}`);
  const rgba = new Uint8Array(4 * out.width * out.height);
  const sx = width / out.width;
  const sy = height / out.height;
  for (let oy = 0; oy < out.height; oy++) {
    const y0 = Math.floor(oy * sy);
    const y1 = Math.max(y0 + 1, Math.min(height, Math.round((oy + 1) * sy)));
    for (let ox = 0; ox < out.width; ox++) {
      const x0 = Math.floor(ox * sx);
      const x1 = Math.max(x0 + 1, Math.min(width, Math.round((ox + 1) * sx)));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = 3 * (y * width + x);
          r += rgb[i];
          g += rgb[i + 1];
          b += rgb[i + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = 4 * (oy * out.width + ox);
      rgba[o] = Math.round(r / n);
      rgba[o + 1] = Math.round(g / n);
      rgba[o + 2] = Math.round(b / n);
      rgba[o + 3] = 255;
    }
  }
  return rgba;
}

/** A finished output frame (packed RGB24) as a progress event's preview: JPEG, at most PREVIEW_EDGE px. */
export function framePreview(rgb: Uint8Array, width: number, height: number, edge = PREVIEW_EDGE): FramePreview {
  const size = previewSize(width, height, edge);
  const data = shrinkRgb(rgb, width, height, size);
  const encoded = jpeg.encode({ data, width: size.width, height: size.height }, QUALITY).data;
  return { width: size.width, height: size.height, jpeg: Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('base64') };
}
