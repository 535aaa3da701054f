import { useEffect, useMemo } from 'preact/hooks';
import type { ItemResult } from '../batch.ts';
import { formatSeconds } from '../format.ts';
import { TestBadge } from './ModelPicker.tsx';

export function ResultPreview({ result }: { result: ItemResult }) {
  const url = useMemo(() => URL.createObjectURL(new Blob([result.png as BlobPart], { type: 'image/png' })), [result]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return (
    <figure class="panel result" data-testid="result">
      <img src={url} alt={`Result: ${result.name}`} />
      <figcaption>
        <div class="result-name" title={result.name}>{result.name}</div>
        <div class="muted">
          {result.width} × {result.height} px · {formatSeconds(result.ms)} (model {formatSeconds(result.meta.runMs)}) · {result.meta.target.toUpperCase()}
        </div>
        {result.meta.modelVariant === 'tiny' && <TestBadge />}
      </figcaption>
    </figure>
  );
}
