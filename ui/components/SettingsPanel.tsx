import { useEffect, useState } from 'preact/hooks';
import type { HostName, PlaceMode, Settings } from '../../plugin/messages.ts';
import type { ServerStatus } from '../../worker/engine-api.ts';

export function SettingsPanel(props: {
  settings: Settings;
  disabled: boolean;
  /** The host (init's HostInfo.name): Photoshop-only settings show only there. */
  host?: HostName;
  onSave(next: Settings): void;
  onTest(url: string, token: string): Promise<ServerStatus>;
}) {
  const [draft, setDraft] = useState(props.settings);
  const [test, setTest] = useState<{ ok: boolean; text: string } | 'testing' | null>(null);
  const runTest = async () => {
    setTest('testing');
    try {
      setTest(describeStatus(await props.onTest(draft.serverUrl.trim().replace(/\/+$/, ''), draft.token)));
    } catch (err) {
      setTest({ ok: false, text: (err as Error).message });
    }
  };
  useEffect(() => setDraft(props.settings), [props.settings]);
  const changed = draft.serverUrl !== props.settings.serverUrl || draft.token !== props.settings.token || draft.placeMode !== props.settings.placeMode
    || !!draft.readMerged !== !!props.settings.readMerged;
  const urlProblem = checkUrl(draft.serverUrl);
  const canSave = !props.disabled && changed && urlProblem === null;
  const save = () => {
    if (canSave) props.onSave({ ...draft, serverUrl: draft.serverUrl.trim().replace(/\/+$/, '') });
  };
  return (
    // Not a <form>: sandboxed plugin iframes without allow-forms block submit events.
    <div class="settings" onKeyDown={(e) => {
      if (e.key === 'Enter' && (e.target as HTMLElement).tagName === 'INPUT') {
        e.preventDefault();
        save();
      }
    }}>
      <div class="field">
        <label class="field-label" for="setting-server">Server URL</label>
        <input id="setting-server" data-testid="setting-server" type="url" value={draft.serverUrl} spellcheck={false} autocomplete="off"
          onInput={(e) => setDraft({ ...draft, serverUrl: e.currentTarget.value })} aria-describedby="setting-server-help" />
        <p class={urlProblem ? 'help error-text' : 'help'} id="setting-server-help">
          {urlProblem ?? 'Models and the server target come from here. Local server: npm start.'}
        </p>
      </div>
      <div class="field">
        <label class="field-label" for="setting-token">Pairing code</label>
        <input id="setting-token" data-testid="setting-token" type="password" value={draft.token} autocomplete="off" spellcheck={false}
          placeholder="Shown by npm start" aria-describedby="setting-token-help"
          onInput={(e) => setDraft({ ...draft, token: e.currentTarget.value })} />
        <p class="help" id="setting-token-help">The server asks for it before it runs anything. Frontier on this computer shows it when it starts.</p>
      </div>
      <div class="field">
        <label class="field-label" for="setting-place">Place result</label>
        <select id="setting-place" data-testid="setting-place" onChange={(e) => setDraft({ ...draft, placeMode: e.currentTarget.value as PlaceMode })}>
          <option value="beside" selected={draft.placeMode === 'beside'}>Beside the original (new layer)</option>
          <option value="replace-fill" selected={draft.placeMode === 'replace-fill'}>Replace the image fill</option>
        </select>
      </div>
      {props.host === 'photoshop' && (
        <div class="field">
          <label class="checkbox">
            <input type="checkbox" id="setting-read-merged" data-testid="setting-read-merged" checked={!!draft.readMerged}
              aria-describedby="setting-read-merged-help" onChange={(e) => setDraft({ ...draft, readMerged: e.currentTarget.checked })} />
            Read all visible layers (merged)
          </label>
          <p class="help" id="setting-read-merged-help">Off: the active layer alone.</p>
        </div>
      )}
      <div class="actions">
        <button type="button" class="secondary" data-testid="settings-save" disabled={!canSave} onClick={save}>Save</button>
        <button type="button" class="secondary" data-testid="settings-test" disabled={urlProblem !== null || test === 'testing'} onClick={() => void runTest()}>
          Test connection
        </button>
        {changed && <span class="muted">Unsaved changes</span>}
      </div>
      {test && (
        <p class={test !== 'testing' && !test.ok ? 'help error-text' : 'help'} data-testid="settings-test-result" role="status">
          {test === 'testing' ? 'Testing…' : test.text}
        </p>
      )}
    </div>
  );
}

function checkUrl(raw: string): string | null {
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? null : 'The server URL must start with http:// or https://.';
  } catch {
    return 'Not a URL: write it like http://127.0.0.1:8740.';
  }
}

/** One line for the user: what the server is and has, or what went wrong and what to do. */
export function describeStatus(status: ServerStatus): { ok: boolean; text: string } {
  if (!status.ok) return { ok: false, text: status.error ?? 'The server did not answer as an inference server.' };
  const who = [status.name, status.version].filter(Boolean).join(' ') || 'an inference server';
  const models = status.models === undefined ? '' : ` · ${status.models.length} model${status.models.length === 1 ? '' : 's'} ready`;
  return { ok: true, text: `Connected to ${who}${models} · answers in ${status.latencyMs} ms` };
}
