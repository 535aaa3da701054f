// A fake engine for the UI render tests: the EngineApi surface over Comlink in a real Web Worker, with a fake
// 'upscale' task (scale 2/3/4, quality, plus a number and a boolean param), two upscale models, fake download/load/tile
// progress and a nearest-neighbour "upscale"; and every other real task (their real params, from worker/tasks) run as
// a few fake steps that return a plain image (or clip). Triggers: a serverUrl containing "unreachable" fails init like
// a dead model host; one ending in "/nocache" has no Cache API (as Figma's and the playground's opaque-origin windows:
// nothing is kept, models load from the server each time); empty image bytes crash the worker (an uncaught error, as
// a real out-of-memory would).
// Tests hold a run at a point until they release it (self.fakeEngine, reached with Playwright's worker.evaluate), so
// they wait on a state the UI shows for as long as they need, not on a moment.
import * as Comlink from 'comlink';
import type { Capabilities, EngineApi, EngineConfig, ModelStatus, TargetChoice, WarmUpAnswer } from '../../../worker/engine-api.ts';
import type { Job, JobResult, Progress, RgbaImage, Target } from '../../../worker/job.ts';
import type { ModelCard } from '../../../worker/models/card.ts';
import type { TaskInfo } from '../../../worker/tasks/task.ts';
import { offersModel, taskInfo } from '../../../worker/tasks/task.ts';
import { TASKS } from '../../../worker/tasks/index.ts';

const TILE_MS = 70;
const TILES = 16;

const UPSCALE: TaskInfo = {
  id: 'upscale',
  label: 'Upscale',
  description: 'Enlarge an image with a super-resolution model.',
  inputs: ['image'],
  modelTask: 'upscale',
  serverOnly: false,
  // As the real row: the real task gives warm-up inputs, so the UI asks for a warm-up.
  warmsUp: true,
  // The real task's words ("Upscaling tile 3 / 16"), as the real engine's row carries them: the UI has no task table.
  display: TASKS.find((t) => t.id === 'upscale')!.display,
  presets: [
    { label: 'Print ×4 · Best', help: 'Four times the size for print.', params: { scale: 4, quality: 'best' } },
    { label: 'Quick look ×2', help: 'A fast ×2 to try an idea.', params: { scale: 2, quality: 'fast' } },
  ],
  params: [
    { name: 'scale', label: 'Scale', type: 'choice', default: 2, choices: [{ value: 2, label: '×2' }, { value: 3, label: '×3' }, { value: 4, label: '×4' }] },
    { name: 'quality', label: 'Quality', type: 'choice', default: 'best', choices: [{ value: 'fast', label: 'Fast' }, { value: 'best', label: 'Best' }] },
    { name: 'sharpen', label: 'Sharpen', type: 'number', default: 0.5, min: 0, max: 1, step: 0.05, help: 'Extra sharpening after upscaling.' },
    { name: 'tta', label: 'Self-ensemble (slower, cleaner edges)', type: 'boolean', default: false },
  ],
};

/** Made-up task rows from the test (HarnessOptions.extraTasks); none unless given. */
declare const __EXTRA_TASKS__: TaskInfo[] | undefined;
const EXTRA_TASKS: TaskInfo[] = typeof __EXTRA_TASKS__ === 'undefined' ? [] : __EXTRA_TASKS__;

/** The real tasks other than upscale, as the real engine lists them, then the made-up ones. */
const OTHER_TASKS: TaskInfo[] = [...TASKS.filter((t) => t.id !== 'upscale').map(taskInfo), ...EXTRA_TASKS];

function card(id: string, label: string, variant: 'full' | 'tiny', bytes: number, task = 'upscale'): ModelCard {
  return {
    id, task, label, description: `${label} super-resolution.`, variant,
    files: [{ name: `${id}.onnx`, sha256: '0'.repeat(64), bytes }],
    io: { inputs: [], outputs: [], image: { layout: 'NCHW', range: [0, 1] }, scale: 2, tile: { size: 128, overlap: 8 } },
    license: 'Apache-2.0', source: { checkpoint: 'fake' }, targets: ['webgpu', 'wasm', 'node', 'server'],
    ...(variant === 'full' ? { notes: '+0.47 dB over bicubic on a real photo.' } : {}),
  };
}

const models: ModelStatus[] = [
  { card: card('esrgan-thick-x2', 'ESRGAN thick', 'full', 28_400_000), cached: false, cachedBytes: 0, loaded: false },
  { card: card('esrgan-tiny-x2', 'ESRGAN tiny', 'tiny', 120_000), cached: true, cachedBytes: 120_000, loaded: false },
  // A larger-tile build of a card (as MAXIM's 256-px graphs for the server): the same model, neither picked nor managed.
  { card: { ...card('esrgan-thick-x2-256', 'ESRGAN thick (256-px tiles)', 'full', 28_400_000), role: 'large-tiles', targets: ['node', 'server'] }, cached: false, cachedBytes: 0, loaded: false },
  // Generated results name these: Variations, In-betweens and Rotate view take them (fake-host.js selects such items).
  { card: { ...card('styleswin-fake', 'StyleSwin (fake)', 'full', 1_000_000, 'generate'), io: { ...card('x', 'x', 'full', 0).io, scale: 1 } }, cached: true, cachedBytes: 1_000_000, loaded: false },
  { card: { ...card('gram-fake', 'GRAM (fake)', 'full', 1_000_000, 'rotate-view'), io: { ...card('x', 'x', 'full', 0).io, scale: 1 } }, cached: true, cachedBytes: 1_000_000, loaded: false },
];

/**
 * Holds for tests: `hold('run:4')` stops the next batch job (ids job-…; not rotate-view's live previews) that reaches
 * that point ('download:2', 'run:4', …: right after reporting it) until `release()` or a cancel; each point holds once.
 * `hold('cancel')`: the next cancel leaves a held job held (an engine slow to stop).
 * `fail({ code, message })`: the next batch job fails with that error (as the engine sends one: code and message).
 * `held` says where a job waits now.
 */
const control = {
  points: new Set<string>(),
  /** Every job the engine was asked to run: its id, task and size param (and a clip's type, length and first bytes), in order. */
  runs: [] as { id: string; task: string; size?: unknown; video?: { mime: string; bytes: number; head: number[]; width?: number; height?: number } }[],
  held: null as string | null,
  /** Every warm-up the UI asked for, in order, and whether a job was running in this engine when it came. */
  warmUps: [] as { task: string; model?: string; params: Record<string, unknown>; target?: string; duringJob: boolean }[],
  /** Jobs running now. */
  active: 0,
  failure: null as { code: string; message: string } | null,
  fail(error: { code: string; message: string }) {
    control.failure = error;
  },
  resume: null as (() => void) | null,
  hold(...points: string[]) {
    for (const p of points) control.points.add(p);
  },
  release() {
    control.resume?.();
  },
};
(self as unknown as { fakeEngine: typeof control }).fakeEngine = control;

async function gate(job: Job, step: string): Promise<void> {
  // Batch jobs hold at 'run:4'; rotate-view's live previews (ids preview-…) at 'preview:run:4'.
  const kind = job.id.startsWith('job-') ? '' : job.id.startsWith('preview-') ? 'preview:' : null;
  const point = `${kind}${step}`;
  if (kind === null || !control.points.has(point)) return;
  control.points.delete(point);
  control.held = point;
  await new Promise<void>((resolve) => (control.resume = resolve));
  control.held = null;
  control.resume = null;
}

let config: EngineConfig | null = null;
let serverChecks = 0;
const cancelled = new Set<string>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const capabilities: Capabilities = {
  webgpu: { available: false, detail: 'no WebGPU adapter (fake engine)' },
  wasm: { available: true, threads: 1, crossOriginIsolated: false, detail: 'single-threaded: not cross-origin isolated' },
  cache: { available: true, detail: 'Cache API (fake)' },
};

const api: EngineApi = {
  async init(c) {
    config = c;
    await sleep(50);
    if (c.modelBaseUrl.includes('unreachable')) {
      throw { code: 'download-failed', message: `Could not reach the model host at ${c.modelBaseUrl} (fetch failed).` };
    }
    if (c.modelBaseUrl.endsWith('/nocache')) {
      capabilities.cache = { available: false, detail: 'no Cache API in an opaque origin (fake)' };
      for (const m of models) Object.assign(m, { cached: false, cachedBytes: 0 });
    }
    return capabilities;
  },
  async capabilities() {
    return capabilities;
  },
  async tasks() {
    return [UPSCALE, ...OTHER_TASKS];
  },
  async models() {
    return models;
  },
  async clearModels(ids) {
    for (const m of models) if (!ids || ids.includes(m.card.id)) Object.assign(m, { cached: false, cachedBytes: 0, loaded: false });
  },
  async chooseTarget(task: string, _model: string | undefined, requested: Target): Promise<TargetChoice> {
    // Video runs only on a server; a serverUrl containing "noserver" has none answering.
    if (OTHER_TASKS.find((t) => t.id === task)?.serverOnly && (requested === 'auto' || requested === 'server')) {
      if (config?.modelBaseUrl.includes('noserver')) throw { code: 'target-unavailable', message: `The task runs on a server, and none answers at ${config.modelBaseUrl} (fake).` };
      return { target: 'server', reason: `server at ${config?.modelBaseUrl}` };
    }
    if (requested === 'webgpu') throw { code: 'target-unavailable', message: 'WebGPU is not available here: no adapter. Choose Auto or WASM.' };
    // A server still starting (serverUrl ending in /starting): its first check fails, later ones answer.
    if (requested === 'server' && config?.modelBaseUrl.endsWith('/starting') && serverChecks++ === 0) {
      throw { code: 'target-unavailable', message: 'The server is not answering yet (fake).' };
    }
    if (requested === 'server') return { target: 'server', reason: `server at ${config?.modelBaseUrl}` };
    if (requested !== 'auto') return { target: 'wasm', reason: 'WASM chosen' };
    // As the real engine in a browser without a GPU: auto passed the graphics card over, and says why.
    return { target: 'wasm', reason: 'no WebGPU adapter', skipped: [{ target: 'webgpu', runtime: 'ort-web/webgpu', why: 'this browser can’t use it', detail: 'no WebGPU adapter' }] };
  },
  // As the real engine: the real task's rule over the models this fake offers (full ones first); params as the row
  // fills them. Upscale ×2 Best is "esrgan-thick-x2"; Fast's "esrgan-slim-x2" is not here. Made-up tasks pick none.
  async defaultModelFor(task, params = {}) {
    const def = TASKS.find((t) => t.id === task);
    const row = [UPSCALE, ...OTHER_TASKS].find((t) => t.id === task);
    if (!def || !row) return undefined;
    const available = models.map((m) => m.card).filter((c) => offersModel(row, c)).sort((a, b) => Number(a.variant === 'tiny') - Number(b.variant === 'tiny'));
    const id = def.defaultModel({ ...Object.fromEntries(row.params.map((s) => [s.name, s.default])), ...params }, available);
    return available.some((c) => c.id === id) ? id : undefined;
  },
  // As the real engine: the model a run would use (Automatic: the first of the task's), warmed only when cached.
  async warmUp(request): Promise<WarmUpAnswer> {
    control.warmUps.push({ task: request.task, ...(request.model ? { model: request.model } : {}), params: { ...request.params }, ...(request.target ? { target: request.target } : {}), duringJob: control.active > 0 });
    const model = models.find((m) => m.card.id === request.model) ?? models[0];
    if (request.task !== 'upscale') return { model: model.card.id, target: 'wasm', warmed: false, why: 'no-warm-up', ms: 0 };
    if (request.target === 'server') return { model: model.card.id, target: 'server', warmed: false, why: 'remote', ms: 0 };
    return model.cached ? { model: model.card.id, target: 'wasm', warmed: true, ms: TILE_MS } : { model: model.card.id, target: 'wasm', warmed: false, why: 'not-cached', ms: 0 };
  },
  async run(job: Job, onProgress: (p: Progress) => void): Promise<JobResult> {
    control.active++;
    try {
      return await runJob(job, onProgress);
    } finally {
      control.active--;
    }
  },
  async cancel(jobId) {
    cancelled.add(jobId);
    // hold('cancel'): the engine is slow to stop (a long tile): the held job stays held, so the UI stays at
    // "Cancelling…" until the engine client gives up on it and stops the worker (its hard cancel).
    if (control.points.delete('cancel')) return;
    if (control.held) control.resume?.(); // a held job goes on to its next check, and stops there
  },
  async decode(bytes, mime) {
    if (bytes.length === 0) {
      setTimeout(() => {
        throw new Error('fake engine crash: out of memory');
      });
      return new Promise<RgbaImage>(() => {});
    }
    const bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: mime ?? 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    return { width: bitmap.width, height: bitmap.height, data: new Uint8Array(data.buffer) };
  },
  async testServer(url) {
    await sleep(20);
    return url.includes('unreachable')
      ? { ok: false, extensions: [], binary: false, latencyMs: 0, error: `Cannot reach the server at ${url} (fake engine).` }
      : { ok: true, name: 'fake', version: '1', extensions: ['binary_tensor_data'], binary: true, models: ['fake-x2'], latencyMs: 3 };
  },
  async encodePng(image) {
    const canvas = new OffscreenCanvas(image.width, image.height);
    canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return new Uint8Array(await blob.arrayBuffer());
  },
};

/** One job of the fake engine: an upscale's fake download, load and tiles, or another task's fake steps. */
async function runJob(job: Job, onProgress: (p: Progress) => void): Promise<JobResult> {
  const video = job.video ? { video: { mime: job.video.mime, bytes: job.video.bytes.length, head: [...job.video.bytes.subarray(0, 12)], width: job.video.width, height: job.video.height } } : {};
  control.runs.push({ id: job.id, task: job.task, size: job.params.size, ...video });
  if (control.failure && job.id.startsWith('job-')) {
    const failure = control.failure;
    control.failure = null;
    await sleep(TILE_MS);
    throw failure;
  }
  if (job.task !== 'upscale') return fakeRun(job, onProgress);
  const model = models.find((m) => m.card.id === job.model) ?? models[0];
  const report = (p: Omit<Progress, 'jobId'>) => onProgress({ jobId: job.id, ...p });
  const check = () => {
    if (cancelled.delete(job.id)) throw { code: 'cancelled', message: 'Cancelled.' };
  };
  const bytes = model.card.files[0].bytes;
  if (!model.cached) {
    for (let i = 0; i <= 4; i++) {
      report({ stage: 'download', done: (bytes * i) / 4, total: bytes });
      await gate(job, `download:${i}`);
      await sleep(TILE_MS);
      check();
    }
    if (capabilities.cache.available) Object.assign(model, { cached: true, cachedBytes: bytes });
  }
  report({ stage: 'load', done: 0, total: 1 });
  await sleep(TILE_MS);
  model.loaded = true;
  const started = performance.now();
  for (let t = 0; t < TILES; t++) {
    check();
    report({ stage: 'run', done: t, total: TILES });
    await gate(job, `run:${t}`);
    await sleep(TILE_MS);
  }
  const scale = Number(job.params.scale);
  const image = upscaleNearest(job.image!, scale);
  return {
    jobId: job.id,
    images: [image],
    meta: {
      task: job.task, model: model.card.id, modelVariant: model.card.variant, params: job.params, target: 'wasm',
      version: '0.1.0', runMs: Math.round(performance.now() - started),
    },
  };
}

const STEP_MS = 40;

/** Any other task: load, then a few steps (tiles, frames) with the messages the real tasks send, then a plain result. */
async function fakeRun(job: Job, onProgress: (p: Progress) => void): Promise<JobResult> {
  const task = OTHER_TASKS.find((t) => t.id === job.task);
  if (!task) throw { code: 'bad-input', message: `Unknown task ${job.task}.` };
  const report = (p: Omit<Progress, 'jobId'>) => onProgress({ jobId: job.id, ...p });
  const check = () => {
    if (cancelled.delete(job.id)) throw { code: 'cancelled', message: 'Cancelled.' };
  };
  const started = performance.now();
  const steps = job.task === 'text-to-image' ? 12 : 8;
  report({ stage: 'load', done: 0, total: 1 });
  await sleep(STEP_MS);
  for (let t = 0; t < steps; t++) {
    check();
    const unit = job.video ? 'Upscaling frame' : job.task === 'text-to-image' ? 'Step' : job.task === 'generate' ? 'Generating image' : 'Working on tile';
    // Text-to-image's guess every few steps; a clip's latest frame (when a server sends one).
    const preview = (job.task === 'text-to-image' || job.video) && t % 3 === 2 ? { preview: plainImage(32, 32, t * 20) } : {};
    // A made-up task sends no message: the UI says its progress in the row's words.
    const message = EXTRA_TASKS.some((x) => x.id === job.task) ? {} : { message: `${unit} ${t + 1} / ${steps}` };
    report({ stage: 'run', done: t, total: steps, ...message, ...preview });
    await gate(job, `run:${t}`);
    await sleep(STEP_MS);
  }
  check();
  const model = models.find((m) => m.card.task === (task.modelTask ?? task.id));
  const meta = {
    task: job.task, model: model?.card.id ?? `${job.task}-fake`, modelVariant: 'full' as const, params: job.params, target: 'wasm' as const,
    version: '0.1.0', runMs: Math.round(performance.now() - started),
  };
  // The "result" of a video job is the clip it was given (a real one stays decodable, e.g. for its first frame).
  if (job.video) return { jobId: job.id, images: [], video: { bytes: job.video.bytes.slice(), mime: job.video.mime, width: 64, height: 48, frames: steps }, meta: { ...meta, target: 'server' } };
  const image = job.image ?? plainImage(Number(job.params.size ?? 64) || 64, Number(job.params.size ?? 64) || 64, 128);
  const count = job.task === 'generate' || job.task === 'vary' ? Math.max(1, Number(job.params.count ?? 1)) : 1;
  return {
    jobId: job.id, images: Array.from({ length: count }, () => image), meta: { ...meta, ...(job.image ? {} : { seed: 7, latent: 'AAAA' }) },
    ...(job.image ? {} : { imageMeta: Array.from({ length: count }, (_, i) => ({ ...meta, seed: 7 + i, latent: 'AAAA' })) }),
  };
}

function plainImage(width: number, height: number, level: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([level, (i / 4) % 256, 255 - level, 255], i);
  return { width, height, data };
}

function upscaleNearest(src: RgbaImage, scale: number): RgbaImage {
  const width = src.width * scale;
  const height = src.height * scale;
  const out = new Uint32Array(width * height);
  const input = new Uint32Array(src.data.buffer, src.data.byteOffset, src.width * src.height);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / scale) * src.width;
    for (let x = 0; x < width; x++) out[y * width + x] = input[row + Math.floor(x / scale)];
  }
  return { width, height, data: new Uint8Array(out.buffer) };
}

Comlink.expose(api);
