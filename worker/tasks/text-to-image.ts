// Task `text-to-image`: VQ-Diffusion. Prompt → CLIP tokens → text encoder → the sampling loop (worker/diffusion),
// one transformer call per step → VQ-VAE decoder. A few previews decode the current guess of the final codes. The job
// names the transformer; the text encoder and decoder are its pipeline's other parts. On target 'server' the whole
// loop runs there as one job, next to the transformer (full size is 1.36 B parameters and 32 MB of log-probs a step).
import { FrontierError, type RgbaImage } from '../job.ts';
import { parseDiffusionIo, type DiffusionIo } from '../diffusion/schedule.ts';
import { sampleTokens } from '../diffusion/loop.ts';
import { usesGuidance } from '../diffusion/sampler.ts';
import { tensorToRgba } from '../image/tensor.ts';
import type { ModelCard } from '../models/card.ts';
import type { Tensor } from '../runtime/runtime.ts';
import { ClipTokenizer, loadClipVocabulary, toInt64 } from '../text/clip-tokenizer.ts';
import { SEED_PARAM } from './generator.ts';
import type { TaskContext, TaskDef, TaskOutput } from './task.ts';

/** About this many previews per image (each is one decoder call). */
const PREVIEWS = 5;

/** Tokenizers by text-encoder card id: the vocabulary is parsed once per session. */
const tokenizers = new Map<string, Promise<ClipTokenizer>>();

function diffusionOf(model: ModelCard): DiffusionIo {
  if (!model.pipeline || model.role !== 'transformer') {
    throw new FrontierError('bad-input', `${model.label} is not a VQ-Diffusion transformer: choose a text-to-image model.`);
  }
  try {
    return parseDiffusionIo(model.io.diffusion);
  } catch (err) {
    throw new FrontierError('model-load-failed', `${model.label}: ${(err as Error).message}. Re-export it with models/export/export.py.`);
  }
}

export const textToImage: TaskDef = {
  id: 'text-to-image',
  label: 'Text to image',
  description: 'A new image from a prompt with VQ-Diffusion. The same prompt, seed and settings give the same image.',
  inputs: [],
  display: { progress: { verb: 'Generating', unit: 'step' }, mainParams: ['prompt'] },
  modelRole: 'transformer',
  params: [
    {
      name: 'prompt',
      label: 'Prompt',
      type: 'string',
      default: 'a lighthouse on a rocky coast at sunset, oil painting',
      maxLength: 400,
      required: true,
      widget: 'prompt',
      help: 'What to draw. About the first 75 words count; the rest is left out.',
    },
    { name: 'steps', label: 'Steps', type: 'integer', default: 50, min: 2, max: 100, help: 'Denoising steps (the model was trained with 100): fewer are faster and coarser.' },
    {
      name: 'guidance',
      label: 'Guidance',
      type: 'number',
      default: 5,
      min: 1,
      max: 10,
      step: 0.5,
      help: 'How closely to follow the prompt (classifier-free guidance). 1 turns it off and runs twice as fast.',
    },
    {
      name: 'truncation',
      label: 'Truncation',
      type: 'number',
      default: 1,
      min: 0.5,
      max: 1,
      step: 0.01,
      help: 'Keep only the likeliest codes at each step: lower is cleaner and less varied (1 keeps all; 0.86 suits Guidance 1).',
    },
    SEED_PARAM,
  ],
  defaultModel: (_params, available) => available?.[0]?.id ?? 'vqdiffusion-ithq-transformer',
  checkModel(model, params) {
    const diffusion = diffusionOf(model);
    if (Number(params.steps) > diffusion.steps) throw new FrontierError('bad-input', `Steps must be at most ${diffusion.steps} for ${model.label}.`);
  },
  async run(ctx) {
    const prompt = String(ctx.params.prompt ?? '').trim();
    if (!prompt) throw new FrontierError('bad-input', 'Type a prompt: what the image should show.');
    if (ctx.target === 'server') return runOnServer(ctx);
    return runHere(ctx, prompt);
  },
};

/** The loop on the server, as one job: progress and previews come back as events. */
async function runOnServer(ctx: TaskContext): Promise<TaskOutput> {
  const server = ctx.jobServer();
  ctx.progress({ stage: 'run', done: 0, total: Number(ctx.params.steps), message: `Sending the prompt to ${server.where}` });
  const result = await server.runEngineJob({
    id: `t2i-${globalThis.crypto.randomUUID()}`,
    task: textToImage.id,
    model: ctx.model.id,
    params: ctx.params,
    signal: ctx.signal,
    progress: (p) => ctx.progress(p),
  });
  return { images: result.images, imageMeta: result.imageMeta ?? [{ seed: Number(ctx.params.seed) }] };
}

async function runHere(ctx: TaskContext, prompt: string): Promise<TaskOutput> {
  const diffusion = diffusionOf(ctx.model);
  const steps = Number(ctx.params.steps);
  const guidance = Number(ctx.params.guidance);
  const seed = Number(ctx.params.seed);
  const guided = usesGuidance(guidance);
  const total = steps + 2; // the text, every step, the decoding
  ctx.progress({ stage: 'run', done: 0, total, message: 'Reading the prompt' });

  const text = await encodePrompt(ctx, prompt);
  ctx.throwIfCancelled();
  const condition = guided ? withNullText(text, await ctx.file('null-text-embedding')) : text;
  const transformer = await ctx.session();
  const length = diffusion.latent.height * diffusion.latent.width;
  const [tokensInput, timestepInput, textInput] = ctx.model.io.inputs.map((i) => i.name);
  const previewEvery = Math.max(1, Math.round(steps / PREVIEWS));

  const tokens = await sampleTokens({
    diffusion,
    steps,
    guidance,
    truncation: Number(ctx.params.truncation),
    seed,
    throwIfCancelled: ctx.throwIfCancelled,
    runTransformer: async (feed, timestep, batch) => {
      const out = await transformer.run(
        {
          [tokensInput]: { dtype: 'int64', dims: [batch, length], data: feed },
          [timestepInput]: { dtype: 'int64', dims: [batch], data: new BigInt64Array(batch).fill(BigInt(timestep)) },
          [textInput]: batch === 2 ? condition : text,
        },
        { signal: ctx.signal },
      );
      return out[ctx.model.io.outputs[0].name].data as Float32Array;
    },
    onStep: async (step, count, guess) => {
      const preview = step < count && step % previewEvery === 0 ? await decode(ctx, guess, length) : undefined;
      ctx.progress({ stage: 'run', done: step + 1, total, message: `Step ${step} of ${count}`, ...(preview ? { preview } : {}) });
    },
  });
  ctx.progress({ stage: 'run', done: steps + 1, total, message: 'Decoding the image' });
  const image = await decode(ctx, tokens, length);
  ctx.progress({ stage: 'run', done: total, total, message: 'Done' });
  return { images: [image], imageMeta: [{ seed }] };
}

/** CLIP tokens of the prompt → the text encoder's per-token features [1, 77, D]. */
async function encodePrompt(ctx: TaskContext, prompt: string): Promise<Tensor> {
  const card = ctx.part('textEncoder');
  let tokenizer = tokenizers.get(card.id);
  if (!tokenizer) {
    tokenizer = ctx.file('clip-bpe-vocabulary', 'textEncoder').then(async (bytes) => new ClipTokenizer(await loadClipVocabulary(bytes)));
    tokenizers.set(card.id, tokenizer);
    tokenizer.catch(() => tokenizers.delete(card.id));
  }
  const spec = (card.io.tokenizer ?? {}) as { contextLength?: number; padToken?: number };
  const { ids, truncated } = (await tokenizer).tokenize(prompt, { contextLength: spec.contextLength, padToken: spec.padToken });
  if (truncated) ctx.progress({ stage: 'run', done: 0, total: 1, message: 'The prompt is longer than CLIP reads: its end was cut' });
  const session = await ctx.session('textEncoder');
  const out = await session.run({ [card.io.inputs[0].name]: { dtype: 'int64', dims: [1, ids.length], data: toInt64([ids]) } }, { signal: ctx.signal });
  return out[card.io.outputs[0].name];
}

/** [text, null text]: the guided batch (the null embedding is the model's learned "no prompt"). */
function withNullText(text: Tensor, nullBytes: Uint8Array): Tensor {
  const values = text.data as Float32Array;
  if (nullBytes.length !== values.length * 4) {
    throw new FrontierError('model-load-failed', `The null text embedding has ${nullBytes.length / 4} values; the text encoder gives ${values.length}. Export the pipeline's parts together.`);
  }
  const data = new Float32Array(values.length * 2);
  data.set(values);
  // Little-endian float32 on disk, as on every platform this runs on; copied so its offset need not be aligned.
  data.set(new Float32Array(nullBytes.slice().buffer), values.length);
  return { dtype: 'float32', dims: [2, ...text.dims.slice(1)], data };
}

async function decode(ctx: TaskContext, codes: Int32Array, length: number): Promise<RgbaImage> {
  const card = ctx.part('decoder');
  const session = await ctx.session('decoder');
  // A code still masked (possible only in theory at the last step) decodes as the codebook's last entry.
  const data = new BigInt64Array(length);
  for (let i = 0; i < length; i++) data[i] = BigInt(codes[i]);
  const out = await session.run({ [card.io.inputs[0].name]: { dtype: 'int64', dims: [1, length], data } }, { signal: ctx.signal });
  return tensorToRgba(out[card.io.outputs[0].name], card.io.image);
}
