import type { CatalogueEntryView } from '../official-models.ts';
import { Disclosure } from './Disclosure.tsx';

/** Official models not installable yet, in one folded list: known, but not offered. */
export function ComingLater(props: { entries: CatalogueEntryView[] }) {
  return (
    <Disclosure label={`Coming later (${props.entries.length})`} testId="official-later">
      <ul class="later-list">
        {props.entries.map((e) => (
          // The server's reason is written for developers (which exporter is missing): a tooltip, not the text.
          <li key={e.id} data-testid={`official-${e.id}`} data-state="later" title={e.reason}>
            {e.familyLabel} · {e.label}
          </li>
        ))}
      </ul>
    </Disclosure>
  );
}
