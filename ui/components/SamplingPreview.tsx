// The engine's latest guess while a long job runs (text-to-image decodes one every few steps), or a video job's latest
// finished frame (the server sends one as a window of frames ends, ≤ 256 px): drawn straight into a canvas, no
// encoding round trip. Small, beside the progress in the run footer; a frame keeps its aspect ratio.
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { RgbaImage } from '../../worker/job.ts';

export function SamplingPreview({ image, frame = false }: { image: RgbaImage; frame?: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  // Drawn as the canvas is committed (a layout effect): it never shows blank, and whoever sees it inserted sees it drawn.
  useLayoutEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  }, [image]);
  return (
    <figure class={frame ? 'sampling-preview frame' : 'sampling-preview'} data-testid="sampling-preview" data-kind={frame ? 'frame' : 'guess'}
      title={frame ? 'Preview: the latest finished frame' : "Preview: the model's current guess"}>
      <canvas ref={canvas} width={image.width} height={image.height} aria-label={frame ? 'Latest finished frame of the video' : 'Preview of the image being made'} />
    </figure>
  );
}
