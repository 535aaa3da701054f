// The job journal: each job's state lives in <jobs dir>/<id>/job.json, so a restart finds every job the server had
// (restore.ts decides what becomes of each). A record is written atomically (a temporary file renamed over the old
// one), right away on a state change and at most every `throttleMs` for progress. Writes of one job never overlap
// and the newest state always lands last. The journal never fails a job: a write that fails is logged and retried
// with the next change.
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineJobResult } from './engine-spec.ts';
import { INSTALL_TASK, type InstallJobResult } from './install-spec.ts';
import type { AnyJobSpec, Job, JobProgress, JobResult, JobState } from './job.ts';
import { JOB_ID } from './spec.ts';
import { isVideoTask, videoTask } from './video-tasks.ts';

export const JOURNAL_FILE = 'job.json';
const JOURNAL_VERSION = 1;

/**
 * Events a job may emit beyond its journalled sequence number before a write is forced, and how far a restored
 * job's numbering jumps ahead: a client that saw an event the journal missed still gets a higher id after a restart.
 */
const SEQ_FORCE_WRITE = 32;
export const SEQ_RESTART_GAP = 100;

/** What job.json holds: everything needed to resume the job, or to report how it ended. */
export interface JobRecord {
  version: typeof JOURNAL_VERSION;
  id: string;
  spec: AnyJobSpec;
  state: JobState;
  /** Without the engine's preview (it is not kept across a restart). */
  progress: Omit<JobProgress, 'preview'>;
  /** Upload bytes counted so far (the input file's size on disk is the truth at a restart). */
  uploadOffset: number;
  error?: string;
  result?: JobResult | EngineJobResult | InstallJobResult;
  createdAt: string;
  finishedAt?: string;
  updatedAt: string;
  /** Sequence number of the newest event when the record was written. */
  seq: number;
  /** Runs started. */
  attempts: number;
  /** Runs cut short by a server that stopped without a clean shutdown (kill -9, crash, power loss). */
  interrupted: number;
  /** The client that created the job (a hash, never a token): for the per-client cap. */
  owner?: string;
}

export function recordOf(job: Job): JobRecord {
  const progress = { ...job.progress };
  delete progress.preview;
  return {
    version: JOURNAL_VERSION,
    id: job.id,
    spec: job.spec,
    state: job.state,
    progress,
    uploadOffset: job.uploadOffset,
    ...(job.error !== undefined ? { error: job.error } : {}),
    ...(job.result ? { result: job.result } : {}),
    createdAt: job.createdAt.toISOString(),
    ...(job.finishedAt ? { finishedAt: job.finishedAt.toISOString() } : {}),
    updatedAt: new Date().toISOString(),
    seq: job.seq,
    attempts: job.attempts,
    interrupted: job.interrupted,
    ...(job.owner ? { owner: job.owner } : {}),
  };
}

const STATES: readonly JobState[] = ['uploading', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDate = (v: unknown) => typeof v === 'string' && Number.isFinite(Date.parse(v));

function validSpec(spec: unknown): spec is AnyJobSpec {
  if (!isObject(spec) || typeof spec.task !== 'string' || typeof spec.model !== 'string' || !isObject(spec.params)) return false;
  const upload = spec.upload;
  const validUpload = isObject(upload) && count(upload.bytes) && (upload.bytes as number) > 0 && typeof upload.mime === 'string' && (upload.name === undefined || typeof upload.name === 'string');
  if (spec.task === INSTALL_TASK) return typeof spec.acceptLicense === 'boolean' && (upload === undefined || validUpload);
  if (!isVideoTask(spec.task)) return upload === undefined;
  return validUpload && videoTask(spec.task).validParams(spec.params);
}

/** The record in `text` if it is a whole, valid record of job `id`; null otherwise (the folder is then removed). */
export function parseRecord(text: string, id: string): JobRecord | null {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(r) || r.version !== JOURNAL_VERSION || r.id !== id || !JOB_ID.test(id)) return null;
  if (!STATES.includes(r.state as JobState) || !validSpec(r.spec)) return null;
  const p = r.progress;
  if (!isObject(p) || !count(p.done) || !count(p.total) || typeof p.stage !== 'string') return null;
  if (!count(r.uploadOffset) || !count(r.seq) || !count(r.attempts) || !count(r.interrupted)) return null;
  if (!isDate(r.createdAt) || (r.finishedAt !== undefined && !isDate(r.finishedAt))) return null;
  if (r.error !== undefined && typeof r.error !== 'string') return null;
  if (r.owner !== undefined && typeof r.owner !== 'string') return null;
  if (r.result !== undefined && !(isObject(r.result) && typeof r.result.url === 'string')) return null;
  return r as unknown as JobRecord;
}

interface Pending {
  /** The write in flight, if any. */
  writing: Promise<void> | null;
  /** The job changed while a write was in flight: write once more after it. */
  again: boolean;
  /** A throttled progress write waiting for its turn. */
  timer?: ReturnType<typeof setTimeout>;
  /** Sequence number of the newest state written (or being written). */
  seq: number;
  /** The folder is being deleted: no more writes. */
  stopped: boolean;
}

let tmpCounter = 0;

export class Journal {
  private readonly pending = new Map<Job, Pending>();
  private readonly failedOnce = new Set<string>();
  private closed = false;

  constructor(
    private readonly throttleMs: number,
    private readonly log: (message: string) => void = (m) => console.error(m),
  ) {}

  /** Records the job's change: at once for a state change, throttled for progress. */
  changed(job: Job, kind: 'state' | 'progress'): void {
    if (this.closed) return;
    const p = this.entry(job);
    if (p.stopped) return;
    if (kind === 'state' || job.seq - p.seq >= SEQ_FORCE_WRITE) {
      void this.write(job);
      return;
    }
    if (p.timer) return;
    p.timer = setTimeout(() => {
      p.timer = undefined;
      void this.write(job);
    }, this.throttleMs);
    (p.timer as unknown as { unref(): void }).unref();
  }

  /** Writes the job's current state and resolves once it (or a newer one) is on disk. */
  write(job: Job): Promise<void> {
    if (this.closed) return Promise.resolve();
    const p = this.entry(job);
    if (p.stopped) return Promise.resolve();
    clearTimeout(p.timer);
    p.timer = undefined;
    if (p.writing) {
      p.again = true;
      return p.writing.then(() => (p.writing ? p.writing : undefined));
    }
    p.seq = job.seq;
    p.writing = this.writeNow(job).finally(() => {
      p.writing = null;
      if (p.again && !p.stopped) {
        p.again = false;
        void this.write(job);
      }
    });
    return p.writing;
  }

  /** Writes every job that has unwritten changes, and waits for all writes in flight. */
  async flush(jobs: Iterable<Job>): Promise<void> {
    await Promise.all([...jobs].map((job) => this.write(job)));
  }

  /** No more writes for the job (its folder is about to be deleted); resolves once a write in flight has ended. */
  async stop(job: Job): Promise<void> {
    const p = this.pending.get(job);
    if (!p) return;
    p.stopped = true;
    clearTimeout(p.timer);
    while (p.writing) await p.writing;
    this.pending.delete(job);
  }

  /**
   * Writes the first record of a new job, and throws if it cannot: a job that is not journalled would vanish at the
   * next restart, so it is not created.
   */
  async create(job: Job): Promise<void> {
    const file = join(job.dir, JOURNAL_FILE);
    const tmp = `${file}.${process.pid}-${++tmpCounter}.tmp`;
    await writeFile(tmp, JSON.stringify(recordOf(job)));
    await rename(tmp, file);
    this.entry(job).seq = job.seq;
  }

  /** Writes what is left to write for `jobs`, then nothing more (the server is closing). */
  async close(jobs: Iterable<Job>): Promise<void> {
    await this.flush(jobs);
    this.closed = true;
    for (const p of this.pending.values()) {
      p.stopped = true;
      clearTimeout(p.timer);
    }
    await Promise.all([...this.pending.values()].map((p) => p.writing));
    this.pending.clear();
  }

  private entry(job: Job): Pending {
    let p = this.pending.get(job);
    if (!p) {
      p = { writing: null, again: false, seq: 0, stopped: false };
      this.pending.set(job, p);
    }
    return p;
  }

  private async writeNow(job: Job): Promise<void> {
    const file = join(job.dir, JOURNAL_FILE);
    const tmp = `${file}.${process.pid}-${++tmpCounter}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(recordOf(job)));
      await rename(tmp, file);
      this.failedOnce.delete(job.id);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // the job's folder is gone (deleted with the job)
      if (!this.failedOnce.has(job.id)) {
        this.failedOnce.add(job.id);
        this.log(`[frontier] could not journal job ${job.id} (${code ?? (err as Error).message}): it runs on, but a restart now would not find its latest state.`);
      }
    }
  }
}
