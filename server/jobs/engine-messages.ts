// What the server and an engine process (engine-process.ts) say to each other. Typed arrays (images, previews)
// cross as they are: the channel uses the V8 serializer.
import type { Params, Progress, ResultMeta, RgbaImage } from '../../worker/job.ts';

export type EngineIn = { type: 'run'; job: { id: string; task: string; model: string; params: Params } } | { type: 'cancel'; id: string };

export type EngineOut =
  | { type: 'progress'; id: string; progress: Omit<Progress, 'jobId'> }
  | { type: 'done'; id: string; images: RgbaImage[]; imageMeta?: ResultMeta[]; params: Params }
  | { type: 'failed'; id: string; message: string };
