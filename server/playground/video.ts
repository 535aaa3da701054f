// Browser-side video for the simulated host: a clip's size and first frame (the poster the canvas shows and the
// inspector reads), from the page's own <video> decoder, so a clip the browser cannot play fails here, clearly.
import { bitmapFromBytes, type Bitmap } from './bitmap.ts';

export interface Clip {
  bytes: Uint8Array;
  mime: string;
  /** Object URL of `bytes`, for the canvas's <video>. */
  url: string;
}

/** Figma's createVideoAsync limit, enforced here too so the playground behaves like the host. */
export const MAX_VIDEO_BYTES = 100 * 1024 * 1024;
export const VIDEO_TYPES = ['video/mp4', 'video/quicktime', 'video/webm'];
const DECODE_TIMEOUT_MS = 15_000;

export async function openClip(bytes: Uint8Array, mime: string): Promise<{ clip: Clip; poster: Bitmap }> {
  if (!VIDEO_TYPES.includes(mime)) throw new Error(`${mime || 'This file'} is not a video the host takes: use MP4, MOV or WebM.`);
  if (bytes.length > MAX_VIDEO_BYTES) throw new Error(`The clip is ${(bytes.length / 2 ** 20).toFixed(1)} MB; the host takes video up to 100 MB.`);
  const url = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: mime }));
  try {
    const video = document.createElement('video');
    video.muted = true;
    video.preload = 'auto';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the browser did not decode its first frame within 15 s')), DECODE_TIMEOUT_MS);
      video.addEventListener('loadeddata', () => (clearTimeout(timer), resolve()), { once: true });
      video.addEventListener('error', () => (clearTimeout(timer), reject(new Error(video.error?.message || 'the browser cannot decode it'))), { once: true });
      video.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d')!.drawImage(video, 0, 0);
    const png = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no poster frame'))), 'image/png'));
    const poster = await bitmapFromBytes(new Uint8Array(await png.arrayBuffer()));
    return { clip: { bytes: new Uint8Array(bytes), mime, url }, poster };
  } catch (err) {
    URL.revokeObjectURL(url);
    throw new Error(`Could not open the clip: ${(err as Error).message}.`);
  }
}
