// Task `generate`: new images with StyleSwin from a seed; Count > 1 makes a grid of neighbouring seeds.
import { encodeLatent, latentFromSeed } from '../latent.ts';
import type { RgbaImage } from '../job.ts';
import { firstGenerator, latentSize, renderLatent, SEED_PARAM, TRUNCATION_PARAM } from './generator.ts';
import type { ImageMeta, TaskDef } from './task.ts';

export const generate: TaskDef = {
  id: 'generate',
  label: 'Generate',
  description: 'New images with StyleSwin from a seed. Each image remembers its seed and latent, so you can vary it later.',
  inputs: [],
  display: { progress: { verb: 'Generating', unit: 'step' }, mainParams: ['seed'] },
  params: [
    SEED_PARAM,
    TRUNCATION_PARAM,
    { name: 'count', label: 'Count', type: 'integer', default: 1, min: 1, max: 9, help: 'More than one: seeds seed, seed+1, … side by side.' },
  ],
  defaultModel: (_params, available) => firstGenerator(available, 'styleswin-ffhq-256'),
  async run(ctx) {
    const size = latentSize(ctx.model);
    const seed = Number(ctx.params.seed);
    const count = Number(ctx.params.count);
    const images: RgbaImage[] = [];
    const imageMeta: ImageMeta[] = [];
    for (let i = 0; i < count; i++) {
      ctx.throwIfCancelled();
      ctx.progress({ stage: 'run', done: i, total: count, message: `Generating image ${i + 1} / ${count}` });
      const imageSeed = (seed + i) % 4294967296;
      const z = latentFromSeed(imageSeed, size);
      images.push(await renderLatent(ctx, z, Number(ctx.params.truncation)));
      imageMeta.push({ seed: imageSeed, latent: encodeLatent(z), params: { seed: imageSeed, count: 1 } });
    }
    ctx.progress({ stage: 'run', done: count, total: count, message: `Generated ${count}` });
    return { images, imageMeta };
  },
};
