// Client of the server's model-install API (the contract in the header of server/routes/install.ts): the catalogue of
// official models, installing one as a job of the job API (a download the server makes, or a model file the user
// picked, uploaded in resumable chunks like video clips), following its progress (server-sent events read with fetch,
// polling where streaming does not work: UXP has no EventSource), cancelling it, and removing an installed model.
// fetch only, so the UI (Figma's iframe, Photoshop's webview, the playground) and Node tests use the same code.
// Errors carry a `kind` the UI words for designers; the server's own messages are written for users and kept.
import { FrontierError, type ResolvedTarget } from '../job.ts';
import { createJobFollower, uploadResumable, type JobFollower, type JobRef, type JobSnapshot } from './jobs-client.ts';
import { errorText, OipHttp, type OipClientOptions, type OipResponse } from './oip-http.ts';

/** Where an official model runs once installed. */
export type InstallTarget = ResolvedTarget;

/** One official model as the server describes it (GET /models/catalogue): the contract's one definition, which the
 *  server (server/install/installer.ts) builds. */
export interface CatalogueEntryView {
  id: string;
  family: string;
  familyLabel: string;
  label: string;
  task: string;
  dataset: string;
  quality: string | null;
  targets: InstallTarget[];
  status: 'available' | 'planned';
  reason?: string;
  license: { summary: string; commercialUse: 'yes' | 'no' | 'unclear'; redistribution: boolean; acceptBeforeDownload: boolean; url: string };
  download: { url: string | null; directDownload: boolean; bytes: number | null; sha256Published: boolean };
  /** The official files' names (GRAM has two: "Install from file…" takes both together). */
  files: string[];
  cards: string[];
  /** download: one click; file: the user brings the file (browser-only download page); python: npm run convert; no: planned. */
  install: 'download' | 'file' | 'python' | 'no';
  state: 'installed' | 'not-installed' | 'installing';
  installing?: { job: string };
  /** bytes: the official file(s); modelBytes: the converted model on disk. */
  installed?: { bytes: number; verified: boolean; sha256: string; at: string; modelBytes?: number };
}

export type InstallStage = 'upload' | 'queued' | 'download' | 'convert' | 'done';

export interface InstallProgress {
  stage: InstallStage;
  done: number;
  total: number;
  /** The server's words for a conversion step. */
  message?: string;
}

/**
 * offline: no answer from the server; unpaired: it wants its pairing code (or refused the one given); unsupported: no
 * install API there (not Frontier's server, or an older one); refused: the server said no (its message says why);
 * failed: the install job ended failed (its message says why); cancelled: the user stopped it.
 */
export type InstallErrorKind = 'offline' | 'unpaired' | 'unsupported' | 'refused' | 'failed' | 'cancelled';

export class InstallError extends Error {
  constructor(
    readonly kind: InstallErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'InstallError';
  }
}

/** A file the user picked: a Blob with a name (File in browsers). Several files picked together (a checkpoint
 *  published as several) are one Blob of them one after another, with `parts` saying where each is. */
export interface PickedFile {
  readonly name: string;
  readonly size: number;
  slice(start?: number, end?: number): Blob;
  readonly parts?: readonly { name: string; bytes: number }[];
}

/** Files picked together as one PickedFile (sent one after another; the server splits them again). */
export function pickedTogether(files: readonly File[]): PickedFile {
  if (files.length === 1) return files[0];
  const blob = new Blob([...files]);
  return { name: files.map((f) => f.name).join(' + '), size: blob.size, slice: (start, end) => blob.slice(start, end), parts: files.map((f) => ({ name: f.name, bytes: f.size })) };
}

export interface InstallRequest {
  /** Client-chosen job id (newJobId()). */
  id: string;
  /** The catalogue id. */
  model: string;
  acceptLicense: boolean;
  /** Install from this file instead of downloading. */
  file?: PickedFile;
  signal: AbortSignal;
  progress(p: InstallProgress): void;
}

export interface InstallClient {
  readonly where: string;
  catalogue(signal?: AbortSignal): Promise<CatalogueEntryView[]>;
  /** Installs; resolves to the card ids now in the server's registry. */
  install(req: InstallRequest): Promise<{ cards: string[] }>;
  /** Follows an install already running (e.g. started before the plugin was reopened). */
  resume(req: { id: string; signal: AbortSignal; progress(p: InstallProgress): void }): Promise<{ cards: string[] }>;
  /** Asks the server to stop an install (best effort). */
  cancel(jobId: string): Promise<void>;
  /** Removes an installed model (its cards leave the registry). */
  remove(model: string): Promise<void>;
}

export interface InstallClientOptions extends OipClientOptions {
  /** Upload chunk size (default 4 MiB, as video clips). */
  chunkBytes?: number;
  /** Poll interval when progress cannot be streamed (default 1 s). */
  pollMs?: number;
  maxReconnects?: number;
}

let counter = 0;

/** A job id for PUT /jobs/{id}: fresh each time (the same id would find a finished job again). Not randomUUID: needs a secure context. */
export function newJobId(): string {
  counter = (counter + 1) % 1_000_000;
  return `install-${Date.now().toString(36)}-${counter.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

const TERMINAL = new Set<JobSnapshot['state']>(['succeeded', 'failed', 'cancelled']);

export function createInstallClient(opts: InstallClientOptions): InstallClient {
  const http = new OipHttp({ ...opts, timeoutMs: opts.timeoutMs ?? 60_000 });
  const chunkBytes = Math.max(1, opts.chunkBytes ?? 4 * 2 ** 20);
  const fetchFn = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const where = http.where;

  /** A non-2xx answer as an InstallError; the server's own message (written for users) is kept. */
  const failed = (res: OipResponse, what: string): InstallError => {
    const detail = http.redact(errorText(res.body));
    if (res.status === 401 || res.status === 403) {
      return new InstallError('unpaired', `The server at ${where} did not accept the pairing code (${what}).`, res.status);
    }
    if (res.status >= 500) return new InstallError('failed', detail || `The server could not ${what} (error ${res.status}). Try again.`, res.status);
    return new InstallError('refused', detail || `The server refused to ${what} (${res.status}).`, res.status);
  };
  const follower: JobFollower = createJobFollower(http, { fetch: fetchFn, pollMs: opts.pollMs ?? 1000, maxReconnects: opts.maxReconnects ?? 3, failed });

  /** Sends through OipHttp; "cannot reach" becomes 'offline', a user's stop 'cancelled'. */
  async function send(req: Parameters<OipHttp['send']>[0]): Promise<OipResponse> {
    try {
      return await http.send(req);
    } catch (err) {
      throw asInstallError(err, where);
    }
  }

  const json = <T>(res: OipResponse): T => JSON.parse(new TextDecoder().decode(res.body)) as T;

  async function upload(req: InstallRequest, file: PickedFile, start: JobSnapshot): Promise<void> {
    await uploadResumable({
      send,
      id: req.id,
      size: file.size,
      from: start.upload?.offset ?? 0,
      chunkBytes,
      read: async (begin, end) => new Uint8Array(await file.slice(begin, end).arrayBuffer()),
      signal: req.signal,
      isCancel: (err) => (err as InstallError).kind === 'cancelled',
      cancelled: () => new InstallError('cancelled', 'Install cancelled.'),
      failed: (res) => failed(res, 'receive the model file'),
      what: 'send the model file',
      resumeWhat: 'resume sending the model file',
      timeoutMs: 300_000,
      onProgress: (done) => req.progress({ stage: 'upload', done, total: file.size }),
    });
    req.progress({ stage: 'upload', done: file.size, total: file.size });
  }

  const report = (progress: InstallRequest['progress']) => (job: JobSnapshot) => {
    const p = installProgress(job);
    if (p) progress(p);
  };

  /** Follows to the end; a cancelled job or a user's stop is 'cancelled', a failed one carries the server's words. */
  async function finish(ref: JobRef, start: JobSnapshot, progress: InstallRequest['progress']): Promise<{ cards: string[] }> {
    let last: JobSnapshot;
    try {
      last = TERMINAL.has(start.state) ? start : await follower.follow(ref, start, report(progress));
    } catch (err) {
      throw asInstallError(err, where);
    }
    if (last.state === 'cancelled') throw new InstallError('cancelled', 'Install cancelled.');
    if (last.state === 'failed') throw new InstallError('failed', last.error || 'The install failed on the server.');
    progress({ stage: 'done', done: 1, total: 1 });
    return { cards: last.result?.cards ?? [] };
  }

  /** Stops the server job when the user aborted, and reports a plain 'cancelled'. */
  async function cancelOnAbort<T>(id: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (signal.aborted) {
        await follower.cancel(id);
        throw new InstallError('cancelled', 'Install cancelled.');
      }
      throw err;
    }
  }

  return {
    where,
    async catalogue(signal) {
      const res = await send({ method: 'GET', path: '/models/catalogue', retry: 'always', signal, what: 'list the official models', timeoutMs: 15_000 });
      if (res.status === 404) {
        throw new InstallError('unsupported', `The server at ${where} cannot install models: it is not Frontier's server, or an older version of it.`, 404);
      }
      if (res.status !== 200) throw failed(res, 'list the official models');
      let body: { entries?: unknown };
      try {
        body = json(res);
      } catch {
        throw new InstallError('unsupported', `The server at ${where} did not answer with a list of models.`);
      }
      if (!Array.isArray(body.entries)) throw new InstallError('unsupported', `The server at ${where} did not answer with a list of models.`);
      return body.entries as CatalogueEntryView[];
    },

    install(req) {
      const ref: JobRef = { id: req.id, signal: req.signal, label: 'the install' };
      return cancelOnAbort(req.id, req.signal, async () => {
        const file = req.file;
        const description = {
          task: 'install-model',
          model: req.model,
          ...(req.acceptLicense ? { acceptLicense: true } : {}),
          ...(file ? { upload: { bytes: file.size, mime: 'application/octet-stream', name: file.name, ...(file.parts ? { parts: file.parts } : {}) } } : {}),
        };
        req.progress(file ? { stage: 'upload', done: 0, total: file.size } : { stage: 'queued', done: 0, total: 1 });
        const res = await send({
          method: 'PUT', path: `/jobs/${req.id}`, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(description),
          retry: 'always', signal: req.signal, what: 'start the install',
        });
        if (res.status === 404) throw new InstallError('unsupported', `The server at ${where} cannot install models: it is not Frontier's server, or an older version of it.`, 404);
        if (res.status !== 200 && res.status !== 201) throw failed(res, 'start the install');
        let start = json<JobSnapshot>(res);
        if (file && start.state === 'uploading') {
          await upload(req, file, start);
          start = await follower.snapshot(ref).catch((err: unknown) => {
            throw asInstallError(err, where);
          });
        }
        report(req.progress)(start);
        return finish(ref, start, req.progress);
      });
    },

    resume(req) {
      const ref: JobRef = { id: req.id, signal: req.signal, label: 'the install' };
      return cancelOnAbort(req.id, req.signal, async () => {
        let start: JobSnapshot;
        try {
          start = await follower.snapshot(ref);
        } catch (err) {
          throw asInstallError(err, where);
        }
        report(req.progress)(start);
        return finish(ref, start, req.progress);
      });
    },

    cancel(jobId) {
      return follower.cancel(jobId);
    },

    async remove(model) {
      const res = await send({ method: 'DELETE', path: `/models/installed/${encodeURIComponent(model)}`, retry: 'before-response', what: 'remove the model' });
      if (res.status === 204 || res.status === 200) return;
      if (res.status === 404 && !errorText(res.body)) throw new InstallError('refused', 'This model is not installed on the server.', 404);
      throw failed(res, 'remove the model');
    },
  };
}

/** A job snapshot as install progress (null for stages an install does not have). */
export function installProgress(job: JobSnapshot): InstallProgress | null {
  const p = job.progress;
  if (!p) return null;
  switch (p.stage) {
    case 'upload':
    case 'download':
    case 'convert':
    case 'done':
    case 'queued':
      return { stage: p.stage, done: p.done, total: p.total, ...(p.message ? { message: p.message } : {}) };
    default:
      // Stages of other job kinds: an install reports them as conversion work.
      return { stage: 'convert', done: p.done, total: p.total, ...(p.message ? { message: p.message } : {}) };
  }
}

/** Any error of a call as an InstallError: unreachable → offline, a stop → cancelled. */
export function asInstallError(err: unknown, where: string): InstallError {
  if (err instanceof InstallError) return err;
  if (err instanceof FrontierError) {
    if (err.code === 'cancelled') return new InstallError('cancelled', 'Install cancelled.');
    if (err.code === 'target-unavailable') return new InstallError('offline', `No answer from the server at ${where}.`);
    return new InstallError('failed', err.message);
  }
  return new InstallError('failed', err instanceof Error ? err.message : String(err));
}
