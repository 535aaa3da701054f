import { useState } from 'preact/hooks';

/** Why the Frontier server asks for its code: none entered yet, or the one entered is not its code. */
export type PairingState = { state: 'needed' | 'refused'; hint?: string };

/**
 * Shown when the server this plugin talks to wants its pairing code (every web page can reach a server on this
 * computer, so it asks before running anything). Work on this computer goes on without it; pairing enables the
 * server. The code is entered once and kept with the settings.
 */
export function PairingPrompt(props: { pairing: PairingState; serverUrl: string; disabled: boolean; onPair(code: string): void; onDismiss(): void }) {
  const [code, setCode] = useState('');
  const trimmed = code.trim();
  const valid = /^[\x21-\x7e]+$/.test(trimmed);
  const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(props.serverUrl);
  const pair = () => {
    if (valid && !props.disabled) props.onPair(trimmed);
  };
  return (
    <div class="panel message neutral pairing" data-testid="pairing" role="status">
      <div class="message-row">
        <p class="message-text">
          <strong>{props.pairing.state === 'refused' ? 'That pairing code was not accepted' : `Pair with Frontier ${local ? 'on this computer' : 'on the server'}`}</strong>
        </p>
        <button type="button" class="icon-button" aria-label="Not now" title="Not now" onClick={props.onDismiss}>×</button>
      </div>
      <p class="help">
        {local
          ? 'Paste the pairing code shown in the window where Frontier was started (npm start). You enter it once; until then, work runs in the plugin only.'
          : 'Paste the pairing code your server\'s administrator gave you. Until then, work runs in the plugin only.'}
      </p>
      {props.pairing.hint && <p class="help muted" data-testid="pairing-hint">The server says: {props.pairing.hint}</p>}
      <div class="pairing-row" onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          e.stopPropagation(); // Enter pairs here; it must not also run the task
          pair();
        }
      }}>
        <input type="password" data-testid="pairing-code" aria-label="Pairing code" placeholder="Pairing code" autocomplete="off" spellcheck={false}
          value={code} onInput={(e) => setCode(e.currentTarget.value)} />
        <button type="button" class="secondary" data-testid="pairing-save" disabled={!valid || props.disabled} onClick={pair}>Pair</button>
      </div>
    </div>
  );
}
