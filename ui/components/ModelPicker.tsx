import type { ModelStatus } from '../../worker/engine-api.ts';
import { formatMB } from '../format.ts';

export const TEST_MODEL_BADGE = 'TEST MODEL (random weights)';

export function modelBytes(m: ModelStatus): number {
  return m.card.files.reduce((sum, f) => sum + f.bytes, 0);
}

export function TestBadge() {
  return <span class="badge warn" title="Real architecture with random weights, for tests: results are noise.">{TEST_MODEL_BADGE}</span>;
}

/** Why a model cannot serve the chosen params (e.g. its scale differs), or null. */
export function modelMismatch(m: ModelStatus, scale: number | undefined): string | null {
  return scale !== undefined && m.card.io.scale !== scale ? `×${m.card.io.scale} only` : null;
}

export function ModelPicker(props: { models: ModelStatus[]; value: string; scale?: number; disabled: boolean; onChange(id: string): void }) {
  const selected = props.models.find((m) => m.card.id === props.value);
  return (
    <div class="field">
      <label class="field-label" for="model-select">Model</label>
      <select id="model-select" data-testid="model-select" disabled={props.disabled} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="" selected={props.value === ''}>Automatic (best for the target)</option>
        {props.models.map((m) => {
          const mismatch = modelMismatch(m, props.scale);
          const parts = [m.card.label, `${formatMB(modelBytes(m))} MB`];
          if (m.cached) parts.push('cached');
          if (m.card.variant === 'tiny') parts.push(TEST_MODEL_BADGE);
          if (mismatch) parts.push(mismatch);
          return (
            <option key={m.card.id} value={m.card.id} selected={m.card.id === props.value} disabled={mismatch !== null}>{parts.join(' · ')}</option>
          );
        })}
      </select>
      {selected && (
        <p class="help">
          {selected.card.variant === 'tiny' && <TestBadge />} {selected.card.notes ?? selected.card.description}
        </p>
      )}
    </div>
  );
}
