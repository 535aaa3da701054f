// A clip's first frame as PNG, from the browser's own decoder: what Figma shows in place of a video it will not take
// (video fills need a paid plan), next to the clip kept to download.
import type { EncodedVideo } from '../worker/job.ts';

const DECODE_TIMEOUT_MS = 15_000;

export async function firstFramePng(video: EncodedVideo): Promise<{ png: Uint8Array; width: number; height: number }> {
  const url = URL.createObjectURL(new Blob([video.bytes as BlobPart], { type: video.mime }));
  const element = document.createElement('video');
  element.muted = true;
  element.preload = 'auto';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the browser did not decode its first frame within 15 s')), DECODE_TIMEOUT_MS);
      element.addEventListener('loadeddata', () => (clearTimeout(timer), resolve()), { once: true });
      element.addEventListener('error', () => (clearTimeout(timer), reject(new Error(element.error?.message || 'the browser cannot decode it'))), { once: true });
      element.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = element.videoWidth;
    canvas.height = element.videoHeight;
    canvas.getContext('2d')!.drawImage(element, 0, 0);
    const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no frame'))), 'image/png'));
    return { png: new Uint8Array(await blob.arrayBuffer()), width: canvas.width, height: canvas.height };
  } finally {
    element.removeAttribute('src');
    element.load();
    URL.revokeObjectURL(url);
  }
}
