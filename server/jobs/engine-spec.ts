// Validation of an engine job's PUT /jobs/{id} body: {"task", "model", "params"} and no upload. The server's engine
// runs the whole task (a diffusion loop stays on the server instead of sending its tensors over HTTP every step).
// Only tasks that take no inputs run this way; params are checked by the task's own resolveParams.
import { FrontierError, type Params } from '../../worker/job.ts';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { findTask } from '../../worker/tasks/index.ts';
import { offersModel, resolveParams, type TaskDef } from '../../worker/tasks/task.ts';
import { HttpError } from '../http-util.ts';

/** Tasks the server may run whole. One joins only once it exists in the task table and takes no inputs. */
export const ENGINE_TASK_ALLOWLIST = ['generate', 'text-to-image'] as const;

export interface EngineJobSpec {
  task: string;
  model: string;
  /** After the task's defaults and bounds: `{}` and `{"seed":1}` name the same job when 1 is the default. */
  params: Params;
}

/** An image as JSON: straight RGBA, row-major, base64. */
export interface Preview {
  width: number;
  height: number;
  rgba: string;
}

/** What the job snapshot says of an engine job's result (the pixels come from GET /jobs/{id}/result). */
export interface EngineJobResult {
  url: string;
  images: number;
  width: number;
  height: number;
}

/** The allowlisted tasks that exist here and take no inputs. */
export function engineTasks(): TaskDef[] {
  return ENGINE_TASK_ALLOWLIST.map((id) => findTask(id)).filter((t): t is TaskDef => !!t && t.inputs.length === 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isParamValue(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

/** Cards a job of `task` may name: its own model task and role, runnable on onnxruntime-node. Full ones first. */
function cardsFor(task: TaskDef, registry: Registry): ModelCard[] {
  return registry.models
    .filter((m) => offersModel(task, m) && m.targets.includes('node'))
    .sort((a, b) => Number(a.variant === 'tiny') - Number(b.variant === 'tiny'));
}

/**
 * Checks an engine job body (already parsed JSON); `videoTasks` are named in the unknown-task message. `registry`
 * holds the models this server can serve. Returns the normalized spec.
 */
export function parseEngineSpec(body: Record<string, unknown>, registry: Registry, videoTasks: readonly string[]): EngineJobSpec {
  const tasks = engineTasks();
  const names = tasks.map((t) => `"${t.id}"`).join(', ');
  const task = typeof body.task === 'string' ? tasks.find((t) => t.id === body.task) : undefined;
  if (!task) {
    const takesInputs = typeof body.task === 'string' && findTask(body.task)?.inputs.length ? ` (${body.task} takes inputs, which engine jobs cannot upload)` : '';
    throw new HttpError(
      400,
      `Unknown task ${JSON.stringify(body.task)}${takesInputs}: this server runs ${videoTasks.map((t) => `"${t}"`).join(' and ')} jobs (with an upload) and engine jobs (no upload) for ${names || 'no task'}, ` +
        `e.g. {"task":"${tasks[0]?.id ?? 'generate'}","model":"<model id>","params":{"seed":1}}.`,
    );
  }
  const unknownKeys = Object.keys(body).filter((k) => !['task', 'model', 'params'].includes(k));
  if (unknownKeys.length) throw new HttpError(400, `Unknown field ${unknownKeys.join(', ')} in the body of a ${task.id} job; fields: task, model, params (engine jobs take no upload).`);

  const given = body.params === undefined ? {} : body.params;
  if (!isObject(given) || !Object.values(given).every(isParamValue)) {
    throw new HttpError(400, `params must be an object of numbers, strings and booleans; ${task.id} takes ${task.params.map((p) => p.name).join(', ') || 'none'}.`);
  }
  let params: Params;
  try {
    params = resolveParams(task, given as Params);
  } catch (err) {
    if (err instanceof FrontierError) throw new HttpError(400, err.message);
    throw err;
  }

  const cards = cardsFor(task, registry);
  const listed = cards.map((m) => m.id).join(', ') || 'none (build them with npm run build)';
  const modelId = body.model ?? task.defaultModel(params, cards);
  if (typeof modelId !== 'string') throw new HttpError(400, `model must be a model id; for ${task.id}: ${listed}.`);
  const card = cards.find((m) => m.id === modelId);
  if (!card) throw new HttpError(400, `Model ${modelId} is not a ${task.label} model this server can run; available: ${listed}.`);
  // A pipeline runs only when every part is built too.
  const parts = Object.entries(card.pipeline ?? {}).filter(([role]) => role !== 'id'); // pipeline.id names the pipeline
  const missing = parts.map(([, id]) => id).filter((id) => !registry.models.some((m) => m.id === id));
  if (missing.length) throw new HttpError(400, `Model ${card.id} needs ${missing.join(', ')}, which this server has not built: run npm run build on the server.`);
  try {
    task.checkModel?.(card, params);
  } catch (err) {
    if (err instanceof FrontierError) throw new HttpError(400, err.message);
    throw err;
  }
  return { task: task.id, model: card.id, params };
}

export function sameEngineSpec(a: EngineJobSpec, b: EngineJobSpec): boolean {
  const keys = new Set([...Object.keys(a.params), ...Object.keys(b.params)]);
  return a.task === b.task && a.model === b.model && [...keys].every((k) => a.params[k] === b.params[k]);
}
