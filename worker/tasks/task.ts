// The task contract: one file per task in worker/tasks/, registered by one row in worker/tasks/index.ts.
// Task code is free of DOM and host APIs: it sees pixels, params and a Session, and reports progress.
import type { EncodedVideo, Job, Params, ParamValue, Progress, ResolvedTarget, RgbaImage } from '../job.ts';
import { FrontierError } from '../job.ts';
import type { ModelCard, ModelFileKind } from '../models/card.ts';
import type { Session, Tensor } from '../runtime/runtime.ts';
import type { JobServer } from '../runtime/jobs-client.ts';

/** A task's param. The UI draws its widget from `type` and `widget` (never from its name), so a new task's params
 *  need no UI edit. One name is a contract: `scale` is the output's size over the input's (checked against the
 *  model's io.scale; the UI offers only the scales whose result the host can place). */
export type ParamSpec =
  | {
      name: string; label: string; type: 'number' | 'integer'; default: number; min: number; max: number; step?: number; help?: string;
      /** 'slider' (the default): a slider and a number box. 'seed': a number box and a dice button (a slider over
       *  4 billion values would be no use). */
      widget?: 'slider' | 'seed';
    }
  | { name: string; label: string; type: 'choice'; default: string | number; choices: { value: string | number; label: string }[]; help?: string }
  | { name: string; label: string; type: 'boolean'; default: boolean; help?: string }
  | {
      name: string; label: string; type: 'string'; default: string; maxLength: number; help?: string;
      /** The UI keeps Run disabled while it is blank (the task itself refuses a blank one). */
      required?: boolean;
      /** 'line' (the default): a one-line field. 'prompt': a text box that wraps (Ctrl/⌘+Enter still runs). */
      widget?: 'line' | 'prompt';
    };

/** 'latent': a selected Frontier result that stored its latent (job.sources); one entry per source needed. */
export type TaskInput = 'image' | 'mask' | 'video' | 'latent';

export interface TaskContext {
  job: Job;
  /** Params after defaults and bounds were applied. */
  params: Params;
  model: ModelCard;
  /** Where the job runs: a task that runs whole on a server (a diffusion loop) asks jobServer() when 'server'. */
  target: ResolvedTarget;
  /** Download (with progress), verify and load the job's model, or the named part of its pipeline
   *  (card.pipeline keys, e.g. 'textEncoder'); sessions are cached by the engine. */
  session(part?: string): Promise<Session>;
  /** The card of a pipeline part (card.pipeline keys); the job's model without a name. */
  part(name?: string): ModelCard;
  /** A verified file of the model (or of a pipeline part) that is not a graph: a vocabulary, a null embedding. */
  file(kind: ModelFileKind, part?: string): Promise<Uint8Array>;
  progress(p: Omit<Progress, 'jobId'>): void;
  /** Throws FrontierError('cancelled') once the job was cancelled: call between tiles/steps. */
  throwIfCancelled(): void;
  /** Aborted when the job is cancelled: pass it to Session.run so a remote call stops at once. */
  signal: AbortSignal;
  /** The configured server's job API, for tasks that run there as a whole (video, text-to-image). Throws
   *  target-unavailable without one. */
  jobServer(): JobServer;
}

/** What a task returns: images, or an encoded video for video tasks. */
export interface TaskOutput {
  images: RgbaImage[];
  /** Per image, what only it has (its seed, latent, pose): merged into that image's ResultMeta. */
  imageMeta?: ImageMeta[];
  video?: EncodedVideo;
}

export interface ImageMeta {
  seed?: number;
  latent?: string;
  /** Params that differ per image (e.g. a turntable frame's yaw). */
  params?: Params;
}

export interface TaskDef {
  id: string;
  label: string;
  description: string;
  inputs: TaskInput[];
  params: ParamSpec[];
  /** Targets the task can run on (default: wherever its model runs). Video tasks name only 'server'. */
  targets?: ResolvedTarget[];
  /** The `task` of the model cards it uses, when not its own id (e.g. upscale-video uses upscale models). */
  modelTask?: string;
  /** For pipelines (card.pipeline): the role of the card a job names (text-to-image: 'transformer'); the other
   *  parts are found through it and are not offered as models. */
  modelRole?: string;
  /** Pipelines of another task's cards offered too, by the part a job names (upscale-video: TTVSR by its
   *  'reconstruct' part, beside the upscale models). */
  alsoOffers?: ModelOffer[];
  /** The model to use when the job names none; `available` are the registry's cards for this task, full ones first. */
  defaultModel(params: Params, available?: ModelCard[]): string;
  /** Tasks that use a selected result of their model when there is one and start from the seed otherwise: what such a
   *  result is, in the user's words (rotate-view: "a portrait made here by Rotate view"). Anything else selected is
   *  left out, and the UI says so. */
  optionalSource?: string;
  /** Named sets of params for the common cases ("Print ×4 · Best"), offered above the params. */
  presets?: TaskPreset[];
  /** How the UI speaks of the task (progress, the Results list, names, preview): kept here, not in UI tables keyed
   *  by task id, so a new task needs no UI edit. */
  display?: TaskDisplay;
  /** Checks a job's model fits its params (e.g. the model's scale equals the requested scale). */
  checkModel?(model: ModelCard, params: Params): void;
  /** Tiny inputs for one run of `model` before the first job (the engine's warmUp: the browser compiles the runtime's
   *  code on its first runs). Pure data, no DOM. Absent: the task has no warm-up. */
  warmUpFeeds?(model: ModelCard, params: Params): Record<string, Tensor>;
  run(ctx: TaskContext): Promise<TaskOutput>;
}

/** Applies defaults and bounds; throws a bad-input error that says what is allowed. */
export function resolveParams(task: TaskDef, given: Params = {}): Params {
  const out: Params = {};
  for (const spec of task.params) {
    const raw: ParamValue | undefined = given[spec.name];
    if (raw === undefined || raw === '') {
      out[spec.name] = spec.default;
      continue;
    }
    switch (spec.type) {
      case 'number':
      case 'integer': {
        const n = typeof raw === 'number' ? raw : Number(raw);
        if (!Number.isFinite(n)) throw new FrontierError('bad-input', `${spec.label} must be a number between ${spec.min} and ${spec.max}.`);
        if (spec.type === 'integer' && !Number.isInteger(n)) throw new FrontierError('bad-input', `${spec.label} must be a whole number.`);
        if (n < spec.min || n > spec.max) throw new FrontierError('bad-input', `${spec.label} must be between ${spec.min} and ${spec.max} (got ${n}).`);
        out[spec.name] = n;
        break;
      }
      case 'choice': {
        const hit = spec.choices.find((c) => String(c.value) === String(raw));
        if (!hit) throw new FrontierError('bad-input', `${spec.label} must be one of ${spec.choices.map((c) => c.value).join(', ')} (got ${raw}).`);
        out[spec.name] = hit.value;
        break;
      }
      case 'boolean':
        if (typeof raw === 'boolean') out[spec.name] = raw;
        else if (raw === 'true' || raw === 'false') out[spec.name] = raw === 'true';
        else throw new FrontierError('bad-input', `${spec.label} must be true or false.`);
        break;
      case 'string':
        if (String(raw).length > spec.maxLength) throw new FrontierError('bad-input', `${spec.label} is longer than ${spec.maxLength} characters.`);
        out[spec.name] = String(raw);
        break;
    }
  }
  const unknown = Object.keys(given).filter((k) => !task.params.some((p) => p.name === k));
  if (unknown.length) throw new FrontierError('bad-input', `Unknown parameter ${unknown.join(', ')} for ${task.label}. Known: ${task.params.map((p) => p.name).join(', ')}.`);
  return out;
}

/** Plain-data description of a task for the UI (no functions: crosses Comlink and JSON bridges). */
export interface TaskInfo {
  id: string;
  label: string;
  description: string;
  inputs: TaskInput[];
  params: ParamSpec[];
  /** The `task` of the model cards it uses. */
  modelTask: string;
  /** Pipelines: the role of the cards offered as models (TaskDef.modelRole). */
  modelRole?: string;
  /** TaskDef.alsoOffers. */
  alsoOffers?: ModelOffer[];
  /** Set when the task runs only on a server (the UI says so). */
  serverOnly: boolean;
  /** TaskDef.optionalSource. */
  optionalSource?: string;
  /** TaskDef.presets. */
  presets?: TaskPreset[];
  /** TaskDef.display. */
  display?: TaskDisplay;
  /** The task gives warm-up inputs (TaskDef.warmUpFeeds): the UI asks the engine to warm its model up. */
  warmsUp?: boolean;
}

/** A task's words and UI behaviour, as plain data (it crosses Comlink and JSON bridges in TaskInfo). Each fact is
 *  optional: without it the UI says the plain thing ("Running <label> step 3 / 9", the label alone). */
export interface TaskDisplay {
  /** The progress line while the model runs and the task sends no message of its own: "Upscaling tile 3 / 49".
   *  `unit`: what `done`/`total` count (tiled image tasks count tiles; the others steps, images or frames). */
  progress?: { verb: string; unit: 'tile' | 'step' };
  /** The params that tell one run from another in the Results list, in the order said ("Upscale ×4 · Best"). */
  mainParams?: MainParam[];
  /** What a finished clip is, in one word: "The restored clip is kept below: download it." (video tasks). */
  clipWord?: string;
  /** False: a placed image's name leaves out its seed, which only picks a variation of a selected image (vary) or
   *  is not used at all (interpolate); the name says what makes the image itself. */
  seedInName?: boolean;
  /** A live preview that follows the params before Run. 'view' (rotate-view): a small render while a slider moves,
   *  the chosen `size` when it is let go, one frame (`frames` 1); `params` are those that change the view. */
  preview?: { kind: 'view'; params: string[] };
}

/** A param said in the Results list: its name (said after the label: "Text to image · “a red kite”"), or with
 *  `place`: 'title' says it instead of the task's label ("Remove rain", not "Restore · Remove rain"), 'label' joins
 *  it to the label ("Upscale ×4"). */
export type MainParam = string | { name: string; place: 'title' | 'label' };

export interface TaskPreset {
  label: string;
  /** What it is for, in a designer's words. */
  help: string;
  params: Params;
}

export { offersModel, type ModelOffer } from '../models/offers.ts';
import type { ModelOffer } from '../models/offers.ts';

export function taskInfo(t: TaskDef): TaskInfo {
  const serverOnly = !!t.targets && t.targets.every((x) => x === 'server' || x === 'node');
  return { id: t.id, label: t.label, description: t.description, inputs: t.inputs, params: t.params, modelTask: t.modelTask ?? t.id, ...(t.modelRole ? { modelRole: t.modelRole } : {}), ...(t.alsoOffers ? { alsoOffers: t.alsoOffers } : {}), serverOnly, ...(t.optionalSource ? { optionalSource: t.optionalSource } : {}), ...(t.presets ? { presets: t.presets } : {}), ...(t.display ? { display: t.display } : {}), ...(t.warmUpFeeds ? { warmsUp: true } : {}) };
}
