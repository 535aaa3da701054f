import type { CatalogueEntryView } from '../official-models.ts';
import { Disclosure } from './Disclosure.tsx';

/** Official models not installable yet, in one folded list: known, but not offered. */
export function ComingLater(props: { entries: CatalogueEntryView[] }) {
  return (
    <Disclosure label={`Coming later (${props.entries.length})`} testId="official-later">
      <ul class="later-list">
        {props.entries.map((e) => (
          <li key={e.id} data-testid={`official-${e.id}`} data-state="later">
            {e.familyLabel} · {e.label}{e.reason ? <span class="muted"> — {e.reason}</span> : null}
          </li>
        ))}
      </ul>
    </Disclosure>
  );
}
