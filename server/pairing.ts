// The pairing token: the credential the local server asks of every request that computes, changes state or shows a
// user's data. Made on the first start, kept in Frontier's folder readable by this user only (mode 0600), printed by
// `npm start`, and entered once in the plugin (Figma clientStorage, Photoshop secureStorage) or handed to the
// playground in its link (#pair=…, never sent to the server, never in a log).
import { chmodSync, mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { generateToken, validateToken } from './access.ts';

/**
 * Frontier's own folder: FRONTIER_HOME, else the platform's per-user configuration folder (Linux: $XDG_CONFIG_HOME
 * or ~/.config; macOS: ~/Library/Application Support; Windows: %APPDATA%). Holds the pairing token and the jobs.
 */
export function frontierHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.FRONTIER_HOME) return env.FRONTIER_HOME;
  if (platform === 'win32') return join(env.APPDATA || join(homedir(), 'AppData', 'Roaming'), 'Frontier');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Frontier');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'frontier');
}

export const PAIRING_FILE = 'pairing-token';

/** A path as the user would type it: the home folder as "~" (and never the user name in a message to a client). */
export function tildePath(path: string): string {
  const home = homedir();
  return home && path.startsWith(home) ? `~${path.slice(home.length)}` : path;
}

export interface PairingToken {
  token: string;
  file: string;
  /** Made on this start (first run). */
  created: boolean;
  /** The file was readable by others and was made private (mode 0600) on this start. */
  tightened: boolean;
}

/** Reads the token from `file`, or makes one and writes it there readable by this user only. */
export function loadOrCreatePairingToken(file: string): PairingToken {
  try {
    return { token: readTokenFile(file), file, created: false, tightened: tighten(file) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  const token = generateToken();
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600); // 'wx': never overwrite a token another start wrote at the same moment
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { token: readTokenFile(file), file, created: false, tightened: false };
    throw err;
  }
  try {
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  return { token, file, created: true, tightened: false };
}

/** The token in a file written by hand or by loadOrCreatePairingToken (--token-file): its first line, trimmed. */
export function readTokenFile(file: string): string {
  const text = readFileSync(file, 'utf8');
  const token = text.split(/\r?\n/)[0].trim();
  try {
    return validateToken(token);
  } catch (err) {
    throw new Error(`${tildePath(file)}: ${(err as Error).message}`);
  }
}

/** Makes the file private to its owner when others could read it. Windows has no such modes: nothing to do. */
function tighten(file: string): boolean {
  if (process.platform === 'win32') return false;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return false;
  chmodSync(file, 0o600);
  return true;
}
