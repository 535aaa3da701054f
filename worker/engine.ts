// The engine: runs jobs on whatever platform hosts it (browser worker or Node). It owns the task table,
// the registry, sessions (one per model and target, reused) and cancellation; platforms supply codecs,
// model sources and runtimes.
import { FRONTIER_VERSION, FrontierError, type Job, type JobResult, type Params, type Progress, type ResultMeta, type RgbaImage, type ResolvedTarget, type Target } from './job.ts';
import type { Capabilities, ModelStatus, ServerStatus, TargetChoice, WarmUpAnswer, WarmUpRequest, WarmUpSkip } from './engine-api.ts';
import { probeServer } from './runtime/oip.ts';
import { findModel, type ModelCard, type ModelFileKind, type Registry } from './models/card.ts';
import { fileOfKind, graphFile, loadExternalData, loadModelBytes, loadModelFile, type ByteProgress, type ModelSource } from './models/loader.ts';
import type { Runtime, Session } from './runtime/runtime.ts';
import type { JobServer } from './runtime/jobs-client.ts';
import type { ImageCodec } from './image/codec.ts';
import { checkRgba } from './image/rgba.ts';
import { findTask, TASKS } from './tasks/index.ts';
import { offersModel, resolveParams, taskInfo, type TaskDef, type TaskInfo } from './tasks/task.ts';
import { noClip } from './tasks/video-job.ts';

export interface EnginePlatform {
  codec: ImageCodec;
  source: ModelSource;
  loadRegistry(): Promise<Registry>;
  capabilities(): Promise<Capabilities>;
  /** Resolves a requested target for a model, or throws target-unavailable saying why. */
  chooseTarget(card: ModelCard, requested: Target): Promise<TargetChoice>;
  runtime(target: ResolvedTarget): Runtime;
  /** The configured server's job API (video tasks); undefined when this platform has no server. */
  jobServer?(): JobServer | undefined;
  cachedBytes?(card: ModelCard): Promise<number>;
  clearCache?(card: ModelCard): Promise<void>;
}

/** Byte progress of a model's files as the job's 'download' stage. */
function downloadProgress(card: ModelCard, progress: (p: Omit<Progress, 'jobId'>) => void): ByteProgress {
  return (done, total) => progress({ stage: 'download', done, total, message: `Downloading ${card.label}` });
}

/** The models a task offers, full models first: a tiny (random-weight test) variant is the default only when no real
 *  one is installed. */
function offered(task: TaskDef, registry: Registry): ModelCard[] {
  return registry.models.filter((m) => offersModel(task, m)).sort((a, b) => Number(a.variant === 'tiny') - Number(b.variant === 'tiny'));
}

export class Engine {
  private registry: Promise<Registry> | null = null;
  private readonly sessions = new Map<string, Promise<Session>>();
  private readonly cancelled = new Set<string>();
  /** Running jobs' abort controllers: cancel() aborts remote calls at once, local runs at the next tile. */
  private readonly running = new Map<string, AbortController>();
  /** Sessions that ran their warm-up (or are running it): one warm-up per model and place. */
  private readonly warmed = new WeakSet<Session>();

  constructor(private readonly platform: EnginePlatform) {}

  tasks(): TaskInfo[] {
    return TASKS.map(taskInfo);
  }

  capabilities(): Promise<Capabilities> {
    return this.platform.capabilities();
  }

  private loadRegistry(): Promise<Registry> {
    if (!this.registry) {
      this.registry = this.platform.loadRegistry().catch((err) => {
        this.registry = null; // let the next call retry (e.g. once the server is up)
        throw err;
      });
    }
    return this.registry;
  }

  async models(options: { reload?: boolean } = {}): Promise<ModelStatus[]> {
    if (options.reload) this.registry = null; // running jobs keep the registry they started with
    const registry = await this.loadRegistry();
    return Promise.all(
      registry.models.map(async (card) => {
        const cachedBytes = (await this.platform.cachedBytes?.(card)) ?? 0;
        // In memory here: a session on this machine (a server session holds the server's memory, not ours).
        const loaded = [...this.sessions.keys()].some((k) => k.endsWith(`|${card.id}`) && !k.startsWith('server|'));
        return { card, cached: cachedBytes > 0, cachedBytes, loaded };
      }),
    );
  }

  async clearModels(ids?: string[]): Promise<void> {
    const registry = await this.loadRegistry();
    for (const card of registry.models) {
      if (ids && !ids.includes(card.id)) continue;
      for (const [key, session] of this.sessions) {
        if (key.endsWith(`|${card.id}`)) {
          this.sessions.delete(key);
          await (await session.catch(() => null))?.dispose();
        }
      }
      await this.platform.clearCache?.(card);
    }
  }

  /** Releases every loaded session (the engine is being replaced, e.g. after the server URL changed). */
  async dispose(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s.catch(() => null))?.dispose();
  }

  private async modelFor(job: Pick<Job, 'task' | 'model' | 'params' | 'sources'>): Promise<{ task: TaskDef; card: ModelCard; params: Params }> {
    const task = findTask(job.task);
    if (!task) throw new FrontierError('bad-input', `Unknown task "${job.task}". Known tasks: ${TASKS.map((t) => t.id).join(', ')}.`);
    const params = resolveParams(task, job.params);
    let registry = await this.loadRegistry();
    // A model converted while this engine runs (npm run convert next to a running server) is found on a second look.
    if (job.model && !findModel(registry, job.model)) {
      this.registry = null;
      registry = await this.loadRegistry();
    }
    const available = offered(task, registry);
    // A selected result made by a model of this task (e.g. the portrait to turn) brings its model along.
    const fromSource = job.sources?.find((s) => s.latent && available.some((m) => m.id === s.model))?.model;
    // A pipeline's id ("ttvsr-reds", "vqdiffusion-ithq", as the catalogue and `frontier models` name it) means the
    // part through which this task offers it.
    const byPipeline = job.model && !findModel(registry, job.model) ? available.find((m) => m.pipeline?.id === job.model)?.id : undefined;
    const id = byPipeline ?? job.model ?? fromSource ?? task.defaultModel(params, available);
    const card = findModel(registry, id);
    if (!card) {
      const known = registry.models.filter((m) => offersModel(task, m)).map((m) => m.id);
      throw new FrontierError('model-not-found', `Model "${id}" is not available. ${known.length ? `Available for ${task.label}: ${known.join(', ')}.` : `No ${task.label} models are available: run "npm run build" on the server.`}`);
    }
    task.checkModel?.(card, params);
    return { task, card, params };
  }

  /** The model Automatic runs for a job of `taskId` with these params (the task's defaultModel over the models offered
   *  here, as run() picks it with no model given), or undefined when that model is not installed. */
  async defaultModelFor(taskId: string, params: Params = {}): Promise<string | undefined> {
    const task = findTask(taskId);
    if (!task) throw new FrontierError('bad-input', `Unknown task "${taskId}". Known tasks: ${TASKS.map((t) => t.id).join(', ')}.`);
    const registry = await this.loadRegistry();
    const id = task.defaultModel(resolveParams(task, params), offered(task, registry));
    return findModel(registry, id) ? id : undefined;
  }

  async chooseTarget(taskId: string, model: string | undefined, requested: Target, params: Params = {}): Promise<TargetChoice> {
    const { task, card } = await this.modelFor({ task: taskId, model, params });
    return this.target(task, card, requested);
  }

  /** The platform's choice, narrowed to the targets a task allows (video runs only on a server). */
  private async target(task: TaskDef, card: ModelCard, requested: Target): Promise<TargetChoice> {
    if (!task.targets) return this.platform.chooseTarget(card, requested);
    const allowed = task.targets;
    if (requested !== 'auto' && !allowed.includes(requested)) {
      throw new FrontierError('target-unavailable', `${task.label} runs only on ${allowed.join(' or ')}: choose Auto or Server.`);
    }
    let lastError: unknown = null;
    for (const t of requested === 'auto' ? allowed : [requested]) {
      try {
        const choice = await this.platform.chooseTarget(card, t);
        if (choice.target !== t) continue;
        return requested === 'auto' ? { ...choice, reason: `auto → ${choice.reason}` } : choice;
      } catch (err) {
        lastError = err;
      }
    }
    const why = lastError instanceof Error ? lastError.message : 'no server is configured';
    throw new FrontierError('target-unavailable', `${task.label} runs on a server, and none is ready: ${why}`);
  }

  private session(card: ModelCard, target: ResolvedTarget, progress: (p: Omit<Progress, 'jobId'>) => void): Promise<Session> {
    const key = `${target}|${card.id}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = (async () => {
        const source = this.platform.source;
        const downloading = downloadProgress(card, progress);
        const loadBytes = async () => {
          const bytes = await loadModelBytes(card, source, downloading);
          progress({ stage: 'load', done: 0, total: 1, message: `Loading ${card.label}` });
          return bytes;
        };
        const s = await this.platform.runtime(target).createSession(card, loadBytes, {
          externalData: () => loadExternalData(card, source, downloading),
          // onnxruntime-node reads the weight files beside the graph itself: each is checked first.
          ...(source.localPath ? {
            localPath: async () => {
              for (const file of card.files.filter((f) => f.kind === 'onnx-external-data')) await source.localPath!(card, file);
              return source.localPath!(card, graphFile(card));
            },
          } : {}),
        });
        progress({ stage: 'load', done: 1, total: 1, message: `Loaded ${card.label}` });
        return s;
      })();
      this.sessions.set(key, session);
      session.catch(() => this.sessions.delete(key)); // a failed load is retried next time
    } else {
      progress({ stage: 'load', done: 1, total: 1, message: `${card.label} ready` });
    }
    return session;
  }

  async run(job: Job, onProgress: (p: Progress) => void = () => {}): Promise<JobResult> {
    const { task, card, params } = await this.modelFor(job);
    if (task.inputs.includes('image')) {
      if (!job.image) throw new FrontierError('bad-input', `${task.label} needs an image: select an image or a frame.`);
      checkRgba(job.image);
    }
    const latentsNeeded = task.inputs.filter((i) => i === 'latent').length;
    const latents = (job.sources ?? []).filter((s) => typeof s.latent === 'string');
    if (latents.length < latentsNeeded) {
      throw new FrontierError('bad-input', `${task.label} needs ${latentsNeeded === 1 ? 'a generated image' : `${latentsNeeded} generated images`} selected (made by Frontier, which remembers their latent).`);
    }
    if (task.inputs.includes('video') && !(job.video?.bytes instanceof Uint8Array && job.video.bytes.length > 0)) {
      throw new FrontierError('bad-input', noClip(task.label));
    }
    const choice = await this.target(task, card, job.target ?? 'auto');
    const progress = (p: Omit<Progress, 'jobId'>) => onProgress({ ...p, jobId: job.id });
    const throwIfCancelled = () => {
      if (this.cancelled.has(job.id)) throw new FrontierError('cancelled', 'Cancelled: nothing was placed.');
    };
    const abort = new AbortController();
    this.running.set(job.id, abort);
    if (this.cancelled.has(job.id)) abort.abort();
    try {
      throwIfCancelled();
      let runStarted = 0;
      const registry = await this.loadRegistry();
      const part = (name?: string): ModelCard => {
        if (!name) return card;
        const id = name === 'largeTiles' ? card.largeTiles : card.pipeline?.[name];
        const found = id ? findModel(registry, id) : undefined;
        if (!found) throw new FrontierError('model-not-found', `${card.label} has no ${name} part${id ? ` ("${id}" is not installed)` : ''}. Re-export the pipeline with models/export/export.py, then "npm run build".`);
        return found;
      };
      const output = await task.run({
        job,
        params,
        model: card,
        target: choice.target,
        part,
        session: async (name?: string) => {
          const s = await this.session(part(name), choice.target, progress);
          throwIfCancelled();
          if (!runStarted) runStarted = Date.now();
          return s;
        },
        file: (kind: ModelFileKind, name?: string) => {
          const owner = part(name);
          return loadModelFile(owner, fileOfKind(owner, kind), this.platform.source, downloadProgress(owner, progress));
        },
        progress,
        throwIfCancelled,
        signal: abort.signal,
        jobServer: () => {
          const server = this.platform.jobServer?.();
          if (!server) throw new FrontierError('target-unavailable', `${task.label} runs on a server: start one with "npm start" or set its URL in Settings.`);
          if (!runStarted) runStarted = Date.now();
          return server;
        },
      });
      const meta: ResultMeta = {
        task: task.id,
        model: card.id,
        modelVariant: card.variant,
        params,
        seed: job.seed,
        target: choice.target,
        version: FRONTIER_VERSION,
        runMs: runStarted ? Date.now() - runStarted : 0,
      };
      const imageMeta = output.imageMeta?.map((m) => ({ ...meta, ...m, params: { ...params, ...m.params } }));
      return {
        jobId: job.id,
        images: output.images,
        ...(imageMeta ? { imageMeta } : {}),
        ...(output.video ? { video: output.video } : {}),
        meta,
      };
    } finally {
      this.cancelled.delete(job.id);
      this.running.delete(job.id);
    }
  }

  /** EngineApi.warmUp: the model and place a run of `request` would use, loaded through the run's session cache and run
   *  once on the task's tiny inputs, unless it would download or run elsewhere (then it says why and does nothing). */
  async warmUp(request: WarmUpRequest): Promise<WarmUpAnswer> {
    const started = Date.now();
    const { task, card, params } = await this.modelFor(request);
    const { target } = await this.target(task, card, request.target ?? 'auto');
    const answer = (why?: WarmUpSkip): WarmUpAnswer => ({ model: card.id, target, warmed: !why, ...(why ? { why } : {}), ms: Date.now() - started });
    const feeds = task.warmUpFeeds?.(card, params);
    if (!feeds) return answer('no-warm-up');
    if (target === 'server') return answer('remote');
    // Loaded or loading already (a run started it): its bytes are here. Else only from this computer's cache.
    if (!this.sessions.has(`${target}|${card.id}`) && !(await this.onThisComputer(card))) return answer('not-cached');
    const session = await this.session(card, target, () => {});
    if (this.warmed.has(session)) return answer('already-warm');
    this.warmed.add(session);
    try {
      await (session.warmUp ? session.warmUp(feeds) : session.run(feeds));
    } catch (err) {
      this.warmed.delete(session);
      throw err;
    }
    return answer();
  }

  /** Whether every file of `card` is in this computer's model cache (what the model manager shows as cached). */
  private async onThisComputer(card: ModelCard): Promise<boolean> {
    const need = card.files.reduce((sum, f) => sum + f.bytes, 0);
    const have = (await this.platform.cachedBytes?.(card)) ?? 0;
    return need > 0 && have >= need;
  }

  cancel(jobId: string): void {
    this.cancelled.add(jobId);
    this.running.get(jobId)?.abort();
  }

  async testServer(url: string, token: string, options: { models?: boolean } = {}): Promise<ServerStatus> {
    // The registry names the models to ask for; without it (model host down) the probe still checks the server.
    const registry = options.models === false ? null : await this.loadRegistry().catch(() => null);
    return probeServer({ baseUrl: url.replace(/\/+$/, ''), token, modelIds: registry?.models.map((m) => m.id), timeoutMs: 10_000 });
  }

  decode(bytes: Uint8Array, mime?: string): Promise<RgbaImage> {
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      return Promise.reject(new FrontierError('bad-input', 'The selection gave no image bytes: select an image or a frame with visible content.'));
    }
    return this.platform.codec.decode(bytes, mime);
  }

  encodePng(image: RgbaImage): Promise<Uint8Array> {
    checkRgba(image, 'result');
    return this.platform.codec.encodePng(image);
  }
}
