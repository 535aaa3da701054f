// Settings live in figma.clientStorage (per user, per machine, 5 MB per plugin). Stored values are checked
// field by field so an old or damaged entry falls back to defaults instead of breaking the UI.
// The token is part of the settings: nothing in this file (or its callers) logs settings or their errors' values.
import { DEFAULT_SETTINGS, type PlaceMode, type Settings } from '../messages.ts';
import type { Target } from '../../worker/job.ts';
import type { FigmaApi } from './api.ts';

export const SETTINGS_KEY = 'settings';

const TARGETS: readonly Target[] = ['auto', 'webgpu', 'wasm', 'node', 'server'];
const PLACE_MODES: readonly PlaceMode[] = ['beside', 'replace-fill'];

/** Known fields of `value` with the right type, over the defaults. */
export function sanitizeSettings(value: unknown): Settings {
  const stored = value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const pick = <T>(key: keyof Settings, allowed?: readonly T[]): T | undefined => {
    const v = stored[key];
    if (typeof v !== 'string') return undefined;
    return allowed && !allowed.includes(v as T) ? undefined : (v as T);
  };
  const targets = taskTargets(stored.targets);
  return {
    target: pick<Target>('target', TARGETS) ?? DEFAULT_SETTINGS.target,
    ...(targets ? { targets } : {}),
    serverUrl: pick<string>('serverUrl') ?? DEFAULT_SETTINGS.serverUrl,
    token: pick<string>('token') ?? DEFAULT_SETTINGS.token,
    placeMode: pick<PlaceMode>('placeMode', PLACE_MODES) ?? DEFAULT_SETTINGS.placeMode,
  };
}

/** Per-task targets: task ids (at most 32) to known targets; anything else is dropped. */
function taskTargets(value: unknown): Record<string, Target> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter((e): e is [string, Target] => /^[a-z][a-z0-9-]{0,40}$/.test(e[0]) && TARGETS.includes(e[1] as Target))
    .slice(0, 32);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

export async function loadSettings(figma: FigmaApi): Promise<Settings> {
  return sanitizeSettings(await figma.clientStorage.getAsync(SETTINGS_KEY));
}

export async function saveSettings(figma: FigmaApi, settings: unknown): Promise<Settings> {
  const clean = sanitizeSettings(settings);
  await figma.clientStorage.setAsync(SETTINGS_KEY, clean);
  return clean;
}
