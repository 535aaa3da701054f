// Image codecs: one interface, a browser implementation (createImageBitmap / OffscreenCanvas) for the worker
// and a Node one (pngjs / jpeg-js) for the CLI and server. Everything else in the pipeline is shared.
import type { RgbaImage } from '../job.ts';

export interface ImageCodec {
  decode(bytes: Uint8Array, mime?: string): Promise<RgbaImage>;
  encodePng(image: RgbaImage): Promise<Uint8Array>;
}

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'unknown';

/** Sniffs the format from magic numbers: file extensions and declared MIME types lie. */
export function sniffFormat(bytes: Uint8Array): ImageFormat {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 6 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return 'gif';
  if (bytes.length >= 12 && bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[8] === 0x57 && bytes[9] === 0x45) return 'webp';
  return 'unknown';
}
