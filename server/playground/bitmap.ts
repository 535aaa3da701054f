// Browser-side pixel work for the simulated host: PNG bytes in and out through canvas, crops and composites.
// Images are decoded without colour conversion so the bytes a model sees are the bytes in the file.

export interface Bitmap {
  width: number;
  height: number;
  /** PNG-encoded pixels (what read-image sends and what a result arrives as). */
  png: Uint8Array;
  /** Object URL of `png`, for display. */
  url: string;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk, or null when `bytes` is not a PNG. Reads only the header. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function blobOf(bytes: Uint8Array, type: string): Blob {
  // Copy into a plain ArrayBuffer-backed array: Blob does not take SharedArrayBuffer views.
  return new Blob([new Uint8Array(bytes)], { type });
}

async function decode(bytes: Uint8Array, type: string): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blobOf(bytes, type), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (err) {
    // The browser's own words ("The source image could not be decoded.") say the same thing again: leave them out.
    void err;
    throw new Error('This image could not be read: it is not a PNG or JPEG the browser can open, or the file is damaged. Export it again as PNG and open that.');
  }
}

function canvas(width: number, height: number): OffscreenCanvas {
  return new OffscreenCanvas(width, height);
}

function context2d(c: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
  const ctx = c.getContext('2d');
  if (!ctx) throw new Error('This browser gave no 2D canvas context.');
  return ctx;
}

async function encodePng(c: OffscreenCanvas): Promise<Uint8Array> {
  const blob = await c.convertToBlob({ type: 'image/png' });
  return new Uint8Array(await blob.arrayBuffer());
}

function fromPng(png: Uint8Array, width: number, height: number): Bitmap {
  return { width, height, png, url: URL.createObjectURL(blobOf(png, 'image/png')) };
}

/** A bitmap from file bytes (PNG kept as is; JPEG, GIF, WebP re-encoded as PNG). */
export async function bitmapFromBytes(bytes: Uint8Array, type = 'image/png'): Promise<Bitmap> {
  const size = pngSize(bytes);
  const image = await decode(bytes, type);
  try {
    if (size) return fromPng(bytes, image.width, image.height);
    const c = canvas(image.width, image.height);
    context2d(c).drawImage(image, 0, 0);
    return fromPng(await encodePng(c), image.width, image.height);
  } finally {
    image.close();
  }
}

/** Straight RGBA pixels of a bitmap, or of `rect` within it. */
export async function rgbaOf(bitmap: Bitmap, rect?: Rect): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const image = await decode(bitmap.png, 'image/png');
  const c = canvas(image.width, image.height);
  const ctx = context2d(c);
  ctx.drawImage(image, 0, 0);
  image.close();
  const r = rect ?? { x: 0, y: 0, width: c.width, height: c.height };
  return { width: r.width, height: r.height, data: ctx.getImageData(r.x, r.y, r.width, r.height).data };
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The pixels of `rect` as a new PNG bitmap. */
export async function crop(bitmap: Bitmap, rect: Rect): Promise<Bitmap> {
  const image = await decode(bitmap.png, 'image/png');
  const c = canvas(rect.width, rect.height);
  context2d(c).drawImage(image, rect.x, rect.y, rect.width, rect.height, 0, 0, rect.width, rect.height);
  image.close();
  return fromPng(await encodePng(c), rect.width, rect.height);
}

/** An opaque white PNG of the given size: a rectangular mask piece (white = fill). */
export async function whitePng(width: number, height: number): Promise<Uint8Array> {
  const c = canvas(width, height);
  const ctx = context2d(c);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  return encodePng(c);
}

/** `base` with `patch` drawn into `rect` (scaled to fit it): a result written back into a selected region. */
export async function composite(base: Bitmap, patch: Bitmap, rect: Rect): Promise<Bitmap> {
  const [under, over] = await Promise.all([decode(base.png, 'image/png'), decode(patch.png, 'image/png')]);
  const c = canvas(under.width, under.height);
  const ctx = context2d(c);
  ctx.drawImage(under, 0, 0);
  ctx.clearRect(rect.x, rect.y, rect.width, rect.height);
  ctx.drawImage(over, rect.x, rect.y, rect.width, rect.height);
  under.close();
  over.close();
  return fromPng(await encodePng(c), c.width, c.height);
}
