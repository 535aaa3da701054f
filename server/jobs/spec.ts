// Validation of PUT /jobs/{id}: the id, the body, the model (engine jobs: engine-spec.ts; what differs between the
// video tasks: video-tasks.ts). Errors are HttpErrors that say what is allowed.
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { HttpError, megabytes } from '../http-util.ts';
import { parseEngineSpec, sameEngineSpec } from './engine-spec.ts';
import { isInstallSpec, sameInstallSpec, type InstallJobSpec } from './install-spec.ts';
import { isVideoSpec, type AnyJobSpec, type JobSpec } from './job.ts';
import { isVideoTask, VIDEO_TASK_NAMES, VIDEO_TASKS, videoTask } from './video-tasks.ts';

export const JOB_ID = /^[A-Za-z0-9_-]{8,64}$/;

export function checkJobId(id: string): string {
  if (!JOB_ID.test(id)) {
    throw new HttpError(400, `"${id.slice(0, 80)}" is not a job id: use 8 to 64 characters from A-Z, a-z, 0-9, "_" and "-" (a random UUID works).`);
  }
  return id;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface SpecLimits {
  maxUploadBytes: number;
}

/** Parses and checks a video job's body (upscale-video, restore-video); returns the normalized spec and the model card. */
export function parseJobSpec(text: string, registry: Registry, limits: SpecLimits): { spec: JobSpec; card: ModelCard } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `The job body is not valid JSON (${(err as Error).message}).`);
  }
  const example =
    `{"task":"upscale-video","model":"esrgan-slim-x2","params":{"scale":2},"upload":{"bytes":123456,"mime":"video/mp4"}} or ` +
    `{"task":"restore-video","model":"maxim-denoise","params":{"mode":"denoise"},"upload":{"bytes":123456,"mime":"video/mp4"}}`;
  if (!isObject(body)) throw new HttpError(400, `The job body must be a JSON object such as ${example}.`);
  const unknownKeys = Object.keys(body).filter((k) => !['task', 'model', 'params', 'upload'].includes(k));
  if (unknownKeys.length) throw new HttpError(400, `Unknown field ${unknownKeys.join(', ')} in the job body; fields: task, model, params, upload.`);
  if (!isVideoTask(body.task)) throw new HttpError(400, `Unknown task ${JSON.stringify(body.task)}: this server runs ${VIDEO_TASK_NAMES} jobs.`);
  const task = videoTask(body.task);

  const given = body.params === undefined ? {} : body.params;
  if (!isObject(given)) throw new HttpError(400, `params must be an object such as ${task.exampleParams}.`);
  const { card, params, model } = task.resolve(given, body.model, registry);

  const upload = body.upload;
  if (!isObject(upload)) throw new HttpError(400, `upload must say what will be uploaded, e.g. {"bytes":123456,"mime":"video/mp4"}.`);
  const bytes = upload.bytes;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) throw new HttpError(400, `upload.bytes must be the clip's size in bytes, a whole number ≥ 1 (got ${JSON.stringify(bytes)}).`);
  if (bytes > limits.maxUploadBytes) {
    throw new HttpError(413, `The clip (${megabytes(bytes)}) is larger than this server accepts (${megabytes(limits.maxUploadBytes)}): trim or compress it first.`);
  }
  const mime = upload.mime;
  if (typeof mime !== 'string' || !/^video\/[a-z0-9.+-]+$/i.test(mime)) {
    throw new HttpError(415, `upload.mime must be a video type such as video/mp4, video/quicktime or video/webm (got ${JSON.stringify(mime)}).`);
  }
  return { spec: { task: task.id, model: model ?? card.id, params, upload: { bytes, mime: mime.toLowerCase() } }, card };
}

/** Same job twice? (The normalized specs are compared, so key order and defaults do not matter.) */
export function sameSpec(a: JobSpec, b: JobSpec): boolean {
  const keys = new Set([...Object.keys(a.params), ...Object.keys(b.params)]);
  return a.task === b.task && a.model === b.model && [...keys].every((k) => a.params[k] === b.params[k]) && a.upload.bytes === b.upload.bytes && a.upload.mime === b.upload.mime;
}

/**
 * Parses any PUT /jobs/{id} body: a video job (upscale-video or restore-video, with an upload) or an engine job (an
 * allowlisted task without inputs, no upload). Anything not an engine job goes to the video parser, which explains
 * itself. Video models may be served by a gateway; engine jobs run here, so they need models this server has built.
 */
export async function parseAnyJobSpec(
  text: string,
  registries: { video(): Promise<Registry>; engine(): Promise<Registry>; install?: (body: Record<string, unknown>) => InstallJobSpec },
  limits: SpecLimits,
): Promise<AnyJobSpec> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (isObject(body) && isInstallSpec(body as { task: string })) {
    if (!registries.install) throw new HttpError(501, 'This server cannot install models.');
    return registries.install(body);
  }
  if (isObject(body) && !isVideoTask(body.task)) return parseEngineSpec(body, await registries.engine(), VIDEO_TASKS);
  return parseJobSpec(text, await registries.video(), limits).spec;
}

export function sameAnySpec(a: AnyJobSpec, b: AnyJobSpec): boolean {
  if (isVideoSpec(a) && isVideoSpec(b)) return sameSpec(a, b);
  if (isInstallSpec(a) || isInstallSpec(b)) return isInstallSpec(a) && isInstallSpec(b) && sameInstallSpec(a, b);
  if (!isVideoSpec(a) && !isVideoSpec(b)) return sameEngineSpec(a, b);
  return false;
}

/** The spec in a few words, for a 409 message. */
export function describeSpec(spec: AnyJobSpec): string {
  if (isVideoSpec(spec)) return `${spec.task}, ${spec.model}, ${JSON.stringify(spec.params)}, ${spec.upload.bytes} bytes`;
  if (isInstallSpec(spec)) return `${spec.task}, ${spec.model}${spec.upload ? `, from an uploaded file of ${spec.upload.bytes} bytes` : ', downloaded'}`;
  return `${spec.task}, ${spec.model}, ${JSON.stringify(spec.params)}`;
}
