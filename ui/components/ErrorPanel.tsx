import type { ComponentChildren } from 'preact';
import type { ErrorCode } from '../../worker/job.ts';
import { problemWords } from '../error-words.ts';
import { Disclosure } from './Disclosure.tsx';

export interface ErrorAction {
  label: string;
  run(): void;
}

/**
 * A failure (or a neutral note, such as a cancel) in a designer's words: a headline and what to do; the error code and
 * an engine's own message, when it is an engineer's, behind a closed "Details" (ui/error-words.ts).
 */
export function ErrorPanel(props: { message: string; code?: ErrorCode; tone: 'error' | 'neutral'; actions?: ErrorAction[]; onDismiss(): void; children?: ComponentChildren }) {
  const words = props.tone === 'error' ? problemWords(props.code, props.message) : { headline: props.message };
  return (
    <div class={`panel message ${props.tone}`} data-testid="error" data-tone={props.tone} role={props.tone === 'error' ? 'alert' : 'status'}>
      <div class="message-row">
        <p class="message-text" data-testid="error-headline">{words.headline}</p>
        <button type="button" class="icon-button" aria-label="Dismiss" onClick={props.onDismiss}>×</button>
      </div>
      {words.advice && <p class="help" data-testid="error-advice">{words.advice}</p>}
      {props.children}
      {props.actions && props.actions.length > 0 && (
        <div class="actions">
          {props.actions.map((a) => (
            <button key={a.label} type="button" class="secondary" onClick={a.run}>{a.label}</button>
          ))}
        </div>
      )}
      {words.details && <ProblemDetails {...words.details} />}
    </div>
  );
}

/** The engine's side of a failure, for whoever is asked to help: its code and its own message. */
export function ProblemDetails(props: { code?: ErrorCode; raw: string }) {
  return (
    <Disclosure label="Details" testId="error-details">
      <p class="help error-raw" data-testid="error-raw">{props.raw}</p>
      {props.code && <p class="help">Error code: <code>{props.code}</code></p>}
    </Disclosure>
  );
}
