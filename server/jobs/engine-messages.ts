// What the server and an engine process (engine-process.ts) say to each other. Typed arrays (images, previews,
// video frames) cross as they are: the channel uses the V8 serializer.
import type { Params, Progress, ResultMeta, RgbaImage } from '../../worker/job.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import type { TtvsrPart } from '../../worker/video/ttvsr.ts';

/** One stateless window of a TTVSR video job (server/jobs/ttvsr-window.ts): packed RGB24 frames, context included. */
export interface TtvsrWindowIn {
  type: 'ttvsr-window';
  id: string;
  parts: Record<TtvsrPart, ModelCard>;
  frames: Uint8Array[];
  width: number;
  height: number;
  keepFrom: number;
  keepTo: number;
}

export type EngineIn = { type: 'run'; job: { id: string; task: string; model: string; params: Params } } | { type: 'cancel'; id: string } | TtvsrWindowIn;

export type EngineOut =
  | { type: 'progress'; id: string; progress: Omit<Progress, 'jobId'> }
  | { type: 'done'; id: string; images: RgbaImage[]; imageMeta?: ResultMeta[]; params: Params }
  | { type: 'failed'; id: string; message: string }
  /** A TTVSR window: each kept frame ×4 (packed RGB24, `index` in the window) as it is made, then 'window-done'. */
  | { type: 'window-frame'; id: string; index: number; rgb: Uint8Array }
  | { type: 'window-done'; id: string };
