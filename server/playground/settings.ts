// Settings the UI saves, kept in the playground page's localStorage (the UI's own iframe has none, as in Figma).
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
