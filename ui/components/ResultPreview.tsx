import { useEffect, useMemo } from 'preact/hooks';
import type { HostName } from '../../plugin/messages.ts';
import type { ItemResult } from '../batch.ts';
import { formatMB, formatSeconds, hostLabel } from '../format.ts';
import { TestBadge } from './ModelPicker.tsx';

export function ResultPreview({ result, hostName }: { result: ItemResult; hostName?: HostName }) {
  const url = useMemo(() => {
    const blob = result.video ? new Blob([result.video.bytes as BlobPart], { type: result.video.mime }) : new Blob([result.png as BlobPart], { type: 'image/png' });
    return URL.createObjectURL(blob);
  }, [result]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  const fileName = `${result.name.replace(/[^\p{L}\p{N} ×._-]+/gu, '').trim() || 'frontier-result'}.${result.video ? 'mp4' : 'png'}`;
  return (
    <figure class="panel result" data-testid="result" data-placed={result.placedNodeId ?? ''}>
      {result.video ? (
        <video src={url} autoPlay muted loop playsInline aria-label={`Result: ${result.name}`} data-testid="result-video" />
      ) : (
        <img src={url} alt={`Result: ${result.name}`} />
      )}
      <figcaption>
        <div class="result-name" title={result.name}>{result.name}</div>
        <div class="muted">
          {result.width} × {result.height} px{result.video?.frames ? ` · ${result.video.frames} frames` : ''} · {formatSeconds(result.ms)} (model {formatSeconds(result.meta.runMs)}) · {result.meta.target.toUpperCase()}
        </div>
        {result.meta.modelVariant === 'tiny' && <TestBadge />}
        {result.notPlaced && (
          <p class="help" data-testid="result-not-placed">
            {result.notPlaced === 'This host cannot place video.' ? `${hostLabel(hostName)} cannot place video here` : 'Not placed'}: download the clip ({formatMB(result.video?.bytes.length ?? 0)} MB).
          </p>
        )}
        {result.video && (
          <div class="actions">
            <a class="button secondary" href={url} download={fileName} data-testid="result-download">Download MP4</a>
          </div>
        )}
      </figcaption>
    </figure>
  );
}
