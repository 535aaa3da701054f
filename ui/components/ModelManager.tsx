import type { Capabilities, ModelStatus } from '../../worker/engine-api.ts';
import { formatMB } from '../format.ts';
import { modelBytes, TestBadge } from './ModelPicker.tsx';

export function ModelManager(props: {
  models: ModelStatus[];
  capabilities: Capabilities | null;
  busy: boolean;
  onClear(ids?: string[]): void;
  onRefresh(): void;
}) {
  const cachedBytes = props.models.reduce((sum, m) => sum + (m.cached ? m.cachedBytes || modelBytes(m) : 0), 0);
  return (
    <div class="models">
      <h3 class="subheading">In this plugin</h3>
      {props.models.length === 0 && <p class="muted">No models: the engine has not loaded the registry yet.</p>}
      <ul class="model-list">
        {props.models.map((m) => (
          <li key={m.card.id}>
            <div class="model-main">
              <span class="model-label">{m.card.label}</span>
              {m.card.variant === 'tiny' && <TestBadge />}
              <div class="muted">
                {m.card.task} · {formatMB(modelBytes(m))} MB · {m.cached ? 'cached' : 'not cached'}{m.loaded ? ' · loaded' : ''}
              </div>
            </div>
            <button type="button" class="secondary small" disabled={props.busy || (!m.cached && !m.loaded)}
              aria-label={`Clear ${m.card.label}`} onClick={() => props.onClear([m.card.id])}>Clear</button>
          </li>
        ))}
      </ul>
      <div class="actions">
        <button type="button" class="secondary" disabled={props.busy} onClick={() => props.onClear()}>
          Clear all{cachedBytes ? ` (${formatMB(cachedBytes)} MB)` : ''}
        </button>
        <button type="button" class="secondary" disabled={props.busy} onClick={props.onRefresh}>Refresh</button>
      </div>
      {props.capabilities && (
        <dl class="caps">
          <dt>Cache</dt>
          <dd>{props.capabilities.cache.available ? 'available' : 'unavailable'} — {props.capabilities.cache.detail}</dd>
          <dt>WebGPU</dt>
          <dd>{props.capabilities.webgpu.available ? 'available' : 'unavailable'} — {props.capabilities.webgpu.detail}</dd>
          <dt>WASM</dt>
          <dd>{props.capabilities.wasm.threads} thread{props.capabilities.wasm.threads === 1 ? '' : 's'}
            {props.capabilities.wasm.crossOriginIsolated ? ', cross-origin isolated' : ''} — {props.capabilities.wasm.detail}</dd>
        </dl>
      )}
    </div>
  );
}
