import type { HistoryEntry } from '../history.ts';
import { clockTime } from '../history.ts';
import { formatSeconds } from '../format.ts';
import { Disclosure } from './Disclosure.tsx';

/** The session's results, folded behind "Results (N)" so the footer keeps Run in view: click one to see it in the
 *  document; "Use these settings" sets its task and settings back. */
export function ResultsHistory(props: { entries: HistoryEntry[]; disabled?: boolean; onShow(nodeId: string): void; onUse(entry: HistoryEntry): void }) {
  const { entries } = props;
  if (!entries.length) return null;
  return (
    <Disclosure label={`Results (${entries.length})`} testId="results">
      <ol class="history" data-testid="results-list">
        {entries.map((e) => {
          const where = `${formatSeconds(e.ms)} on ${e.where} · ${clockTime(e.at)}`;
          const state = e.removed ? 'Removed' : e.nodeId ? null : 'Not placed';
          return (
            <li key={e.id} class={`history-entry${e.removed ? ' removed' : ''}`} data-testid="results-entry" data-node={e.nodeId ?? ''} data-removed={e.removed ? 'true' : 'false'}>
              <button type="button" class="history-show" data-testid="results-show" disabled={!e.nodeId || e.removed}
                title={state ? `${e.words}: ${state === 'Removed' ? 'no longer in the document (undone or deleted)' : 'not placed'}` : `Show “${e.words}” in the document`}
                onClick={() => e.nodeId && props.onShow(e.nodeId)}>
                {e.thumb ? <img class="history-thumb" src={e.thumb} alt="" /> : <span class="history-thumb placeholder" aria-hidden="true">{e.video ? '▶' : ''}</span>}
                <span class="history-text">
                  <span class="history-words" data-testid="results-words">{e.words}</span>
                  <span class="history-meta muted">{state ? <strong data-testid="results-state">{state}</strong> : null}{state ? ' · ' : ''}{where}</span>
                </span>
              </button>
              <button type="button" class="link-button" data-testid="results-use" disabled={props.disabled} onClick={() => props.onUse(e)}
                aria-label={`Use these settings: ${e.words}`}>Use these settings</button>
            </li>
          );
        })}
      </ol>
    </Disclosure>
  );
}
