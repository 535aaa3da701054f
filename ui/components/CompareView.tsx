import { useEffect, useRef, useState } from 'preact/hooks';
import type { ShownPixels } from '../batch.ts';
import { useImageUrl } from '../image-url.ts';

/**
 * Before and after, one over the other, split where the slider is: the source on the left of the line, the result on
 * its right (both fitted to the same box: an upscale shows the source enlarged, as a designer compares them). Drag the
 * slider, or click and drag on the picture; the arrow keys move it; Escape closes.
 */
export function CompareView(props: { name: string; before: ShownPixels; after: ShownPixels; width: number; height: number; onClose(): void }) {
  // Files as they are; raw pixels (Photoshop's) made PNGs by the browser to be shown.
  const beforeUrl = useImageUrl(props.before);
  const afterUrl = useImageUrl(props.after);
  const [split, setSplit] = useState(50);
  const stage = useRef<HTMLDivElement>(null);
  const slider = useRef<HTMLInputElement>(null);
  useEffect(() => slider.current?.focus(), []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      props.onClose();
    };
    document.addEventListener('keydown', onKey, true); // before the app's own Escape (cancel)
    return () => document.removeEventListener('keydown', onKey, true);
  }, [props.onClose]);

  const follow = (clientX: number) => {
    const box = stage.current?.getBoundingClientRect();
    if (box && box.width > 0) setSplit(Math.round(Math.min(100, Math.max(0, ((clientX - box.left) / box.width) * 100))));
  };
  return (
    <div class="compare" role="dialog" aria-modal="true" aria-label={`Compare before and after: ${props.name}`} data-testid="compare">
      <div class="compare-head">
        <span class="result-name" title={props.name}>{props.name}</span>
        <button type="button" class="icon-button" aria-label="Close the comparison" data-testid="compare-close" onClick={props.onClose}>×</button>
      </div>
      <div class="compare-stage" ref={stage} style={{ aspectRatio: `${props.width} / ${props.height}` }}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          follow(e.clientX);
        }}
        onPointerMove={(e) => {
          if (e.currentTarget.hasPointerCapture(e.pointerId)) follow(e.clientX);
        }}>
        <img src={beforeUrl} alt="Before" data-testid="compare-before" draggable={false} />
        <img src={afterUrl} alt="After" data-testid="compare-after" draggable={false} style={{ clipPath: `inset(0 0 0 ${split}%)` }} />
        <div class="compare-line" style={{ left: `${split}%` }} aria-hidden="true" />
        <span class="compare-label before" aria-hidden="true">Before</span>
        <span class="compare-label after" aria-hidden="true">After</span>
      </div>
      <input ref={slider} type="range" min={0} max={100} step={1} value={split} data-testid="compare-slider"
        aria-label="Split between before and after" aria-valuetext={`${split}% before`}
        onInput={(e) => setSplit(Number(e.currentTarget.value))} />
    </div>
  );
}
