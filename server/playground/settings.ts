// Settings the UI saves, kept in the playground page's localStorage (the UI's own iframe has none, as in Figma).
import { sanitizeSettings } from '../../plugin/figma/settings.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../plugin/messages.ts';

const KEY = 'frontier.playground.settings';

/** Defaults for this page: the server that serves the playground is the model host. */
export function defaultSettings(origin: string): Settings {
  return { ...DEFAULT_SETTINGS, serverUrl: origin };
}

/** Keeps only known fields with the right types, so a stale or hand-edited entry cannot break the UI. */
export function cleanSettings(value: unknown, defaults: Settings): Settings {
  const out: Settings = { ...defaults };
  if (!value || typeof value !== 'object') return out;
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(defaults) as (keyof Settings)[]) {
    if (typeof v[key] === typeof defaults[key]) (out as unknown as Record<string, unknown>)[key] = v[key];
  }
  // Per task: "Run on" and the settings of the last run, checked as Figma's settings are.
  const { targets, params } = sanitizeSettings(value);
  if (targets) out.targets = targets;
  if (params) out.params = params;
  return out;
}

export function loadSettings(storage: Storage, origin: string): Settings {
  const defaults = defaultSettings(origin);
  try {
    const text = storage.getItem(KEY);
    return text ? cleanSettings(JSON.parse(text), defaults) : defaults;
  } catch {
    return defaults;
  }
}

export function saveSettings(storage: Storage, settings: Settings): void {
  storage.setItem(KEY, JSON.stringify(settings));
}

/**
 * The pairing code in a playground link (`#pair=<code>`, printed by npm start), or null. The fragment never reaches
 * the server or its logs; the page keeps the code with its settings and drops it from the address bar.
 */
export function pairingCodeFrom(hash: string): string | null {
  const code = new URLSearchParams(hash.replace(/^#/, '')).get('pair');
  return code && /^[\x21-\x7e]+$/.test(code) ? code : null;
}

/** Keeps a pairing code from the link: the page's own server becomes the server, with that code. */
export function applyPairingLink(storage: Storage, origin: string, hash: string): boolean {
  const code = pairingCodeFrom(hash);
  if (!code) return false;
  saveSettings(storage, { ...loadSettings(storage, origin), serverUrl: origin, token: code });
  return true;
}
