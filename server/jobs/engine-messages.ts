// What the HTTP thread and the engine thread (engine-thread.ts) say to each other.
import type { Params, Progress, ResultMeta, RgbaImage } from '../../worker/job.ts';

export type EngineThreadIn = { type: 'run'; job: { id: string; task: string; model: string; params: Params } } | { type: 'cancel'; id: string } | { type: 'dispose' };

export type EngineThreadOut =
  | { type: 'progress'; id: string; progress: Omit<Progress, 'jobId'> }
  | { type: 'done'; id: string; images: RgbaImage[]; imageMeta?: ResultMeta[]; params: Params }
  | { type: 'failed'; id: string; message: string }
  | { type: 'disposed' };
