// What a restart makes of the jobs it finds in the jobs folder. Every job the server had is either resumed or
// reported, never dropped in silence:
// - uploading: resumable from the bytes of its clip on disk (the file's size is the truth; the journal may lag);
// - queued: queued again; running: queued again once, and failed when a restart has cut it short twice (a job that
//   brings the server down must not do it forever);
// - succeeded, failed, cancelled: kept until their retention (counted from when they finished) runs out.
// Everything else is deleted: folders without a valid job.json, partial results, temporary files, the per-server
// folders of earlier versions. Folders that hold files the server never writes are left alone (not the server's).
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isInstallSpec } from './install-spec.ts';
import { Job, TERMINAL_STATES, uploadOfSpec, type JobProgress, type JobState, type RestoredJob } from './job.ts';
import { JOURNAL_FILE, parseRecord, SEQ_RESTART_GAP, type JobRecord } from './journal.ts';
import { LOCK_FILE } from './lock.ts';
import { DOWNLOAD_DIR, INPUT_FILE, isJobFile, resultFile } from './layout.ts';
import { JOB_ID } from './spec.ts';

export const RESTARTED_TWICE =
  'The server restarted twice while this job ran, so it was not started a third time (the job itself may be what stopped the server): ' +
  "check the server's log, then create the job again under a new id.";

export interface RestoreOptions {
  retentionMs: number;
  maxEvents: number;
  now: number;
  /** Told about what was deleted or left alone (the server's log). */
  log(message: string): void;
}

export interface RestoredEntry {
  job: Job;
  /** Queue it (its upload is complete and it has not ended). */
  queue: boolean;
}

/** Restores the jobs in `dir` and cleans the folder; jobs come back oldest first. */
export async function restoreJobs(dir: string, o: RestoreOptions): Promise<RestoredEntry[]> {
  const restored: RestoredEntry[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === LOCK_FILE) continue;
    // A job id may look like one too: only a folder without a journal is an old per-server folder.
    const legacy = entry.isDirectory() && /^server-[A-Za-z0-9]{6}$/.test(entry.name) && !(await stat(join(path, JOURNAL_FILE)).catch(() => null));
    if (legacy) {
      await rm(path, { recursive: true, force: true }); // an earlier version's per-server folder (mkdtemp)
    } else if (entry.isDirectory() && JOB_ID.test(entry.name)) {
      const one = await restoreJob(path, entry.name, o);
      if (one) restored.push(one);
    } else if (entry.isFile() && /\.(tmp|stale)$/.test(entry.name)) {
      await rm(path, { force: true });
    }
  }
  return restored.sort((a, b) => a.job.createdAt.getTime() - b.job.createdAt.getTime());
}

async function restoreJob(folder: string, id: string, o: RestoreOptions): Promise<RestoredEntry | null> {
  const names = await readdir(folder).catch(() => null);
  if (!names) return null;
  if (!names.every(isJobFile)) {
    o.log(`[frontier] left ${folder} alone: it holds files the server does not write.`);
    return null;
  }
  const record = parseRecord(await readFile(join(folder, JOURNAL_FILE), 'utf8').catch(() => ''), id);
  if (!record) {
    await rm(folder, { recursive: true, force: true }); // never journalled, or unreadable: an orphan
    return null;
  }
  const hasUpload = uploadOfSpec(record.spec) !== null;
  const inputSize = hasUpload ? await stat(join(folder, INPUT_FILE)).then((s) => s.size, () => null) : null;
  const hasResult = names.includes(resultFile(record.spec));
  const next = decide(record, { inputSize, hasResult, now: o.now, retentionMs: o.retentionMs });
  if (!next) {
    await rm(folder, { recursive: true, force: true }); // its retention ran out while the server was down
    return null;
  }
  const unfinished = !TERMINAL_STATES.includes(next.state);
  // An unfinished install keeps what it downloaded: its next run resumes the download there.
  const keep = new Set([
    JOURNAL_FILE,
    ...(next.state === 'succeeded' ? [resultFile(record.spec)] : []),
    ...(hasUpload && unfinished ? [INPUT_FILE] : []),
    ...(isInstallSpec(record.spec) && unfinished ? [DOWNLOAD_DIR] : []),
  ]);
  await Promise.all(names.filter((n) => !keep.has(n)).map((n) => rm(join(folder, n), { recursive: true, force: true })));
  if (keep.has(INPUT_FILE) && inputSize === null) await writeFile(join(folder, INPUT_FILE), new Uint8Array(0));
  const job = new Job(id, record.spec, folder, o.maxEvents, next);
  return { job, queue: next.state === 'queued' };
}

/**
 * The state a journalled job restarts in, or null when it has expired. Pure: `inputSize` is the size of a video
 * job's clip on disk (null: none), `hasResult` whether its result file is there.
 */
export function decide(r: JobRecord, disk: { inputSize: number | null; hasResult: boolean; now: number; retentionMs: number }): RestoredJob | null {
  const base = {
    uploadOffset: r.uploadOffset,
    createdAt: new Date(r.createdAt),
    nextSeq: r.seq + SEQ_RESTART_GAP + 1,
    attempts: r.attempts,
    interrupted: r.interrupted,
    ...(r.owner ? { owner: r.owner } : {}),
  };
  const now = new Date(disk.now);
  const failed = (error: string, interrupted = r.interrupted): RestoredJob => ({ ...base, interrupted, state: 'failed', progress: { ...r.progress }, error, finishedAt: now });

  if (TERMINAL_STATES.includes(r.state)) {
    const finishedAt = r.finishedAt ? new Date(r.finishedAt) : now;
    if (finishedAt.getTime() + disk.retentionMs <= disk.now) return null;
    if (r.state === 'succeeded' && !disk.hasResult) return failed('The server restarted and the result file of this job was lost: run the job again.');
    return { ...base, state: r.state, progress: { ...r.progress }, ...(r.error !== undefined ? { error: r.error } : {}), ...(r.result ? { result: r.result } : {}), finishedAt };
  }

  const interrupted = r.state === 'running' ? r.interrupted + 1 : r.interrupted;
  if (interrupted >= 2) return failed(RESTARTED_TWICE, interrupted);
  const upload = uploadOfSpec(r.spec);
  const bytes = upload ? upload.bytes : 0;
  const offset = upload ? Math.min(disk.inputSize ?? 0, bytes) : 0;
  if (upload && offset < bytes) {
    const progress: Omit<JobProgress, 'preview'> = { done: offset, total: bytes, stage: 'upload', message: `The server restarted: resume the upload from byte ${offset} (HEAD the upload URL).` };
    return { ...base, interrupted, uploadOffset: offset, state: 'uploading', progress };
  }
  const message =
    r.state !== 'running' ? 'The server restarted: the job is queued again.'
    : isInstallSpec(r.spec) ? 'The server restarted while the model was installing: it is queued again, and its download resumes where it stopped.'
    : 'The server restarted while the job ran: it is queued again and runs from the start.';
  const state: JobState = 'queued';
  return { ...base, interrupted, uploadOffset: offset, state, progress: { done: 0, total: 0, stage: 'queued', message } };
}
