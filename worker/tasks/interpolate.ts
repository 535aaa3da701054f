// Task `interpolate`: a row of in-betweens from one generated image to another (spherical interpolation of latents).
import { FrontierError, type RgbaImage } from '../job.ts';
import { decodeLatent, encodeLatent, slerp } from '../latent.ts';
import { firstGenerator, latentSize, renderLatent, TRUNCATION_PARAM } from './generator.ts';
import type { ImageMeta, TaskDef } from './task.ts';

export const interpolate: TaskDef = {
  id: 'interpolate',
  label: 'In-betweens',
  description: 'Images between two selected generated images of the same model.',
  inputs: ['latent', 'latent'],
  display: { progress: { verb: 'Making in-betweens', unit: 'step' }, mainParams: ['steps'], seedInName: false },
  modelTask: 'generate',
  params: [{ name: 'steps', label: 'In-betweens', type: 'integer', default: 5, min: 1, max: 9 }, TRUNCATION_PARAM],
  defaultModel: (_params, available) => firstGenerator(available, 'styleswin-ffhq-256'),
  async run(ctx) {
    const ends = (ctx.job.sources ?? []).filter((s) => s.latent && s.model === ctx.model.id);
    if (ends.length < 2) throw new FrontierError('bad-input', `Select two images generated with ${ctx.model.label}: the in-betweens go from the first to the second.`);
    const size = latentSize(ctx.model);
    const a = decodeLatent(ends[0].latent!, size, 'The first image');
    const b = decodeLatent(ends[1].latent!, size, 'The second image');
    const steps = Number(ctx.params.steps);
    const images: RgbaImage[] = [];
    const imageMeta: ImageMeta[] = [];
    for (let i = 1; i <= steps; i++) {
      ctx.throwIfCancelled();
      ctx.progress({ stage: 'run', done: i - 1, total: steps, message: `In-between ${i} / ${steps}` });
      const t = i / (steps + 1);
      const z = slerp(a, b, t);
      images.push(await renderLatent(ctx, z, Number(ctx.params.truncation)));
      imageMeta.push({ latent: encodeLatent(z), params: { t: Number(t.toFixed(4)) } });
    }
    return { images, imageMeta };
  },
};
