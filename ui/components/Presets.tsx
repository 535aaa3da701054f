import type { Params } from '../../worker/job.ts';
import type { TaskPreset } from '../../worker/tasks/task.ts';

/**
 * The task's presets as a row of chips above its settings: one click sets every param the preset names. The chip whose
 * params are all current is shown pressed; one that the selection cannot take (a scale too large for the host) is
 * disabled and says why.
 */
export function Presets(props: { presets: TaskPreset[]; values: Params; disabled: boolean; unavailable?(preset: TaskPreset): string | null; onApply(params: Params): void }) {
  return (
    <div class="presets" role="group" aria-label="Presets" data-testid="presets">
      {props.presets.map((preset) => {
        const active = Object.entries(preset.params).every(([k, v]) => props.values[k] === v);
        const why = props.unavailable?.(preset) ?? null;
        return (
          <button key={preset.label} type="button" class={`chip${active ? ' selected' : ''}`} aria-pressed={active}
            disabled={props.disabled || why !== null} title={why ?? preset.help}
            data-testid={`preset-${preset.label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`}
            onClick={() => props.onApply(preset.params)}>{preset.label}</button>
        );
      })}
    </div>
  );
}
