export function ProgressBar(props: { text: string; fraction: number; testId?: string; label?: string }) {
  const percent = Math.round(Math.min(1, Math.max(0, props.fraction)) * 100);
  return (
    <div class="progress" data-testid={props.testId ?? 'progress'} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}
      aria-valuetext={`${props.text}, ${percent}%`} aria-label={props.label ?? 'Progress'}>
      <div class="progress-text">
        <span class="progress-stage" title={props.text}>{props.text}</span>
        <span class="muted">{percent}%</span>
      </div>
      <div class="progress-track">
        <div class="progress-fill" style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}
