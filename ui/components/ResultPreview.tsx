import { useEffect, useMemo, useState } from 'preact/hooks';
import type { HostName } from '../../plugin/messages.ts';
import type { ItemResult } from '../batch.ts';
import { formatMB, formatSeconds, hostLabel, placeName } from '../format.ts';
import { resultPixels, useImageUrl } from '../image-url.ts';
import { CompareView } from './CompareView.tsx';
import { TestBadge } from './ModelPicker.tsx';

/** The last result, small, in the run footer: what was made, how long it took and where; a clip to download. */
export function ResultPreview({ result, hostName, onDismiss }: { result: ItemResult; hostName?: HostName; onDismiss?(): void }) {
  const videoUrl = useMemo(() => (result.video ? URL.createObjectURL(new Blob([result.video.bytes as BlobPart], { type: result.video.mime })) : undefined), [result]);
  useEffect(() => () => (videoUrl ? URL.revokeObjectURL(videoUrl) : undefined), [videoUrl]);
  // An image result is a PNG already where the host took one; raw pixels (Photoshop) are made one here to be shown.
  const pixels = result.video ? undefined : resultPixels(result);
  const imageUrl = useImageUrl(pixels);
  const fileName = `${result.name.replace(/[^\p{L}\p{N} ×._-]+/gu, '').trim() || 'frontier-result'}.${result.video ? 'mp4' : 'png'}`;
  const where = placeName(result.meta.target);
  const [comparing, setComparing] = useState(false);
  return (
    <figure class="result" data-testid="result" data-placed={result.placedNodeId ?? ''} data-target={result.meta.target}>
      {result.video ? (
        <video src={videoUrl} autoPlay muted loop playsInline aria-label={`Result: ${result.name}`} data-testid="result-video" />
      ) : (
        <img src={imageUrl} alt={`Result: ${result.name}`} />
      )}
      <figcaption>
        <div class="result-name" title={result.name}>{result.name}</div>
        <div class="muted" title={`The model ran ${formatSeconds(result.meta.runMs)} of it.`}>
          {result.width} × {result.height} px{result.video?.frames ? ` · ${result.video.frames} frames` : ''} · {formatSeconds(result.ms)} on {where}
        </div>
        {result.meta.modelVariant === 'tiny' && <TestBadge />}
        {result.video && result.placedNodeId && hostName === 'photoshop' && <p class="help" data-testid="result-saved">Saved and opened in Photoshop.</p>}
        {result.notPlaced && (
          <p class="help" data-testid="result-not-placed">
            {result.notPlaced === 'This host cannot place video.' ? `${hostLabel(hostName)} cannot place video here` : result.placedNodeId ? 'Its first frame is placed' : 'Not placed'}: download the clip ({formatMB(result.video?.bytes.length ?? 0)} MB).
          </p>
        )}
        {result.video && (
          <div class="actions">
            <a class="button secondary small" href={videoUrl} download={fileName} data-testid="result-download">Download MP4</a>
          </div>
        )}
        {result.before && pixels && (
          <div class="actions">
            <button type="button" class="secondary small" data-testid="compare-open" onClick={() => setComparing(true)}>Compare with the original</button>
          </div>
        )}
      </figcaption>
      {comparing && result.before && pixels && (
        <CompareView name={result.name} before={result.before} after={pixels} width={result.width} height={result.height} onClose={() => setComparing(false)} />
      )}
      {onDismiss && <button type="button" class="icon-button" aria-label="Hide the result" onClick={onDismiss}>×</button>}
    </figure>
  );
}
