import type { JobSpec } from '../queue.ts';
import { jobDetails, jobLine } from '../queue.ts';

/** The jobs set up to run after the running one, in order: each can be taken out (×), or all of them (Clear queue). */
export function QueueList(props: { jobs: JobSpec[]; modelLabel(id: string): string; onRemove(id: number): void; onClear(): void }) {
  if (!props.jobs.length) return null;
  return (
    <section class="queue" data-testid="queue" aria-label="Queued jobs">
      <div class="queue-head">
        <span class="queue-title">Next</span>
        <span class="muted">{props.jobs.length === 1 ? '1 queued' : `${props.jobs.length} queued`}</span>
        <button type="button" class="link-button queue-clear" data-testid="queue-clear" onClick={props.onClear}>Clear queue</button>
      </div>
      <ol class="queue-list">
        {props.jobs.map((job, i) => {
          const line = jobLine(job);
          return (
            <li key={job.id} class="queue-entry" data-testid="queue-entry" data-job={job.id} title={jobDetails(job, props.modelLabel)}>
              <span class="queue-index" aria-hidden="true">{i + 1}</span>
              <span class="queue-words" data-testid="queue-words">{line}</span>
              <button type="button" class="icon-button queue-remove" data-testid="queue-remove" aria-label={`Remove ${line} from the queue`}
                onClick={() => props.onRemove(job.id)}>×</button>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
