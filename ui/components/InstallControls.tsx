import { useRef, useState } from 'preact/hooks';
import { progressText, whyNotInstallable } from '../install-format.ts';
import type { CatalogueEntryView, InstallRun, OfficialActions } from '../official-models.ts';
import { pickedTogether } from '../../worker/runtime/install-client.ts';
import { ProgressBar } from './ProgressBar.tsx';

/**
 * What can be done with one official model, wherever it is shown (the model manager, a task's test-model notice):
 * accept its licence when it asks for that, Install (the server downloads it), Install from file… (a model file the
 * user downloaded), the progress with Cancel while installing, the server's error with Retry, Remove once installed.
 */
export function InstallControls(props: {
  entry: CatalogueEntryView;
  run?: InstallRun;
  failure?: string;
  accepted: boolean;
  removing: boolean;
  /** Without Remove (the task notice offers installing only). */
  installOnly?: boolean;
  actions: OfficialActions;
}) {
  const { entry, run, actions } = props;
  const fileInput = useRef<HTMLInputElement>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [pickProblem, setPickProblem] = useState<string | null>(null);
  // A checkpoint published as several files (GRAM: generator.pth and ema.pth) is picked as all of them at once.
  const several = entry.files.length > 1;
  const names = entry.files.join(' and ');
  const blocked = whyNotInstallable(entry);
  const needsAccept = entry.license.acceptBeforeDownload && !props.accepted;
  const acceptId = `accept-${entry.id}`;

  // Retry repeats what failed: the removal of an installed model, else the install (with the same file).
  const retry = () => (entry.state === 'installed' ? actions.remove(entry.id) : actions.retry(entry.id));
  const failure = props.failure && (
    <div class="install-failure" data-testid="install-error" role="alert">
      <p class="error-text">{props.failure}</p>
      <div class="actions">
        <button type="button" class="secondary small" data-testid="retry" onClick={retry}>Retry</button>
        <button type="button" class="secondary small" onClick={() => actions.dismissFailure(entry.id)}>Dismiss</button>
      </div>
    </div>
  );

  if (run) {
    const { text, fraction } = progressText(run);
    return (
      <div class="install-controls">
        <ProgressBar text={text} fraction={fraction} testId="install-progress" label={`Installing ${entry.label}`} />
        <div class="actions">
          <button type="button" class="secondary small" data-testid="cancel-install" disabled={run.cancelling || run.progress.stage === 'done'}
            onClick={() => actions.cancel(entry.id)}>{run.cancelling ? 'Cancelling…' : 'Cancel'}</button>
        </div>
      </div>
    );
  }

  if (entry.state === 'installed') {
    if (props.installOnly) return failure || null;
    return (
      <div class="install-controls">
        {confirmRemove ? (
          <div class="actions" role="group" aria-label={`Remove ${entry.label}?`}>
            <span>Remove the model file? You can install it again.</span>
            <button type="button" class="secondary small danger-text" data-testid="confirm-remove" disabled={props.removing}
              onClick={() => { setConfirmRemove(false); actions.remove(entry.id); }}>Remove</button>
            <button type="button" class="secondary small" onClick={() => setConfirmRemove(false)}>Keep</button>
          </div>
        ) : (
          <div class="actions">
            <button type="button" class="secondary small" data-testid="remove" disabled={props.removing}
              aria-label={`Remove ${entry.label}`} onClick={() => setConfirmRemove(true)}>{props.removing ? 'Removing…' : 'Remove'}</button>
          </div>
        )}
        {failure}
      </div>
    );
  }

  if (blocked) return <p class="help" data-testid="not-installable" title={entry.reason}>{blocked}</p>;

  return (
    <div class="install-controls">
      {entry.license.acceptBeforeDownload && (
        <div class="accept">
          <label class="checkbox">
            <input type="checkbox" id={acceptId} data-testid="accept" checked={props.accepted}
              onChange={(e) => actions.accept(entry.id, e.currentTarget.checked)} />
            <span>I accept the licence</span>
          </label>
          <p class="help">{entry.license.summary} <a href={entry.license.url} target="_blank" rel="noopener noreferrer">Read the licence</a></p>
        </div>
      )}
      {entry.install === 'file' && entry.download.url && (
        <p class="help">
          Download the model file from its page (it needs a browser), then choose it here.{' '}
          <a href={entry.download.url} target="_blank" rel="noopener noreferrer" data-testid="download-page">Open the download page</a>
        </p>
      )}
      <div class="actions">
        {entry.install === 'download' && (
          <button type="button" class="secondary small install" data-testid="install" disabled={needsAccept}
            aria-label={`Install ${entry.label}`} title={needsAccept ? 'Accept the licence first' : undefined}
            onClick={() => actions.install(entry.id)}>Install</button>
        )}
        <button type="button" class="secondary small" data-testid="install-file" disabled={needsAccept}
          aria-label={`Install ${entry.label} from ${several ? 'its model files' : 'a model file'}`}
          title={needsAccept ? 'Accept the licence first' : several ? `Choose ${names} together` : 'Choose a model file you downloaded'}
          onClick={() => fileInput.current?.click()}>Install from file…</button>
        <input ref={fileInput} type="file" multiple={several} class="visually-hidden" data-testid="install-file-input" tabIndex={-1} aria-hidden="true"
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = ''; // the same file can be chosen again (Retry after a fix)
            if (!files.length) return;
            if (files.length !== entry.files.length && several) {
              setPickProblem(`${entry.label} is ${entry.files.length} files: choose ${names} together (hold Shift or ⌘ to pick several).`);
              return;
            }
            setPickProblem(null);
            actions.install(entry.id, pickedTogether(several ? files : files.slice(0, 1)));
          }} />
      </div>
      {pickProblem && <p class="error-text" data-testid="pick-problem" role="alert">{pickProblem}</p>}
      {failure}
    </div>
  );
}
