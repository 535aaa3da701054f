// Task `upscale`: ESRGAN super-resolution ×2/×3/×4, tiled so any image size runs in bounded memory.
import { FrontierError } from '../job.ts';
import type { TaskDef } from './task.ts';
import { rgbaToTensor, tensorReader, tensorSize } from '../image/tensor.ts';
import { runTiled, takesAnySize } from '../image/tiling.ts';

const QUALITY_TO_FAMILY = { best: 'thick', balanced: 'medium', fast: 'slim' } as const;
/** Largest result the engine builds (64 MP ≈ 256 MB of RGBA); hosts have their own, smaller limits. */
const MAX_OUTPUT_PIXELS = 64e6;
/** The warm-up image's side (px), where the model takes any size. */
const WARM_UP_SIDE = 32;

export const upscale: TaskDef = {
  id: 'upscale',
  label: 'Upscale',
  description: 'Enlarge an image 2–4× with ESRGAN super-resolution.',
  inputs: ['image'],
  display: { progress: { verb: 'Upscaling', unit: 'tile' }, mainParams: [{ name: 'scale', place: 'label' }, 'quality'] },
  presets: [
    { label: 'Web ×2', help: 'Twice the size for screens (retina), the cleanest model.', params: { scale: 2, quality: 'best' } },
    { label: 'Print ×4 · Best', help: 'Four times the size for print, the cleanest model (the slowest).', params: { scale: 4, quality: 'best' } },
    { label: 'Quick look ×2', help: 'A fast ×2 to try an idea; it can look blocky.', params: { scale: 2, quality: 'fast' } },
  ],
  params: [
    {
      name: 'scale',
      label: 'Scale',
      type: 'choice',
      default: 4,
      choices: [
        { value: 2, label: '×2' },
        { value: 3, label: '×3' },
        { value: 4, label: '×4' },
      ],
    },
    {
      name: 'quality',
      label: 'Quality',
      type: 'choice',
      default: 'best',
      choices: [
        { value: 'best', label: 'Best' },
        { value: 'balanced', label: 'Balanced' },
        { value: 'fast', label: 'Fast' },
      ],
      help: 'Best (ESRGAN thick) is the only one that beats plain bicubic on photos; Balanced and Fast are quicker but can look blocky.',
    },
  ],
  defaultModel(params) {
    const family = QUALITY_TO_FAMILY[params.quality as keyof typeof QUALITY_TO_FAMILY] ?? 'thick';
    return `esrgan-${family}-x${params.scale}`;
  },
  checkModel(model, params) {
    if (model.task !== 'upscale') throw new FrontierError('bad-input', `${model.label} is not an upscaling model.`);
    if (model.io.scale !== params.scale) {
      throw new FrontierError('bad-input', `${model.label} upscales ×${model.io.scale}; set Scale to ×${model.io.scale} or pick a ×${params.scale} model.`);
    }
  },
  // A grey 32² image (the model's tile where its graph takes one size only): enough for V8 to compile the kernels a
  // real upscale runs (bench/results/first-run.md: the first job after it is settled).
  warmUpFeeds(model) {
    const side = takesAnySize(model.io) ? WARM_UP_SIDE : model.io.tile.size;
    const grey = { width: side, height: side, data: new Uint8Array(side * side * 4).fill(128) };
    return { [model.io.inputs[0].name]: rgbaToTensor(grey, model.io.image) };
  },
  async run(ctx) {
    const image = ctx.job.image;
    if (!image) throw new FrontierError('bad-input', 'Upscale needs an image: select an image or a frame.');
    const { scale, tile } = ctx.model.io;
    if (image.width * scale * image.height * scale > MAX_OUTPUT_PIXELS) {
      throw new FrontierError('too-large', `×${scale} of ${image.width}×${image.height} would be ${image.width * scale}×${image.height * scale} px, more than this engine builds at once (64 MP). Crop or pick a smaller scale.`);
    }
    const session = await ctx.session();
    const io = ctx.model.io.image;
    const inputName = ctx.model.io.inputs[0].name;
    const outputName = ctx.model.io.outputs[0].name;
    let tiles = 0;
    const result = await runTiled(image, {
      tile: tile.size,
      overlap: tile.overlap,
      anySize: takesAnySize(ctx.model.io),
      scale,
      // Several tiles at once where the session runs on several workers (the WASM pool); one by one elsewhere. A small
      // image is cut into as many tiles as the pool has workers (within tiling.ts's floor), so every core helps: its
      // result then differs from one worker's uncut result by the blending of those tiles (seamless, within the
      // tile-agreement tolerance), and equals one worker's bytes for the same tiles.
      concurrency: session.concurrency,
      lanes: session.concurrency,
      // "tile k / n": k − 1 tiles are finished (one or more of them running now).
      progress: (finished, total) => {
        tiles = total;
        ctx.progress({ stage: 'run', done: finished, total, message: `Upscaling tile ${finished + 1} / ${total}` });
      },
      infer: async (piece) => {
        ctx.throwIfCancelled(); // between tiles: a cancelled job starts no more of them
        const outputs = await session.run({ [inputName]: rgbaToTensor(piece, io) }, { signal: ctx.signal });
        const out = outputs[outputName];
        if (!out) throw new FrontierError('run-failed', `${ctx.model.label} returned no tensor named ${outputName}.`);
        const size = tensorSize(out, io);
        return { ...size, read: tensorReader(out, io) };
      },
    });
    ctx.throwIfCancelled();
    ctx.progress({ stage: 'run', done: tiles, total: tiles, message: `Upscaled ${tiles} tile${tiles === 1 ? '' : 's'}` });
    return { images: [result] };
  },
};
