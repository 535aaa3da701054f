import type { ModelStatus } from '../../worker/engine-api.ts';
import { convertCommand, formatSize, whereItRuns } from '../install-format.ts';
import type { CatalogueEntryView, OfficialActions, OfficialState } from '../official-models.ts';
import { Disclosure } from './Disclosure.tsx';
import { InstallControls } from './InstallControls.tsx';
import { LicenceBadge } from './LicenceBadge.tsx';
import { ServerNeeded } from './ServerNeeded.tsx';

/**
 * Shown on a task whose model is a random-weight test model: says so, and offers the install of the official model
 * that replaces it right there, so nobody has to find the model manager.
 */
export function TestModelNotice(props: {
  tiny: ModelStatus;
  /** The catalogue entry that brings the real model (undefined: none listed, or no connection). */
  entry?: CatalogueEntryView;
  /** The real model, when it is installed and loaded in the model list (the test model was chosen by hand). */
  real?: ModelStatus;
  official: OfficialState;
  actions: OfficialActions;
  serverUrl: string;
  onUseReal(id: string): void;
  onReloadModels(): void;
}) {
  const { entry, official } = props;
  const size = entry?.download.bytes;
  return (
    // Enter on the notice's controls is theirs: it must not also run the task (the job panel runs on Enter).
    <div class="notice warn" data-testid="test-model-notice" role="status" onKeyDown={(e) => e.key === 'Enter' && e.stopPropagation()}>
      <p class="notice-title"><strong>Test model: results are noise — install the real one</strong></p>
      {props.real ? (
        <div class="actions">
          <span>{props.real.card.label} is installed.</span>
          <button type="button" class="secondary small" data-testid="use-real" onClick={() => props.onUseReal(props.real!.card.id)}>Use it</button>
        </div>
      ) : entry ? (
        <>
          <p class="notice-entry">
            <span class="model-label">{entry.label}</span> <LicenceBadge license={entry.license} />
            <span class="muted"> {[entry.familyLabel, `runs ${whereItRuns(entry)}`, ...(size ? [formatSize(size)] : [])].join(' · ')}</span>
          </p>
          {entry.state === 'installed' && !official.runs[entry.id] ? (
            <div class="actions">
              <span>It is installed on the server.</span>
              <button type="button" class="secondary small" data-testid="reload-models" onClick={props.onReloadModels}>Reload models</button>
            </div>
          ) : (
            <InstallControls entry={entry} run={official.runs[entry.id]} failure={official.failures[entry.id]} accepted={!!official.accepted[entry.id]}
              removing={false} installOnly actions={props.actions} />
          )}
        </>
      ) : official.connection.state === 'ready' ? (
        <p class="help">No official model for this task can be installed yet.</p>
      ) : (
        <ServerNeeded connection={official.connection} serverUrl={props.serverUrl} compact onRetry={props.actions.reload} />
      )}
      <Disclosure label="For developers">
        <p class="help" data-testid="convert-hint">
          On the computer running Frontier, with the developer tools: <code>{convertCommand(props.tiny)}</code>
        </p>
      </Disclosure>
    </div>
  );
}
