// The small "i" beside a label: help text stays folded until asked for, so the controls fit the plugin's window.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function useToggle(initial = false): [boolean, () => void] {
  const [open, setOpen] = useState(initial);
  return [open, () => setOpen((o) => !o)];
}

/** Toggles the element `controls` (render it with hidden={!open}). */
export function InfoButton(props: { open: boolean; onToggle(): void; controls: string; about: string; testId?: string }) {
  return (
    <button type="button" class={`info-button${props.open ? ' open' : ''}`} aria-expanded={props.open} aria-controls={props.controls}
      aria-label={`About ${props.about}`} title={props.open ? 'Hide the explanation' : `About ${props.about}`} data-testid={props.testId}
      onClick={props.onToggle}>i</button>
  );
}

/** A field label with an info button when there is help to show. */
export function LabelRow(props: { children: ComponentChildren; info?: { open: boolean; onToggle(): void; controls: string; about: string; testId?: string } }) {
  return (
    <div class="label-row">
      {props.children}
      {props.info && <InfoButton {...props.info} />}
    </div>
  );
}
