import type { Capabilities, ModelStatus } from '../../worker/engine-api.ts';
import type { TaskInfo } from '../../worker/tasks/task.ts';
import { formatMB, modelName } from '../format.ts';
import { Disclosure } from './Disclosure.tsx';
import { modelBytes, TestBadge } from './ModelPicker.tsx';

export function ModelManager(props: {
  models: ModelStatus[];
  capabilities: Capabilities | null;
  /** To name a model's task as the Task menu does. */
  tasks?: TaskInfo[];
  busy: boolean;
  onClear(ids?: string[]): void;
  onRefresh(): void;
}) {
  const cachedBytes = props.models.reduce((sum, m) => sum + (m.cached ? m.cachedBytes || modelBytes(m) : 0), 0);
  const taskLabel = (task: string) => props.tasks?.find((t) => t.id === task || t.modelTask === task)?.label ?? task;
  const caps = props.capabilities;
  return (
    <div class="models">
      <h3 class="subheading">In this plugin</h3>
      {props.models.length === 0 && <p class="muted">No models yet: Frontier is still starting.</p>}
      <ul class="model-list">
        {props.models.map((m) => (
          <li key={m.card.id}>
            <div class="model-main">
              <span class="model-label">{modelName(m.card)}</span>
              {m.card.variant === 'tiny' && <TestBadge />}
              <div class="muted">
                {taskLabel(m.card.task)} · {formatMB(modelBytes(m))} MB · {m.cached ? 'downloaded' : 'not downloaded'}{m.loaded ? ' · ready in memory' : ''}
              </div>
            </div>
            <button type="button" class="secondary small" disabled={props.busy || (!m.cached && !m.loaded)}
              aria-label={`Clear ${m.card.label}`} title="Remove its download from this computer" onClick={() => props.onClear([m.card.id])}>Clear</button>
          </li>
        ))}
      </ul>
      <div class="actions">
        <button type="button" class="secondary" disabled={props.busy} onClick={() => props.onClear()}>
          Clear all{cachedBytes ? ` (${formatMB(cachedBytes)} MB)` : ''}
        </button>
        <button type="button" class="secondary" disabled={props.busy} onClick={props.onRefresh}>Refresh</button>
      </div>
      {caps && (
        <>
          <p class="help" data-testid="models-storage">
            {caps.cache.available ? 'Downloaded models stay on this computer until you clear them.' : 'Downloaded models stay in the browser’s cache: it may drop them, and they download again.'}
          </p>
          <Disclosure label="Technical details" testId="engine-details">
            <dl class="caps">
              <dt>Model storage</dt>
              <dd>{caps.cache.available ? 'Cache API' : 'HTTP cache'} — {caps.cache.detail}</dd>
              <dt>WebGPU</dt>
              <dd>{caps.webgpu.available ? 'available' : 'unavailable'} — {caps.webgpu.detail}</dd>
              <dt>WASM</dt>
              <dd>{caps.wasm.threads} thread{caps.wasm.threads === 1 ? '' : 's'}
                {caps.wasm.crossOriginIsolated ? ', cross-origin isolated' : ''} — {caps.wasm.detail}</dd>
            </dl>
          </Disclosure>
        </>
      )}
    </div>
  );
}
