import type { ModelStatus } from '../../worker/engine-api.ts';
import { isTtvsrEntry } from '../../worker/video/ttvsr-card.ts';
import { formatMB, modelName, TEST_MODEL } from '../format.ts';
import { LabelRow, useToggle } from './InfoButton.tsx';

/** The badge of a random-weight test model: the one way such a model is named, wherever it shows. */
export const TEST_MODEL_BADGE = TEST_MODEL;

/** The bytes of one card's files. */
export function modelBytes(m: ModelStatus): number {
  return m.card.files.reduce((sum, f) => sum + f.bytes, 0);
}

/**
 * What a designer downloads to use the model `m`: for a pipeline offered by one part (TTVSR by its reconstruct part,
 * VQ-Diffusion by its transformer), every part's files, found in `all`; else the card's own.
 */
export function pipelineBytes(m: ModelStatus, all: ModelStatus[]): number {
  const ids = m.card.pipeline ? Object.entries(m.card.pipeline).flatMap(([key, id]) => (key === 'id' ? [] : [id])) : [];
  if (!ids.includes(m.card.id)) return modelBytes(m);
  return ids.reduce((sum, id) => {
    const part = id === m.card.id ? m : all.find((o) => o.card.id === id);
    return sum + (part ? modelBytes(part) : 0);
  }, 0);
}

export function TestBadge() {
  return <span class="badge warn" data-testid="test-badge" title="Random weights, for tests: its results are noise.">{TEST_MODEL_BADGE}</span>;
}

/** Why a model cannot serve the chosen params (e.g. its scale differs), or null. */
export function modelMismatch(m: ModelStatus, scale: number | undefined): string | null {
  return scale !== undefined && m.card.io.scale !== scale ? `made for ×${m.card.io.scale}` : null;
}

/** One option's text: the model's name, its size (a pipeline's: all its parts, from `all`), and whether it is
 *  downloaded or a test model. */
export function modelOptionText(m: ModelStatus, all: ModelStatus[] = [m]): string {
  const parts = [modelName(m.card), `${formatMB(pipelineBytes(m, all))} MB`];
  // A video model that looks at neighbouring frames (TTVSR) upscales ×4 only.
  if (isTtvsrEntry(m.card)) parts.splice(1, 0, `temporal: uses neighbouring frames, ×${m.card.io.scale} only`);
  if (m.cached) parts.push('downloaded');
  if (m.card.variant === 'tiny') parts.push(`${TEST_MODEL.toLowerCase()}, results are noise`);
  return parts.join(' · ');
}

/** `all`: every model (a pipeline's size counts its other parts, which the task's own list leaves out). */
export function ModelPicker(props: { models: ModelStatus[]; all?: ModelStatus[]; value: string; scale?: number; disabled: boolean; onChange(id: string): void }) {
  const [open, toggle] = useToggle();
  const selected = props.models.find((m) => m.card.id === props.value);
  // Models for another scale are not offered: the Scale choice above picks among them.
  const offered = props.models.filter((m) => modelMismatch(m, props.scale) === null);
  const about = selected ? selected.card.description : undefined;
  return (
    <div class="field">
      <LabelRow info={about ? { open, onToggle: toggle, controls: 'model-about', about: modelName(selected!.card), testId: 'model-info' } : undefined}>
        <label class="field-label" for="model-select">Model</label>
        {selected?.card.variant === 'tiny' && <TestBadge />}
      </LabelRow>
      <select id="model-select" data-testid="model-select" disabled={props.disabled} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="" selected={props.value === ''}>Automatic (recommended)</option>
        {offered.map((m) => (
          <option key={m.card.id} value={m.card.id} selected={m.card.id === props.value}>{modelOptionText(m, props.all ?? props.models)}</option>
        ))}
      </select>
      {about && (
        <div class="help" id="model-about" data-testid="model-about" hidden={!open}>
          <p>{about}</p>
          {selected?.card.notes && <p class="detail">{selected.card.notes}</p>}
        </div>
      )}
    </div>
  );
}
