// Task `upscale-video`: a clip upscaled as one job on the server (frames are decoded and encoded there with ffmpeg).
// Two kinds of models: ESRGAN, frame by frame (windows of frames go through the server's Open Inference Protocol
// path), and TTVSR, a video model that looks at neighbouring frames (its recurrence runs in the server's engine
// process, window by window: server/jobs/runner.ts), ×4 only. TTVSR is offered by its reconstruct part, as
// text-to-image offers VQ-Diffusion by its transformer; the job names its pipeline ("ttvsr-reds").
import { FrontierError } from '../job.ts';
import { isTtvsrEntry, ttvsrName } from '../video/ttvsr-card.ts';
import type { TaskDef } from './task.ts';
import { upscale } from './upscale.ts';
import { runVideoTask } from './video-job.ts';


export const upscaleVideo: TaskDef = {
  id: 'upscale-video',
  label: 'Upscale video',
  description: 'Enlarge a video clip on the server (npm start, or a server in Settings): 2–4× with ESRGAN, frame by frame, or 4× with TTVSR, which uses neighbouring frames to recover detail.',
  inputs: ['video'],
  display: { progress: { verb: 'Upscaling video', unit: 'step' }, mainParams: [{ name: 'scale', place: 'label' }, 'quality'], clipWord: 'upscaled' },
  params: upscale.params,
  targets: ['server'],
  modelTask: 'upscale',
  alsoOffers: [{ task: 'upscale-video', role: 'reconstruct' }],
  defaultModel: upscale.defaultModel,
  checkModel(model, params) {
    if (!isTtvsrEntry(model)) return upscale.checkModel!(model, params);
    if (Number(params.scale) !== model.io.scale) {
      throw new FrontierError(
        'bad-input',
        `${ttvsrName(model)} upscales ×${model.io.scale} only (it is trained for ×${model.io.scale} and uses neighbouring frames): set Scale to ×${model.io.scale}, or pick an ESRGAN model for ×${params.scale}.`,
      );
    }
  },
  run: (ctx) =>
    // A TTVSR job names its pipeline (the server finds the five parts); an ESRGAN job its model.
    runVideoTask(ctx, upscaleVideo, isTtvsrEntry(ctx.model) ? ctx.model.pipeline!.id : ctx.model.id, { scale: Number(ctx.params.scale) }),
};
