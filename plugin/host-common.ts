// What every host bridge (Figma main thread, Photoshop panel) shares: its logger, the user-facing request error, and
// how a message from the UI is checked, handled and its failure reported. Plain TypeScript, no host API.
import { checkUiMessage, type Settings, type UiMessage } from './messages.ts';

/** Logger a bridge writes to; console in the host, a capture in tests. Never given settings or tokens. */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLog: Log = {
  info: (message) => console.info(`[frontier] ${message}`),
  warn: (message) => console.warn(`[frontier] ${message}`),
  error: (message) => console.error(`[frontier] ${message}`),
};

/**
 * A bridge's log that never writes a token: every token seen this session (`remember`, including one whose save
 * failed) is replaced by dots in what is logged and in what `redact` is given (notifications, failure answers), even
 * when an error message happens to quote one.
 */
export function redactingLog(base: Log): { log: Log; redact(text: string): string; remember(settings: Settings): void } {
  let secrets: string[] = [];
  const redact = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('•••'), text);
  return {
    log: { info: (m) => base.info(redact(m)), warn: (m) => base.warn(redact(m)), error: (m) => base.error(redact(m)) },
    redact,
    remember: (settings) => {
      if (settings.token && !secrets.includes(settings.token)) secrets = [...secrets, settings.token];
    },
  };
}

/** Message of any thrown value, for request-failed answers and logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A failure whose message is meant for the user as is. */
export class HostRequestError extends Error {
  override name = 'HostRequestError';
}

/**
 * Checks a raw message from the UI (a malformed one is logged and ignored), handles it, and reports a failure with
 * `reportFailure`; a failure to report is logged, never thrown into the host's message loop.
 */
export async function handleUiMessage(
  raw: unknown,
  log: Log,
  handle: (msg: UiMessage) => Promise<void>,
  reportFailure: (msg: UiMessage, err: unknown) => void,
): Promise<void> {
  const problem = checkUiMessage(raw);
  if (problem) {
    log.warn(`Ignored a message from the UI: ${problem}.`);
    return;
  }
  const msg = raw as UiMessage;
  try {
    await handle(msg);
  } catch (err) {
    try {
      reportFailure(msg, err);
    } catch (reportErr) {
      log.error(`Could not report a failed ${msg.type}: ${errorMessage(reportErr)}`);
    }
  }
}
