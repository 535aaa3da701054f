import type { TaskInfo } from '../../worker/tasks/task.ts';
import type { OfficialActions, OfficialState } from '../official-models.ts';
import { ComingLater } from './ComingLater.tsx';
import { OfficialModelEntry } from './OfficialModelEntry.tsx';
import { ServerNeeded } from './ServerNeeded.tsx';

/**
 * "Official models": the trained models the papers' authors published, which Frontier's server downloads (or takes
 * from a file) and prepares. Grouped by family; the ones not installable yet are listed together at the end.
 */
export function OfficialModels(props: { official: OfficialState; actions: OfficialActions; tasks: Pick<TaskInfo, 'label' | 'modelTask'>[]; serverUrl: string }) {
  const { official, actions } = props;
  const ready = official.connection.state === 'ready';
  const offered = official.entries.filter((e) => e.status === 'available');
  const later = official.entries.filter((e) => e.status !== 'available');
  const families = [...new Set(offered.map((e) => e.familyLabel))];
  return (
    <div class="official" data-testid="official-models">
      <h3 class="subheading">Official models</h3>
      <p class="help">Trained models from the authors of each paper. Installing one replaces the test model of its tasks.</p>
      <ServerNeeded connection={official.connection} serverUrl={props.serverUrl} onRetry={actions.reload} />
      {ready && official.entries.length === 0 && <p class="muted">The server lists no official models.</p>}
      {ready && families.map((family) => (
        <section key={family} class="official-family" aria-label={family}>
          <h4 class="family-label">{family}</h4>
          <ul class="official-list">
            {offered.filter((e) => e.familyLabel === family).map((e) => (
              <OfficialModelEntry key={e.id} entry={e} tasks={props.tasks} official={official} actions={actions} />
            ))}
          </ul>
        </section>
      ))}
      {ready && later.length > 0 && <ComingLater entries={later} />}
    </div>
  );
}
