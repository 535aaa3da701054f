// One video job: its state machine, its progress, and the numbered event log that server-sent events replay to a
// client that reconnects with Last-Event-ID. Every event carries the whole job snapshot, so a client that missed
// some (or only polls GET /jobs/{id}) loses nothing but intermediate progress.

export type JobState = 'uploading' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type JobStage = 'upload' | 'queued' | 'probe' | 'run' | 'encode' | 'done';

export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** The job as the client created it (PUT /jobs/{id}); compared field by field for idempotency. */
export interface JobSpec {
  task: 'upscale-video';
  model: string;
  params: { scale: number };
  upload: { bytes: number; mime: string };
}

export interface JobResult {
  url: string;
  bytes: number;
  width: number;
  height: number;
  frames: number;
  fps: number;
}

export interface JobSnapshot {
  id: string;
  task: string;
  model: string;
  params: { scale: number };
  state: JobState;
  progress: { done: number; total: number; stage: JobStage };
  upload: { offset: number; length: number; url: string };
  error?: string;
  result?: JobResult;
  /** Sequence number of the latest event (what Last-Event-ID would be after reading it). */
  seq: number;
  created_at: string;
  finished_at?: string;
}

export interface JobEvent {
  seq: number;
  type: 'state' | 'progress';
  job: JobSnapshot;
}

export class Job {
  state: JobState = 'uploading';
  progress: JobSnapshot['progress'];
  uploadOffset = 0;
  error?: string;
  result?: JobResult;
  readonly createdAt = new Date();
  finishedAt?: Date;
  /** Aborted on cancel or server close: the runner stops at the next window and aborts its in-flight calls. */
  readonly abort = new AbortController();
  /** True while a PATCH is writing: a second one at the same time is refused. */
  uploadBusy = false;

  private readonly events: JobEvent[] = [];
  private nextSeq = 1;
  private readonly listeners = new Set<(e: JobEvent) => void>();

  constructor(
    readonly id: string,
    readonly spec: JobSpec,
    readonly dir: string,
    /** Events kept for replay; older ones are dropped (each event carries the full snapshot anyway). */
    private readonly maxEvents: number,
  ) {
    this.progress = { done: 0, total: spec.upload.bytes, stage: 'upload' };
    this.emit('state');
  }

  get terminal(): boolean {
    return TERMINAL_STATES.includes(this.state);
  }

  snapshot(): JobSnapshot {
    const base = `/jobs/${this.id}`;
    return {
      id: this.id,
      task: this.spec.task,
      model: this.spec.model,
      params: this.spec.params,
      state: this.state,
      progress: { ...this.progress },
      upload: { offset: this.uploadOffset, length: this.spec.upload.bytes, url: `${base}/upload` },
      ...(this.error !== undefined ? { error: this.error } : {}),
      ...(this.result ? { result: this.result } : {}),
      seq: this.nextSeq - 1,
      created_at: this.createdAt.toISOString(),
      ...(this.finishedAt ? { finished_at: this.finishedAt.toISOString() } : {}),
    };
  }

  setProgress(stage: JobStage, done: number, total: number): void {
    this.progress = { done, total, stage };
    this.emit('progress');
  }

  /** Moves to `state` (ignored once terminal: a late runner error never overrides a cancel). */
  setState(state: JobState, fields: { error?: string; result?: JobResult; stage?: JobStage } = {}): boolean {
    if (this.terminal) return false;
    this.state = state;
    if (fields.error !== undefined) this.error = fields.error;
    if (fields.result) this.result = fields.result;
    if (fields.stage) this.progress = { ...this.progress, stage: fields.stage };
    if (this.terminal) this.finishedAt = new Date();
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
    const event: JobEvent = { seq, type, job: this.snapshot() };
    this.events.push(event);
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    for (const listener of [...this.listeners]) listener(event);
  }
}
