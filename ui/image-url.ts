// Images the UI shows (the result card, Compare, the Results thumbnails) from pixels as the batch holds them: an
// encoded file as it is, raw RGBA (what Photoshop reads and takes) drawn on a canvas and made a PNG by the browser's
// own encoder. Only here, where a picture is shown or saved, is raw pixels' PNG made.
import { useEffect, useState } from 'preact/hooks';
import { RAW_RGBA } from '../plugin/messages.ts';
import type { RgbaImage } from '../worker/job.ts';
import type { ItemResult, ShownPixels } from './batch.ts';

/** A canvas holding `image` as it is (straight alpha in, the canvas's own colour handling). */
export function canvasOf(image: RgbaImage): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This browser gives no 2D canvas: the picture cannot be shown.');
  const { buffer, byteOffset, byteLength } = image.data;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(buffer as ArrayBuffer, byteOffset, byteLength), image.width, image.height), 0, 0);
  return canvas;
}

/** A PNG of raw pixels, by the browser's encoder. */
export function pngBlob(image: RgbaImage): Promise<Blob> {
  const canvas = canvasOf(image);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The browser could not make a PNG of the picture.'))), 'image/png'));
}

/** The file to show or save for `pixels`: an encoded file as it is; raw RGBA as a PNG. */
export async function imageBlob(pixels: ShownPixels): Promise<Blob> {
  if (pixels.mime !== RAW_RGBA) return new Blob([pixels.bytes as BlobPart], { type: pixels.mime });
  return pngBlob({ width: pixels.width, height: pixels.height, data: pixels.bytes });
}

/** The image result of a batch item as pixels to show: the PNG placed where there is one, else its raw pixels. */
export function resultPixels(result: ItemResult): ShownPixels | undefined {
  if (result.png) return { bytes: result.png, mime: 'image/png', width: result.width, height: result.height };
  if (result.image) return { bytes: result.image.data, mime: RAW_RGBA, width: result.image.width, height: result.image.height };
  return undefined;
}

/** An object URL of `pixels` while the component shows it (undefined until made, and for no pixels); revoked after. */
export function useImageUrl(pixels: ShownPixels | undefined): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    setUrl(undefined);
    if (!pixels) return undefined;
    let live = true;
    let made: string | undefined;
    imageBlob(pixels).then(
      (blob) => {
        if (!live) return;
        made = URL.createObjectURL(blob);
        setUrl(made);
      },
      (err: unknown) => console.warn(`Frontier UI could not show a picture: ${err instanceof Error ? err.message : String(err)}`),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
    // The same bytes are the same picture, whatever object holds them.
  }, [pixels?.bytes, pixels?.mime, pixels?.width, pixels?.height]);
  return url;
}
