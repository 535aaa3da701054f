// Task `restore-video`: a clip restored frame by frame with the MAXIM models (the Fix of Restore: denoise, deblur,
// remove rain or haze, brighten, retouch), as one job on the server. Frames are decoded and encoded there with ffmpeg;
// each frame is the image task `restore` (tiles, tone harmonisation, local mean), its tiles sent through the server's
// Open Inference Protocol path, as upscale-video does with `upscale`.
import { FrontierError } from '../job.ts';
import type { TaskDef } from './task.ts';
import { restore } from './restore.ts';
import { MAX_CLIP_BYTES } from './upscale-video.ts';

export const restoreVideo: TaskDef = {
  id: 'restore-video',
  label: 'Restore video',
  description: 'Clean up a video clip frame by frame: remove noise, blur, rain or haze, brighten it or retouch its colours, on the server (npm start, or a server in Settings).',
  inputs: ['video'],
  params: restore.params,
  targets: ['server'],
  modelTask: 'restore',
  defaultModel: restore.defaultModel,
  checkModel: restore.checkModel,
  async run(ctx) {
    const video = ctx.job.video;
    if (!video || video.bytes.length === 0) throw new FrontierError('bad-input', 'Restore video needs a clip: select a video or an animated top-level frame.');
    if (video.bytes.length > MAX_CLIP_BYTES) {
      throw new FrontierError('too-large', `The clip is ${(video.bytes.length / 2 ** 20).toFixed(0)} MB; video jobs take at most 100 MB. Export it shorter or at lower quality.`);
    }
    const result = await ctx.jobServer().runVideo({
      id: ctx.job.id,
      task: restoreVideo.id,
      model: ctx.model.id,
      params: { mode: String(ctx.params.mode) },
      video,
      signal: ctx.signal,
      progress: ctx.progress,
    });
    return { images: [], video: result };
  },
};
