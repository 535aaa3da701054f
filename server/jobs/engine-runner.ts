// Runs engine jobs with the server's own engine (onnxruntime-node on this machine, target 'node') on its own thread
// (engine-thread.ts), forwards its progress to the job (previews at most every `previewMs`), and writes the result
// as JSON into the job's folder: { images: [{ width, height, rgba }], imageMeta? } (rgba: base64 of straight RGBA).
import { writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Params, Progress, ResultMeta, RgbaImage } from '../../worker/job.ts';
import type { ImageMeta } from '../../worker/tasks/task.ts';
import type { ServerPaths } from '../paths.ts';
import type { EngineThreadIn, EngineThreadOut } from './engine-messages.ts';
import type { EngineJobResult, EngineJobSpec, Preview } from './engine-spec.ts';
import type { Job } from './job.ts';

/** Progress without a new preview is sent at most this often (a model download reports every chunk). */
const PROGRESS_MS = 100;

export function imageJson(img: RgbaImage): Preview {
  return { width: img.width, height: img.height, rgba: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).toString('base64') };
}

/** The part of a result's meta only that image has (what the task returned): the client merges its own meta in. */
function ownMeta(m: ResultMeta, jobParams: Params): ImageMeta {
  const params = Object.fromEntries(Object.entries(m.params).filter(([k, v]) => jobParams[k] !== v));
  return { ...(m.seed !== undefined ? { seed: m.seed } : {}), ...(m.latent !== undefined ? { latent: m.latent } : {}), ...(Object.keys(params).length ? { params } : {}) };
}

interface Pending {
  progress(p: Omit<Progress, 'jobId'>): void;
  done(out: Extract<EngineThreadOut, { type: 'done' }>): void;
  failed(err: Error): void;
}

export class EngineJobRunner {
  private thread: Worker | null = null;
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly paths: ServerPaths,
    private readonly previewMs: number,
  ) {}

  /** The engine thread, started on the first job; a thread that died is replaced on the next one. */
  private start(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(new URL('./engine-thread.mjs', import.meta.url), { workerData: { paths: this.paths } });
    thread.unref(); // an idle engine never keeps the process alive
    thread.on('message', (msg: EngineThreadOut) => {
      if (msg.type === 'disposed') return;
      const run = this.pending.get(msg.id);
      if (!run) return;
      if (msg.type === 'progress') run.progress(msg.progress);
      else if (msg.type === 'done') run.done(msg);
      else run.failed(new Error(msg.message));
    });
    const die = (err: Error) => {
      if (this.thread !== thread) return;
      this.thread = null;
      for (const run of this.pending.values()) run.failed(new Error(`The engine thread stopped (${err.message}): run the job again.`));
      this.pending.clear();
    };
    thread.on('error', die);
    thread.on('exit', (code) => die(new Error(`exit code ${code}`)));
    this.thread = thread;
    return thread;
  }

  private post(msg: EngineThreadIn): void {
    this.start().postMessage(msg);
  }

  /** Runs the job's task; throws on failure or cancel (job.abort). */
  async run(job: Job, spec: EngineJobSpec, resultPath: string): Promise<EngineJobResult> {
    const signal = job.abort.signal;
    if (signal.aborted) throw new Error('The job was cancelled.');
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
    const cancel = () => this.thread?.postMessage({ type: 'cancel', id: job.id } satisfies EngineThreadIn);
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const out = await new Promise<Extract<EngineThreadOut, { type: 'done' }>>((done, failed) => {
        this.pending.set(job.id, { progress, done, failed });
        this.post({ type: 'run', job: { id: job.id, task: spec.task, model: spec.model, params: spec.params } });
      });
      if (out.images.length === 0) throw new Error(`${spec.task} returned no images.`);
      const imageMeta = out.imageMeta?.map((m) => ownMeta(m, out.params));
      await writeFile(resultPath, JSON.stringify({ images: out.images.map(imageJson), ...(imageMeta ? { imageMeta } : {}) }));
      return { url: `/jobs/${job.id}/result`, images: out.images.length, width: out.images[0].width, height: out.images[0].height };
    } finally {
      this.pending.delete(job.id);
      signal.removeEventListener('abort', cancel);
    }
  }

  /** Releases the engine's sessions and stops its thread (the server is closing; runs were cancelled first). */
  async close(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    this.thread = null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      thread.on('message', (msg: EngineThreadOut) => {
        if (msg.type !== 'disposed') return;
        clearTimeout(timer);
        resolve();
      });
      thread.postMessage({ type: 'dispose' } satisfies EngineThreadIn);
    });
    await thread.terminate();
  }
}
