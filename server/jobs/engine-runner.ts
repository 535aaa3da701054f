// Runs engine jobs with the server's own engine (onnxruntime-node on this machine, target 'node') in a child process
// (engine-process.ts, a WorkProcess), forwards its progress to the job (previews at most every `previewMs`), and
// writes the result as JSON into the job's folder: { images: [{ width, height, rgba }], imageMeta? } (rgba: base64
// of straight RGBA). Each running job has a process of its own; an idle one is kept for the next job (its sessions
// stay loaded). A cancel asks the engine to stop at its next step; a job still running `cancelGraceMs` later is
// stopped by killing its process, which never harms the server (killing a worker thread mid-run would abort it).
// The same processes run the windows of TTVSR video jobs (ttvsr()): a job holds one process for all its windows,
// and a cancel kills it at once (windows are stateless: nothing is lost that a next run would need).
import { writeFile } from 'node:fs/promises';
import type { Params, Progress, ResultMeta, RgbaImage } from '../../worker/job.ts';
import type { ImageMeta } from '../../worker/tasks/task.ts';
import type { ServerPaths } from '../paths.ts';
import { WorkProcess } from '../work-process.ts';
import type { EngineIn, EngineOut, TtvsrWindowIn } from './engine-messages.ts';
import type { EngineJobResult, EngineJobSpec, Preview } from './engine-spec.ts';
import type { Job } from './job.ts';

/** Progress without a new preview is sent at most this often (a model download reports every chunk). */
const PROGRESS_MS = 100;
/** How long a cancelled job may take to stop at its next step before its process is killed. */
export const DEFAULT_CANCEL_GRACE_MS = 5000;

export function imageJson(img: RgbaImage): Preview {
  return { width: img.width, height: img.height, rgba: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).toString('base64') };
}

/** The part of a result's meta only that image has (what the task returned): the client merges its own meta in. */
function ownMeta(m: ResultMeta, jobParams: Params): ImageMeta {
  const params = Object.fromEntries(Object.entries(m.params).filter(([k, v]) => jobParams[k] !== v));
  return { ...(m.seed !== undefined ? { seed: m.seed } : {}), ...(m.latent !== undefined ? { latent: m.latent } : {}), ...(Object.keys(params).length ? { params } : {}) };
}

type Done = Extract<EngineOut, { type: 'done' }>;

/** A window of a TTVSR job as the runner sends it (ids are added here). */
export type TtvsrWindow = Omit<TtvsrWindowIn, 'type' | 'id'>;
/** Runs one window in the job's engine process; `onFrame` gets each kept ×4 frame (index in the window) in order. */
export type RunTtvsrWindow = (window: TtvsrWindow, onFrame: (index: number, rgb: Uint8Array) => Promise<void>) => Promise<void>;

/** One engine process and the job it runs. */
class EngineProcess {
  readonly process: WorkProcess<EngineIn, EngineOut>;
  private job: { id: string; progress(p: Omit<Progress, 'jobId'>): void; done(out: Done): void; failed(err: Error): void } | null = null;
  private window: { id: string; frame(index: number, rgb: Uint8Array): void; done(): void; failed(err: Error): void } | null = null;
  private windows = 0;

  constructor(paths: ServerPaths) {
    this.process = new WorkProcess(new URL('./engine-process.mjs', import.meta.url), 'the engine process', (msg) => this.onMessage(msg), [JSON.stringify(paths)]);
    void this.process.exited.then((why) => {
      this.job?.failed(why);
      this.window?.failed(why);
    });
  }

  get alive(): boolean {
    return this.process.endedWith === null;
  }

  /** Runs one job to its end; rejects on failure or when the process ends. */
  async run(job: EngineIn & { type: 'run' }, progress: (p: Omit<Progress, 'jobId'>) => void): Promise<Done> {
    this.process.hold();
    try {
      return await new Promise<Done>((done, failed) => {
        this.job = { id: job.job.id, progress, done, failed };
        if (this.process.endedWith) failed(this.process.endedWith);
        else this.process.send(job);
      });
    } finally {
      this.job = null;
      this.process.release();
    }
  }

  /** Runs one TTVSR window of job `jobId`; frames are handed to `onFrame` in order, each once the last is taken. */
  async runWindow(jobId: string, window: TtvsrWindow, onFrame: (index: number, rgb: Uint8Array) => Promise<void>): Promise<void> {
    const id = `${jobId}-window-${++this.windows}`;
    this.process.hold();
    let taken: Promise<void> = Promise.resolve();
    try {
      await new Promise<void>((done, failed) => {
        const frame = (index: number, rgb: Uint8Array) => {
          taken = taken.then(() => onFrame(index, rgb));
          taken.catch(failed);
        };
        this.window = { id, frame, done, failed };
        if (this.process.endedWith) failed(this.process.endedWith);
        else this.process.send({ type: 'ttvsr-window', id, ...window });
      });
      await taken;
    } finally {
      this.window = null;
      this.process.release();
    }
  }

  cancel(id: string): void {
    if (this.alive) this.process.send({ type: 'cancel', id });
  }

  private onMessage(msg: EngineOut): void {
    const window = this.window;
    if (window && msg.id === window.id) {
      if (msg.type === 'window-frame') window.frame(msg.index, msg.rgb);
      else if (msg.type === 'window-done') window.done();
      else if (msg.type === 'failed') window.failed(new Error(msg.message));
      return;
    }
    const job = this.job;
    if (!job || msg.id !== job.id) return;
    if (msg.type === 'progress') job.progress(msg.progress);
    else if (msg.type === 'done') job.done(msg);
    else if (msg.type === 'failed') job.failed(new Error(msg.message));
  }
}

export class EngineJobRunner {
  private readonly idle: EngineProcess[] = [];
  private readonly busy = new Set<EngineProcess>();
  private closed = false;

  constructor(
    private readonly paths: ServerPaths,
    private readonly previewMs: number,
    private readonly cancelGraceMs = DEFAULT_CANCEL_GRACE_MS,
  ) {}

  /** Runs the job's task; throws on failure or cancel (job.abort). */
  async run(job: Job, spec: EngineJobSpec, resultPath: string): Promise<EngineJobResult> {
    const signal = job.abort.signal;
    if (signal.aborted) throw new Error('The job was cancelled.');
    if (this.closed) throw new Error('The server is shutting down: run the job again once it is back.');
    let lastSent = 0;
    let lastPreview = 0;
    let lastStage = '';
    const progress = (p: Omit<Progress, 'jobId'>) => {
      const now = Date.now();
      const preview = p.preview && now - lastPreview >= this.previewMs ? imageJson(p.preview) : undefined;
      if (!preview && p.stage === lastStage && p.done < p.total && now - lastSent < PROGRESS_MS) return;
      if (preview) lastPreview = now;
      lastSent = now;
      lastStage = p.stage;
      const stage = p.stage === 'download' || p.stage === 'load' ? p.stage : 'run';
      job.setProgress(stage, p.done, p.total, { ...(p.message !== undefined ? { message: p.message } : {}), ...(preview ? { preview } : {}) });
    };

    let engine = this.idle.pop();
    while (engine && !engine.alive) engine = this.idle.pop(); // one that died while idle is dropped
    engine ??= new EngineProcess(this.paths);
    this.busy.add(engine);
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const cancel = () => {
      engine.cancel(job.id);
      // A job stuck in a long native call does not see the cancel: end its process (only it dies).
      killTimer = setTimeout(() => void engine.process.kill(), this.cancelGraceMs);
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      let out: Done;
      try {
        out = await engine.run({ type: 'run', job: { id: job.id, task: spec.task, model: spec.model, params: spec.params } }, progress);
      } catch (err) {
        if (signal.aborted) throw new Error('The job was cancelled.');
        if (this.closed) throw new Error('The server shut down while the job ran: run it again once the server is back.');
        if (!engine.alive) throw new Error(`The engine stopped while running the job (${(err as Error).message}): run it again.`);
        throw err;
      }
      if (out.images.length === 0) throw new Error(`${spec.task} returned no images.`);
      const imageMeta = out.imageMeta?.map((m) => ownMeta(m, out.params));
      await writeFile(resultPath, JSON.stringify({ images: out.images.map(imageJson), ...(imageMeta ? { imageMeta } : {}) }));
      return { url: `/jobs/${job.id}/result`, images: out.images.length, width: out.images[0].width, height: out.images[0].height };
    } finally {
      clearTimeout(killTimer);
      signal.removeEventListener('abort', cancel);
      this.busy.delete(engine);
      if (engine.alive && !this.closed) this.idle.push(engine);
      else void engine.process.kill();
    }
  }

  /**
   * Holds an engine process for the TTVSR windows of video job `job`: `work` sends them one at a time through the
   * function it is given. A cancel (job.abort) kills the process at once: a window can spend seconds in one native
   * call, and a cancelled job needs nothing from it; the server never crashes with it, and the next job starts a
   * fresh process. Errors say whether the job was cancelled, the server is closing, or the process died (and how).
   */
  async ttvsr<T>(job: Job, work: (runWindow: RunTtvsrWindow) => Promise<T>): Promise<T> {
    const signal = job.abort.signal;
    if (signal.aborted) throw new Error('The job was cancelled.');
    if (this.closed) throw new Error('The server is shutting down: run the job again once it is back.');
    let engine = this.idle.pop();
    while (engine && !engine.alive) engine = this.idle.pop();
    engine ??= new EngineProcess(this.paths);
    const held = engine;
    this.busy.add(held);
    const stop = () => void held.process.kill();
    signal.addEventListener('abort', stop, { once: true });
    try {
      return await work(async (window, onFrame) => {
        try {
          await held.runWindow(job.id, window, onFrame);
        } catch (err) {
          if (signal.aborted) throw new Error('The job was cancelled.');
          if (this.closed) throw new Error('The server shut down while the job ran: run it again once the server is back.');
          if (!held.alive) throw new Error(`The engine stopped while upscaling the clip (${(err as Error).message}): run the job again.`);
          throw err;
        }
      });
    } finally {
      signal.removeEventListener('abort', stop);
      this.busy.delete(held);
      if (held.alive && !this.closed && !signal.aborted) this.idle.push(held);
      else void held.process.kill();
    }
  }

  /** Stops every engine process (the server is closing; its jobs were cancelled first). Never harms this process. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.splice(0), ...this.busy];
    await Promise.all(all.map((p) => p.process.kill()));
  }
}
