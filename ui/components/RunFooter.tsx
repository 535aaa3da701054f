import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { HostInfo } from '../../plugin/messages.ts';
import type { ItemResult } from '../batch.ts';
import type { HistoryEntry } from '../history.ts';
import type { Problem, Shown } from '../model.ts';
import { fractionAt, remainingText } from '../progress.ts';
import type { JobSpec } from '../queue.ts';
import { jobLine } from '../queue.ts';
import { ErrorPanel } from './ErrorPanel.tsx';
import type { ErrorAction } from './ErrorPanel.tsx';
import { ProgressBar } from './ProgressBar.tsx';
import { QueueList } from './QueueList.tsx';
import { ResultPreview } from './ResultPreview.tsx';
import { ResultsHistory } from './ResultsHistory.tsx';
import { SamplingPreview } from './SamplingPreview.tsx';

/** A clock that ticks while `active` (the time left counts down between progress reports). */
function useNow(active: boolean, everyMs = 500): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [active, everyMs]);
  return now;
}

export interface RunFooterProps {
  /** The job running now, its progress, and whether Cancel was pressed. */
  running: JobSpec | null;
  progress: Shown | null;
  cancelling: boolean;
  queue: JobSpec[];
  problem: Problem | null;
  problemActions: ErrorAction[];
  result: ItemResult | null;
  hostInfo: HostInfo | null;
  /** Why the panel's job cannot start (or be queued) now; null when it can. */
  blocker: string | null;
  showBlocker: boolean;
  runEstimate: string | undefined;
  runLabel: string;
  history: HistoryEntry[];
  modelLabel(id: string): string;
  /** Set when Enter in a field starts a run: Cancel takes the focus from the field, as it does from Run. */
  cancelTakesFocus: { current: boolean };
  onRun(): void;
  onCancel(): void;
  onRemoveQueued(id: number): void;
  onClearQueue(): void;
  onDismissProblem(): void;
  onDismissResult(): void;
  onShowResult(nodeId: string): void;
  onUseSettings(entry: HistoryEntry): void;
}

/** The primary action stays in view: Run, or the job's progress, time left, Cancel and Add to queue, then the queued
 *  jobs, then what the last run made. */
export function RunFooter(props: RunFooterProps) {
  const { progress, cancelling, problem, result, blocker } = props;
  const running = props.running !== null;
  const runButton = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  /** What a run left in the footer (its result, or its message): focus goes there when Run cannot take it. */
  const outcomeRef = useRef<HTMLDivElement>(null);

  // Keyboard focus is never dropped to <body> by a run. Run and Cancel are one button that changes with the run (Preact
  // keeps the element), so focus on it stays; Cancel stays focusable while cancelling (aria-disabled, not disabled).
  // A control that goes away or is disabled hands focus to Cancel; when the run ends, to Run, or, when Run cannot be
  // used then (the selection went away meanwhile), to what the run left: the result or the message.
  // A layout effect, so focus moves before the browser blurs the disabled control. Not while the designer is elsewhere.
  useLayoutEffect(() => {
    if (!document.hasFocus()) return;
    // Enter in a field started it: the field stays usable (the next job is set up there), Cancel takes the keyboard.
    const fromField = props.cancelTakesFocus.current;
    props.cancelTakesFocus.current = false;
    if (running && fromField) {
      cancelButton.current?.focus();
      return;
    }
    const active = document.activeElement as (Element & { disabled?: boolean }) | null;
    if (active && active !== document.body && active.disabled !== true) return;
    if (running) cancelButton.current?.focus();
    else if (runButton.current && !runButton.current.disabled) runButton.current.focus();
    else outcomeRef.current?.focus();
  }, [running]);

  /** Dismissing a message or the result card: the focus in it goes to Run instead of dropping to <body> with it. */
  const dismissing = (clear: () => void) => () => {
    if (outcomeRef.current?.contains(document.activeElement) && runButton.current && !runButton.current.disabled) runButton.current.focus();
    clear();
  };

  const now = useNow(running);
  const shownAt = progress?.at !== undefined ? Math.max(now, progress.at) : now;
  const barFraction = progress && progress.at !== undefined && progress.speed !== undefined && progress.cap !== undefined
    ? fractionAt({ fraction: progress.fraction, at: progress.at, speed: progress.speed, cap: progress.cap }, shownAt)
    : (progress?.fraction ?? 0);
  const eta = progress && !cancelling ? remainingText(progress.finishAt, shownAt) : undefined;
  const videoJob = props.running?.task.inputs.includes('video') ?? false;

  return (
    <footer class="run-footer" data-testid="run-footer" aria-label="Run">
      {(problem || (result && !running)) && (
        <div class="run-outcome" ref={outcomeRef} tabIndex={-1} data-testid="run-outcome">
          {problem && <ErrorPanel message={problem.message} code={problem.code} tone={problem.tone} actions={props.problemActions} onDismiss={dismissing(props.onDismissProblem)} />}
          {result && !running && <ResultPreview result={result} hostName={props.hostInfo?.name} onDismiss={dismissing(props.onDismissResult)} />}
        </div>
      )}
      {/* With jobs waiting, which one runs now: the queue's Next follows it. */}
      {props.running && props.queue.length > 0 && (
        <div class="queue-head queue-now" data-testid="queue-now">
          <span class="queue-title">Now</span>
          <span class="queue-words">{jobLine(props.running)}</span>
        </div>
      )}
      {progress && (
        <div class="run-progress">
          {progress.preview && <SamplingPreview image={progress.preview} frame={videoJob} />}
          <ProgressBar text={cancelling ? 'Cancelling…' : progress.text} fraction={barFraction} eta={eta} />
        </div>
      )}
      <QueueList jobs={props.queue} modelLabel={props.modelLabel} onRemove={props.onRemoveQueued} onClear={props.onClearQueue} />
      {props.showBlocker && <p class="help run-blocker" data-testid="run-blocker">{blocker}</p>}
      {!running && !props.showBlocker && props.runEstimate && <p class="help run-estimate" data-testid="run-estimate">{props.runEstimate}</p>}
      <div class={`run-row${running ? ' running' : ''}`}>
        {running ? (
          <button type="button" ref={cancelButton} class="primary danger" data-testid="cancel" onClick={props.onCancel} aria-disabled={cancelling || undefined}
            aria-keyshortcuts="Escape" title="Cancel the running job (the queued ones go on)">{cancelling ? 'Cancelling…' : 'Cancel'}</button>
        ) : (
          <button type="button" ref={runButton} class="primary" data-testid="run" onClick={props.onRun} disabled={blocker !== null} aria-keyshortcuts="Enter"
            title={blocker ?? undefined}>{props.runLabel}</button>
        )}
        {/* While a job runs, the next one can be set up and queued: it runs when this one ends. */}
        {running && (
          <button type="button" class="primary queue-add" data-testid="queue-add" onClick={props.onRun} disabled={blocker !== null}
            title={blocker ?? `Add ${props.runLabel} to the queue: it runs when the current job ends`}>Add to queue</button>
        )}
        <kbd aria-hidden="true" title={running ? 'Escape cancels' : 'Enter runs'}>{running ? 'Esc' : '↵'}</kbd>
      </div>
      <ResultsHistory entries={props.history} disabled={running} onShow={props.onShowResult} onUse={props.onUseSettings} />
    </footer>
  );
}
