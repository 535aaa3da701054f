import type { ComponentChildren } from 'preact';

export interface ErrorAction {
  label: string;
  run(): void;
}

export function ErrorPanel(props: { message: string; tone: 'error' | 'neutral'; actions?: ErrorAction[]; onDismiss(): void; children?: ComponentChildren }) {
  return (
    <div class={`panel message ${props.tone}`} data-testid="error" data-tone={props.tone} role={props.tone === 'error' ? 'alert' : 'status'}>
      <div class="message-row">
        <p class="message-text">{props.message}</p>
        <button type="button" class="icon-button" aria-label="Dismiss" onClick={props.onDismiss}>×</button>
      </div>
      {props.children}
      {props.actions && props.actions.length > 0 && (
        <div class="actions">
          {props.actions.map((a) => (
            <button key={a.label} type="button" class="secondary" onClick={a.run}>{a.label}</button>
          ))}
        </div>
      )}
    </div>
  );
}
