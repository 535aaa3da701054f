// Browser codec (worker or page): decode with createImageBitmap, encode with OffscreenCanvas.
import { FrontierError, type RgbaImage } from '../job.ts';
import { sniffFormat, type ImageCodec } from './codec.ts';

const MIME = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' } as const;

export const browserCodec: ImageCodec = {
  async decode(bytes: Uint8Array): Promise<RgbaImage> {
    const format = sniffFormat(bytes);
    if (format === 'unknown') throw new FrontierError('bad-input', 'The selection is not a PNG, JPEG, GIF or WebP image.');
    let bitmap: ImageBitmap;
    try {
      const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: MIME[format] });
      bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    } catch {
      throw new FrontierError('bad-input', `The ${format.toUpperCase()} image could not be decoded: it may be corrupt. Re-export it and try again.`);
    }
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new FrontierError('run-failed', 'This browser has no 2D canvas in workers; image decoding is unavailable.');
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  },

  async encodePng(image: RgbaImage): Promise<Uint8Array> {
    const canvas = new OffscreenCanvas(image.width, image.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new FrontierError('run-failed', 'This browser has no 2D canvas in workers; image encoding is unavailable.');
    const pixels = new ImageData(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength) as Uint8ClampedArray<ArrayBuffer>, image.width, image.height);
    ctx.putImageData(pixels, 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return new Uint8Array(await blob.arrayBuffer());
  },
};
