// The job service: jobs by id, their folders, the run queue, cancel and retention. Work runs independently of any
// request, so a job survives its client disconnecting, and its state is journalled in its folder (journal.ts), so it
// survives the server stopping too: the next start resumes it or says why not (restore.ts). A job's files go when
// it ends (all but its journal, and its result if it succeeded), and its folder when its retention ends or it is
// deleted. Video jobs (upload, ffmpeg, frames over OIP), engine jobs (a whole task on this server's engine, no
// upload: engine-runner.ts) and install jobs (an official checkpoint downloaded or uploaded, then converted:
// server/install/installer.ts) share ids, events and retention. Installs have a run lane of their own
// (maxRunningInstalls), so a download never waits behind a long video job, nor a video job behind a download.
//
// close() is a clean stop: uploads and runs are stopped (ffmpeg and engine processes killed, partial results
// deleted), every job is journalled as the next start should find it (a running job back in the queue) and the
// jobs folder is released. Nothing is deleted that a restart needs; a test's temporary folder takes the rest.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { HttpError, megabytes } from '../http-util.ts';
import { readRegistry, servableRegistry } from '../models.ts';
import { addRedactedRoot, redactPaths } from '../redact.ts';
import type { Registry } from '../../worker/models/card.ts';
import type { ServerPaths } from '../paths.ts';
import { freeBytes, storageError } from './disk.ts';
import { EngineJobRunner, type RunTtvsrWindow } from './engine-runner.ts';
import { checkTools, ToolMissingError, type VideoTools } from './ffmpeg.ts';
import { isInstallSpec, type InstallRunner, type UploadSpec } from './install-spec.ts';
import { isVideoSpec, Job, uploadOfSpec, type AnyJobSpec } from './job.ts';
import { Journal, JOURNAL_FILE } from './journal.ts';
import { INPUT_FILE, partialResultFile, resultFile } from './layout.ts';
import { JobsDirLock } from './lock.ts';
import { restoreJobs } from './restore.ts';
import { runVideoJob, ttvsrFit, type FrameParts, type RunnerConfig, type TtvsrCards } from './runner.ts';
import { checkJobId, describeSpec, parseAnyJobSpec, sameAnySpec } from './spec.ts';
import { VIDEO_TASK_NAMES, videoModelCard } from './video-tasks.ts';
import { isTtvsrEntry, ttvsrName, ttvsrParts } from '../../worker/video/ttvsr.ts';
import { appendChunk, uploadHeaders, type ChunkReader } from './upload.ts';

export interface JobOptions {
  /**
   * Folder that holds the job folders and their journals; jobs in it survive a restart (npm start gives
   * <FRONTIER_HOME>/jobs). One server per folder: a second live server on it is refused. It is taken (and its jobs
   * restored) when the server starts. Without one, the server keeps its jobs in a private temporary folder, made on
   * the first job request and removed when it stops: an embedder or a test that did not ask for jobs to outlive the
   * server gets no folder shared with other servers.
   */
  dir?: string;
  /** A job's files are deleted this long after it finishes, or after its upload stalls (default 30 minutes). */
  retentionMs?: number;
  /** ffmpeg / ffprobe executables (default: found on PATH). */
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Largest clip accepted, in bytes (default 1 GiB). */
  maxUploadBytes?: number;
  /** Largest PATCH chunk, in bytes (default 64 MiB). */
  maxChunkBytes?: number;
  /** A PATCH whose body sends no byte for this long is ended with 408; the client resumes (default 60 s). */
  uploadIdleMs?: number;
  /** Disk space a new job must leave free beyond its declared upload and the uploads in progress (default 256 MiB). */
  diskMarginBytes?: number;
  /** Longest clip accepted, in seconds (default 600). */
  maxDurationSeconds?: number;
  /** Largest input frame, in pixels (default 1920×1080). */
  maxFramePixels?: number;
  /** Frames per inference window (default 8). */
  windowFrames?: number;
  /** Frames of a window inferred at the same time (default 2). */
  parallelFrames?: number;
  /** Jobs running at once (default 1); more wait in state "queued". Install jobs count apart (maxRunningInstalls). */
  maxRunningJobs?: number;
  /** Install jobs (download and convert a model) running at once (default 2). */
  maxRunningInstalls?: number;
  /** Jobs kept at once, finished ones included (default 100); more are refused with 503. */
  maxJobs?: number;
  /** Unfinished jobs (uploading, queued, running) one client may have at once (default 16); more get 429. */
  maxJobsPerClient?: number;
  /** Seconds between heartbeat comments on an event stream (default 15). */
  heartbeatMs?: number;
  /** Events kept per job for replay after a reconnect (default 1000). */
  maxEventsPerJob?: number;
  /** Least time between two journal writes of a job's progress (default 1000 ms); state changes are written at once. */
  journalMs?: number;
  /**
   * Send the frame windows to another Open Inference Protocol server (a gateway, Triton) instead of this one, with
   * its token. Default: this server, with this server's token.
   */
  inferUrl?: string;
  inferToken?: string;
  /** Engine jobs: least time between two previews sent to clients (default 1000 ms). */
  previewMs?: number;
  /**
   * Video jobs: least time of work between two preview frames (the latest finished frame, ≤ 256 px), decided as each
   * window of frames ends: the first window always sends one (default 3000 ms; 0: every window).
   */
  previewEveryMs?: number;
  /**
   * Memory a TTVSR job may take, in bytes; a clip whose windows would need more (worker/video/ttvsr-memory.ts) is
   * refused with what to do. Default: FRONTIER_TTVSR_MEMORY_GB from the environment, else half this machine's memory.
   */
  ttvsrMemoryBytes?: number;
}

/** GET /jobs/fit's answer (JobService.clipFit): the wire type the plugin's job client reads. */
export type { ClipFit } from '../../worker/runtime/jobs-client.ts';
import type { ClipFit } from '../../worker/runtime/jobs-client.ts';

/** The TTVSR memory budget when the options name none: FRONTIER_TTVSR_MEMORY_GB, else half of os.totalmem(). */
export function defaultTtvsrMemoryBytes(env: Record<string, string | undefined> = process.env): number {
  const raw = env.FRONTIER_TTVSR_MEMORY_GB;
  if (raw === undefined || raw === '') return Math.floor(totalmem() / 2);
  const gb = Number(raw);
  if (!(gb > 0) || !Number.isFinite(gb)) throw new Error(`FRONTIER_TTVSR_MEMORY_GB must be a positive number of gigabytes, got "${raw}".`);
  return Math.floor(gb * 1e9);
}

const MINUTE = 60_000;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`jobs.${name} must be a positive number, got ${value}.`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || !Number.isFinite(value)) throw new Error(`jobs.${name} must be a number ≥ 0, got ${value}.`);
  return value;
}

/** An address a client on this machine can reach: a wildcard bind (0.0.0.0, ::) is reached on loopback. */
function reachable(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

/** An error's message as a client may see it: no path on the server's disk. */
function publicMessage(err: unknown): string {
  return redactPaths(err instanceof Error ? err.message : String(err));
}

const log = (message: string) => console.error(message);

export class JobService {
  readonly heartbeatMs: number;
  readonly maxEventsPerJob: number;
  private readonly tools: VideoTools;
  private readonly retentionMs: number;
  private readonly maxUploadBytes: number;
  private readonly maxChunkBytes: number;
  private readonly uploadIdleMs: number;
  private readonly diskMarginBytes: number;
  private readonly maxRunningJobs: number;
  private readonly maxRunningInstalls: number;
  private readonly maxJobs: number;
  private readonly maxJobsPerClient: number;
  private readonly runner: Omit<RunnerConfig, 'infer' | 'tools' | 'ttvsrProcess'>;
  private readonly dir: string;
  /** Whether the folder was named in the options (taken at start) or is the default (taken on first use). */
  private readonly dirGiven: boolean;
  private readonly journal: Journal;
  private lock: JobsDirLock | null = null;
  private opening: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private toolsChecked: Promise<void> | null = null;
  private serverUrl: string | null = null;
  private readonly engineRunner: EngineJobRunner;

  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private readonly runs = new Map<string, Promise<void>>();
  private readonly expiry = new Map<string, ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(
    private readonly paths: ServerPaths,
    private readonly options: JobOptions & { token?: string; installer?: InstallRunner } = {},
  ) {
    this.tools = { ffmpeg: options.ffmpegPath ?? 'ffmpeg', ffprobe: options.ffprobePath ?? 'ffprobe' };
    this.retentionMs = positive(options.retentionMs, 30 * MINUTE, 'retentionMs');
    this.maxUploadBytes = positive(options.maxUploadBytes, 2 ** 30, 'maxUploadBytes');
    this.maxChunkBytes = positive(options.maxChunkBytes, 64 * 2 ** 20, 'maxChunkBytes');
    this.uploadIdleMs = positive(options.uploadIdleMs, MINUTE, 'uploadIdleMs');
    this.diskMarginBytes = nonNegative(options.diskMarginBytes, 256 * 2 ** 20, 'diskMarginBytes');
    this.maxRunningJobs = positive(options.maxRunningJobs, 1, 'maxRunningJobs');
    this.maxRunningInstalls = positive(options.maxRunningInstalls, 2, 'maxRunningInstalls');
    this.maxJobs = positive(options.maxJobs, 100, 'maxJobs');
    this.maxJobsPerClient = positive(options.maxJobsPerClient, 16, 'maxJobsPerClient');
    this.heartbeatMs = positive(options.heartbeatMs, 15_000, 'heartbeatMs');
    this.maxEventsPerJob = positive(options.maxEventsPerJob, 1000, 'maxEventsPerJob');
    this.runner = {
      windowFrames: positive(options.windowFrames, 8, 'windowFrames'),
      parallelFrames: positive(options.parallelFrames, 2, 'parallelFrames'),
      maxDurationSeconds: positive(options.maxDurationSeconds, 600, 'maxDurationSeconds'),
      maxFramePixels: positive(options.maxFramePixels, 1920 * 1080, 'maxFramePixels'),
      previewEveryMs: nonNegative(options.previewEveryMs, 3000, 'previewEveryMs'),
      ttvsrMemoryBytes: positive(options.ttvsrMemoryBytes, defaultTtvsrMemoryBytes(), 'ttvsrMemoryBytes'),
    };
    this.dirGiven = options.dir !== undefined;
    this.dir = resolve(options.dir ?? join(tmpdir(), 'frontier-jobs', `server-${process.pid}-${randomBytes(6).toString('hex')}`));
    addRedactedRoot(this.dir); // ffmpeg and fs errors name files in it: never shown to a client
    this.journal = new Journal(positive(options.journalMs, 1000, 'journalMs'));
    this.engineRunner = new EngineJobRunner(paths, positive(options.previewMs, 1000, 'previewMs'));
  }

  /**
   * Takes the jobs folder given in the options and restores its jobs (startServer awaits this before it listens).
   * Throws JobsDirBusyError when another live server has the folder, or why it cannot be created. Without a folder
   * in the options this does nothing: the private folder is made on the first job request.
   */
  async open(): Promise<void> {
    if (this.dirGiven) await this.ready();
  }

  /** The URL this server listens on (set once it listens): frame windows go there unless inferUrl is set. */
  setServerUrl(url: string): void {
    this.serverUrl = reachable(url);
    this.pump(); // restored jobs wait for it
  }

  /** The job `id`; 404 if this server has none of that id. */
  async get(id: string): Promise<Job> {
    checkJobId(id);
    await this.ready();
    const job = this.jobs.get(id);
    if (!job) {
      throw new HttpError(
        404,
        `No job ${id} on this server: create it with PUT /jobs/${id}. (A job that ended is kept for ${Math.round(this.retentionMs / 1000)} s after it ended, also across restarts.)`,
      );
    }
    return job;
  }

  /**
   * GET /jobs/fit: whether a clip of width×height and about `frames` frames fits what this server takes for `model`
   * (its frame-size limit; for TTVSR its memory budget, with the same estimate the job's refusal uses), and the
   * largest frames that would, so the plugin can say so before the designer uploads. Reads and computes only; 404
   * for a model this server cannot run video with.
   */
  async clipFit(model: string, clip: { width: number; height: number; frames: number }): Promise<ClipFit> {
    const registry = await this.registry();
    const card = videoModelCard(registry, model);
    if (!card) throw new HttpError(404, `This server has no video model ${model}.`);
    const { maxFramePixels, ttvsrMemoryBytes } = this.runner;
    const pixels = clip.width * clip.height;
    if (pixels > maxFramePixels) {
      const s = Math.sqrt(maxFramePixels / pixels);
      const largest = { width: Math.floor(clip.width * s), height: Math.floor(clip.height * s) };
      return { model, name: isTtvsrEntry(card) ? ttvsrName(card) : card.label, fits: false, limit: 'frame-size', largest, maxFramePixels };
    }
    if (!isTtvsrEntry(card)) return { model, name: card.label, fits: true, maxFramePixels };
    const found = ttvsrParts(card, registry);
    if ('missing' in found) throw new HttpError(404, `${ttvsrName(card)} is missing ${found.missing.join(', ')} on this server: install it again.`);
    const fit = await ttvsrFit(clip, found.parts, ttvsrMemoryBytes, !this.options.inferUrl);
    return {
      model,
      name: ttvsrName(card),
      fits: fit.fits,
      ...(fit.fits ? {} : { limit: 'memory' as const, largest: fit.largest }),
      maxFramePixels,
      memory: { budgetBytes: fit.budget, needBytes: fit.need[fit.counted], counted: fit.counted },
    };
  }

  /**
   * PUT /jobs/{id}: creates the job, or returns the same job again (created: false). 409 for a different body, 429
   * when `owner` (the client) has too many unfinished jobs, 503 when the server holds too many, 507 for a disk
   * without room for the upload.
   */
  async create(id: string, body: string, owner: string): Promise<{ job: Job; created: boolean }> {
    checkJobId(id);
    if (this.closed) throw new HttpError(503, 'The server is shutting down: create the job on it again once it is back.');
    const installer = this.options.installer;
    const spec = await parseAnyJobSpec(
      body,
      { video: () => this.registry(), engine: async () => (await servableRegistry(this.paths)).registry, install: installer && ((b) => installer.parseSpec(b)) },
      { maxUploadBytes: this.maxUploadBytes },
    );
    await this.ready();
    const existing = () => {
      const job = this.jobs.get(id);
      if (!job || sameAnySpec(job.spec, spec)) return job;
      throw new HttpError(409, `Job ${id} already exists with a different body (${describeSpec(job.spec)}): choose a new id for a new job.`);
    };
    const before = existing();
    if (before) return { job: before, created: false };
    if (isVideoSpec(spec)) await this.checkTools();
    const free = await freeBytes(this.dir);
    // Checked again after the awaits, and the job registered before the next one: a concurrent PUT of the same id
    // gets this job (or its 409), never a second job.
    const raced = existing();
    if (raced) return { job: raced, created: false };
    if (this.closed) throw new HttpError(503, 'The server is shutting down: create the job on it again once it is back.');
    if (isInstallSpec(spec)) {
      const other = this.activeInstall(spec.model);
      if (other) throw new HttpError(409, `${spec.model} is being installed already, by job ${other.id}: follow it (GET /jobs/${other.id}/events) or cancel it (POST /jobs/${other.id}/cancel) first.`);
    }
    this.checkLimits(owner, spec, free);

    const job = new Job(id, spec, join(this.dir, id), this.maxEventsPerJob);
    job.owner = owner;
    this.jobs.set(id, job);
    try {
      await mkdir(job.dir);
      if (uploadOfSpec(spec)) await writeFile(this.inputPath(job), new Uint8Array(0));
      await this.journal.create(job);
    } catch (err) {
      this.jobs.delete(id);
      await rm(job.dir, { recursive: true, force: true }).catch(() => {});
      log(`[frontier] could not create job ${id} in ${this.dir}: ${(err as Error).message}`);
      throw storageError(err, 'creating the job', 'create the job again');
    }
    this.track(job);
    if (uploadOfSpec(spec)) {
      this.expireIfIdle(job);
    } else if (job.state === 'queued') {
      // An engine job (or a download install) has nothing to upload: it is queued at once (unless cancelled during the mkdir).
      this.queue.push(job);
      this.pump();
    }
    return { job, created: true };
  }

  /** The upload of a video job (or of an install from a file); 409 for a job without one. */
  uploadOf(job: Job): UploadSpec {
    const upload = uploadOfSpec(job.spec);
    if (upload) return upload;
    throw new HttpError(409, `Job ${job.id} is ${/^[aeiou]/.test(job.spec.task) ? 'an' : 'a'} ${job.spec.task} job: it takes no upload (only ${VIDEO_TASK_NAMES} jobs and installs from a file do). Follow it with GET /jobs/${job.id}/events.`);
  }

  /** The unfinished install job of catalogue checkpoint `model`, if any (one at a time per checkpoint). */
  activeInstall(model: string): Job | undefined {
    return [...this.jobs.values()].find((j) => !j.terminal && isInstallSpec(j.spec) && j.spec.model === model);
  }

  /** PATCH /jobs/{id}/upload: appends a chunk (taken by `reader`); the job is queued once the upload is complete. */
  async upload(job: Job, req: IncomingMessage, reader: ChunkReader): Promise<void> {
    const bytes = this.uploadOf(job).bytes;
    if (this.closed) throw new HttpError(503, 'The server is shutting down: resume the upload (HEAD the upload URL) once it is back.', uploadHeaders(job));
    const before = job.uploadOffset;
    try {
      await appendChunk(job, req, reader, this.inputPath(job), { maxChunkBytes: this.maxChunkBytes, idleMs: this.uploadIdleMs });
    } finally {
      if (job.state === 'uploading' && job.uploadOffset !== before) {
        job.setProgress('upload', job.uploadOffset, bytes);
        this.expireIfIdle(job);
      }
    }
    if (job.uploadOffset === bytes && job.state === 'uploading') {
      job.setState('queued');
      job.setProgress('queued', 0, 0);
      this.queue.push(job);
      this.pump();
    }
  }

  /** POST /jobs/{id}/cancel: stops the work (waiting for it to stop) and deletes the job's files but its journal. */
  async cancel(job: Job): Promise<void> {
    if (!job.setState('cancelled')) return; // already finished: nothing to stop
    job.abort.abort();
    const upload = job.activeUpload;
    upload?.stop(new HttpError(409, `Job ${job.id} was cancelled during the upload: it takes no more chunks.`, uploadHeaders(job)));
    await upload?.done;
    const run = this.runs.get(job.id);
    if (run) await run; // the run's own cleanup removes the files once ffmpeg is gone
    else await this.finished(job);
  }

  /** DELETE /jobs/{id}: cancels it if needed and forgets it at once, with its folder. */
  async remove(job: Job): Promise<void> {
    await this.cancel(job);
    this.forget(job);
    await this.journal.stop(job);
    await rm(job.dir, { recursive: true, force: true });
  }

  resultPath(job: Job): string {
    return join(job.dir, resultFile(job.spec));
  }

  /** A clean stop (see the top of this file); safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    this.closed = true;
    await this.opening?.catch(() => {});
    const jobs = [...this.jobs.values()];
    const uploads = jobs.flatMap((job) => (job.activeUpload ? [job.activeUpload] : []));
    for (const upload of uploads) upload.stop(new HttpError(503, 'The server is shutting down: resume the upload (HEAD the upload URL) once it is back.'));
    this.queue.length = 0;
    for (const job of jobs) if (this.runs.has(job.id)) job.abort.abort();
    // The engine's processes are killed at once (a job's own cancel may wait for its next step).
    await Promise.all([Promise.all(uploads.map((u) => u.done)), Promise.allSettled([...this.runs.values()]), this.engineRunner.close()]);
    for (const timer of this.expiry.values()) clearTimeout(timer);
    this.expiry.clear();
    await this.journal.close(jobs);
    await this.lock?.release();
    this.lock = null;
    this.jobs.clear();
    // A private folder has nobody to resume it.
    if (!this.dirGiven) await rm(this.dir, { recursive: true, force: true });
  }

  /** The models frames can go to: those this server can serve, or every registry model when a gateway serves them. */
  private async registry(): Promise<Registry> {
    return this.options.inferUrl ? readRegistry(this.paths) : (await servableRegistry(this.paths)).registry;
  }

  private inputPath(job: Job): string {
    return join(job.dir, INPUT_FILE);
  }

  /** The jobs folder, taken and restored (once; a failure is not kept, so the next request tries again). */
  private ready(): Promise<void> {
    if (this.closed) return Promise.reject(new HttpError(503, 'The server is shutting down: try again once it is back.'));
    this.opening ??= this.openDir().catch((err: unknown) => {
      this.opening = null;
      throw err;
    });
    if (this.dirGiven) return this.opening;
    // The private folder, made on a request: answer in HTTP terms.
    return this.opening.catch((err: unknown) => {
      log(`[frontier] cannot use the jobs folder ${this.dir}: ${(err as Error).message}`);
      throw storageError(err, 'opening the jobs folder', 'try again');
    });
  }

  private async openDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const lock = await JobsDirLock.acquire(this.dir);
    try {
      const restored = await restoreJobs(this.dir, { retentionMs: this.retentionMs, maxEvents: this.maxEventsPerJob, now: Date.now(), log });
      for (const { job, queue } of restored) {
        this.jobs.set(job.id, job);
        this.track(job);
        await this.journal.write(job); // its restored state, and the sequence number it continues from
        if (job.terminal) this.scheduleExpiry(job, job.finishedAt!.getTime() + this.retentionMs - Date.now());
        else if (job.state === 'uploading') this.expireIfIdle(job);
        else if (queue) this.queue.push(job);
      }
      if (restored.length > 0) {
        const count = (pred: (j: Job) => boolean) => restored.filter((r) => pred(r.job)).length;
        log(`[frontier] restored ${restored.length} job(s): ${count((j) => j.state === 'queued')} queued again, ${count((j) => j.state === 'uploading')} resumable uploads, ${count((j) => j.terminal)} ended.`);
      }
    } catch (err) {
      await lock.release();
      throw err;
    }
    if (this.closed) {
      await lock.release();
      return;
    }
    this.lock = lock;
    this.pump();
  }

  /** Journals every change of the job from now on. */
  private track(job: Job): void {
    job.onChange = (kind) => this.journal.changed(job, kind);
  }

  private checkLimits(owner: string, spec: AnyJobSpec, free: number | null): void {
    if (this.jobs.size >= this.maxJobs) {
      throw new HttpError(503, `The server holds ${this.jobs.size} jobs, its limit: retry once some have finished and expired.`, { 'Retry-After': '30' });
    }
    const mine = [...this.jobs.values()].filter((j) => j.owner === owner && !j.terminal).length;
    if (mine >= this.maxJobsPerClient) {
      throw new HttpError(
        429,
        `You already have ${mine} unfinished jobs on this server, the most one client may have: wait for some to finish, or cancel those you no longer need (POST /jobs/{id}/cancel), then create this one again.`,
        { 'Retry-After': '30' },
      );
    }
    if (free === null) return;
    // A checkpoint file is converted next to itself: it needs about twice its size (download installs check their
    // own room once they know the size: server/install/installer.ts).
    const install = isInstallSpec(spec);
    const uploadBytes = (uploadOfSpec(spec)?.bytes ?? 0) * (install ? 2 : 1);
    // Uploads in progress will take their remaining bytes too.
    const reserved = [...this.jobs.values()].reduce((sum, j) => sum + (j.state === 'uploading' ? (uploadOfSpec(j.spec)?.bytes ?? 0) - j.uploadOffset : 0), 0);
    const needed = uploadBytes + reserved + this.diskMarginBytes;
    if (free < needed) {
      const what = install ? 'this checkpoint and the model converted from it' : 'this clip';
      const parts = [uploadBytes > 0 ? `${megabytes(uploadBytes)} for ${what}` : '', reserved > 0 ? `${megabytes(reserved)} for uploads in progress` : '', `${megabytes(this.diskMarginBytes)} kept free for results`].filter(Boolean);
      throw new HttpError(507, `The server's disk has ${megabytes(free)} free, and this job needs ${megabytes(needed)} (${parts.join(', ')}): free some space on the server${uploadBytes > 0 && !install ? ', or send a shorter clip' : ''}, then create the job again.`);
    }
  }

  private checkTools(): Promise<void> {
    // Checked at job creation, not at startup: a server without ffmpeg serves everything else. Success is cached;
    // a failure is not, so installing ffmpeg needs no restart.
    this.toolsChecked ??= checkTools(this.tools).catch((err: unknown) => {
      this.toolsChecked = null;
      if (err instanceof ToolMissingError) throw new HttpError(501, err.message);
      throw err;
    });
    return this.toolsChecked;
  }

  private pump(): void {
    if (this.closed || !this.lock || (!this.serverUrl && !this.options.inferUrl)) return;
    const running = (install: boolean) => [...this.runs.keys()].filter((id) => isInstallSpec(this.jobs.get(id)?.spec ?? { task: '' }) === install).length;
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i];
      if (job.state !== 'queued') {
        this.queue.splice(i, 1);
        continue;
      }
      const install = isInstallSpec(job.spec);
      if (running(install) >= (install ? this.maxRunningInstalls : this.maxRunningJobs)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      const run = this.run(job).finally(() => {
        this.runs.delete(job.id);
        this.pump();
      });
      this.runs.set(job.id, run);
    }
  }

  private async run(job: Job): Promise<void> {
    const { spec } = job;
    const video = isVideoSpec(spec);
    job.attempts++;
    const stage = video ? 'probe' : !isInstallSpec(spec) ? 'load' : spec.upload ? 'convert' : 'download';
    job.setState('running', { progress: { done: 0, total: 0, stage } });
    await this.journal.write(job); // from here a server that dies counts as an interrupted run
    const partial = join(job.dir, partialResultFile(job.spec));
    try {
      const result = video ? await this.runVideo(job, partial) : isInstallSpec(spec) ? await this.runInstall(job, partial) : await this.runEngine(job, partial);
      await rename(partial, this.resultPath(job));
      job.setState('succeeded', { result, stage: 'done' });
    } catch (err) {
      if (this.closed && !job.terminal) {
        // A clean stop, not the job's failure: the next start runs it again.
        const message = isInstallSpec(spec)
          ? 'The server stopped while the model was installing: the install goes on once the server is back, and its download resumes where it stopped.'
          : 'The server stopped while the job ran: it runs again from the start once the server is back.';
        job.setState('queued', { progress: { done: 0, total: 0, stage: 'queued', message } });
        await rm(partial, { force: true });
        return;
      }
      // After a cancel the state is already "cancelled" and this is ignored.
      job.setState('failed', { error: publicMessage(err) });
    }
    await this.finished(job);
  }

  private async runVideo(job: Job, output: string) {
    if (!isVideoSpec(job.spec)) throw new Error(`Job ${job.id} is not a video job.`);
    const spec = job.spec;
    const registry = await this.registry();
    const card = videoModelCard(registry, spec.model);
    if (!card) throw new Error(`Model ${job.spec.model} is no longer available on this server.`);
    // TTVSR: its five parts; on this server its windows run in an engine process (runner.ts says why).
    let parts: TtvsrCards | undefined;
    if (isTtvsrEntry(card)) {
      const found = ttvsrParts(card, registry);
      if ('missing' in found) throw new Error(`${ttvsrName(card)} is missing ${found.missing.join(', ')} on this server: install it again, then run the job again.`);
      parts = found.parts;
    }
    const baseUrl = this.options.inferUrl ?? this.serverUrl;
    if (!baseUrl) throw new Error('The server has no URL yet to send frames to.');
    const token = this.options.inferUrl ? this.options.inferToken : this.options.token;
    const ttvsrProcess = this.options.inferUrl ? undefined : <T>(j: Job, work: (run: RunTtvsrWindow) => Promise<T>) => this.engineRunner.ttvsr(j, work);
    // A frame runs as an image on target 'server' does, with the parts it may ask for (restore: its 256-px build, where
    // this server has it).
    const largeTiles = card.largeTiles ? registry.models.find((m) => m.id === card.largeTiles) : undefined;
    const frameParts: FrameParts = largeTiles ? { largeTiles } : {};
    return runVideoJob(job, spec, card, { input: this.inputPath(job), output }, { ...this.runner, tools: this.tools, infer: { baseUrl, token }, ttvsrProcess }, parts, frameParts);
  }

  private runEngine(job: Job, output: string) {
    if (isVideoSpec(job.spec) || isInstallSpec(job.spec)) throw new Error(`Job ${job.id} is a ${job.spec.task} job.`);
    return this.engineRunner.run(job, job.spec, output);
  }

  private runInstall(job: Job, output: string) {
    const installer = this.options.installer;
    if (!isInstallSpec(job.spec)) throw new Error(`Job ${job.id} is not an install job.`);
    if (!installer) throw new Error('This server cannot install models.');
    return installer.run(job, job.spec, { dir: job.dir, input: this.inputPath(job), output });
  }

  /** An upload nobody continues for the retention time is cancelled, so abandoned uploads do not fill the disk. */
  private expireIfIdle(job: Job): void {
    if (this.closed) return;
    clearTimeout(this.expiry.get(job.id));
    const timer = setTimeout(() => {
      this.expiry.delete(job.id);
      if (this.closed || job.state !== 'uploading') return;
      if (job.activeUpload) return this.expireIfIdle(job); // a chunk is still arriving: not abandoned
      job.setState('cancelled', { error: `The upload stopped at ${job.uploadOffset} of ${this.uploadOf(job).bytes} bytes and was not resumed within ${Math.round(this.retentionMs / 1000)} s.` });
      void this.finished(job);
    }, this.retentionMs);
    (timer as unknown as { unref(): void }).unref();
    this.expiry.set(job.id, timer);
  }

  /** Deletes what an ended job no longer needs (all but its journal and result), journals it, schedules its expiry. */
  private async finished(job: Job): Promise<void> {
    const keep = new Set([JOURNAL_FILE, ...(job.state === 'succeeded' ? [resultFile(job.spec)] : [])]);
    const names = await readdir(job.dir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => !keep.has(n) && !n.startsWith(`${JOURNAL_FILE}.`)).map((n) => rm(join(job.dir, n), { recursive: true, force: true })));
    await this.journal.write(job);
    clearTimeout(this.expiry.get(job.id)); // an idle-upload timer
    this.scheduleExpiry(job, this.retentionMs);
  }

  /** Deletes the job's folder, then forgets it, `delayMs` from now. */
  private scheduleExpiry(job: Job, delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.expiry.get(job.id));
    const timer = setTimeout(
      () => {
        if (this.closed) return;
        // Files first, then the id: once GET /jobs/{id} says 404, nothing of the job is left on disk.
        void this.journal
          .stop(job)
          .then(() => rm(job.dir, { recursive: true, force: true }))
          .finally(() => this.forget(job));
      },
      Math.max(0, delayMs),
    );
    (timer as unknown as { unref(): void }).unref(); // retention never keeps the process alive
    this.expiry.set(job.id, timer);
  }

  private forget(job: Job): void {
    clearTimeout(this.expiry.get(job.id));
    this.expiry.delete(job.id);
    if (this.jobs.get(job.id) === job) this.jobs.delete(job.id);
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
  }
}
