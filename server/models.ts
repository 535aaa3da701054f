// The model registry as this server can serve it: only models whose every file is present (with the size the card
// states) under models/build/files, so the UI never offers a model it cannot download.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCard, Registry } from '../worker/models/card.ts';
import type { ServerPaths } from './paths.ts';
import { mergeRegistries, readLocalRegistry } from '../models/local-models.ts';

export interface ServableRegistry {
  registry: Registry;
  /** Models left out, with why (shown by `npm start`). */
  missing: { id: string; reason: string }[];
}

/** The registry this repository ships (models/registry.json), without the models converted on this machine. */
export async function readShippedRegistry(paths: ServerPaths): Promise<Registry> {
  let text: string;
  try {
    text = await readFile(paths.registry, 'utf8');
  } catch {
    throw new Error(`No model registry at ${paths.registry}: check the server's root folder.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${paths.registry} is not valid JSON (${(err as Error).message}).`);
  }
  const models = (parsed as Partial<Registry>)?.models;
  if (!Array.isArray(models)) throw new Error(`${paths.registry} has no "models" array.`);
  return parsed as Registry;
}

export async function readRegistry(paths: ServerPaths): Promise<Registry> {
  // Models the user converted from official checkpoints (npm run convert) join the shipped ones.
  return mergeRegistries(await readShippedRegistry(paths), readLocalRegistry(paths.localRegistry));
}

async function whyNotServable(paths: ServerPaths, card: ModelCard): Promise<string | null> {
  if (!Array.isArray(card.files) || card.files.length === 0) return 'the card lists no files';
  for (const file of card.files) {
    if (typeof file.name !== 'string' || file.name.includes('/') || file.name.includes('\\')) return `bad file name ${String(file.name)}`;
    try {
      const info = await stat(join(paths.modelFiles, file.name));
      if (!info.isFile()) return `${file.name} is not a file`;
      if (typeof file.bytes === 'number' && info.size !== file.bytes) return `${file.name} has ${info.size} bytes, the card says ${file.bytes}`;
    } catch {
      return `${file.name} is not built`;
    }
  }
  return null;
}

export async function servableRegistry(paths: ServerPaths): Promise<ServableRegistry> {
  const full = await readRegistry(paths);
  const models: ModelCard[] = [];
  const missing: ServableRegistry['missing'] = [];
  for (const card of full.models) {
    const reason = await whyNotServable(paths, card);
    if (reason) missing.push({ id: card.id, reason });
    else models.push(card);
  }
  return { registry: { ...full, models }, missing };
}
