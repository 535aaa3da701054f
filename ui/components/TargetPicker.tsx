import type { ResolvedTarget, Target } from '../../worker/job.ts';
import { InfoButton, useToggle } from './InfoButton.tsx';

const TARGETS: { value: Target; label: string }[] = [
  { value: 'auto', label: 'Automatic (fastest available)' },
  { value: 'webgpu', label: 'This computer: graphics card' },
  { value: 'wasm', label: 'This computer: processor' },
  { value: 'server', label: 'Frontier server' },
];

export interface TargetStatus {
  /** One line in plain words under the picker: where the job runs, or why the forced target cannot work. */
  text: string;
  ok: boolean;
  /** The engine's own explanation, folded behind the info button. */
  detail?: string;
  /** Where the job would run. */
  target?: ResolvedTarget;
  /** Under Automatic: the better places passed over, and why, in plain words (one line each). */
  skipped?: string[];
}

export function TargetPicker(props: { value: Target; status: TargetStatus | null; disabled: boolean; onChange(t: Target): void }) {
  const [open, toggle] = useToggle();
  const status = props.status;
  return (
    <div class="field">
      <label class="field-label" for="target-select">Run on</label>
      <select id="target-select" data-testid="target-select" disabled={props.disabled} aria-describedby="target-reason"
        onChange={(e) => props.onChange(e.currentTarget.value as Target)}>
        {TARGETS.map((t) => (
          <option key={t.value} value={t.value} selected={t.value === props.value}>{t.label}</option>
        ))}
      </select>
      <div class="label-row help-row">
        <p id="target-reason" data-testid="target-reason" data-target={status?.target ?? ''} class={status && !status.ok ? 'help error-text' : 'help'}
          role={status && !status.ok ? 'alert' : undefined}>
          {status?.text ?? ' '}
        </p>
        {status?.detail && <InfoButton open={open} onToggle={toggle} controls="target-detail" about="where it runs" testId="target-info" />}
      </div>
      {status?.skipped?.map((line) => <p key={line} class="help detail" data-testid="target-skipped">{line}</p>)}
      {status?.detail && <p id="target-detail" class="help detail" data-testid="target-detail" hidden={!open}>{status.detail}</p>}
    </div>
  );
}
