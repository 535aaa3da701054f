// Installs official models through the server ("Official models in one click"): an install job (task "install-model"
// of the job API) downloads a catalogue checkpoint (download.ts) or takes the file the user uploaded, checks its size
// and sha256 (against the published one where the authors published one; recorded either way), checks the disk has
// room for the checkpoint and the model converted from it, converts it in a child process (convert-process.ts: the
// checkpoint reader is synchronous, and a cancel kills the process at once), moves the model files into the models
// folder and registers the cards in the local registry, so GET /models/registry.json serves them at once. The
// catalogue view (GET /models/catalogue) and uninstall (DELETE /models/installed/{id}) live here too; the HTTP
// contract is in server/routes/install.ts.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkpointById, licenseOf, readCatalogue, type Catalogue, type Checkpoint } from '../../models/catalogue.ts';
import type { ConvertProgress } from '../../models/convert/from-checkpoint.ts';
import { removeLocalModel } from '../../models/local-models.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { HttpError, megabytes } from '../http-util.ts';
import { freeBytes } from '../jobs/disk.ts';
import { INSTALL_TASK, type InstalledInfo, type InstallJobResult, type InstallJobSpec, type InstallRunFiles, type InstallRunner, type UploadPart } from '../jobs/install-spec.ts';
import type { Job, JobStage } from '../jobs/job.ts';
import { CONVERTED_DIR, DOWNLOAD_DIR } from '../jobs/layout.ts';
import type { ServerPaths } from '../paths.ts';
import { WorkProcess } from '../work-process.ts';
import type { ConvertIn, ConvertOut } from './convert-messages.ts';
import { downloadFiles } from './download.ts';
import {
  downloadUrls,
  checkPublished,
  hashVerdict,
  installedCardIds,
  installMethod,
  installRecordsPath,
  readInstallRecords,
  registerInstall,
  templateCards,
  uninstallEntry,
  writeInstallRecord,
  type InstalledFile,
  type InstallRecord,
} from './official.ts';

export interface InstallOptions {
  /** The catalogue of official checkpoints (default models/catalogue.json): tests point it at a local host. */
  catalogue?: Catalogue;
  /** The graph templates (default models/templates). */
  templatesDir?: string;
  /** Bytes free on the disk holding `dir`, or null when unknown (default: statfs). Tests simulate a full disk. */
  freeBytes?: (dir: string) => Promise<number | null>;
  /** Allow plain http downloads from loopback hosts (a test's fake host). https is required everywhere else. */
  allowHttpLoopback?: boolean;
  /** Failed download attempts in a row before giving up (default 5), the first wait (default 1000 ms, doubling). */
  retries?: number;
  retryDelayMs?: number;
  /** A download connection silent this long is dropped and resumed (default 60 s). */
  idleTimeoutMs?: number;
  /** Largest checkpoint file accepted as an upload (default 64 GiB). */
  maxUploadBytes?: number;
}

/** One catalogue checkpoint as GET /models/catalogue shows it: the client's type is the contract's one definition. */
export type { CatalogueEntryView } from '../../worker/runtime/install-client.ts';
import type { CatalogueEntryView } from '../../worker/runtime/install-client.ts';

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MIME = /^[a-z0-9][a-z0-9.+-]*\/[a-z0-9][a-z0-9.+-]*$/i;
/** Least time between two progress events of a running install (the journal and event log stay small). */
const PROGRESS_MS = 200;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function cancelled(): Error {
  const err = new Error('The install was cancelled.');
  err.name = 'AbortError';
  return err;
}

/**
 * Progress for a job, at most every PROGRESS_MS unless the message changes or a step completes; the latest skipped
 * update follows within PROGRESS_MS (a download that stalls still shows how far it got). stop() drops a pending one.
 */
function throttled(job: Job, stage: JobStage): { update(done: number, total: number, message: string): void; stop(): void } {
  let last = 0;
  let lastMessage = '';
  let pending: [number, number, string] | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const emit = (done: number, total: number, message: string) => {
    if (stopped || job.terminal) return;
    last = Date.now();
    lastMessage = message;
    pending = null;
    job.setProgress(stage, done, total, { message });
  };
  return {
    update(done, total, message) {
      if (stopped) return;
      if (message !== lastMessage || done >= total || Date.now() - last >= PROGRESS_MS) {
        clearTimeout(timer);
        timer = undefined;
        emit(done, total, message);
        return;
      }
      pending = [done, total, message];
      timer ??= setTimeout(() => {
        timer = undefined;
        if (pending) emit(...pending);
      }, PROGRESS_MS - (Date.now() - last));
      (timer as unknown as { unref(): void }).unref();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Moves a file into place; across disks (jobs folder and models folder apart) by copying. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const tmp = join(to, '..', `.${basename(to)}.${process.pid}.tmp`);
    await copyFile(from, tmp);
    await rename(tmp, to);
    await rm(from, { force: true });
  }
}

/** sha256 of a file with progress (a multi-GB upload takes a while to hash). */
async function hashFile(path: string, signal: AbortSignal, onBytes: (done: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { signal, highWaterMark: 4 * 2 ** 20 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    onBytes(done);
  }
  return hash.digest('hex');
}

/** upload.parts checked: each {name, bytes}, the sizes adding up to the upload's; undefined when absent. */
export function parseParts(value: unknown, total: number): UploadPart[] | undefined {
  if (value === undefined) return undefined;
  const example = '[{"name":"generator.pth","bytes":123},{"name":"ema.pth","bytes":45}]';
  if (!Array.isArray(value) || value.length < 1 || value.length > 8) throw new HttpError(400, `upload.parts must list the files sent one after another, e.g. ${example}.`);
  const parts = value.map((p: unknown) => {
    if (!isObject(p) || Object.keys(p).some((k) => k !== 'name' && k !== 'bytes')) throw new HttpError(400, `Each of upload.parts is {"name", "bytes"}, e.g. ${example}.`);
    const { name, bytes } = p;
    if (typeof name !== 'string' || name.length === 0 || name.length > 255 || /[\u0000-\u001f\u007f]/.test(name)) throw new HttpError(400, 'Each of upload.parts names its file (1 to 255 characters, no control characters).');
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) throw new HttpError(400, `upload.parts: ${JSON.stringify(name).slice(0, 80)} must give its size in bytes, a whole number ≥ 1.`);
    // Only the last path segment, and never one that names a folder ('.', '..'): each part is written under it.
    const base = name.split(/[\\/]/).pop() ?? '';
    return { name: base === '' || base === '.' || base === '..' ? 'file' : base, bytes };
  });
  const sum = parts.reduce((n, p) => n + p.bytes, 0);
  if (sum !== total) throw new HttpError(400, `upload.parts add up to ${sum} bytes, and upload.bytes is ${total}.`);
  return parts;
}

/** Copies the parts of a concatenated upload into files of their own under `dir` (each in its own folder: two files
 *  may have one name), hashing each on the way. */
async function splitParts(input: string, parts: UploadPart[], dir: string, signal: AbortSignal, onBytes: (done: number) => void): Promise<{ path: string; name: string; bytes: number; sha256: string }[]> {
  await rm(dir, { recursive: true, force: true });
  const out = [];
  let start = 0;
  for (const [i, part] of parts.entries()) {
    await mkdir(join(dir, String(i)), { recursive: true });
    const path = join(dir, String(i), part.name);
    const hash = createHash('sha256');
    const target = await open(path, 'w');
    let written = 0;
    try {
      for await (const chunk of createReadStream(input, { signal, start, end: start + part.bytes - 1, highWaterMark: 4 * 2 ** 20 })) {
        hash.update(chunk as Buffer);
        await target.write(chunk as Buffer);
        written += (chunk as Buffer).length;
        onBytes(start + written);
      }
    } finally {
      await target.close();
    }
    out.push({ path, name: part.name, bytes: part.bytes, sha256: hash.digest('hex') });
    start += part.bytes;
  }
  return out;
}

export class Installer implements InstallRunner {
  private cat: Catalogue | null = null;
  /** Registry and record changes, one at a time (concurrent installs, an uninstall). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly paths: ServerPaths,
    private readonly o: InstallOptions = {},
  ) {
    if (o.catalogue) this.cat = o.catalogue;
  }

  /** The catalogue (read once; a damaged file is a 500 that says so, and is read again next time). */
  catalogue(): Catalogue {
    if (this.cat) return this.cat;
    try {
      this.cat = readCatalogue();
    } catch (err) {
      throw new HttpError(500, `The catalogue of official models is damaged (${(err as Error).message}): reinstall Frontier.`);
    }
    return this.cat;
  }

  private entry(id: string): Checkpoint | undefined {
    return checkpointById(this.catalogue(), id);
  }

  /** One registry change at a time. */
  private serial<T>(work: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  /** GET /models/catalogue: every checkpoint not marked unused, with how and whether it is installed here. */
  view(activeJob: (id: string) => string | undefined): CatalogueEntryView[] {
    const cat = this.catalogue();
    const templates = templateCards(this.o.templatesDir);
    let installed: Set<string>;
    try {
      installed = installedCardIds(this.paths.localRegistry);
    } catch (err) {
      throw new HttpError(500, `The list of models installed on this server is damaged (${(err as Error).message}).`);
    }
    const records = readInstallRecords(installRecordsPath(this.paths.localRegistry));
    return cat.checkpoints
      .filter((k) => k.status !== 'unused')
      .map((k): CatalogueEntryView => {
        const license = licenseOf(cat, k);
        const job = activeJob(k.id);
        const here = k.cards.length > 0 && k.cards.every((id) => installed.has(id));
        const record = here ? records[k.id] : undefined;
        const bytes = k.files.every((f) => f.bytes !== null) ? k.files.reduce((n, f) => n + (f.bytes ?? 0), 0) : null;
        return {
          id: k.id,
          family: k.family,
          familyLabel: cat.families[k.family]?.label ?? k.family,
          label: k.label,
          task: k.task,
          dataset: k.dataset,
          quality: k.quality,
          targets: k.targets,
          status: k.status === 'available' ? 'available' : 'planned',
          ...(k.reason ? { reason: k.reason } : {}),
          license: { summary: license.summary, commercialUse: license.commercialUse, redistribution: license.redistribution, acceptBeforeDownload: license.acceptBeforeDownload, url: license.url },
          download: { url: k.files[0]?.url ?? null, directDownload: k.files.every((f) => f.directDownload), bytes, sha256Published: k.files.every((f) => f.sha256 !== null) },
          files: k.files.map((f) => f.name),
          cards: [...k.cards],
          install: installMethod(k, templates),
          state: job ? 'installing' : here ? 'installed' : 'not-installed',
          ...(job ? { installing: { job } } : {}),
          ...(record ? { installed: { bytes: record.bytes, verified: record.verified, sha256: record.sha256, at: record.at, modelBytes: record.modelBytes } } : {}),
        };
      });
  }

  /** Checks a PUT /jobs/{id} body of task install-model (the contract in server/routes/install.ts). */
  parseSpec(body: Record<string, unknown>): InstallJobSpec {
    const example = `{"task":"${INSTALL_TASK}","model":"styleswin-ffhq-256"}`;
    const unknown = Object.keys(body).filter((k) => !['task', 'model', 'params', 'acceptLicense', 'upload'].includes(k));
    if (unknown.length) throw new HttpError(400, `Unknown field ${unknown.join(', ')} in the body of an ${INSTALL_TASK} job; fields: task, model, acceptLicense, upload (e.g. ${example}).`);
    if (body.params !== undefined && !(isObject(body.params) && Object.keys(body.params).length === 0)) throw new HttpError(400, `An ${INSTALL_TASK} job takes no params.`);
    if (typeof body.model !== 'string') throw new HttpError(400, `model must be the id of an official model (GET /models/catalogue lists them), e.g. ${example}.`);
    const entry = ID.test(body.model) ? this.entry(body.model) : undefined;
    if (!entry) throw new HttpError(400, `No official model ${JSON.stringify(body.model.slice(0, 80))}: GET /models/catalogue lists them.`);
    if (body.acceptLicense !== undefined && typeof body.acceptLicense !== 'boolean') throw new HttpError(400, 'acceptLicense must be true or false.');
    const name = `${this.catalogue().families[entry.family]?.label ?? entry.family} ${entry.label}`;
    if (entry.status !== 'available') throw new HttpError(400, `${name} (${entry.id}) cannot be installed: it is not supported yet${entry.reason ? ` (${entry.reason})` : ''}.`);
    const license = licenseOf(this.catalogue(), entry);
    if (license.acceptBeforeDownload && body.acceptLicense !== true) {
      throw new HttpError(400, `The licence of ${name} must be accepted before it is installed: ${license.summary} (${license.url}) Send "acceptLicense": true once the user has agreed.`, {}, 'license-not-accepted');
    }
    const method = installMethod(entry, templateCards(this.o.templatesDir));
    if (method === 'python' || method === 'no') {
      throw new HttpError(400, `${name} cannot be installed by this server yet (this version of Frontier has no conversion template for it): convert it with Python instead, npm run convert -- ${entry.cards[0]} --checkpoint FILE.`);
    }
    const spec: InstallJobSpec = { task: INSTALL_TASK, model: entry.id, params: {}, acceptLicense: body.acceptLicense === true };
    if (body.upload === undefined) {
      if (method === 'file') {
        const page = entry.files.find((f) => !f.directDownload);
        throw new HttpError(400, `${name} cannot be downloaded by the server: its download page needs a browser. Download ${page?.name ?? 'the checkpoint'} from ${page?.url ?? downloadUrls(entry.files[0])[0] ?? 'its page'}, then install it from the file (send "upload": {"bytes", "name"} and PATCH the bytes to /jobs/{id}/upload).`);
      }
      return spec;
    }
    const upload = body.upload;
    if (!isObject(upload)) throw new HttpError(400, 'upload must describe the file to upload, e.g. {"bytes":123456,"mime":"application/octet-stream","name":"FFHQ_256.pt"}.');
    const extra = Object.keys(upload).filter((k) => !['bytes', 'mime', 'name', 'parts'].includes(k));
    if (extra.length) throw new HttpError(400, `Unknown field ${extra.join(', ')} in upload; fields: bytes, mime, name, parts.`);
    const bytes = upload.bytes;
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) throw new HttpError(400, `upload.bytes must be the file's size in bytes, a whole number ≥ 1 (got ${JSON.stringify(bytes)?.slice(0, 40)}).`);
    const max = this.o.maxUploadBytes ?? 64 * 2 ** 30;
    if (bytes > max) throw new HttpError(413, `The file (${megabytes(bytes)}) is larger than this server accepts for a checkpoint (${megabytes(max)}).`);
    const parts = parseParts(upload.parts, bytes);
    const officialNames = entry.files.map((f) => f.name).join(' and ');
    if (entry.files.length > 1 && (parts?.length ?? 1) !== entry.files.length) {
      throw new HttpError(400, `${name} is made of ${entry.files.length} files (${officialNames}): pick all of them together (send them one after another, described in upload.parts).`);
    }
    if (entry.files.length === 1 && parts && parts.length !== 1) throw new HttpError(400, `${name} is one file (${officialNames}): upload.parts lists ${parts.length}.`);
    const official = entry.files[0];
    if (entry.files.length === 1 && official.bytes !== null && bytes !== official.bytes) {
      throw new HttpError(400, `The official ${official.name} has ${official.bytes} bytes, and the file you picked has ${bytes}: it is another file. Pick ${official.name} (${official.url ?? 'see the model page'}).`);
    }
    const mime = upload.mime === undefined ? 'application/octet-stream' : upload.mime;
    if (typeof mime !== 'string' || !MIME.test(mime) || mime.length > 100) throw new HttpError(415, `upload.mime must be a media type such as application/octet-stream (got ${JSON.stringify(mime)?.slice(0, 60)}).`);
    let fileName: string | undefined;
    if (upload.name !== undefined) {
      if (typeof upload.name !== 'string' || upload.name.length === 0 || upload.name.length > 255 || /[\u0000-\u001f\u007f]/.test(upload.name)) {
        throw new HttpError(400, 'upload.name must be the file\'s name (1 to 255 characters, no control characters).');
      }
      fileName = upload.name.split(/[\\/]/).pop() || undefined;
    }
    return { ...spec, upload: { bytes, mime: mime.toLowerCase(), ...(fileName ? { name: fileName } : {}), ...(parts && parts.length > 1 ? { parts } : {}) } };
  }

  /** Runs an install job to its end (see the top of this file); throws on failure or cancel. */
  async run(job: Job, spec: InstallJobSpec, files: InstallRunFiles): Promise<InstallJobResult> {
    const signal = job.abort.signal;
    const entry = this.entry(spec.model);
    if (!entry) throw new Error(`${spec.model} is no longer in this server's catalogue of official models.`);
    const label = `${this.catalogue().families[entry.family]?.label ?? entry.family} ${entry.label}`;
    const staging = join(files.dir, CONVERTED_DIR);
    await rm(staging, { recursive: true, force: true });

    let checkpoint: { files: InstalledFile[]; main: string; name: string; companions?: string[]; source: InstallRecord['source'] };
    if (spec.upload?.parts) {
      // Several files sent one after another: each into a file of its own (hashed on the way), told apart later by
      // what they hold (models/convert/from-checkpoint.ts).
      const progress = throttled(job, 'convert');
      let split: { path: string; name: string; bytes: number; sha256: string }[];
      try {
        split = await splitParts(files.input, spec.upload.parts, join(files.dir, 'parts'), signal, (done) => progress.update(done, spec.upload!.bytes, 'Checking the files'));
      } finally {
        progress.stop();
      }
      await rm(files.input, { force: true });
      const checked = checkPublished(entry, split, (part, official) =>
        new Error(`${part.name} is not the official ${official.name}: its sha256 is ${part.sha256.slice(0, 16)}…, and the authors published ${official.sha256.slice(0, 16)}…. Pick the files from ${official.url ?? 'the model page'}.`));
      await this.checkSpace(label, files.dir, 0, spec.upload.bytes);
      checkpoint = { files: checked, main: split[0].path, name: split[0].name, companions: split.slice(1).map((p) => p.path), source: 'file' };
    } else if (spec.upload) {
      const official = entry.files[0];
      const name = spec.upload.name ?? official.name;
      const progress = throttled(job, 'convert');
      const message = `Checking ${name}`;
      let sha256: string;
      try {
        progress.update(0, spec.upload.bytes, message);
        sha256 = await hashFile(files.input, signal, (done) => progress.update(done, spec.upload!.bytes, message));
      } finally {
        progress.stop();
      }
      const verdict = hashVerdict(official.sha256, sha256);
      if (verdict === 'mismatch') {
        throw new Error(`${name} is not the official ${official.name}: its sha256 is ${sha256.slice(0, 16)}…, and the authors published ${official.sha256!.slice(0, 16)}…. Pick the file from ${official.url ?? 'the model page'}.`);
      }
      await this.checkSpace(label, files.dir, 0, spec.upload.bytes);
      checkpoint = { files: [{ name: official.name, bytes: spec.upload.bytes, sha256, verified: verdict === 'verified' }], main: files.input, name, source: 'file' };
    } else {
      for (const f of entry.files) {
        if (!/^[^/\\\0]+$/.test(f.name) || f.name === '.' || f.name === '..' || f.name.startsWith('state.json')) throw new Error(`The catalogue names a file "${f.name}" that cannot be downloaded as it is.`);
      }
      const progress = throttled(job, 'download');
      let downloaded;
      try {
        downloaded = await downloadFiles(
          entry.files.map((f) => ({ name: f.name, urls: downloadUrls(f), bytes: f.bytes })),
          {
            dir: join(files.dir, DOWNLOAD_DIR),
            signal,
            allowHttpLoopback: this.o.allowHttpLoopback,
            retries: this.o.retries,
            retryDelayMs: this.o.retryDelayMs,
            idleTimeoutMs: this.o.idleTimeoutMs,
            onProgress: (done, total, message) => progress.update(done, total ?? 0, message),
            reserve: (remaining, total) => this.checkSpace(label, files.dir, remaining, total),
          },
        );
      } finally {
        progress.stop();
      }
      const checked = checkPublished(entry, downloaded, (d, official) =>
        new Error(`${d.name} does not match the sha256 its authors published (the download has ${d.sha256.slice(0, 16)}…, the authors published ${official.sha256.slice(0, 16)}…): it is damaged or not the official file, so it was deleted and nothing was installed. Install again; if it happens again, the file on the server has changed.`));
      checkpoint = { files: checked, main: downloaded[0].path, name: downloaded[0].name, source: 'download' };
    }
    if (signal.aborted) throw cancelled();

    const converted = await this.convert(job, entry, checkpoint, staging);
    if (signal.aborted) throw cancelled();

    const installed: InstalledInfo = {
      bytes: checkpoint.files.reduce((n, f) => n + f.bytes, 0),
      sha256: checkpoint.files[0].sha256,
      verified: checkpoint.files.every((f) => f.verified),
      at: new Date().toISOString(),
    };
    const cards = converted.map((c) => c.card);
    job.setProgress('convert', 1, 1, { message: 'Adding the model' });
    await this.serial(async () => {
      await mkdir(this.paths.modelFiles, { recursive: true });
      // Files already there (the same content, of a model installed before) belong to that model too: only the ones
      // this install adds are taken away again if it cannot finish.
      const added: string[] = [];
      try {
        for (const c of converted) {
          for (const path of c.paths) {
            const to = join(this.paths.modelFiles, basename(path));
            const existed = await stat(to).then(() => true, () => false);
            await moveFile(path, to);
            if (!existed) added.push(to);
          }
        }
        const record: InstallRecord = {
          ...installed,
          files: checkpoint.files,
          cards: cards.map((c) => c.id),
          modelBytes: cards.reduce((n, c) => n + c.files.reduce((m, f) => m + f.bytes, 0), 0),
          source: checkpoint.source,
        };
        registerInstall(entry.id, cards, record, { registryPath: this.paths.localRegistry, filesDir: this.paths.modelFiles });
      } catch (err) {
        await Promise.all(added.map((p) => rm(p, { force: true })));
        throw err;
      }
    });
    if (signal.aborted) {
      // Cancelled in the last moment: the job says cancelled, so nothing of it stays installed.
      await this.serial(() => {
        for (const card of cards) removeLocalModel(card.id, { registryPath: this.paths.localRegistry, filesDir: this.paths.modelFiles });
        writeInstallRecord(installRecordsPath(this.paths.localRegistry), entry.id, null);
      });
      throw cancelled();
    }
    job.setProgress('convert', 1, 1, { message: `Installed ${label}` });
    const result: InstallJobResult = { url: `/jobs/${job.id}/result`, cards: cards.map((c) => c.id), installed };
    await writeFile(files.output, JSON.stringify(result));
    return result;
  }

  /**
   * DELETE /models/installed/{id}: takes the checkpoint's cards out of the local registry and deletes their files.
   * 404 for an unknown id or one not installed; the caller answers 409 while an install of it runs.
   */
  async uninstall(id: string): Promise<ModelCard[]> {
    const entry = ID.test(id) && id.length <= 100 ? this.entry(id) : undefined;
    if (!entry) throw new HttpError(404, `No official model ${JSON.stringify(id.slice(0, 80))}: GET /models/catalogue lists them.`);
    const removed = await this.serial(() => uninstallEntry(this.catalogue(), entry, { registryPath: this.paths.localRegistry, filesDir: this.paths.modelFiles }));
    if (removed === null) throw new HttpError(404, `${entry.id} is not installed on this server.`);
    return removed;
  }

  /**
   * Throws (in plain words) unless the disks have room for `download` more bytes and a converted model of about
   * `converted` bytes (the model is converted next to the download, in the job's folder, then moved into the models
   * folder: one disk needs both, two disks need each their part).
   */
  private async checkSpace(label: string, jobDir: string, download: number, converted: number): Promise<void> {
    const free = this.o.freeBytes ?? freeBytes;
    await mkdir(this.paths.modelFiles, { recursive: true });
    const [jobs, models] = await Promise.all([stat(jobDir), stat(this.paths.modelFiles)]);
    const needs = [{ dir: jobDir, bytes: download + converted }, ...(jobs.dev === models.dev ? [] : [{ dir: this.paths.modelFiles, bytes: converted }])];
    for (const need of needs) {
      const available = await free(need.dir);
      if (available === null || available >= need.bytes) continue;
      const parts = download > 0 && need.dir === jobDir ? `${megabytes(download)} for the download and about ${megabytes(converted)} for the converted model` : `about ${megabytes(converted)} for the converted model`;
      throw new Error(`Not enough disk space to install ${label}: it needs about ${megabytes(need.bytes)} free (${parts}), and the disk has ${megabytes(available)} free. Free some space, then install again.`);
    }
  }

  /** Converts the checkpoint into every card of the entry in a child process; its progress goes to the job. */
  private async convert(job: Job, entry: Checkpoint, checkpoint: { main: string; name: string; files: InstalledFile[]; companions?: string[] }, outDir: string): Promise<{ card: ModelCard; paths: string[] }[]> {
    const { main: file, name } = checkpoint;
    // Messages name the files as the user knows them.
    const names = [[file, name], ...(checkpoint.companions ?? []).map((path, i) => [path, checkpoint.files[i + 1]?.name ?? basename(path)])];
    const signal = job.abort.signal;
    await mkdir(outDir, { recursive: true });
    const progress = throttled(job, 'convert');
    const count = entry.cards.length;
    progress.update(0, 1, 'Reading the model file');
    let settle: { resolve(v: { card: ModelCard; paths: string[] }[]): void; reject(err: Error): void } | null = null;
    const onMessage = (msg: ConvertOut) => {
      if (msg.type === 'progress') {
        const p: ConvertProgress = msg.progress;
        progress.update(p.done, p.total, count > 1 ? `${entry.cards[msg.card]} (${msg.card + 1} of ${count}): ${p.message}` : p.message);
      } else if (msg.type === 'done') settle?.resolve(msg.converted);
      else settle?.reject(new Error(msg.message));
    };
    const child = new WorkProcess<ConvertIn, ConvertOut>(new URL('./convert-process.mjs', import.meta.url), 'the conversion process', onMessage);
    child.hold();
    const onAbort = () => {
      settle?.reject(cancelled());
      void child.kill();
    };
    try {
      return await new Promise<{ card: ModelCard; paths: string[] }[]>((resolve, reject) => {
        settle = { resolve, reject };
        void child.exited.then((why) => reject(signal.aborted ? cancelled() : new Error(`The conversion stopped before it finished (${why.message}): install again; if it happens again, the computer may be short of memory.`)));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        child.send({ type: 'convert', cards: entry.cards, file, name, names: Object.fromEntries(names), companions: checkpoint.companions ?? [], outDir, templatesDir: this.o.templatesDir });
      });
    } finally {
      progress.stop();
      signal.removeEventListener('abort', onAbort);
      await child.kill();
      child.release();
    }
  }
}
