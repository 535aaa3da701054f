// The job service: jobs by id, their folders, the run queue, cancel and retention. Work runs independently of any
// request, so a job survives its client disconnecting; a job's folder is deleted when it is cancelled or fails, N
// minutes after it finishes, and when the server closes. Video jobs (upload, ffmpeg, frames over OIP) and engine
// jobs (a whole task on this server's engine, no upload: engine-runner.ts) share ids, queue, events and retention.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpError } from '../http-util.ts';
import { readRegistry, servableRegistry } from '../models.ts';
import type { Registry } from '../../worker/models/card.ts';
import type { ServerPaths } from '../paths.ts';
import { checkTools, ToolMissingError, type VideoTools } from './ffmpeg.ts';
import { EngineJobRunner } from './engine-runner.ts';
import { isVideoSpec, Job, type JobSpec } from './job.ts';
import { runUpscaleVideo, type RunnerConfig } from './runner.ts';
import { checkJobId, describeSpec, parseAnyJobSpec, sameAnySpec, VIDEO_TASK } from './spec.ts';
import { appendChunk } from './upload.ts';

export interface JobOptions {
  /** Folder that holds the job folders (default: <os temp dir>/frontier-jobs); each server uses its own subfolder. */
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
  /** Longest clip accepted, in seconds (default 600). */
  maxDurationSeconds?: number;
  /** Largest input frame, in pixels (default 1920×1080). */
  maxFramePixels?: number;
  /** Frames per inference window (default 8). */
  windowFrames?: number;
  /** Frames of a window inferred at the same time (default 2). */
  parallelFrames?: number;
  /** Jobs running at once (default 1); more wait in state "queued". */
  maxRunningJobs?: number;
  /** Jobs kept at once, finished ones included (default 100); more are refused with 503. */
  maxJobs?: number;
  /** Seconds between heartbeat comments on an event stream (default 15). */
  heartbeatMs?: number;
  /** Events kept per job for replay after a reconnect (default 1000). */
  maxEventsPerJob?: number;
  /**
   * Send the frame windows to another Open Inference Protocol server (a gateway, Triton) instead of this one, with
   * its token. Default: this server, with this server's token.
   */
  inferUrl?: string;
  inferToken?: string;
  /** Engine jobs: least time between two previews sent to clients (default 1000 ms). */
  previewMs?: number;
}

const MINUTE = 60_000;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`jobs.${name} must be a positive number, got ${value}.`);
  return value;
}

/** An address a client on this machine can reach: a wildcard bind (0.0.0.0, ::) is reached on loopback. */
function reachable(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

export class JobService {
  readonly heartbeatMs: number;
  readonly maxEventsPerJob: number;
  private readonly tools: VideoTools;
  private readonly retentionMs: number;
  private readonly maxUploadBytes: number;
  private readonly maxChunkBytes: number;
  private readonly maxRunningJobs: number;
  private readonly maxJobs: number;
  private readonly runner: Omit<RunnerConfig, 'infer' | 'tools'>;
  private readonly baseDir: string;
  private instanceDir: Promise<string> | null = null;
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
    private readonly options: JobOptions & { token?: string } = {},
  ) {
    this.tools = { ffmpeg: options.ffmpegPath ?? 'ffmpeg', ffprobe: options.ffprobePath ?? 'ffprobe' };
    this.retentionMs = positive(options.retentionMs, 30 * MINUTE, 'retentionMs');
    this.maxUploadBytes = positive(options.maxUploadBytes, 2 ** 30, 'maxUploadBytes');
    this.maxChunkBytes = positive(options.maxChunkBytes, 64 * 2 ** 20, 'maxChunkBytes');
    this.maxRunningJobs = positive(options.maxRunningJobs, 1, 'maxRunningJobs');
    this.maxJobs = positive(options.maxJobs, 100, 'maxJobs');
    this.heartbeatMs = positive(options.heartbeatMs, 15_000, 'heartbeatMs');
    this.maxEventsPerJob = positive(options.maxEventsPerJob, 1000, 'maxEventsPerJob');
    this.runner = {
      windowFrames: positive(options.windowFrames, 8, 'windowFrames'),
      parallelFrames: positive(options.parallelFrames, 2, 'parallelFrames'),
      maxDurationSeconds: positive(options.maxDurationSeconds, 600, 'maxDurationSeconds'),
      maxFramePixels: positive(options.maxFramePixels, 1920 * 1080, 'maxFramePixels'),
    };
    this.baseDir = options.dir ?? join(tmpdir(), 'frontier-jobs');
    this.engineRunner = new EngineJobRunner(paths, positive(options.previewMs, 1000, 'previewMs'));
  }

  /** The URL this server listens on (set once it listens): frame windows go there unless inferUrl is set. */
  setServerUrl(url: string): void {
    this.serverUrl = reachable(url);
  }

  get(id: string): Job {
    const job = this.jobs.get(checkJobId(id));
    if (!job) throw new HttpError(404, `No job ${id}: create it with PUT /jobs/${id} (finished jobs are deleted ${Math.round(this.retentionMs / 1000)} s after they end).`);
    return job;
  }

  /** PUT /jobs/{id}: creates the job, or returns the same job again (created: false). 409 for a different body. */
  async create(id: string, body: string): Promise<{ job: Job; created: boolean }> {
    checkJobId(id);
    if (this.closed) throw new HttpError(503, 'The server is shutting down: create the job on it again once it is back.');
    const spec = await parseAnyJobSpec(body, { video: () => this.registry(), engine: async () => (await servableRegistry(this.paths)).registry }, { maxUploadBytes: this.maxUploadBytes });
    const existing = () => {
      const job = this.jobs.get(id);
      if (!job || sameAnySpec(job.spec, spec)) return job;
      throw new HttpError(409, `Job ${id} already exists with a different body (${describeSpec(job.spec)}): choose a new id for a new job.`);
    };
    const before = existing();
    if (before) return { job: before, created: false };
    if (isVideoSpec(spec)) await this.checkTools();
    const parent = await this.ensureInstanceDir();
    // Checked again after the awaits, and the job registered before the next one: a concurrent PUT of the same id
    // gets this job (or its 409), never a second job.
    const raced = existing();
    if (raced) return { job: raced, created: false };
    if (this.jobs.size >= this.maxJobs) {
      throw new HttpError(503, `The server holds ${this.jobs.size} jobs, its limit: retry once some have finished and expired.`, { 'Retry-After': '30' });
    }
    const job = new Job(id, spec, join(parent, id), this.maxEventsPerJob);
    this.jobs.set(id, job);
    try {
      await mkdir(job.dir);
      if (isVideoSpec(spec)) await writeFile(this.inputPath(job), new Uint8Array(0));
    } catch (err) {
      this.jobs.delete(id);
      throw err;
    }
    if (isVideoSpec(spec)) {
      this.expireIfIdle(job);
    } else if (job.state === 'queued') {
      // An engine job has nothing to upload: it is queued at once (unless cancelled during the mkdir).
      this.queue.push(job);
      this.pump();
    }
    return { job, created: true };
  }

  /** The upload of a video job; 409 for an engine job, which has none. */
  uploadOf(job: Job): JobSpec['upload'] {
    if (isVideoSpec(job.spec)) return job.spec.upload;
    throw new HttpError(409, `Job ${job.id} is a ${job.spec.task} job: it takes no upload (only ${VIDEO_TASK} jobs do). Follow it with GET /jobs/${job.id}/events.`);
  }

  /** PATCH /jobs/{id}/upload: appends a chunk; the job is queued once the upload is complete. */
  async upload(job: Job, req: IncomingMessage): Promise<void> {
    const bytes = this.uploadOf(job).bytes;
    const before = job.uploadOffset;
    try {
      await appendChunk(job, req, this.inputPath(job), this.maxChunkBytes);
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

  /** POST /jobs/{id}/cancel: stops the work (waiting for it to stop) and deletes the job's files. */
  async cancel(job: Job): Promise<void> {
    if (!job.setState('cancelled')) return; // already finished: nothing to stop
    job.abort.abort();
    const run = this.runs.get(job.id);
    if (run) await run; // the run's own cleanup removes the folder once ffmpeg is gone
    else await this.finished(job);
  }

  /** DELETE /jobs/{id}: cancels it if needed and forgets it at once. */
  async remove(job: Job): Promise<void> {
    await this.cancel(job);
    this.forget(job);
    await rm(job.dir, { recursive: true, force: true });
  }

  resultPath(job: Job): string {
    return join(job.dir, isVideoSpec(job.spec) ? 'result.mp4' : 'result.json');
  }

  /** Cancels every job, waits for the runs to stop and deletes every job folder. */
  async close(): Promise<void> {
    this.closed = true;
    const jobs = [...this.jobs.values()];
    for (const job of jobs) {
      job.setState('cancelled', { error: 'The server shut down.' });
      job.abort.abort();
    }
    await Promise.allSettled([...this.runs.values()]);
    await this.engineRunner.close();
    for (const timer of this.expiry.values()) clearTimeout(timer);
    this.expiry.clear();
    this.jobs.clear();
    if (this.instanceDir) await rm(await this.instanceDir, { recursive: true, force: true });
  }

  /** The models frames can go to: those this server can serve, or every registry model when a gateway serves them. */
  private async registry(): Promise<Registry> {
    return this.options.inferUrl ? readRegistry(this.paths) : (await servableRegistry(this.paths)).registry;
  }

  private inputPath(job: Job): string {
    return join(job.dir, 'input');
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

  private ensureInstanceDir(): Promise<string> {
    this.instanceDir ??= mkdir(this.baseDir, { recursive: true }).then(() => mkdtemp(join(this.baseDir, 'server-')));
    return this.instanceDir;
  }

  private pump(): void {
    while (this.runs.size < this.maxRunningJobs && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.state !== 'queued') continue;
      const run = this.run(job).finally(() => {
        this.runs.delete(job.id);
        this.pump();
      });
      this.runs.set(job.id, run);
    }
  }

  private async run(job: Job): Promise<void> {
    if (!isVideoSpec(job.spec)) return this.runEngine(job);
    job.setState('running', { stage: 'probe' });
    try {
      const card = (await this.registry()).models.find((m) => m.id === job.spec.model);
      if (!card) throw new Error(`Model ${job.spec.model} is no longer available on this server.`);
      const baseUrl = this.options.inferUrl ?? this.serverUrl;
      if (!baseUrl) throw new Error('The server has no URL yet to send frames to.');
      const token = this.options.inferUrl ? this.options.inferToken : this.options.token;
      const result = await runUpscaleVideo(job, card, { input: this.inputPath(job), output: this.resultPath(job) }, { ...this.runner, tools: this.tools, infer: { baseUrl, token } });
      job.setState('succeeded', { result, stage: 'done' });
    } catch (err) {
      // After a cancel the state is already "cancelled" and this is ignored.
      job.setState('failed', { error: err instanceof Error ? err.message : String(err) });
    }
    await this.finished(job);
  }

  private async runEngine(job: Job): Promise<void> {
    job.setState('running', { stage: 'load' });
    try {
      if (isVideoSpec(job.spec)) throw new Error(`Job ${job.id} is a video job.`);
      const result = await this.engineRunner.run(job, job.spec, this.resultPath(job));
      job.setState('succeeded', { result, stage: 'done' });
    } catch (err) {
      // After a cancel the state is already "cancelled" and this is ignored.
      job.setState('failed', { error: err instanceof Error ? err.message : String(err) });
    }
    await this.finished(job);
  }

  /** An upload nobody continues for the retention time is cancelled, so abandoned uploads do not fill the disk. */
  private expireIfIdle(job: Job): void {
    clearTimeout(this.expiry.get(job.id));
    const timer = setTimeout(() => {
      this.expiry.delete(job.id);
      if (job.state !== 'uploading') return;
      job.setState('cancelled', { error: `The upload stopped at ${job.uploadOffset} of ${this.uploadOf(job).bytes} bytes and was not resumed within ${Math.round(this.retentionMs / 1000)} s.` });
      void this.finished(job);
    }, this.retentionMs);
    (timer as unknown as { unref(): void }).unref();
    this.expiry.set(job.id, timer);
  }

  /** Deletes what a finished job no longer needs and schedules its expiry. */
  private async finished(job: Job): Promise<void> {
    if (job.state === 'succeeded') await rm(this.inputPath(job), { force: true }); // none for an engine job
    else await rm(job.dir, { recursive: true, force: true });
    clearTimeout(this.expiry.get(job.id)); // an idle-upload timer
    if (this.closed) return;
    const timer = setTimeout(() => {
      // Files first, then the id: once GET /jobs/{id} says 404, nothing of the job is left on disk.
      void rm(job.dir, { recursive: true, force: true }).finally(() => this.forget(job));
    }, this.retentionMs);
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
