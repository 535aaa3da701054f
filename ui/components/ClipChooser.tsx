import type { HostInfo } from '../../plugin/messages.ts';
import { CLIP_ACCEPT, clipFacts, framesText, type ClipFitState, type ClipState } from '../clip.ts';
import { hostLabel } from '../format.ts';

/** Where a video result goes in this host, in the designer's words (null: nothing worth saying). */
export function videoDestination(host: HostInfo | null): string | null {
  if (!host) return null;
  if (!host.video) return `${hostLabel(host.name)} cannot place video: the result is kept here to download.`;
  if (host.videoPlace === 'saved-file') return 'The result is saved where you choose, then opened in Photoshop.';
  if (host.name === 'figma') return 'The result is placed as a video (paid Figma plans; otherwise it is kept here to download).';
  return null;
}

/**
 * A video task's own source: "Choose a clip…" (a file picker in the UI, so it works in every host, Photoshop too),
 * the chosen clip's facts and a way to clear it. The file input is real (visually hidden inside its label), so the
 * label opens the system picker and tests can set files on it.
 */
export function ClipChooser(props: {
  clip: ClipState;
  disabled: boolean;
  host: HostInfo | null;
  /** Whether the server takes this clip with the chosen model (useClipFit): its warning says what to do instead. */
  fit?: ClipFitState;
  onChoose(file: File): void;
  onClear(): void;
}) {
  const { clip, disabled } = props;
  const where = videoDestination(props.host);
  return (
    <div class="panel clip-chooser" data-testid="clip" aria-live="polite">
      {clip.state === 'chosen' && (
        <div class="clip-chosen" data-testid="clip-chosen" data-fit={props.fit?.state ?? 'none'}>
          <div class="selection-row">
            <span class="selection-name" title={clip.clip.name}>{clip.clip.name}</span>
            <button type="button" class="icon-button" aria-label="Clear the chosen clip" title="Clear the chosen clip" data-testid="clip-clear" disabled={disabled}
              onClick={props.onClear}>×</button>
          </div>
          <div class="muted" data-testid="clip-facts">{clipFacts(clip.clip)}</div>
          <div class="muted" data-testid="clip-frames" title="Browsers do not tell a clip's frame rate: the count assumes 30 frames a second.">{framesText(clip.clip)}</div>
          {props.fit?.warning && <p class="help error-text" role="alert" data-testid="clip-too-large">{props.fit.warning}</p>}
        </div>
      )}
      {clip.state === 'reading' && <p class="muted" data-testid="clip-reading">Reading “{clip.name}”…</p>}
      {clip.state === 'refused' && <p class="help error-text" role="alert" data-testid="clip-problem">{clip.message}</p>}
      <div class="actions clip-actions">
        <label class={`secondary small file-button${disabled ? ' disabled' : ''}`}>
          {clip.state === 'chosen' ? 'Choose another clip…' : 'Choose a clip…'}
          <input type="file" class="visually-hidden" accept={CLIP_ACCEPT} data-testid="clip-input" disabled={disabled}
            onChange={(e) => {
              const input = e.currentTarget;
              const file = input.files?.[0];
              // Cleared so that choosing the same file again (after fixing it on disk) is a change too.
              input.value = '';
              if (file) props.onChoose(file);
            }} />
        </label>
        {clip.state === 'none' && <span class="muted">MP4, MOV or WebM, up to 100 MB</span>}
      </div>
      {where && <p class="help" data-testid="clip-where">{where}</p>}
    </div>
  );
}
