// A video job's preview frames on the client side: the server's progress events carry the latest finished frame as a
// small JPEG (server/jobs/preview.ts: ≤ 256 px, base64); the job client decodes each new one to RGBA and reports it
// as the progress's `preview`, which the UI shows beside the progress bar. Decoding is asynchronous: a frame that
// arrives while an older one decodes wins, and nothing is shown once the job has ended. Where no decoder exists (Node
// without one passed in: the CLI has no picture to show) previews are skipped; a preview that does not decode is
// skipped too: it never fails the job.
import { base64ToBytes } from '../base64.ts';
import type { RgbaImage } from '../job.ts';

/** A video job's preview as the server sends it. */
export interface FramePreviewJson {
  width: number;
  height: number;
  jpeg: string;
}

export type DecodeImage = (bytes: Uint8Array) => Promise<RgbaImage>;

export function isFramePreview(p: unknown): p is FramePreviewJson {
  return !!p && typeof (p as FramePreviewJson).jpeg === 'string' && typeof (p as FramePreviewJson).width === 'number';
}

/** JPEG → RGBA with the web platform (a worker or a page: createImageBitmap and OffscreenCanvas), else undefined. */
export function webImageDecoder(): DecodeImage | undefined {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') return undefined;
  return async (bytes) => {
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
    try {
      const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
      if (!ctx) throw new Error('no 2D canvas');
      ctx.drawImage(bitmap, 0, 0);
      const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    } finally {
      bitmap.close();
    }
  };
}

/** Decodes the previews a job's events bring and hands each new one to `show`, newest wins, until close(). */
export function framePreviews(decode: DecodeImage | undefined, show: (image: RgbaImage) => void): { offer(p: unknown): void; close(): void } {
  let last = '';
  let generation = 0;
  let closed = false;
  return {
    offer(p) {
      if (closed || !decode || !isFramePreview(p) || p.jpeg === last) return;
      last = p.jpeg;
      const mine = ++generation;
      let bytes: Uint8Array;
      try {
        bytes = base64ToBytes(p.jpeg);
      } catch {
        return;
      }
      decode(bytes).then(
        (image) => {
          if (!closed && mine === generation) show(image);
        },
        () => {},
      );
    },
    close() {
      closed = true;
    },
  };
}
