// Settings: the server token in UXP's secureStorage (encrypted under the user's account), everything else in the
// panel's localStorage (UXP keeps it per plugin). Nothing here logs settings or the values in their errors.
import type { Settings } from '../messages.ts';
import { sanitizeSettings as sanitizeSharedSettings } from '../figma/settings.ts';
import type { KeyValueStorage, UxpSecureStorage } from './api.ts';
import { utf8Decode } from './wire.ts';

export const SETTINGS_KEY = 'frontier.settings';
export const TOKEN_KEY = 'frontier.token';

/** The shared fields (checked as Figma checks them) plus Photoshop's own: readMerged. */
export function sanitizeSettings(value: unknown): Settings {
  const readMerged = !!value && typeof value === 'object' && (value as { readMerged?: unknown }).readMerged === true;
  return { ...sanitizeSharedSettings(value), readMerged };
}

async function readToken(secure: UxpSecureStorage): Promise<string> {
  try {
    const value = await secure.getItem(TOKEN_KEY);
    if (typeof value === 'string') return value;
    if (value instanceof Uint8Array) return utf8Decode(value);
    return '';
  } catch {
    return ''; // no token stored (some builds reject for a missing key), or the store was reset
  }
}

export async function loadSettings(storage: KeyValueStorage, secure: UxpSecureStorage): Promise<Settings> {
  let stored: unknown = null;
  try {
    const text = storage.getItem(SETTINGS_KEY);
    stored = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    stored = null; // damaged entry: defaults
  }
  const clean = sanitizeSettings(stored);
  return { ...clean, token: await readToken(secure) };
}

export async function saveSettings(storage: KeyValueStorage, secure: UxpSecureStorage, settings: unknown): Promise<Settings> {
  const clean = sanitizeSettings(settings);
  const { token, ...rest } = clean;
  storage.setItem(SETTINGS_KEY, JSON.stringify(rest));
  // secureStorage refuses empty values: an empty token means "no token", so the entry goes.
  if (token) await secure.setItem(TOKEN_KEY, token);
  else await secure.removeItem(TOKEN_KEY).catch(() => undefined);
  return clean;
}
