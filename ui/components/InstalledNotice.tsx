/** After an install from a task's notice: the task now uses the real model. */
export function InstalledNotice(props: { taskLabel: string; modelLabel: string; onDismiss(): void }) {
  return (
    <div class="notice ok" data-testid="installed-notice" role="status">
      <div class="message-row">
        <p class="message-text">Installed: {props.taskLabel} now uses {props.modelLabel}.</p>
        <button type="button" class="icon-button" aria-label="Dismiss" onClick={props.onDismiss}>×</button>
      </div>
    </div>
  );
}
