import type { ComponentChildren } from 'preact';
import type { Connection } from '../official-models.ts';

/** Loopback: the server is Frontier on this computer (npm start); elsewhere it is someone's server. */
export function isLocalServer(url: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(url.trim());
}

/**
 * Why official models cannot be listed or installed right now, and what to do. The plugin cannot save model files
 * itself: Frontier's server installs them.
 */
export function ServerNeeded(props: { connection: Connection; serverUrl: string; compact?: boolean; onRetry(): void }) {
  const c = props.connection;
  if (c.state === 'ready') return null;
  if (c.state === 'loading') {
    return <p class="help" data-testid="official-connection" data-state="loading" role="status">Asking Frontier which models it can install…</p>;
  }
  const local = isLocalServer(props.serverUrl);
  const where = local ? 'Frontier on this computer' : `the server at ${props.serverUrl}`;
  let title: string;
  let advice: ComponentChildren;
  switch (c.state) {
    case 'offline':
      title = local ? 'Frontier is not running on this computer' : `No answer from ${props.serverUrl}`;
      advice = !local
        ? 'Models are installed by the server. Check that it is running and that the address in Settings is right.'
        : props.compact
          ? <>To install it, start Frontier on this computer (<code>npm start</code> in the Frontier folder), then pair.</>
          : <>Models are installed by Frontier on this computer (the plugin cannot save files itself). Start it: open a terminal in the Frontier folder and run <code>npm start</code>, then pair with the code it shows.</>;
      break;
    case 'unpaired':
      title = `Pair with ${where} first`;
      advice = local
        ? <>Paste the pairing code shown where Frontier was started (<code>npm start</code>) in Settings → Pairing code.</>
        : 'Paste the pairing code your server’s administrator gave you in Settings → Pairing code.';
      break;
    case 'unsupported':
      title = `${local ? 'This server' : props.serverUrl} cannot install models`;
      advice = <>Start Frontier on this computer (<code>npm start</code>) and put its address in Settings: it installs models.</>;
      break;
    default:
      title = 'Could not list the official models';
      advice = 'message' in c ? c.message : '';
  }
  return (
    <div class={`server-needed${props.compact ? ' compact' : ''}`} data-testid="official-connection" data-state={c.state} role="status">
      <p><strong>{title}</strong></p>
      <p class="help">{advice}</p>
      {c.state === 'unsupported' && <p class="help muted">{c.message}</p>}
      <div class="actions">
        <button type="button" class="secondary small" data-testid="official-retry" onClick={props.onRetry}>Try again</button>
      </div>
    </div>
  );
}
