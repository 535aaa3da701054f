// Tiny (random-weight) test models: the real architectures at tiny width, committed under models/tiny/ with their
// cards in models/registry.json (variant "tiny"). The build copies them next to the converted models after checking
// each against its card's sha256; `npm run export:tiny` regenerates them with models/export/export.py (Python).
//
//   npx tsx models/tiny.ts --regenerate [--only id,...]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ModelCard, Registry } from '../worker/models/card.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TINY_DIR = join(ROOT, 'models', 'tiny');
const REGISTRY = join(ROOT, 'models', 'registry.json');
const FILES = join(ROOT, 'models', 'build', 'files');

/** The tiny models this repository ships: export.py model ids (the card ids get "-tiny"). */
export const TINY_EXPORTS = [
  'styleswin-ffhq-256', 'gram-ffhq-256', 'simmim-swin-base-192',
  'vqdiffusion-ithq-text', 'vqdiffusion-ithq-transformer', 'vqdiffusion-ithq-decoder',
];

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Copies every tiny model into `outDir`, each checked against its card; throws saying how to fix a mismatch. */
export function installTinyModels(opts: { registryPath?: string; outDir?: string; log?: (line: string) => void } = {}): ModelCard[] {
  const registry = JSON.parse(readFileSync(opts.registryPath ?? REGISTRY, 'utf8')) as Registry;
  const outDir = opts.outDir ?? FILES;
  mkdirSync(outDir, { recursive: true });
  const tiny = registry.models.filter((m) => m.variant === 'tiny');
  for (const card of tiny) {
    for (const file of card.files) {
      const source = join(TINY_DIR, file.name);
      if (!existsSync(source)) throw new Error(`${card.id}: models/tiny/${file.name} is missing. Regenerate the tiny models: npm run export:tiny (needs python3-torch python3-onnx).`);
      const bytes = readFileSync(source);
      if (bytes.length !== file.bytes || sha256(bytes) !== file.sha256) {
        throw new Error(`${card.id}: models/tiny/${file.name} does not match its card (sha256/size). Regenerate with npm run export:tiny and commit models/tiny and models/registry.json together.`);
      }
      const target = join(outDir, file.name);
      if (!existsSync(target) || sha256(readFileSync(target)) !== file.sha256) copyFileSync(source, target);
    }
    opts.log?.(`${card.id.padEnd(28)} ${(card.files[0].bytes / 1e6).toFixed(2).padStart(6)} MB  tiny test model, checked`);
  }
  return tiny;
}

/** Re-exports the tiny models with Python and rewrites their files and cards (commit both). */
export function regenerateTinyModels(only?: string[]): void {
  const registry = JSON.parse(readFileSync(REGISTRY, 'utf8')) as Registry;
  const work = mkdtempSync(join(tmpdir(), 'frontier-tiny-'));
  try {
    for (const id of TINY_EXPORTS.filter((m) => !only || only.includes(m))) {
      const r = spawnSync('/usr/bin/python3', [join(ROOT, 'models', 'export', 'export.py'), id, '--tiny', '--out', work], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`exporting ${id} failed (exit ${r.status}); apt-get install -y python3-torch python3-onnx`);
      const cardFile = readdirSync(work).find((f) => f === `${id}-tiny.card.json`);
      if (!cardFile) throw new Error(`export.py wrote no ${id}-tiny.card.json`);
      const card = JSON.parse(readFileSync(join(work, cardFile), 'utf8')) as ModelCard;
      // A model's own files start with its id (the ONNX, its external data, a null-text embedding); shared files
      // (CLIP's vocabulary) keep their name and are overwritten with the same bytes.
      for (const old of readdirSync(TINY_DIR)) if (old.startsWith(`${card.id}.`) || old.startsWith(`${card.id}-null-text.`)) rmSync(join(TINY_DIR, old));
      for (const file of card.files) copyFileSync(join(work, file.name), join(TINY_DIR, file.name));
      const at = registry.models.findIndex((m) => m.id === card.id);
      if (at >= 0) registry.models[at] = card;
      else registry.models.push(card);
      console.log(`${card.id}: ${card.files.map((f) => `${f.name} (${f.bytes} bytes)`).join(', ')}`);
    }
    writeFileSync(REGISTRY, JSON.stringify(registry, null, 2) + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const { values } = parseArgs({ options: { regenerate: { type: 'boolean' }, only: { type: 'string' } }, strict: true });
    if (values.regenerate) regenerateTinyModels(values.only?.split(','));
    installTinyModels({ log: console.log });
  } catch (err) {
    console.error(`tiny models: ${(err as Error).message}`);
    process.exit(1);
  }
}
