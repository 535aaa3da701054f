// The engine's latest guess while a long job runs (text-to-image decodes one every few steps): drawn straight into a
// canvas, no encoding round trip. Small, beside the progress in the run footer.
import { useEffect, useRef } from 'preact/hooks';
import type { RgbaImage } from '../../worker/job.ts';

export function SamplingPreview({ image }: { image: RgbaImage }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  }, [image]);
  return (
    <figure class="sampling-preview" data-testid="sampling-preview" title="Preview: the model's current guess">
      <canvas ref={canvas} width={image.width} height={image.height} aria-label="Preview of the image being made" />
    </figure>
  );
}
