// What the video tasks share: the clip checked, then sent as one job to the server (worker/runtime/jobs-client.ts),
// whose result is the task's. Task code only says which model and params the job carries.
import { FrontierError, type Params } from '../job.ts';
import type { TaskContext } from './task.ts';

import { MAX_CLIP_BYTES } from '../video/clip-limit.ts';

export { MAX_CLIP_BYTES };

/** What a video task says without a clip (the engine checks it before a job starts; the task again). */
export const noClip = (label: string) => `${label} needs a clip: choose one with Choose a clip…, or select a video or an animated top-level frame.`;

/** Runs `ctx.job.video` as a server job of `task` with `model` and `params`; refuses a missing or too large clip. */
export async function runVideoTask(ctx: TaskContext, task: { id: string; label: string }, model: string, params: Params) {
  const video = ctx.job.video;
  if (!video || video.bytes.length === 0) throw new FrontierError('bad-input', noClip(task.label));
  if (video.bytes.length > MAX_CLIP_BYTES) {
    throw new FrontierError('too-large', `The clip is ${(video.bytes.length / 2 ** 20).toFixed(0)} MB; video jobs take at most 100 MB. Export it shorter or at lower quality.`);
  }
  const result = await ctx.jobServer().runVideo({ id: ctx.job.id, task: task.id, model, params, video, signal: ctx.signal, progress: ctx.progress });
  return { images: [], video: result };
}
