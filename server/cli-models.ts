// `frontier models …`: the official models Frontier knows (models/catalogue.json), which are installed on this computer,
// and installing one from its checkpoint file without Python (models/convert/from-checkpoint.ts). What is installed,
// how an entry can be installed, the install records and uninstalling are shared with the server's installer
// (server/install/official.ts), so both see the same state.
//   frontier models list
//   frontier models install <id> --from <checkpoint file> [--accept-license]
//   frontier models remove <id>
import { existsSync, statSync } from 'node:fs';
import { checkpointById, licenseOf, readCatalogue } from '../models/catalogue.ts';
import { ConvertError, convertFromCheckpoint, removeFiles } from '../models/convert/from-checkpoint.ts';
import { LOCAL_FILES, LOCAL_REGISTRY, removeLocalModel } from '../models/local-models.ts';
import { sha256OfFile } from '../worker/models/file-source.ts';
import { convertEntry, hashVerdict, installedCardIds, installMethod, isInstalled, registerInstall, resolveEntry, templateCards, uninstallEntry } from './install/official.ts';

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

function list(io: Io, registryPath: string, templatesDir?: string): number {
  const cat = readCatalogue();
  const installed = installedCardIds(registryPath);
  const templates = templateCards(templatesDir);
  for (const c of cat.checkpoints) {
    if (c.status === 'unused') continue;
    const method = installMethod(c, templates);
    const state = isInstalled(c, installed) ? 'installed' : method === 'no' ? 'not supported yet' : method === 'python' ? 'available (convert with Python: npm run convert)' : 'available';
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
  const entry = resolveEntry(cat, id);
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
  // The file's hash is recorded (and checked where the authors published one), as the server does for downloads.
  const official = entry.files[0];
  const sha256 = await sha256OfFile(from);
  const verdict = hashVerdict(official.sha256, sha256);
  if (verdict === 'mismatch') {
    io.err(`frontier: ${from} is not the official ${official.name}: its sha256 is ${sha256}, and the authors published ${official.sha256}.`);
    return 2;
  }
  let lastLine = '';
  let converted;
  try {
    converted = await convertEntry(entry, from, (cardId, file, onProgress) => convertFromCheckpoint(cardId, file, { outDir: filesDir, templatesDir, onProgress }), (p, index) => {
      const line = `${entry.cards[index]}: ${p.message} ${p.total ? Math.round((100 * p.done) / p.total) : 0}%`;
      if (process.stderr.isTTY && line !== lastLine) process.stderr.write(`\r${line.padEnd(70)}`);
      lastLine = line;
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const cards = converted.map((c) => c.card);
    const bytes = statSync(from).size;
    const record = {
      at: new Date().toISOString(),
      bytes,
      sha256,
      verified: verdict === 'verified',
      files: [{ name: official.name, bytes, sha256, verified: verdict === 'verified' }],
      cards: cards.map((c) => c.id),
      modelBytes: cards.reduce((n, c) => n + c.files.reduce((m, f) => m + f.bytes, 0), 0),
      source: 'file' as const,
    };
    try {
      registerInstall(entry.id, cards, record, { registryPath, filesDir });
    } catch (err) {
      for (const c of converted) removeFiles(c.paths);
      throw err;
    }
  } catch (err) {
    if (process.stderr.isTTY) process.stderr.write('\n');
    const code = err instanceof ConvertError ? 2 : 1;
    io.err(`frontier: ${(err as Error).message}`);
    return code;
  }
  for (const { card } of converted) io.out(`installed ${card.id} (${card.label}): ${card.files.map((f) => f.name).join(', ')}`);
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
    // A catalogue id takes every card of that checkpoint (and its install record); a card id takes that card.
    const cat = readCatalogue();
    const entry = checkpointById(cat, positional[0]);
    const removedCards = entry ? uninstallEntry(cat, entry, { filesDir, registryPath }) : [removeLocalModel(positional[0], { filesDir, registryPath })].filter((c) => c !== null);
    if (!removedCards?.length) {
      io.err(`frontier: ${positional[0]} is not installed on this computer.`);
      return 2;
    }
    for (const card of removedCards) io.out(`removed ${card.id}: ${card.files.map((f) => f.name).join(', ')}`);
    return 0;
  }
  io.err(MODELS_USAGE);
  return 2;
}
