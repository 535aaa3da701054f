import type { SelectionSummary } from '../../plugin/messages.ts';

const SHOWN = 3;

export function SelectionPanel({ selection }: { selection: SelectionSummary }) {
  const { items, problem } = selection;
  return (
    <div class="panel selection" data-testid="selection" aria-live="polite">
      {items.length === 0 ? (
        <p class="muted">{problem ?? 'Select an image, frame or layer to start.'}</p>
      ) : (
        <>
          <div class="selection-count">
            {items.length === 1 ? '1 item selected' : `${items.length} items selected — each runs in turn`}
          </div>
          <ul class="selection-list">
            {items.slice(0, SHOWN).map((it) => (
              <li key={it.nodeId}>
                <span class="selection-name" title={it.mask ? `${it.name} — mask: ${it.mask.label}` : it.name}>{it.name}</span>
                {it.mask && <span class="muted nowrap" data-testid="selection-mask" title={`Inpaint fills ${it.mask.label}`}>◩ {it.mask.label}</span>}
                <span class="muted nowrap">{it.width} × {it.height}</span>
              </li>
            ))}
            {items.length > SHOWN && <li class="muted">+ {items.length - SHOWN} more</li>}
          </ul>
          {problem && <p class="muted">{problem}</p>}
        </>
      )}
    </div>
  );
}
