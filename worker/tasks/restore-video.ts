// Task `restore-video`: a clip restored frame by frame with the MAXIM models (the Fix of Restore: denoise, deblur,
// remove rain or haze, brighten, retouch), as one job on the server. Frames are decoded and encoded there with ffmpeg;
// each frame is the image task `restore` (tiles, tone harmonisation, local mean), its tiles sent through the server's
// Open Inference Protocol path, as upscale-video does with `upscale`.
import type { TaskDef } from './task.ts';
import { restore } from './restore.ts';
import { runVideoTask } from './video-job.ts';

export const restoreVideo: TaskDef = {
  id: 'restore-video',
  label: 'Restore video',
  description: 'Clean up a video clip frame by frame: remove noise, blur, rain or haze, brighten it or retouch its colours, on the server (npm start, or a server in Settings).',
  inputs: ['video'],
  display: { progress: { verb: 'Restoring video', unit: 'step' }, mainParams: ['mode'], clipWord: 'restored' },
  params: restore.params,
  targets: ['server'],
  modelTask: 'restore',
  defaultModel: restore.defaultModel,
  checkModel: restore.checkModel,
  run: (ctx) => runVideoTask(ctx, restoreVideo, ctx.model.id, { mode: String(ctx.params.mode) }),
};
