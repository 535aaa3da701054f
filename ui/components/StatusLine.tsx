// The status line at the top: waiting for the host, starting the engine, ready (what this computer offers, behind the
// info button), or why the engine is not available and what to do.
import type { Capabilities } from '../../worker/engine-api.ts';
import type { EngineState } from '../engine-client.ts';
import { problemWords } from '../error-words.ts';
import type { Boot } from '../model.ts';
import { ProblemDetails } from './ErrorPanel.tsx';
import { InfoButton, useToggle } from './InfoButton.tsx';

export function StatusLine(props: { boot: Boot; hostSilent: boolean; engineState: EngineState; caps: Capabilities | null; serverUrl: string; onRestart(): void }) {
  const { boot, engineState, caps } = props;
  const [open, toggle] = useToggle();
  const failed = boot.phase === 'failed' ? problemWords(boot.problem.code, boot.problem.message, { starting: true }) : null;
  let tone = 'busy';
  let text = props.hostSilent ? 'The host has not answered for 5 s: close and reopen the plugin.' : 'Waiting for the host…';
  if (boot.phase === 'starting') text = 'Starting engine…';
  else if (boot.phase === 'failed') {
    tone = 'bad';
    text = 'Engine not available';
  } else if (boot.phase === 'ready') {
    if (engineState === 'failed') {
      tone = 'bad';
      text = 'Engine stopped — it restarts on the next run';
    } else if (engineState === 'starting') text = 'Restarting engine…';
    else {
      tone = 'ok';
      text = 'Ready';
    }
  }
  // What this computer offers, for those who ask (the line above stays in plain words).
  const details = tone === 'ok' && caps ? (
    <ul class="help status-facts" id="status-facts" data-testid="status-facts" hidden={!open}>
      <li>Graphics card: {caps.webgpu.available ? 'Frontier can use it' : 'Frontier cannot use it here'} <span class="detail">(WebGPU: {caps.webgpu.detail})</span></li>
      <li>Processor: {caps.wasm.threads === 1 ? 'one core' : `${caps.wasm.threads} cores`} <span class="detail">(WASM: {caps.wasm.detail})</span></li>
    </ul>
  ) : null;
  return (
    <div class={`status ${tone}`} data-testid="status" data-state={tone} role="status">
      <div class="status-line">
        <span class={`dot ${tone}`} aria-hidden="true" />
        <span>{text}</span>
        {details && <InfoButton open={open} onToggle={toggle} controls="status-facts" about="this computer" testId="status-info" />}
      </div>
      {details}
      {boot.phase === 'failed' && failed && (
        <div class="status-detail">
          <p class="message-text">{failed.headline}</p>
          {failed.advice && <p class="help">{failed.advice}</p>}
          {failed.details && <ProblemDetails {...failed.details} />}
          {boot.problem.code !== 'worker-crashed' && !boot.problem.message.includes('npm start') && (
            <p class="help">Model host: {props.serverUrl}. Start the local server: <code>npm start</code>, or change the server URL in Settings.</p>
          )}
          <div class="actions">
            <button type="button" class="secondary" onClick={props.onRestart}>{boot.problem.code === 'worker-crashed' ? 'Restart engine' : 'Retry'}</button>
          </div>
        </div>
      )}
    </div>
  );
}
