// A collapsible section in Figma's style: a native <details>, so Tab/Enter/Space work without extra code.
import type { ComponentChildren } from 'preact';

export function Section(props: { title: string; testId?: string; open?: boolean; children: ComponentChildren }) {
  return (
    <details class="section" data-testid={props.testId} open={props.open}>
      <summary class="section-title">{props.title}</summary>
      <div class="section-body">{props.children}</div>
    </details>
  );
}
