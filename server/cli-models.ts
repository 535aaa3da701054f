// `frontier models …`: the official models Frontier knows (models/catalogue.json), which are installed on this computer,
// and installing one from its checkpoint file without Python (models/convert/from-checkpoint.ts).
//   frontier models list
//   frontier models install <id> --from <checkpoint file> [--accept-license]
//   frontier models remove <id>
import { existsSync } from 'node:fs';
import { checkpointById, checkpointsForCard, licenseOf, readCatalogue, type Catalogue, type Checkpoint } from '../models/catalogue.ts';
import { ConvertError, convertFromCheckpoint, removeFiles } from '../models/convert/from-checkpoint.ts';
import { findTemplate } from '../models/convert/templates.ts';
import { LOCAL_FILES, LOCAL_REGISTRY, readLocalRegistry, registerLocalCard, removeLocalModel } from '../models/local-models.ts';

export const MODELS_USAGE = [
  'Usage: frontier models list',
  '       frontier models install <id> --from <checkpoint file> [--accept-license]',
  '       frontier models remove <id>',
  '',
  'Official models (models/catalogue.json): where each comes from, its licence, and whether it is installed here.',
  'install converts a checkpoint you downloaded (the URL "list" shows) into this computer\'s models, without Python;',
  'models whose licence must be accepted (GRAM) need --accept-license. remove deletes the converted files.',
].join('\n');

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Where models go (tests use their own). */
  filesDir?: string;
  registryPath?: string;
  templatesDir?: string;
}

const installedIds = (registryPath: string): Set<string> => new Set((readLocalRegistry(registryPath)?.models ?? []).map((m) => m.id));

/** A catalogue entry by its id, or the one entry that makes a card id. */
function resolve(cat: Catalogue, id: string): Checkpoint | undefined {
  return checkpointById(cat, id) ?? checkpointsForCard(cat, id).find((c) => c.status === 'available');
}

function list(io: Io, registryPath: string, templatesDir?: string): number {
  const cat = readCatalogue();
  const installed = installedIds(registryPath);
  for (const c of cat.checkpoints) {
    if (c.status === 'unused') continue;
    const here = c.cards.length > 0 && c.cards.every((id) => installed.has(id));
    const canConvert = c.cards.length > 0 && c.cards.every((id) => findTemplate(id, templatesDir));
    const state = here ? 'installed' : c.status === 'planned' ? 'not supported yet' : canConvert ? 'available' : 'available (convert with Python: npm run convert)';
    const where = c.targets.includes('wasm') ? 'in the plugin or on the server' : 'on the server only (too big for the plugin; npm start runs one on this computer)';
    io.out(`${c.id.padEnd(30)} ${state}`);
    io.out(`    ${cat.families[c.family]?.label ?? c.family}: ${c.label}; runs ${where}${c.quality ? `; ${c.quality}` : ''}`);
    const file = c.files[0];
    if (file?.url) io.out(`    download: ${file.url}${file.directDownload ? '' : ' (opens in a browser)'}`);
    io.out(`    licence: ${licenseOf(cat, c).summary}`);
  }
  return 0;
}

async function install(io: Io, id: string, from: string | undefined, accept: boolean, registryPath: string, filesDir: string, templatesDir?: string): Promise<number> {
  const cat = readCatalogue();
  const entry = resolve(cat, id);
  if (!entry) {
    io.err(`frontier: no official model "${id}". See: frontier models list`);
    return 2;
  }
  if (entry.status !== 'available' || !entry.cards.length) {
    io.err(`frontier: ${entry.id} is not supported yet${entry.reason ? ` (${entry.reason})` : ''}.`);
    return 2;
  }
  const license = licenseOf(cat, entry);
  if (license.acceptBeforeDownload && !accept) {
    io.err(`frontier: ${entry.id}'s licence must be accepted first: ${license.summary}\nRun again with --accept-license if you agree.`);
    return 2;
  }
  if (!from) {
    const url = entry.files[0]?.url;
    io.err(`frontier: downloading is not built into this version yet. Download ${url ?? 'the checkpoint'} yourself, then run:\n  frontier models install ${entry.id} --from <the downloaded file>`);
    return 2;
  }
  if (!existsSync(from)) {
    io.err(`frontier: ${from} does not exist.`);
    return 2;
  }
  const installed = [];
  for (const cardId of entry.cards) {
    let lastLine = '';
    try {
      const { card, paths } = await convertFromCheckpoint(cardId, from, {
        outDir: filesDir,
        templatesDir,
        onProgress: (p) => {
          const line = `${cardId}: ${p.message} ${p.total ? Math.round((100 * p.done) / p.total) : 0}%`;
          if (process.stderr.isTTY && line !== lastLine) process.stderr.write(`\r${line.padEnd(70)}`);
          lastLine = line;
        },
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      try {
        registerLocalCard(card, registryPath);
      } catch (err) {
        removeFiles(paths);
        throw err;
      }
      installed.push(card);
      io.out(`installed ${card.id} (${card.label}): ${card.files.map((f) => f.name).join(', ')}`);
    } catch (err) {
      if (process.stderr.isTTY) process.stderr.write('\n');
      const code = err instanceof ConvertError ? 2 : 1;
      io.err(`frontier: ${(err as Error).message}`);
      return code;
    }
  }
  io.out(`licence: ${license.summary}`);
  io.out('Restart "npm start" (or reload the plugin) to see it in the model list.');
  return 0;
}

export async function modelsCommand(argv: string[], io: Io): Promise<number> {
  const registryPath = io.registryPath ?? LOCAL_REGISTRY;
  const filesDir = io.filesDir ?? LOCAL_FILES;
  const [command, ...rest] = argv;
  const positional = rest.filter((a, i) => !a.startsWith('--') && rest[i - 1] !== '--from');
  const at = rest.indexOf('--from');
  const from = at >= 0 ? rest[at + 1] : undefined;
  const unknown = rest.filter((a) => a.startsWith('--') && a !== '--from' && a !== '--accept-license');
  if (unknown.length) {
    io.err(`frontier: unknown option ${unknown[0]}.\n${MODELS_USAGE}`);
    return 2;
  }
  if (command === 'list' && positional.length === 0) return list(io, registryPath, io.templatesDir);
  if (command === 'install' && positional.length === 1) return install(io, positional[0], from, rest.includes('--accept-license'), registryPath, filesDir, io.templatesDir);
  if (command === 'remove' && positional.length === 1) {
    const card = removeLocalModel(positional[0], { filesDir, registryPath });
    if (!card) {
      io.err(`frontier: ${positional[0]} is not installed on this computer.`);
      return 2;
    }
    io.out(`removed ${card.id}: ${card.files.map((f) => f.name).join(', ')}`);
    return 0;
  }
  io.err(MODELS_USAGE);
  return 2;
}
