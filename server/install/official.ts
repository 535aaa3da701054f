// Official models (models/catalogue.json) on this machine, shared by `frontier models` (server/cli-models.ts) and the
// server's installer (installer.ts): how each catalogue checkpoint can be installed here, whether it is installed,
// the install records (models/build/installed.json: checkpoint bytes, sha256, whether it matched a published hash,
// when), converting a checkpoint into every card of its entry, registering the cards, and uninstalling.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkpointById, checkpointsForCard, type Catalogue, type CatalogueFile, type Checkpoint } from '../../models/catalogue.ts';
import type { ConvertProgress, Converted } from '../../models/convert/from-checkpoint.ts';
import { listTemplates } from '../../models/convert/templates.ts';
import { readLocalRegistry, registerLocalCard, removeLocalModel } from '../../models/local-models.ts';
import type { ModelCard } from '../../worker/models/card.ts';

/**
 * How this machine can install a checkpoint: 'download' (direct URLs and a template: one click), 'file' (a template,
 * but the file comes from the user: a browser-only download page), 'python' (no template yet: npm run convert),
 * 'no' (planned, not supported).
 */
export type InstallMethod = 'download' | 'file' | 'python' | 'no';

/** A catalogue entry by its id, or the one available entry that makes a card id. */
export function resolveEntry(cat: Catalogue, id: string): Checkpoint | undefined {
  return checkpointById(cat, id) ?? checkpointsForCard(cat, id).find((c) => c.status === 'available');
}

/** Card ids the committed templates (models/templates) can make without Python. */
export function templateCards(templatesDir?: string): Set<string> {
  return new Set(listTemplates(templatesDir).flatMap((t) => Object.keys(t.meta.cards)));
}

/** The URLs that make up a catalogue file, in order (a split file's parts are joined in this order). */
export function downloadUrls(file: CatalogueFile): string[] {
  return file.parts?.length ? [...file.parts] : file.url ? [file.url] : [];
}

export function installMethod(entry: Checkpoint, templates: Set<string>): InstallMethod {
  if (entry.status !== 'available' || entry.cards.length === 0) return 'no';
  if (!entry.cards.every((id) => templates.has(id))) return 'python';
  return entry.files.every((f) => f.directDownload && downloadUrls(f).length > 0) ? 'download' : 'file';
}

/** Card ids in the local registry (models converted on this machine). */
export function installedCardIds(registryPath: string): Set<string> {
  return new Set((readLocalRegistry(registryPath)?.models ?? []).map((m) => m.id));
}

/** Every card of the entry is in the local registry. */
export function isInstalled(entry: Checkpoint, installed: Set<string>): boolean {
  return entry.cards.length > 0 && entry.cards.every((id) => installed.has(id));
}

/** 'verified': matches the published sha256; 'unverified': none published; 'mismatch': not the published file. */
export function hashVerdict(published: string | null, actual: string): 'verified' | 'unverified' | 'mismatch' {
  if (!published) return 'unverified';
  return published.toLowerCase() === actual.toLowerCase() ? 'verified' : 'mismatch';
}

/**
 * The install record's entries for checkpoint files on this machine (downloaded, or picked by the user), each checked
 * against the sha256 its authors published for the catalogue file of that name (else of that place in the entry).
 * `mismatch` makes the error, in the caller's words, for a file that is not the official one.
 */
export function checkPublished(
  entry: Checkpoint,
  files: { name: string; bytes: number; sha256: string }[],
  mismatch: (file: { name: string; sha256: string }, official: CatalogueFile & { sha256: string }) => Error,
): InstalledFile[] {
  return files.map((file, i) => {
    const official = entry.files.find((f) => f.name === file.name) ?? entry.files[i];
    const verdict = hashVerdict(official.sha256, file.sha256);
    if (verdict === 'mismatch') throw mismatch(file, official as CatalogueFile & { sha256: string });
    return { name: file.name, bytes: file.bytes, sha256: file.sha256, verified: verdict === 'verified' };
  });
}

// ─────────────────────────────────────────── install records ───────────────────────────────────────────

export interface InstalledFile {
  name: string;
  bytes: number;
  sha256: string;
  verified: boolean;
}

/** What models/build/installed.json says of one installed catalogue checkpoint. */
export interface InstallRecord {
  /** ISO date of the install. */
  at: string;
  /** Bytes of the official checkpoint (every file). */
  bytes: number;
  /** sha256 of the main file (the catalogue's first), recorded at download even when none is published. */
  sha256: string;
  /** Every file matched a published sha256. */
  verified: boolean;
  files: InstalledFile[];
  cards: string[];
  /** Bytes of the converted model files. */
  modelBytes: number;
  /** Downloaded by the server, or a file the user gave (upload, `frontier models install --from`). */
  source: 'download' | 'file';
}

interface RecordsFile {
  version: 1;
  installed: Record<string, InstallRecord>;
}

/** models/build/installed.json, beside the local registry. */
export function installRecordsPath(registryPath: string): string {
  return join(dirname(registryPath), 'installed.json');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function validRecord(r: unknown): r is InstallRecord {
  return (
    isObject(r) && typeof r.at === 'string' && typeof r.bytes === 'number' && typeof r.sha256 === 'string' && typeof r.verified === 'boolean' &&
    Array.isArray(r.files) && Array.isArray(r.cards) && typeof r.modelBytes === 'number' && (r.source === 'download' || r.source === 'file')
  );
}

/** The install records by catalogue id; a missing or damaged file reads as none (records are informative only). */
export function readInstallRecords(path: string): Record<string, InstallRecord> {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
  if (!isObject(parsed) || !isObject(parsed.installed)) return {};
  return Object.fromEntries(Object.entries(parsed.installed).filter(([, r]) => validRecord(r))) as Record<string, InstallRecord>;
}

let tmpCounter = 0;

/** Sets (or with null removes) the record of catalogue checkpoint `id`. */
export function writeInstallRecord(path: string, id: string, record: InstallRecord | null): void {
  const all = readInstallRecords(path);
  if (record) all[id] = record;
  else if (!Object.hasOwn(all, id)) return;
  else delete all[id];
  const file: RecordsFile = { version: 1, installed: all };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}-${++tmpCounter}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n');
  renameSync(tmp, path);
}

// ─────────────────────────────────────────── convert, register, uninstall ───────────────────────────────────────────

/** Converts one card from a checkpoint file (in this process, or in a child process on the server). */
export type CardConverter = (cardId: string, file: string, onProgress: (p: ConvertProgress) => void) => Promise<Converted>;

/**
 * Converts `file` into every card of `entry` (VQ-Diffusion's one file makes three), in order. On failure the files
 * already written are removed before the error goes on.
 */
export async function convertEntry(entry: Checkpoint, file: string, convert: CardConverter, onProgress: (p: ConvertProgress, index: number, count: number) => void = () => {}): Promise<Converted[]> {
  const done: Converted[] = [];
  try {
    for (const [index, cardId] of entry.cards.entries()) {
      done.push(await convert(cardId, file, (p) => onProgress(p, index, entry.cards.length)));
    }
    return done;
  } catch (err) {
    for (const c of done) for (const p of c.paths) rmSync(p, { force: true });
    throw err;
  }
}

/**
 * Adds converted cards (their files already in the models folder) to the local registry and records the install.
 * If a card cannot be registered, those registered so far are taken out again (with their files).
 */
export function registerInstall(entryId: string, cards: ModelCard[], record: InstallRecord | null, o: { registryPath: string; filesDir: string }): void {
  const registered: string[] = [];
  try {
    for (const card of cards) {
      registerLocalCard(card, o.registryPath);
      registered.push(card.id);
    }
    if (record) writeInstallRecord(installRecordsPath(o.registryPath), entryId, record);
  } catch (err) {
    for (const id of registered) removeLocalModel(id, { registryPath: o.registryPath, filesDir: o.filesDir });
    throw err;
  }
}

/**
 * Takes an official checkpoint off this machine: its cards out of the local registry and their files out of the
 * models folder, and its install record. A card that another installed checkpoint (one with a record) also makes
 * stays. Returns the cards removed, or null when none of its cards is installed.
 */
export function uninstallEntry(cat: Catalogue, entry: Checkpoint, o: { registryPath: string; filesDir: string }): ModelCard[] | null {
  const installed = installedCardIds(o.registryPath);
  const present = entry.cards.filter((id) => installed.has(id));
  const recordsPath = installRecordsPath(o.registryPath);
  if (present.length === 0) {
    writeInstallRecord(recordsPath, entry.id, null);
    return null;
  }
  const records = readInstallRecords(recordsPath);
  const stillNeeded = new Set(cat.checkpoints.filter((k) => k.id !== entry.id && Object.hasOwn(records, k.id)).flatMap((k) => k.cards));
  const removed = present
    .filter((id) => !stillNeeded.has(id))
    .map((id) => removeLocalModel(id, { registryPath: o.registryPath, filesDir: o.filesDir }))
    .filter((c): c is ModelCard => c !== null);
  writeInstallRecord(recordsPath, entry.id, null);
  return removed;
}
