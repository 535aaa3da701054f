import { progressText } from '../install-format.ts';
import type { OfficialActions, OfficialState } from '../official-models.ts';
import { ProgressBar } from './ProgressBar.tsx';

/**
 * Installs running, at the top of the plugin, so their progress stays in view wherever the user scrolls or whichever
 * section is folded (the one the task's own notice already shows is left out).
 */
export function InstallsInProgress(props: { official: OfficialState; actions: OfficialActions; except?: string }) {
  const running = props.official.entries.filter((e) => props.official.runs[e.id] && e.id !== props.except);
  if (running.length === 0) return null;
  return (
    <div class="installs-running" data-testid="installs-running">
      {running.map((e) => {
        const run = props.official.runs[e.id];
        const { text, fraction } = progressText(run);
        return (
          <div key={e.id} class="install-running">
            <div class="message-row">
              <p class="message-text"><strong>Installing {e.label}</strong></p>
              <button type="button" class="icon-button" aria-label={`Cancel installing ${e.label}`} title="Cancel"
                disabled={run.cancelling || run.progress.stage === 'done'} onClick={() => props.actions.cancel(e.id)}>×</button>
            </div>
            <ProgressBar text={text} fraction={fraction} testId="install-progress" label={`Installing ${e.label}`} />
          </div>
        );
      })}
    </div>
  );
}
