import type { CatalogueEntryView } from '../official-models.ts';
import { licenceBadge } from '../install-format.ts';

/** Whether an official model may be used for commercial work, at a glance ("NON-COMMERCIAL" stands out). */
export function LicenceBadge(props: { license: CatalogueEntryView['license'] }) {
  const badge = licenceBadge(props.license);
  return <span class={`badge ${badge.tone}`} data-testid="licence-badge" title={badge.title}>{badge.text}</span>;
}
