// Task `vary`: variations of a generated image, from latents near the one it stored.
import { FrontierError, type RgbaImage } from '../job.ts';
import { decodeLatent, encodeLatent, varyLatent } from '../latent.ts';
import { firstGenerator, latentSize, renderLatent, SEED_PARAM, TRUNCATION_PARAM } from './generator.ts';
import type { ImageMeta, TaskDef } from './task.ts';

export const vary: TaskDef = {
  id: 'vary',
  label: 'Variations',
  description: 'Images close to the selected generated image: same model, nearby latents.',
  inputs: ['latent'],
  display: { progress: { verb: 'Making variations', unit: 'step' }, mainParams: ['strength'], seedInName: false },
  modelTask: 'generate',
  params: [
    { name: 'strength', label: 'Strength', type: 'number', default: 0.3, min: 0.05, max: 1, step: 0.05, help: 'How far from the original: 0.1 subtle, 1 unrelated.' },
    { name: 'count', label: 'Count', type: 'integer', default: 4, min: 1, max: 9, help: 'How many variations to make, placed side by side.' },
    { ...SEED_PARAM, help: 'Picks which variations you get: the same seed gives the same ones again; another seed, others.' },
    TRUNCATION_PARAM,
  ],
  defaultModel: (_params, available) => firstGenerator(available, 'styleswin-ffhq-256'),
  async run(ctx) {
    const source = ctx.job.sources?.find((s) => s.latent && s.model === ctx.model.id);
    if (!source?.latent) throw new FrontierError('bad-input', `Select an image generated with ${ctx.model.label} to make variations of it.`);
    const z = decodeLatent(source.latent, latentSize(ctx.model));
    const count = Number(ctx.params.count);
    const images: RgbaImage[] = [];
    const imageMeta: ImageMeta[] = [];
    for (let i = 0; i < count; i++) {
      ctx.throwIfCancelled();
      ctx.progress({ stage: 'run', done: i, total: count, message: `Variation ${i + 1} / ${count}` });
      const noiseSeed = (Number(ctx.params.seed) + i) % 4294967296;
      const zi = varyLatent(z, Number(ctx.params.strength), noiseSeed);
      images.push(await renderLatent(ctx, zi, Number(ctx.params.truncation)));
      imageMeta.push({ latent: encodeLatent(zi), params: { seed: noiseSeed, count: 1 } });
    }
    return { images, imageMeta };
  },
};
