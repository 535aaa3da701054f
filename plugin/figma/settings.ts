// Settings live in figma.clientStorage (per user, per machine, 5 MB per plugin). Stored values are checked
// field by field so an old or damaged entry falls back to defaults instead of breaking the UI.
// The token is part of the settings: nothing in this file (or its callers) logs settings or their errors' values.
import { DEFAULT_SETTINGS, type PlaceMode, type Settings } from '../messages.ts';
import { TARGETS, type Target } from '../../worker/job.ts';
import type { FigmaApi } from './api.ts';

export const SETTINGS_KEY = 'settings';

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
  const params = taskParams(stored.params);
  return {
    target: pick<Target>('target', TARGETS) ?? DEFAULT_SETTINGS.target,
    ...(targets ? { targets } : {}),
    ...(params ? { params } : {}),
    serverUrl: pick<string>('serverUrl') ?? DEFAULT_SETTINGS.serverUrl,
    token: pick<string>('token') ?? DEFAULT_SETTINGS.token,
    placeMode: pick<PlaceMode>('placeMode', PLACE_MODES) ?? DEFAULT_SETTINGS.placeMode,
  };
}

/** Per-task targets: task ids (at most 32) to known targets; anything else is dropped. */
function taskTargets(value: unknown): Record<string, Target> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter((e): e is [string, Target] => TASK_ID.test(e[0]) && TARGETS.includes(e[1] as Target))
    .slice(0, 32);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

const TASK_ID = /^[a-z][a-z0-9-]{0,40}$/;
const PARAM_NAME = /^[a-z][a-zA-Z0-9_-]{0,40}$/;

/** Per-task params: at most 32 tasks of at most 40 params each, strings up to 400 characters, finite numbers,
 *  booleans. (clientStorage holds 5 MB; this stays under 1 MB.) Which params a task has is the UI's to check. */
function taskParams(value: unknown): Record<string, Record<string, string | number | boolean>> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: Record<string, Record<string, string | number | boolean>> = {};
  for (const [task, params] of Object.entries(value as Record<string, unknown>).slice(0, 32)) {
    if (!TASK_ID.test(task) || !params || typeof params !== 'object' || Array.isArray(params)) continue;
    const kept = Object.entries(params as Record<string, unknown>).slice(0, 40).filter((e): e is [string, string | number | boolean] =>
      PARAM_NAME.test(e[0]) && ((typeof e[1] === 'string' && e[1].length <= 400) || (typeof e[1] === 'number' && Number.isFinite(e[1])) || typeof e[1] === 'boolean'));
    if (kept.length) out[task] = Object.fromEntries(kept);
  }
  return Object.keys(out).length ? out : undefined;
}

export async function loadSettings(figma: FigmaApi): Promise<Settings> {
  return sanitizeSettings(await figma.clientStorage.getAsync(SETTINGS_KEY));
}

export async function saveSettings(figma: FigmaApi, settings: unknown): Promise<Settings> {
  const clean = sanitizeSettings(settings);
  await figma.clientStorage.setAsync(SETTINGS_KEY, clean);
  return clean;
}
