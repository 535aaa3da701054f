// Models a user converted from official checkpoints on this machine: files in models/build/files, cards in
// models/build/local-registry.json. Both live under the git-ignored models/build/, so converted weights (GRAM's may
// not be redistributed) are never committed; the server and the CLI merge these cards over models/registry.json.
//
//   npm run convert -- <model-id> --checkpoint FILE     convert with models/export/export.py, then install
//   npx tsx models/local-models.ts --add DIR/<id>.card.json   install an export made elsewhere
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ModelCard, Registry } from '../worker/models/card.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const LOCAL_REGISTRY = join(ROOT, 'models', 'build', 'local-registry.json');
export const LOCAL_FILES = join(ROOT, 'models', 'build', 'files');
const FILES = LOCAL_FILES;

/** The cards of `registry` with `local`'s merged over them (a local card replaces a shipped one with its id). */
export function mergeRegistries(registry: Registry, local: Registry | null): Registry {
  if (!local) return registry;
  const ids = new Set(local.models.map((m) => m.id));
  return { ...registry, models: [...registry.models.filter((m) => !ids.has(m.id)), ...local.models] };
}

/** models/build/local-registry.json next to `registryPath`'s models folder, or null when nobody converted anything. */
export function readLocalRegistry(path = LOCAL_REGISTRY): Registry | null {
  if (!existsSync(path)) return null;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Registry>;
  if (!Array.isArray(parsed.models)) throw new Error(`${path} has no "models" array: delete it and convert again.`);
  return { version: 1, models: parsed.models };
}

/** Copies an exported model (its card and the files beside it, each checked) into the local registry. */
export function addLocalModel(cardPath: string, opts: { filesDir?: string; registryPath?: string; log?: (line: string) => void } = {}): ModelCard {
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
  if (!card.id || !Array.isArray(card.files) || !card.io) throw new Error(`${cardPath} is not a model card written by models/export/export.py.`);
  const filesDir = opts.filesDir ?? FILES;
  mkdirSync(filesDir, { recursive: true });
  for (const file of card.files) {
    const source = join(dirname(cardPath), file.name);
    const bytes = readFileSync(source);
    if (bytes.length !== file.bytes || createHash('sha256').update(bytes).digest('hex') !== file.sha256) {
      throw new Error(`${file.name} does not match its card (size or sha256): export it again.`);
    }
    copyFileSync(source, join(filesDir, file.name));
  }
  registerLocalCard(card, opts.registryPath);
  opts.log?.(`installed ${card.id} (${card.label}): ${card.files.map((f) => f.name).join(', ')}`);
  opts.log?.(`license: ${card.license}`);
  return card;
}

/** Adds `card` (its files already in the files folder) to the local registry, replacing a card with its id. */
export function registerLocalCard(card: ModelCard, registryPath = LOCAL_REGISTRY): void {
  const local = readLocalRegistry(registryPath) ?? { version: 1 as const, models: [] };
  local.models = [...local.models.filter((m) => m.id !== card.id), card];
  writeLocalRegistry(local, registryPath);
}

/** Writes the local registry whole (a reader never sees half a file). */
function writeLocalRegistry(local: Registry, registryPath: string): void {
  mkdirSync(dirname(registryPath), { recursive: true });
  const tmp = `${registryPath}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(local, null, 2) + '\n');
  renameSync(tmp, registryPath);
}

/**
 * Takes a model off this machine: its card out of the local registry and its files out of the files folder (those no
 * other card lists). Returns the card removed, or null when `id` was not installed here.
 */
export function removeLocalModel(id: string, opts: { filesDir?: string; registryPath?: string; keep?: ModelCard[] } = {}): ModelCard | null {
  const registryPath = opts.registryPath ?? LOCAL_REGISTRY;
  const local = readLocalRegistry(registryPath);
  const card = local?.models.find((m) => m.id === id);
  if (!local || !card) return null;
  local.models = local.models.filter((m) => m.id !== id);
  writeLocalRegistry(local, registryPath);
  const used = new Set([...local.models, ...(opts.keep ?? [])].flatMap((m) => m.files.map((f) => f.name)));
  for (const f of card.files) if (!used.has(f.name)) rmSync(join(opts.filesDir ?? FILES, f.name), { force: true });
  return card;
}

/** TTVSR's parts: one official file makes five graphs of the recurrence the host drives (models/export/ttvsr.py). */
const ttvsrParts = (dataset: string) => ['flow', 'features', 'align', 'refine', 'reconstruct'].map((part) => `ttvsr-${dataset}-${part}`);

/** Pipelines converted from one checkpoint as several parts (VQ-Diffusion: ithq_learnable.pth holds all three). */
export const PIPELINES: Record<string, string[]> = {
  'vqdiffusion-ithq': ['vqdiffusion-ithq-text', 'vqdiffusion-ithq-transformer', 'vqdiffusion-ithq-decoder'],
  'ttvsr-reds': ttvsrParts('reds'),
  'ttvsr-vimeo90k': ttvsrParts('vimeo90k'),
};

/** The export ids a convert command means: a pipeline's parts (by its id or any part's id), else the id itself. */
export function exportIdsFor(modelId: string): string[] {
  const pipeline = Object.entries(PIPELINES).find(([id, parts]) => id === modelId || parts.includes(modelId));
  return pipeline ? pipeline[1] : [modelId];
}

/** Converts an official checkpoint with the Python exporter and installs the result (every part of a pipeline). */
export function convertModel(modelId: string, checkpoint: string, opts: { filesDir?: string; registryPath?: string; log?: (line: string) => void } = {}): ModelCard[] {
  return exportIdsFor(modelId).map((id) => convertCheckpoint(id, checkpoint, opts));
}

/** Converts an official checkpoint with the Python exporter and installs the result. */
export function convertCheckpoint(
  modelId: string,
  checkpoint: string,
  opts: { filesDir?: string; registryPath?: string; log?: (line: string) => void } = {},
): ModelCard {
  const log = opts.log ?? console.log;
  if (!existsSync(checkpoint)) throw new Error(`No checkpoint at ${checkpoint}: download the official file first (see README, "Generation").`);
  const work = mkdtempSync(join(tmpdir(), 'frontier-convert-'));
  try {
    const r = spawnSync('/usr/bin/python3', [join(ROOT, 'models', 'export', 'export.py'), modelId, '--checkpoint', checkpoint, '--out', work], { stdio: 'inherit' });
    if (r.error || r.status !== 0) {
      throw new Error(`the export failed${r.error ? ` (${r.error.message})` : ''}. It needs Debian's PyTorch: apt-get install -y python3-torch python3-onnx.`);
    }
    const cardFile = readdirSync(work).find((f) => f.endsWith('.card.json'));
    if (!cardFile) throw new Error('export.py wrote no model card.');
    return addLocalModel(join(work, cardFile), { ...opts, log });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const usage = 'usage: npm run convert -- <model-id> --checkpoint FILE   (e.g. styleswin-ffhq-256, gram-ffhq-256, simmim-swin-base-192, vqdiffusion-ithq, ttvsr-reds)';
  try {
    let parsed;
    try {
      parsed = parseArgs({ options: { add: { type: 'string' }, checkpoint: { type: 'string' } }, strict: true, allowPositionals: true });
    } catch {
      throw new Error(usage);
    }
    const { values, positionals } = parsed;
    if (values.add) addLocalModel(values.add, { log: console.log });
    else {
      const model = positionals[0];
      if (!model || positionals.length > 1 || !values.checkpoint) throw new Error(usage);
      convertModel(model, values.checkpoint);
      console.log('Restart "npm start" (or reload the plugin) to see it in the model list.');
    }
  } catch (err) {
    console.error(`convert: ${(err as Error).message}`);
    process.exit(1);
  }
}
