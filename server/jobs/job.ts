// One job (a video job that upscales or restores a clip, or an engine job: a whole task run by the server's engine):
// its state machine, its progress, and the numbered event log that server-sent events replay to a client that
// reconnects with Last-Event-ID. Every event carries the whole job snapshot, so a client that missed some (or only
// polls GET /jobs/{id}) loses nothing but intermediate progress. The service journals every change (journal.ts); a
// job restored after a restart continues its numbering past the journalled one, with one new state event.
import type { EngineJobResult, EngineJobSpec, Preview } from './engine-spec.ts';
import { isInstallSpec, type InstallJobResult, type InstallJobSpec, type UploadSpec } from './install-spec.ts';
import type { UploadWriter } from './upload.ts';
import { isVideoTask, type VideoParams, type VideoTask } from './video-tasks.ts';

export type JobState = 'uploading' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
/** download and load: an engine job fetching and loading its model; download and convert: an install job. */
export type JobStage = 'upload' | 'queued' | 'probe' | 'download' | 'load' | 'convert' | 'run' | 'encode' | 'done';

export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** A video job (upscale-video, restore-video) as the client created it (PUT /jobs/{id}); compared field by field for
 *  idempotency. */
export interface JobSpec {
  task: VideoTask;
  model: string;
  /** upscale-video: { scale }; restore-video: { mode } (video-tasks.ts). */
  params: VideoParams;
  upload: { bytes: number; mime: string };
}

/** Any job's spec: a video job (with an upload), an engine job (without) or an install job (with or without). */
export type AnyJobSpec = JobSpec | EngineJobSpec | InstallJobSpec;

export function isVideoSpec(spec: AnyJobSpec): spec is JobSpec {
  return isVideoTask(spec.task);
}

/** The job's upload (a video clip, a checkpoint file), or null when it takes none. */
export function uploadOfSpec(spec: AnyJobSpec): UploadSpec | null {
  return 'upload' in spec && spec.upload ? spec.upload : null;
}

export interface JobResult {
  url: string;
  bytes: number;
  width: number;
  height: number;
  frames: number;
  fps: number;
}

/** A video job's latest finished output frame, small (server/jobs/preview.ts): JPEG as base64, at most 256 px on its
 *  longer side, the output's aspect ratio. */
export interface FramePreview {
  width: number;
  height: number;
  jpeg: string;
}

export interface JobSnapshot {
  id: string;
  task: string;
  model: string;
  params: VideoParams;
  state: JobState;
  /** preview: on the event that brought a new one, and on GET /jobs/{id}. */
  progress: { done: number; total: number; stage: JobStage; message?: string; preview?: FramePreview };
  upload: { offset: number; length: number; url: string };
  error?: string;
  result?: JobResult;
  /** Sequence number of the latest event (what Last-Event-ID would be after reading it). */
  seq: number;
  created_at: string;
  finished_at?: string;
}

/** An engine job as GET /jobs/{id} and its events show it: no upload; progress may say more and carry a preview. */
export interface EngineJobSnapshot {
  id: string;
  task: string;
  model: string;
  params: EngineJobSpec['params'];
  state: JobState;
  progress: JobProgress;
  error?: string;
  result?: EngineJobResult;
  seq: number;
  created_at: string;
  finished_at?: string;
}

export interface JobProgress {
  done: number;
  total: number;
  stage: JobStage;
  message?: string;
  /** The engine's latest preview: on the event that brought it, and on GET /jobs/{id}. */
  preview?: Preview;
}

export interface JobEvent {
  seq: number;
  type: 'state' | 'progress';
  job: JobSnapshot | EngineJobSnapshot | InstallJobSnapshot;
}

/** An install job as GET /jobs/{id} and its events show it: an upload only when installing from a file. */
export interface InstallJobSnapshot {
  id: string;
  task: string;
  model: string;
  params: Record<string, never>;
  state: JobState;
  progress: JobProgress;
  upload?: { offset: number; length: number; url: string };
  error?: string;
  result?: InstallJobResult;
  seq: number;
  created_at: string;
  finished_at?: string;
}

/** A job as the journal had it: what a restored job starts from (restore.ts decides its state). */
export interface RestoredJob {
  state: JobState;
  progress: Omit<JobProgress, 'preview'>;
  uploadOffset: number;
  error?: string;
  result?: JobResult | EngineJobResult | InstallJobResult;
  createdAt: Date;
  finishedAt?: Date;
  /** The first sequence number this job's new events use. */
  nextSeq: number;
  attempts: number;
  interrupted: number;
  owner?: string;
}

export class Job {
  state: JobState;
  progress: JobProgress;
  uploadOffset = 0;
  error?: string;
  result?: JobResult | EngineJobResult | InstallJobResult;
  readonly createdAt: Date = new Date();
  finishedAt?: Date;
  /** Runs started, and runs cut short by a server that stopped without a clean shutdown (journalled). */
  attempts = 0;
  interrupted = 0;
  /** The client that created it (a key from its address and credential), for the per-client cap. */
  owner?: string;
  /** Aborted on cancel or server close: the runner stops at the next window and aborts its in-flight calls. */
  readonly abort = new AbortController();
  /** The PATCH writing the upload right now, if any: a newer one takes over from it. */
  activeUpload: UploadWriter | null = null;
  /** Called after every event (the service journals the job). */
  onChange?: (kind: JobEvent['type']) => void;

  private readonly events: JobEvent[] = [];
  private nextSeq = 1;
  private readonly listeners = new Set<(e: JobEvent) => void>();
  /** The latest preview, and whether the next event is the one that brings it. */
  private preview?: Preview | FramePreview;
  private previewIsNew = false;
  /** The stored event that carries a preview: only the newest keeps it, so the replay log stays small. */
  private previewEvent?: JobEvent;

  constructor(
    readonly id: string,
    readonly spec: AnyJobSpec,
    readonly dir: string,
    /** Events kept for replay; older ones are dropped (each event carries the full snapshot anyway). */
    private readonly maxEvents: number,
    restored?: RestoredJob,
  ) {
    if (restored) {
      this.state = restored.state;
      this.progress = { ...restored.progress };
      this.uploadOffset = restored.uploadOffset;
      this.error = restored.error;
      this.result = restored.result;
      this.createdAt = restored.createdAt;
      this.finishedAt = restored.finishedAt;
      this.nextSeq = restored.nextSeq;
      this.attempts = restored.attempts;
      this.interrupted = restored.interrupted;
      this.owner = restored.owner;
    } else if (uploadOfSpec(spec)) {
      // A video job (or an install from a file) waits for its upload; other jobs have none and go straight to the queue.
      this.state = 'uploading';
      this.progress = { done: 0, total: uploadOfSpec(spec)!.bytes, stage: 'upload' };
    } else {
      this.state = 'queued';
      this.progress = { done: 0, total: 0, stage: 'queued' };
    }
    this.emit('state');
  }

  get terminal(): boolean {
    return TERMINAL_STATES.includes(this.state);
  }

  /** Sequence number of the newest event. */
  get seq(): number {
    return this.nextSeq - 1;
  }

  /** The job as the API shows it; `preview: false` leaves out a preview already sent. */
  snapshot(options: { preview?: boolean } = {}): JobSnapshot | EngineJobSnapshot | InstallJobSnapshot {
    const { id, spec } = this;
    // The latest preview: an engine job's image (Preview), a video job's latest frame (FramePreview).
    const preview = (options.preview ?? true) && this.preview ? { preview: this.preview } : {};
    if (isVideoSpec(spec)) {
      return {
        id,
        task: spec.task,
        model: spec.model,
        params: spec.params,
        progress: { ...(this.progress as Omit<JobProgress, 'preview'>), ...(preview as { preview?: FramePreview }) },
        upload: { offset: this.uploadOffset, length: spec.upload.bytes, url: `/jobs/${id}/upload` },
        ...(this.result ? { result: this.result as JobResult } : {}),
        ...this.lifecycle(),
      };
    }
    if (isInstallSpec(spec)) {
      return {
        id,
        task: spec.task,
        model: spec.model,
        params: spec.params,
        progress: { ...this.progress },
        ...(spec.upload ? { upload: { offset: this.uploadOffset, length: spec.upload.bytes, url: `/jobs/${id}/upload` } } : {}),
        ...(this.result ? { result: this.result as InstallJobResult } : {}),
        ...this.lifecycle(),
      };
    }
    return {
      id,
      task: spec.task,
      model: spec.model,
      params: spec.params,
      progress: { ...this.progress, ...(preview as { preview?: Preview }) },
      ...(this.result ? { result: this.result as EngineJobResult } : {}),
      ...this.lifecycle(),
    };
  }

  /** What every job's snapshot says beside its spec and progress: where it stands, and since when. */
  private lifecycle(): Pick<JobSnapshot, 'state' | 'error' | 'seq' | 'created_at' | 'finished_at'> {
    return {
      state: this.state,
      ...(this.error !== undefined ? { error: this.error } : {}),
      seq: this.seq,
      created_at: this.createdAt.toISOString(),
      ...(this.finishedAt ? { finished_at: this.finishedAt.toISOString() } : {}),
    };
  }

  /** `more`: a message, and a new preview (an engine job's image, a video job's latest frame). */
  setProgress(stage: JobStage, done: number, total: number, more: { message?: string; preview?: Preview | FramePreview } = {}): void {
    this.progress = { done, total, stage, ...(more.message !== undefined ? { message: more.message } : {}) };
    if (more.preview) {
      this.preview = more.preview;
      this.previewIsNew = true;
    }
    this.emit('progress');
  }

  /**
   * Moves to `state` (ignored once terminal: a late runner error never overrides a cancel). `progress` replaces the
   * whole progress (a job sent back to the queue), `stage` only its stage.
   */
  setState(state: JobState, fields: { error?: string; result?: JobResult | EngineJobResult | InstallJobResult; stage?: JobStage; progress?: Omit<JobProgress, 'preview'> } = {}): boolean {
    if (this.terminal) return false;
    this.state = state;
    if (fields.error !== undefined) this.error = fields.error;
    if (fields.result) this.result = fields.result;
    if (fields.progress) {
      this.progress = { ...fields.progress };
      this.preview = undefined;
    }
    if (fields.stage) this.progress = { ...this.progress, stage: fields.stage };
    if (this.terminal) {
      this.finishedAt = new Date();
      this.preview = undefined; // the result (or nothing) replaces it
    }
    this.emit('state');
    if (this.terminal) this.listeners.clear();
    return true;
  }

  /** Events after `lastSeq`, oldest first. */
  eventsAfter(lastSeq: number): JobEvent[] {
    return this.events.filter((e) => e.seq > lastSeq);
  }

  /** Calls `listener` for every new event until the returned function is called or the job ends. */
  subscribe(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(type: JobEvent['type']): void {
    const seq = this.nextSeq++;
    const event: JobEvent = { seq, type, job: this.snapshot({ preview: this.previewIsNew }) };
    if (this.previewIsNew) {
      this.previewIsNew = false;
      const old = this.previewEvent?.job as EngineJobSnapshot | JobSnapshot | undefined; // engine and video jobs have previews
      if (old) this.previewEvent!.job = { ...old, progress: { ...old.progress, preview: undefined } } as EngineJobSnapshot | JobSnapshot;
      this.previewEvent = event;
    }
    this.events.push(event);
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    for (const listener of [...this.listeners]) listener(event);
    this.onChange?.(type);
  }
}
