// Task `upscale-video`: a clip upscaled frame by frame with the ESRGAN models, as one job on the server (frames
// are decoded and encoded there with ffmpeg; windows of frames go through its Open Inference Protocol path).
import { FrontierError } from '../job.ts';
import type { TaskDef } from './task.ts';
import { upscale } from './upscale.ts';

/** Figma's createVideoAsync takes at most 100 MB; servers have their own upload limit. */
export const MAX_CLIP_BYTES = 100 * 2 ** 20;

export const upscaleVideo: TaskDef = {
  id: 'upscale-video',
  label: 'Upscale video',
  description: 'Enlarge a video clip 2–4× with ESRGAN, frame by frame, on the server (npm start, or a server in Settings).',
  inputs: ['video'],
  params: upscale.params,
  targets: ['server'],
  modelTask: 'upscale',
  defaultModel: upscale.defaultModel,
  checkModel: upscale.checkModel,
  async run(ctx) {
    const video = ctx.job.video;
    if (!video || video.bytes.length === 0) throw new FrontierError('bad-input', 'Upscale video needs a clip: select a video or an animated top-level frame.');
    if (video.bytes.length > MAX_CLIP_BYTES) {
      throw new FrontierError('too-large', `The clip is ${(video.bytes.length / 2 ** 20).toFixed(0)} MB; video jobs take at most 100 MB. Export it shorter or at lower quality.`);
    }
    const server = ctx.jobServer();
    const result = await server.runVideo({
      id: ctx.job.id,
      task: upscaleVideo.id,
      model: ctx.model.id,
      params: { scale: Number(ctx.params.scale) },
      video,
      signal: ctx.signal,
      progress: ctx.progress,
    });
    return { images: [], video: result };
  },
};
