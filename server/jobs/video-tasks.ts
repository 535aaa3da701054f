// The video tasks the job service runs: a clip uploaded, decoded with ffmpeg, each frame run through an image task of
// the task table (worker/tasks/) with that task's own code, and encoded again. This table is what differs between
// them: which image task a frame is, which models and params a job may name (checked here with messages that say
// what is allowed), the params each frame runs with, and how large the output is. Everything else (upload, windows,
// progress, cancel, journal, restart) is shared. One video model is not a frame task: TTVSR (upscale-video with a
// TTVSR pipeline, named by its pipeline id such as "ttvsr-reds" or by any of its parts) runs its recurrence over
// windows of frames instead (runner.ts), ×4 only.
import { FrontierError, type Params } from '../../worker/job.ts';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { restore, RESTORE_MODES } from '../../worker/tasks/restore.ts';
import { offersModel, type TaskDef } from '../../worker/tasks/task.ts';
import { upscale } from '../../worker/tasks/upscale.ts';
import { upscaleVideo as upscaleVideoTask } from '../../worker/tasks/upscale-video.ts';
import { isTtvsrEntry, ttvsrName, ttvsrParts } from '../../worker/video/ttvsr.ts';
import { HttpError } from '../http-util.ts';

export const VIDEO_TASKS = ['upscale-video', 'restore-video'] as const;
export type VideoTask = (typeof VIDEO_TASKS)[number];

/** A video job's params after checking: upscale-video { scale }, restore-video { mode }. */
export type VideoParams = Record<string, string | number>;

export function isVideoTask(task: unknown): task is VideoTask {
  return typeof task === 'string' && (VIDEO_TASKS as readonly string[]).includes(task);
}

/** The video tasks as messages list them: "upscale-video" and "restore-video". */
export const VIDEO_TASK_NAMES = VIDEO_TASKS.map((t) => `"${t}"`).join(' and ');

export interface VideoTaskDef {
  id: VideoTask;
  /** The image task every frame is: its own run() restores or upscales each frame. */
  frame: TaskDef;
  /** What the task does to a clip, in messages: "this server upscales clips up to 600 s". */
  does: string;
  /** The verb itself: "The clip has no frames to upscale." */
  verb: string;
  /** Example params, for messages. */
  exampleParams: string;
  /** Checks a body's params and model against `registry`; throws HttpError(400) saying what is allowed. `model`:
   *  the id the job keeps when it is not the card's (a TTVSR pipeline's id). */
  resolve(params: Record<string, unknown>, model: unknown, registry: Registry): { card: ModelCard; params: VideoParams; model?: string };
  /** Whether journalled params are this task's (a restart drops a record that is not). */
  validParams(params: Record<string, unknown>): boolean;
  /** The params each frame's image task runs with. */
  frameParams(params: VideoParams, card: ModelCard): Params;
  /** How many times larger the output frames are. */
  scale(card: ModelCard): number;
}

/** A task's checkModel as an HTTP refusal. */
function checked(task: TaskDef, card: ModelCard, params: Params): void {
  try {
    task.checkModel?.(card, params);
  } catch (err) {
    if (err instanceof FrontierError) throw new HttpError(400, err.message);
    throw err;
  }
}

function unknownParams(params: Record<string, unknown>, known: string[], task: VideoTask): void {
  const extra = Object.keys(params).filter((k) => !known.includes(k));
  if (extra.length) throw new HttpError(400, `Unknown parameter ${extra.join(', ')} for ${task}; known: ${known.join(', ')}.`);
}

/**
 * The reconstruct part of the TTVSR pipeline that `id` names (the pipeline's id, e.g. "ttvsr-reds", or any of its
 * parts' card ids), if `registry` has it.
 */
export function ttvsrEntryOf(registry: Registry, id: string): ModelCard | undefined {
  const named = registry.models.find((m) => m.id === id);
  const pipelineId = named?.task === 'upscale-video' && named.pipeline ? named.pipeline.id : id;
  return registry.models.find((m) => isTtvsrEntry(m) && m.pipeline!.id === pipelineId);
}

/** The card a video job's model names: an image model's card, or the reconstruct part of a TTVSR pipeline. */
export function videoModelCard(registry: Registry, id: string): ModelCard | undefined {
  return ttvsrEntryOf(registry, id) ?? registry.models.find((m) => m.id === id);
}

const upscaleVideo: VideoTaskDef = {
  id: 'upscale-video',
  frame: upscale,
  does: 'upscales',
  verb: 'upscale',
  exampleParams: '{"scale":2}',
  resolve(params, model, registry) {
    unknownParams(params, ['scale'], 'upscale-video');
    if (params.scale !== undefined && ![2, 3, 4].includes(params.scale as number)) throw new HttpError(400, `params.scale must be 2, 3 or 4 (got ${JSON.stringify(params.scale)}).`);
    const upscalers = registry.models.filter((m) => m.task === 'upscale');
    const temporal = registry.models.filter(isTtvsrEntry).map((m) => `${m.pipeline!.id} (${ttvsrName(m)}, ×4 only)`);
    const listed = [...upscalers.map((m) => m.id), ...temporal].join(', ');
    const modelId = model ?? (params.scale !== undefined ? upscale.defaultModel({ scale: params.scale as number, quality: 'best' }) : undefined);
    if (typeof modelId !== 'string') throw new HttpError(400, `Name a model (one of ${listed || 'none built'}) or params.scale.`);
    const ttvsr = ttvsrEntryOf(registry, modelId);
    if (ttvsr) {
      const found = ttvsrParts(ttvsr, registry);
      if ('missing' in found) {
        throw new HttpError(400, `${ttvsrName(ttvsr)} is missing its part${found.missing.length > 1 ? 's' : ''} ${found.missing.join(', ')} on this server: install it again (the model manager, or npx frontier models install ${ttvsr.pipeline!.id} --from FILE).`);
      }
      // TTVSR upscales ×4 only: the task's own check says what to do instead.
      const scale = (params.scale as number | undefined) ?? ttvsr.io.scale;
      checked(upscaleVideoTask, ttvsr, { scale });
      return { card: ttvsr, params: { scale }, model: ttvsr.pipeline!.id };
    }
    const card = upscalers.find((m) => m.id === modelId);
    if (!card) {
      throw new HttpError(400, `Model ${modelId} is not an upscaling model this server can run; available: ${listed || 'none (build them with npx tsx plugin/build.ts)'}.`);
    }
    const scale = (params.scale as number | undefined) ?? card.io.scale;
    checked(upscale, card, { scale });
    return { card, params: { scale } };
  },
  validParams: (params) => typeof params.scale === 'number',
  frameParams: (params) => ({ scale: params.scale, quality: 'best' }),
  scale: (card) => card.io.scale,
};

const MODES = RESTORE_MODES.map((m) => m.value as string);

const restoreVideo: VideoTaskDef = {
  id: 'restore-video',
  frame: restore,
  does: 'restores',
  verb: 'restore',
  exampleParams: '{"mode":"denoise"}',
  resolve(params, model, registry) {
    unknownParams(params, ['mode'], 'restore-video');
    if (params.mode !== undefined && !MODES.includes(params.mode as string)) {
      throw new HttpError(400, `params.mode must be one of ${MODES.join(', ')} (got ${JSON.stringify(params.mode)}).`);
    }
    // The cards Restore offers (a larger-tile build is its card's, reached by the task itself).
    const restorers = registry.models.filter((m) => offersModel(restore, m));
    const listed = restorers.map((m) => m.id).join(', ') || 'none (build them with npx tsx plugin/build.ts)';
    if (model !== undefined && typeof model !== 'string') throw new HttpError(400, `model must be a model id; for restore-video: ${listed}.`);
    // Without a model the mode names one; without either, the Fix Restore starts with (denoise).
    const given = params.mode as string | undefined;
    const modelId = model ?? restore.defaultModel({ mode: given ?? String(restore.params[0].default) }, restorers);
    const card = restorers.find((m) => m.id === modelId);
    if (!card) throw new HttpError(400, `Model ${modelId} is not a restoration model this server can run; available: ${listed}.`);
    const mode = given ?? card.mode ?? String(restore.params[0].default);
    checked(restore, card, { mode });
    return { card, params: { mode } };
  },
  validParams: (params) => typeof params.mode === 'string' && MODES.includes(params.mode),
  frameParams: (params) => ({ mode: params.mode }),
  scale: () => 1,
};

const TABLE: Record<VideoTask, VideoTaskDef> = { 'upscale-video': upscaleVideo, 'restore-video': restoreVideo };

export function videoTask(id: VideoTask): VideoTaskDef {
  return TABLE[id];
}
