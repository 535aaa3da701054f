// Shared by the StyleSwin tasks (generate, vary, interpolate): one latent in, one image out, per the model card.
import { FrontierError, type RgbaImage } from '../job.ts';
import { tensorToRgba } from '../image/tensor.ts';
import type { ModelCard } from '../models/card.ts';
import type { ParamSpec, TaskContext } from './task.ts';

export const TRUNCATION_PARAM: ParamSpec = {
  name: 'truncation',
  label: 'Truncation',
  type: 'number',
  default: 0.7,
  min: 0.3,
  max: 1,
  step: 0.05,
  help: 'Lower is more typical and cleaner, higher more varied (1 = no truncation).',
};

export const SEED_PARAM: ParamSpec = {
  name: 'seed',
  label: 'Seed',
  type: 'integer',
  default: 1,
  min: 0,
  max: 4294967295,
  help: 'The same seed, model and settings give the same image on every target.',
  widget: 'seed',
};

/** The latent size of a generator card, or a clear error when the card is not one. */
export function latentSize(card: ModelCard): number {
  const latent = card.io.latent;
  if (!latent) throw new FrontierError('bad-input', `${card.label} is not an image generator (its card has no latent input).`);
  return latent.size;
}

/** Runs the generator on one latent; `truncation` goes to the graph's `truncation` input when it has one. */
export async function renderLatent(ctx: TaskContext, z: Float32Array, truncation: number): Promise<RgbaImage> {
  const card = ctx.model;
  const latent = card.io.latent!;
  const session = await ctx.session();
  const feeds: Parameters<typeof session.run>[0] = { [latent.name]: { dtype: 'float32', dims: [1, z.length], data: z } };
  if (session.inputNames.includes('truncation')) feeds.truncation = { dtype: 'float32', dims: [1], data: Float32Array.of(truncation) };
  const outputs = await session.run(feeds, { signal: ctx.signal });
  const name = card.io.outputs[0].name;
  const out = outputs[name];
  if (!out) throw new FrontierError('run-failed', `${card.label} returned no tensor named ${name}.`);
  return tensorToRgba({ ...out, dims: out.dims.length === 4 ? out.dims : [1, ...out.dims] }, card.io.image);
}

/** Default generator for a task: the first installed full model, else a tiny (test) one. */
export function firstGenerator(available: ModelCard[] | undefined, fallback: string): string {
  return available?.[0]?.id ?? fallback;
}
