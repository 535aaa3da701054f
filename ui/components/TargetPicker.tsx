import type { Target } from '../../worker/job.ts';

const TARGETS: { value: Target; label: string }[] = [
  { value: 'auto', label: 'Auto' },
  { value: 'webgpu', label: 'WebGPU (this device’s GPU)' },
  { value: 'wasm', label: 'WASM (CPU)' },
  { value: 'server', label: 'Server' },
];

export interface TargetStatus {
  /** Text shown under the picker: the engine's reason, or why the forced target cannot work. */
  text: string;
  ok: boolean;
}

export function TargetPicker(props: { value: Target; status: TargetStatus | null; disabled: boolean; onChange(t: Target): void }) {
  return (
    <div class="field">
      <label class="field-label" for="target-select">Run on</label>
      <select id="target-select" data-testid="target-select" disabled={props.disabled} aria-describedby="target-reason"
        onChange={(e) => props.onChange(e.currentTarget.value as Target)}>
        {TARGETS.map((t) => (
          <option key={t.value} value={t.value} selected={t.value === props.value}>{t.label}</option>
        ))}
      </select>
      <p id="target-reason" data-testid="target-reason" class={props.status && !props.status.ok ? 'help error-text' : 'help'} role={props.status && !props.status.ok ? 'alert' : undefined}>
        {props.status?.text ?? ' '}
      </p>
    </div>
  );
}
