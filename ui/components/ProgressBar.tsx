export function ProgressBar(props: { text: string; fraction: number; testId?: string; label?: string; eta?: string }) {
  const percent = Math.round(Math.min(1, Math.max(0, props.fraction)) * 100);
  const testId = props.testId ?? 'progress';
  return (
    <div class="progress" data-testid={testId} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}
      aria-valuetext={`${props.text}, ${percent}%`} aria-label={props.label ?? 'Progress'} aria-describedby={props.eta ? `${testId}-eta` : undefined}>
      <div class="progress-text">
        <span class="progress-stage" title={props.text}>{props.text}</span>
        <span class="muted">{percent}%</span>
      </div>
      <div class="progress-track">
        <div class="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      {props.eta && <div class="progress-eta muted" id={`${testId}-eta`} data-testid={`${testId}-eta`}>{props.eta}</div>}
    </div>
  );
}
