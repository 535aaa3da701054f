import type { SelectionSummary } from '../../plugin/messages.ts';

const SHOWN = 3;

/** `together`: the task uses the selected items in one run (In-betweens, Variations…), not each in turn. */
export function SelectionPanel({ selection, together = false, note }: { selection: SelectionSummary; together?: boolean; note?: string }) {
  const { items, problem } = selection;
  return (
    <div class="panel selection" data-testid="selection" aria-live="polite">
      {items.length === 0 ? (
        <p class="muted">{problem ?? 'Select an image, frame or layer to start.'}</p>
      ) : (
        <>
          <div class="selection-count">
            {items.length === 1 ? '1 item selected' : `${items.length} items selected — ${together ? 'used together in one run' : 'each runs in turn'}`}
          </div>
          <ul class="selection-list">
            {items.slice(0, SHOWN).map((it) => (
              <li key={it.nodeId}>
                <div class="selection-row">
                  <span class="selection-name" title={it.name}>{it.name}</span>
                  <span class="muted nowrap">{it.width} × {it.height}</span>
                </div>
                {/* On a line of its own: beside the name it cut the name short ("astronaut.png (re…"). */}
                {it.mask && <div class="muted" data-testid="selection-mask" title={`Inpaint fills ${it.mask.label}`}>◩ {it.mask.label}</div>}
              </li>
            ))}
            {items.length > SHOWN && <li class="muted">+ {items.length - SHOWN} more</li>}
          </ul>
          {problem && <p class="muted">{problem}</p>}
          {note && <p class="help" data-testid="selection-note">{note}</p>}
        </>
      )}
    </div>
  );
}
