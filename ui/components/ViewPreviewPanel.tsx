import { formatSeconds } from '../format.ts';
import type { ViewPreview } from '../view-preview.ts';

/** The live view under the rotate-view sliders. */
export function ViewPreviewPanel({ preview, busy, error }: { preview: ViewPreview | null; busy: boolean; error: string | null }) {
  return (
    <figure class="view-preview" data-testid="view-preview" data-size={preview?.size ?? ''} data-busy={busy ? 'true' : 'false'}>
      {preview ? <img src={preview.url} alt={`Preview, ${preview.size} px`} /> : <div class="view-preview-empty">{busy ? 'Rendering…' : ''}</div>}
      <figcaption class="muted">
        {error ? <span class="error-text">{error}</span> : busy ? 'Rendering preview…' : preview ? `Preview ${preview.size} px · ${formatSeconds(preview.ms)} · Run places it` : ''}
      </figcaption>
    </figure>
  );
}
