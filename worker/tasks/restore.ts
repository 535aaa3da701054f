// Task `restore`: MAXIM restoration (denoise, deblur, remove rain or haze, brighten, retouch), same size in and out.
// The models run on fixed-size tiles (the converter specialises each graph to one tile size), so images smaller
// than a tile are mirrored out to a tile and cropped back; larger ones are tiled with overlap and blended.
import { FrontierError } from '../job.ts';
import type { ParamSpec, TaskDef } from './task.ts';
import { rgbaToTensor, tensorReader, tensorSize } from '../image/tensor.ts';
import { runTiled } from '../image/tiling.ts';
import { crop, padMirror } from '../image/rgba.ts';

/** The modes, in the order designers see them; each is one model card `maxim-<mode>`. */
export const RESTORE_MODES = [
  { value: 'denoise', label: 'Denoise' },
  { value: 'deblur', label: 'Deblur' },
  { value: 'derain', label: 'Remove rain' },
  { value: 'dehaze-outdoor', label: 'Remove haze (outdoor)' },
  { value: 'dehaze-indoor', label: 'Remove haze (indoor)' },
  { value: 'low-light', label: 'Brighten dark photo' },
  { value: 'retouch', label: 'Retouch colours' },
] as const;

/** Largest image the engine restores at once (64 MP ≈ 256 MB of RGBA); hosts have their own, smaller limits. */
const MAX_PIXELS = 64e6;

const modeParam: ParamSpec = {
  name: 'mode',
  label: 'Fix',
  type: 'choice',
  default: 'denoise',
  choices: RESTORE_MODES.map((m) => ({ value: m.value, label: m.label })),
  help: 'What is wrong with the photo. Each fix is its own model (MAXIM, CVPR 2022), trained on real photos with that problem.',
};

export const restore: TaskDef = {
  id: 'restore',
  label: 'Restore',
  description: 'Clean up a photo: remove noise, blur, rain or haze, brighten a dark shot, or retouch its colours.',
  inputs: ['image'],
  params: [modeParam],
  defaultModel(params, available = []) {
    return available.find((m) => m.mode === params.mode)?.id ?? `maxim-${params.mode}`;
  },
  checkModel(model, params) {
    if (model.task !== 'restore') throw new FrontierError('bad-input', `${model.label} is not a restoration model.`);
    if (model.mode && model.mode !== params.mode) {
      const wanted = RESTORE_MODES.find((m) => m.value === model.mode)?.label ?? model.mode;
      throw new FrontierError('bad-input', `${model.label} does "${wanted}": set Fix to ${wanted}, or pick a model for ${RESTORE_MODES.find((m) => m.value === params.mode)?.label ?? params.mode}.`);
    }
  },
  async run(ctx) {
    const image = ctx.job.image;
    if (!image) throw new FrontierError('bad-input', 'Restore needs an image: select an image or a frame.');
    if (image.width * image.height > MAX_PIXELS) {
      throw new FrontierError('too-large', `${image.width}×${image.height} px is more than this engine restores at once (64 MP). Crop the image or restore it in parts.`);
    }
    const { tile } = ctx.model.io;
    const io = ctx.model.io.image;
    const inputName = ctx.model.io.inputs[0].name;
    const outputName = ctx.model.io.outputs[0].name;
    const session = await ctx.session();
    const padded = padMirror(image, tile.size, tile.size);
    let tiles = 0;
    const restored = await runTiled(padded, {
      tile: tile.size,
      overlap: tile.overlap,
      scale: 1,
      infer: async (piece, index, total) => {
        ctx.throwIfCancelled();
        tiles = total;
        ctx.progress({ stage: 'run', done: index, total, message: `Restoring tile ${index + 1} / ${total}` });
        const outputs = await session.run({ [inputName]: rgbaToTensor(piece, io) }, { signal: ctx.signal });
        const out = outputs[outputName];
        if (!out) throw new FrontierError('run-failed', `${ctx.model.label} returned no tensor named ${outputName}.`);
        return { ...tensorSize(out, io), read: tensorReader(out, io) };
      },
    });
    ctx.throwIfCancelled();
    ctx.progress({ stage: 'run', done: tiles, total: tiles, message: `Restored ${tiles} tile${tiles === 1 ? '' : 's'}` });
    // runTiled carries alpha over from its input, so the crop holds the original's own alpha.
    return { images: [padded === image ? restored : crop(restored, 0, 0, image.width, image.height)] };
  },
};
