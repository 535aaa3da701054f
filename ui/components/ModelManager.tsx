import type { Capabilities, ModelStatus } from '../../worker/engine-api.ts';
import type { TaskInfo } from '../../worker/tasks/task.ts';
import { formatMB, modelName } from '../format.ts';
import { Disclosure } from './Disclosure.tsx';
import { modelBytes, TestBadge } from './ModelPicker.tsx';

/**
 * The models this window can use, where each one is kept, and what can be freed. Where the window can keep files (the
 * Cache API), a model used once is saved here: Clear removes it and frees its memory. Where it cannot (Figma's plugin
 * window and the playground are opaque origins), every model comes from the Frontier server when it loads: nothing
 * here takes disk space, and Unload frees the memory a loaded model holds. The server's own files are the official
 * models installed on it, removed in the list above.
 */
export function ModelManager(props: {
  models: ModelStatus[];
  capabilities: Capabilities | null;
  /** To name a model's task as the Task menu does. */
  tasks?: TaskInfo[];
  /** The Frontier server the models come from (named where this window keeps nothing). */
  serverUrl?: string;
  busy: boolean;
  onClear(ids?: string[]): void;
  onRefresh(): void;
}) {
  const caps = props.capabilities;
  const keeps = caps?.cache.available ?? true;
  // A larger-tile build (MAXIM's 256-px graphs for the server) is the same model as its card, not one to manage here.
  const models = props.models.filter((m) => m.card.role !== 'large-tiles');
  const savedBytes = models.reduce((sum, m) => sum + (m.cached ? m.cachedBytes || modelBytes(m) : 0), 0);
  const loaded = models.filter((m) => m.loaded);
  const memoryBytes = loaded.reduce((sum, m) => sum + modelBytes(m), 0);
  const taskLabel = (task: string) => props.tasks?.find((t) => t.id === task || t.modelTask === task)?.label ?? task;
  const where = (m: ModelStatus) => (keeps ? (m.cached ? 'saved on this computer' : 'not saved yet') : 'loads from the Frontier server');
  const server = props.serverUrl ? serverName(props.serverUrl) : 'the Frontier server';
  return (
    <div class="models">
      <h3 class="subheading">In this plugin</h3>
      {models.length === 0 && <p class="muted">No models yet: Frontier is still starting.</p>}
      <ul class="model-list">
        {models.map((m) => {
          // Clear removes a saved copy (and the memory it holds); where nothing is saved, Unload frees the memory.
          const action = m.cached ? 'Clear' : 'Unload';
          return (
            <li key={m.card.id} data-testid={`model-${m.card.id}`}>
              <div class="model-main">
                <span class="model-label">{modelName(m.card)}</span>
                {m.card.variant === 'tiny' && <TestBadge />}
                <div class="muted" data-testid="model-state">
                  {taskLabel(m.card.task)} · {formatMB(modelBytes(m))} MB · {where(m)}{m.loaded ? ' · in memory' : ''}
                </div>
              </div>
              <button type="button" class="secondary small" disabled={props.busy || (!m.cached && !m.loaded)}
                aria-label={`${action} ${m.card.label}`}
                title={m.cached ? 'Remove the copy saved on this computer and free its memory' : m.loaded ? 'Free the memory it uses: it loads again when a task needs it' : 'Nothing to free: it is neither saved here nor loaded'}
                onClick={() => props.onClear([m.card.id])}>{action}</button>
            </li>
          );
        })}
      </ul>
      <p class="help" data-testid="models-storage">
        {keeps
          ? `Saved on this computer: ${formatMB(savedBytes)} MB. Models stay until you clear them.`
          : `This window can't keep files: models load from ${server} each time this window opens, so they take no space here. Official models installed on the server are removed in the list above.`}
        {loaded.length > 0 && ` In memory now: ${loaded.length} model${loaded.length === 1 ? '' : 's'}, ${formatMB(memoryBytes)} MB.`}
      </p>
      <div class="actions">
        {keeps ? (
          <button type="button" class="secondary" data-testid="clear-all" disabled={props.busy || (savedBytes === 0 && loaded.length === 0)} onClick={() => props.onClear()}>
            Clear all{savedBytes ? ` (${formatMB(savedBytes)} MB)` : ''}
          </button>
        ) : (
          <button type="button" class="secondary" data-testid="clear-all" disabled={props.busy || loaded.length === 0} onClick={() => props.onClear()}>
            Unload all{memoryBytes ? ` (${formatMB(memoryBytes)} MB)` : ''}
          </button>
        )}
        <button type="button" class="secondary" disabled={props.busy} onClick={props.onRefresh}>Refresh</button>
      </div>
      {caps && (
        <Disclosure label="Technical details" testId="engine-details">
          <dl class="caps">
            <dt>Model storage</dt>
            <dd>{caps.cache.available ? 'Cache API' : 'none in this window (the browser\'s HTTP cache may keep copies it manages itself)'} — {caps.cache.detail}</dd>
            <dt>WebGPU</dt>
            <dd>{caps.webgpu.available ? 'available' : 'unavailable'} — {caps.webgpu.detail}</dd>
            <dt>WASM</dt>
            <dd>{caps.wasm.threads} thread{caps.wasm.threads === 1 ? '' : 's'}
              {caps.wasm.crossOriginIsolated ? ', cross-origin isolated' : ''} — {caps.wasm.detail}</dd>
          </dl>
        </Disclosure>
      )}
    </div>
  );
}

/** "the Frontier server on this computer" for loopback, else "the Frontier server at host". */
function serverName(url: string): string {
  try {
    const host = new URL(url).hostname;
    return /^(127\.|localhost$|\[::1\]$)/.test(host) ? 'the Frontier server on this computer' : `the Frontier server at ${host}`;
  } catch {
    return 'the Frontier server';
  }
}
