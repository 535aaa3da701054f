import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';

/**
 * A small show/hide toggle inside a section (a licence, the developer route): a button with aria-expanded, not a
 * nested <details>, so the section's own summary stays the only one in it.
 */
export function Disclosure(props: { label: string; testId?: string; children: ComponentChildren }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <div class="disclosure" data-testid={props.testId}>
      <button type="button" class="disclosure-toggle" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
        <span class="disclosure-arrow" aria-hidden="true">{open ? '▾' : '▸'}</span> {props.label}
      </button>
      <div id={id} class="disclosure-body" hidden={!open}>{props.children}</div>
    </div>
  );
}
