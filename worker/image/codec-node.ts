// Node codec for the CLI and server: pngjs and jpeg-js, pure JS and well kept.
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { FrontierError, type RgbaImage } from '../job.ts';
import { sniffFormat, type ImageCodec } from './codec.ts';

export const nodeCodec: ImageCodec = {
  async decode(bytes: Uint8Array): Promise<RgbaImage> {
    const format = sniffFormat(bytes);
    try {
      if (format === 'png') {
        const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
      }
      if (format === 'jpeg') {
        const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
        return { width: img.width, height: img.height, data: img.data };
      }
    } catch (err) {
      throw new FrontierError('bad-input', `The ${format.toUpperCase()} image could not be decoded (${(err as Error).message}): it may be corrupt.`);
    }
    throw new FrontierError('bad-input', `Unsupported image format (${format}): use PNG or JPEG.`);
  },

  async encodePng(image: RgbaImage): Promise<Uint8Array> {
    const png = new PNG({ width: image.width, height: image.height });
    png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    return new Uint8Array(PNG.sync.write(png));
  },
};
