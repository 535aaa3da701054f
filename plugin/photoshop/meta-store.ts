// How each placed result was made (its ResultMeta: task, model, seed, params, latent), so a later selection can vary
// or turn it. Photoshop's DOM offers no per-layer plugin data (Figma's setPluginData has no UXP counterpart; layer
// XMP is reachable only through undocumented batchPlay descriptors), so the panel keeps one JSON file in its data
// folder, keyed by the document's file path (or "untitled:<id>" before the first save) and the layer id. Layer ids
// persist in the saved file, so the record survives closing and reopening the document at the same path.
import { parseResultMeta, type ResultMeta } from '../../worker/job.ts';
import { errorMessage, type Log, type PsDocument, type UxpFile, type UxpModule } from './api.ts';

export const META_FILE = 'frontier-results.json';
/** Oldest records are forgotten past this many. */
export const MAX_RECORDS = 2000;

export function documentKey(doc: Pick<PsDocument, 'id' | 'path'>): string {
  return doc.path ? `file:${doc.path}` : `untitled:${doc.id}`;
}

interface StoredFile {
  version: 1;
  /** [documentKey#layerId, ResultMeta JSON], oldest first. */
  records: [string, string][];
}

export class MetaStore {
  private readonly records = new Map<string, string>();
  private loading: Promise<void> | null = null;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly uxp: UxpModule,
    private readonly log: Log,
  ) {}

  async get(doc: Pick<PsDocument, 'id' | 'path'>, layerId: number): Promise<ResultMeta | undefined> {
    await this.load();
    return parseResultMeta(this.records.get(`${documentKey(doc)}#${layerId}`));
  }

  async set(doc: Pick<PsDocument, 'id' | 'path'>, layerId: number, meta: ResultMeta): Promise<void> {
    await this.load();
    const key = `${documentKey(doc)}#${layerId}`;
    this.records.delete(key); // re-insert as newest
    this.records.set(key, JSON.stringify(meta));
    while (this.records.size > MAX_RECORDS) this.records.delete(this.records.keys().next().value!);
    const text = JSON.stringify({ version: 1, records: [...this.records] } satisfies StoredFile);
    // Writes are queued so an older snapshot never lands after a newer one.
    this.saving = this.saving.then(() => this.write(text));
    await this.saving;
  }

  private load(): Promise<void> {
    this.loading ??= this.read();
    return this.loading;
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      const folder = await this.uxp.storage.localFileSystem.getDataFolder();
      const entry = await folder.getEntry(META_FILE);
      if (!entry.isFile) return;
      const content = await (entry as UxpFile).read();
      text = typeof content === 'string' ? content : '';
    } catch {
      return; // first run: no file yet
    }
    try {
      const stored = JSON.parse(text) as Partial<StoredFile>;
      if (stored.version !== 1 || !Array.isArray(stored.records)) throw new Error('unknown format');
      for (const record of stored.records) {
        if (Array.isArray(record) && typeof record[0] === 'string' && typeof record[1] === 'string') this.records.set(record[0], record[1]);
      }
    } catch (err) {
      this.log.warn(`${META_FILE} is unreadable (${errorMessage(err)}); results made before keep their pixels but not how they were made.`);
    }
  }

  private async write(text: string): Promise<void> {
    try {
      const folder = await this.uxp.storage.localFileSystem.getDataFolder();
      const file = await folder.createFile(META_FILE, { overwrite: true });
      await file.write(text);
    } catch (err) {
      // The layer is placed either way; only the record of how it was made is at risk.
      this.log.warn(`Could not save ${META_FILE}: ${errorMessage(err)}`);
    }
  }
}
