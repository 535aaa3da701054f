import type { TaskInfo } from '../../worker/tasks/task.ts';
import { formatSize, stateText, whatItMakes, whereItRuns } from '../install-format.ts';
import type { CatalogueEntryView, OfficialActions, OfficialState } from '../official-models.ts';
import { Disclosure } from './Disclosure.tsx';
import { InstallControls } from './InstallControls.tsx';
import { LicenceBadge } from './LicenceBadge.tsx';

/** One official model in the manager: what it is and makes, where it runs, its size, licence and state, and actions. */
export function OfficialModelEntry(props: { entry: CatalogueEntryView; tasks: Pick<TaskInfo, 'label' | 'modelTask'>[]; official: OfficialState; actions: OfficialActions }) {
  const { entry, official } = props;
  const run = official.runs[entry.id];
  const state = run ? 'installing' : entry.state;
  const size = entry.installed?.bytes ?? entry.download.bytes;
  const facts = [whatItMakes(entry, props.tasks), `runs ${whereItRuns(entry)}`, ...(size && entry.state !== 'installed' ? [`${formatSize(size)} download`] : [])];
  const titleId = `official-title-${entry.id}`;
  return (
    <li class="official-entry" data-testid={`official-${entry.id}`} data-state={state} aria-labelledby={titleId}>
      <div class="official-head">
        <span class="model-label" id={titleId}>{entry.label}</span>
        <LicenceBadge license={entry.license} />
      </div>
      <p class="muted">{facts.join(' · ')}</p>
      <p class={`official-state ${state}`} data-testid="official-state">
        {stateText(entry, run)}
        {entry.installed && !entry.installed.verified && !run && <span class="muted" data-testid="unverified"> · unverified: no published checksum</span>}
      </p>
      <InstallControls entry={entry} run={run} failure={official.failures[entry.id]} accepted={!!official.accepted[entry.id]}
        removing={!!official.removing[entry.id]} actions={props.actions} />
      {!(entry.license.acceptBeforeDownload && entry.state !== 'installed') && (
        <Disclosure label="Licence" testId="licence">
          <p class="help">{entry.license.summary} <a href={entry.license.url} target="_blank" rel="noopener noreferrer">Read the licence</a></p>
        </Disclosure>
      )}
    </li>
  );
}
