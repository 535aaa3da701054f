// `frontier models …`: the official models Frontier knows (models/catalogue.json), which are installed on this computer,
// and installing one from its checkpoint file without Python (models/convert/from-checkpoint.ts). What is installed,
// how an entry can be installed, the install records and uninstalling are shared with the server's installer
// (server/install/official.ts), so both see the same state.
//   frontier models list
//   frontier models install <id> [--from <checkpoint file>] [--accept-license]
//   frontier models remove <id>
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkpointById, licenseOf, readCatalogue, type Catalogue, type Checkpoint as CatalogueCheckpoint } from '../models/catalogue.ts';
import { ConvertError, convertFromCheckpoint, removeFiles } from '../models/convert/from-checkpoint.ts';
import { LOCAL_FILES, LOCAL_REGISTRY, removeLocalModel } from '../models/local-models.ts';
import { sha256OfFile } from '../worker/models/file-source.ts';
import { progressReporter, type ProgressStream } from './cli/progress.ts';
import { megabytes } from './http-util.ts';
import { freeBytes } from './jobs/disk.ts';
import { DownloadError, downloadFiles } from './install/download.ts';
import { checkPublished, convertEntry, downloadUrls, hashVerdict, installedCardIds, installMethod, isInstalled, registerInstall, resolveEntry, templateCards, uninstallEntry, type InstallRecord } from './install/official.ts';

export const MODELS_USAGE = [
  'Usage: frontier models list',
  '       frontier models install <id> [--from <checkpoint file>] [--accept-license]',
  '       frontier models remove <id>',
  '',
  'Official models (models/catalogue.json): where each comes from, its licence, and whether it is installed here.',
  'install downloads the checkpoint from the URL "list" shows (or takes the file you give with --from) and converts it',
  'into this computer\'s models, without Python; a stopped download goes on where it stopped when you run it again;',
  'models whose licence must be accepted (GRAM) need --accept-license. remove deletes the converted files.',
].join('\n');

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Where models go (tests use their own). */
  filesDir?: string;
  registryPath?: string;
  templatesDir?: string;
  /** Tests: another catalogue (URLs on a fake host), plain http to it, quick retries, a full disk. */
  catalogue?: Catalogue;
  allowHttpLoopback?: boolean;
  retryDelayMs?: number;
  freeBytes?: (dir: string) => Promise<number | null>;
  /** Where progress goes (default stderr: one updating line on a terminal, plain lines in a log). */
  progress?: ProgressStream;
}

function list(io: Io, registryPath: string, templatesDir?: string): number {
  const cat = io.catalogue ?? readCatalogue();
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

/** The checkpoint to convert: its main file, and what the install record keeps of each official file. */
interface Checkpoint {
  main: string;
  files: InstallRecord['files'];
  source: InstallRecord['source'];
}

/**
 * Downloads the entry's files into models/build/downloads/<id>/ (what is there is resumed: a stopped download goes on
 * where it stopped when the same command runs again), checking sizes, published hashes and disk space as the server
 * does. Returns null (the reason printed) when it cannot.
 */
async function download(io: Io, entry: CatalogueCheckpoint, dir: string): Promise<Checkpoint | null> {
  const browserOnly = entry.files.find((f) => !f.directDownload || downloadUrls(f).length === 0);
  if (browserOnly) {
    const page = browserOnly.url ?? browserOnly.mirrors?.[0] ?? 'the authors\' page';
    io.err(`frontier: ${browserOnly.name} cannot be downloaded directly (${page} opens in a browser). Download it yourself, then run:\n  frontier models install ${entry.id} --from <the downloaded file>`);
    return null;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  const progress = progressReporter(io.progress ?? process.stderr);
  try {
    const downloaded = await downloadFiles(entry.files.map((f) => ({ name: f.name, urls: downloadUrls(f), bytes: f.bytes })), {
      dir,
      signal: controller.signal,
      allowHttpLoopback: io.allowHttpLoopback,
      retryDelayMs: io.retryDelayMs,
      onProgress: (done, total, message) => progress.update({ stage: 'download', done, total: total ?? 0, message: total ? message : `${message} (${megabytes(done)})` }),
      reserve: async (remaining, total) => {
        const free = await (io.freeBytes ?? freeBytes)(dir);
        // The download, then a converted model of about the checkpoint's size beside it.
        if (free !== null && free < remaining + total) throw new DownloadError(`Not enough disk space to install ${entry.id}: it needs about ${megabytes(remaining + total)} free, and the disk has ${megabytes(free)} free. Free some space, then run the same command again.`);
      },
    });
    progress.finish();
    const files = checkPublished(entry, downloaded, (d, official) => {
      rmSync(dir, { recursive: true, force: true });
      return new DownloadError(`${d.name} does not match the sha256 its authors published (the download has ${d.sha256}, the authors published ${official.sha256}): it was deleted and nothing was installed. Run the same command again; if it happens again, the file on the server has changed.`);
    });
    return { main: downloaded[0].path, files, source: 'download' };
  } catch (err) {
    progress.finish();
    io.err(controller.signal.aborted
      ? `frontier: download stopped. Run the same command again to go on where it stopped (what is downloaded so far is in ${dir}).`
      : `frontier: ${(err as Error).message}`);
    return null;
  } finally {
    process.off('SIGINT', stop);
  }
}

/** The file the user gave, its hash recorded (and checked where the authors published one), as for downloads. */
async function fromFile(io: Io, entry: CatalogueCheckpoint, from: string): Promise<Checkpoint | null> {
  if (!existsSync(from)) {
    io.err(`frontier: ${from} does not exist.`);
    return null;
  }
  const official = entry.files[0];
  const sha256 = await sha256OfFile(from);
  const verdict = hashVerdict(official.sha256, sha256);
  if (verdict === 'mismatch') {
    io.err(`frontier: ${from} is not the official ${official.name}: its sha256 is ${sha256}, and the authors published ${official.sha256}.`);
    return null;
  }
  const bytes = statSync(from).size;
  return { main: from, files: [{ name: official.name, bytes, sha256, verified: verdict === 'verified' }], source: 'file' };
}

async function install(io: Io, id: string, from: string | undefined, accept: boolean, registryPath: string, filesDir: string, templatesDir?: string): Promise<number> {
  const cat = io.catalogue ?? readCatalogue();
  const entry = resolveEntry(cat, id);
  if (!entry) {
    io.err(`frontier: no official model "${id}". See: frontier models list`);
    return 2;
  }
  if (entry.status !== 'available' || !entry.cards.length) {
    io.err(`frontier: ${entry.id} is not supported yet${entry.reason ? ` (${entry.reason})` : ''}.`);
    return 2;
  }
  if (installMethod(entry, templateCards(templatesDir)) === 'python') {
    io.err(`frontier: ${entry.id} cannot be installed without Python in this version: npm run convert -- ${entry.cards[0]} --checkpoint FILE.`);
    return 2;
  }
  const license = licenseOf(cat, entry);
  if (license.acceptBeforeDownload && !accept) {
    io.err(`frontier: ${entry.id}'s licence must be accepted first: ${license.summary}\nRun again with --accept-license if you agree.`);
    return 2;
  }
  const downloads = join(dirname(filesDir), 'downloads', entry.id);
  const checkpoint = from ? await fromFile(io, entry, from) : await download(io, entry, downloads);
  if (!checkpoint) return from ? 2 : 1;
  const progress = progressReporter(io.progress ?? process.stderr);
  let converted;
  try {
    converted = await convertEntry(entry, checkpoint.main, (cardId, file, onProgress) => convertFromCheckpoint(cardId, file, { outDir: filesDir, templatesDir, onProgress }), (p, index) => {
      progress.update({ stage: 'run', done: p.done, total: p.total, message: entry.cards.length > 1 ? `${entry.cards[index]}: ${p.message}` : p.message });
    });
    progress.finish();
    const cards = converted.map((c) => c.card);
    const record: InstallRecord = {
      at: new Date().toISOString(),
      bytes: checkpoint.files.reduce((n, f) => n + f.bytes, 0),
      sha256: checkpoint.files[0].sha256,
      verified: checkpoint.files.every((f) => f.verified),
      files: checkpoint.files,
      cards: cards.map((c) => c.id),
      modelBytes: cards.reduce((n, c) => n + c.files.reduce((m, f) => m + f.bytes, 0), 0),
      source: checkpoint.source,
    };
    try {
      registerInstall(entry.id, cards, record, { registryPath, filesDir });
    } catch (err) {
      for (const c of converted) removeFiles(c.paths);
      throw err;
    }
  } catch (err) {
    progress.finish();
    const code = err instanceof ConvertError ? 2 : 1;
    io.err(`frontier: ${(err as Error).message}`);
    return code;
  }
  if (!from) rmSync(downloads, { recursive: true, force: true }); // converted: the download is no longer needed
  for (const { card } of converted) io.out(`installed ${card.id} (${card.label}): ${card.files.map((f) => f.name).join(', ')}`);
  for (const warning of new Set(converted.flatMap((c) => c.warnings))) io.err(`frontier: note: ${warning}`);
  io.out(`licence: ${license.summary}`);
  io.out('Restart "npm start" (or reload the plugin) to see it in the model list.');
  return 0;
}

export async function modelsCommand(argv: string[], io: Io): Promise<number> {
  const registryPath = io.registryPath ?? LOCAL_REGISTRY;
  const filesDir = io.filesDir ?? LOCAL_FILES;
  const [command, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { from: { type: 'string' }, 'accept-license': { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const option = /'(?:-\w, )?(--?[\w-]+)/.exec(e.message)?.[1] ?? '';
    const problem = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${option}.` : /argument missing/.test(e.message) ? `${option} needs a file.` : /does not take/.test(e.message) ? `${option} takes no value.` : e.message;
    io.err(`frontier: ${problem}\n${MODELS_USAGE}`);
    return 2;
  }
  const { values, positionals: positional } = parsed;
  const from = values.from;
  if (command === 'list' && positional.length === 0) return list(io, registryPath, io.templatesDir);
  if (command === 'install' && positional.length === 1) return install(io, positional[0], from, values['accept-license'] === true, registryPath, filesDir, io.templatesDir);
  if (command === 'remove' && positional.length === 1) {
    // A catalogue id takes every card of that checkpoint (and its install record); a card id takes that card.
    const cat = io.catalogue ?? readCatalogue();
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
