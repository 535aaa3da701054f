// Task `restore`: MAXIM restoration (denoise, deblur, remove rain or haze, brighten, retouch), same size in and out.
// The models run on fixed-size tiles (the converter specialises each graph to one tile size: 128 px in the browser,
// 256 px in Node and on the server, where the card's larger-tile build is installed), so images smaller
// than a tile are mirrored out to a tile and cropped back; larger ones are tiled with overlap and blended. Models
// whose tone depends on the whole picture (card io.tile.harmonize) also run once on the whole image shrunk to a
// tile, and the tiles take their low frequencies from that run (worker/image/harmonize.ts). Denoising keeps the
// input's local mean colour (card io.localMeanFromInput, worker/image/local-mean.ts).
import { FrontierError, type RgbaImage } from '../job.ts';
import type { ParamSpec, TaskContext, TaskDef } from './task.ts';
import type { Session, Tensor } from '../runtime/runtime.ts';
import type { ModelCard } from '../models/card.ts';
import { rgbaToTensor, tensorReader, tensorSize, tensorToRgba } from '../image/tensor.ts';
import { planTiles, runTiled, type TileOutput } from '../image/tiling.ts';
import { crop, padMirror, resizeBicubic } from '../image/rgba.ts';
import { harmonizeTones } from '../image/harmonize.ts';
import { keepLocalMean } from '../image/local-mean.ts';

/** The modes, in the order designers see them; each is one model card with that `mode`. */
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

const modeLabel = (mode: unknown): string => RESTORE_MODES.find((m) => m.value === mode)?.label ?? String(mode);

const modeParam: ParamSpec = {
  name: 'mode',
  label: 'Fix',
  type: 'choice',
  default: 'denoise',
  choices: RESTORE_MODES.map((m) => ({ value: m.value, label: m.label })),
  help: 'What is wrong with the photo. Each fix is its own model (MAXIM, CVPR 2022), trained on real photos with that problem.',
};

/** The build of the model a job runs: its card (tile size, tensor names) and its session. */
interface Build {
  card: ModelCard;
  session: Session;
}

/**
 * The model's larger-tile build where the job runs in Node or on the server, the image does not fit one of the card's
 * own tiles, and the build is installed (a tile that sees more of the picture comes closer to one call on the whole
 * image); else the card's own tile size (an image within one tile is seen whole by either, and the small one is faster).
 */
async function buildFor(ctx: TaskContext, image: RgbaImage): Promise<Build> {
  const fitsOneTile = image.width <= ctx.model.io.tile.size && image.height <= ctx.model.io.tile.size;
  if (ctx.model.largeTiles && !fitsOneTile && (ctx.target === 'node' || ctx.target === 'server')) {
    let card: ModelCard | undefined;
    try {
      card = ctx.part('largeTiles');
    } catch (err) {
      if (!(err instanceof FrontierError && err.code === 'model-not-found')) throw err;
    }
    if (card?.targets.includes(ctx.target)) return { card, session: await ctx.session('largeTiles') };
  }
  return { card: ctx.model, session: await ctx.session() };
}

/** One model call on a tile-sized image: the output tensor. */
async function runModel(ctx: TaskContext, build: Build, piece: RgbaImage): Promise<Tensor> {
  const { io, label } = build.card;
  const outputName = io.outputs[0].name;
  const outputs = await build.session.run({ [io.inputs[0].name]: rgbaToTensor(piece, io.image) }, { signal: ctx.signal });
  const out = outputs[outputName];
  if (!out) throw new FrontierError('run-failed', `${label} returned no tensor named ${outputName}.`);
  return out;
}

async function infer(ctx: TaskContext, build: Build, piece: RgbaImage): Promise<TileOutput> {
  const out = await runModel(ctx, build, piece);
  return { ...tensorSize(out, build.card.io.image), read: tensorReader(out, build.card.io.image) };
}

/** The whole image shrunk to fit one tile, restored, at that small size. */
async function restoreWhole(ctx: TaskContext, build: Build, image: RgbaImage): Promise<RgbaImage> {
  const { size } = build.card.io.tile;
  const k = size / Math.max(image.width, image.height);
  const small = resizeBicubic(image, Math.max(1, Math.round(image.width * k)), Math.max(1, Math.round(image.height * k)));
  const out = await runModel(ctx, build, padMirror(small, size, size));
  return crop(tensorToRgba(out, build.card.io.image), 0, 0, small.width, small.height);
}

export const restore: TaskDef = {
  id: 'restore',
  label: 'Restore',
  description: 'Clean up a photo: remove noise, blur, rain or haze, brighten a dark shot, or retouch its colours.',
  inputs: ['image'],
  display: { progress: { verb: 'Restoring', unit: 'tile' }, mainParams: [{ name: 'mode', place: 'title' }] },
  params: [modeParam],
  defaultModel(params, available = []) {
    return available.find((m) => m.mode === params.mode)?.id ?? `maxim-${params.mode}`;
  },
  checkModel(model, params) {
    if (model.task !== 'restore') throw new FrontierError('bad-input', `${model.label} is not a restoration model.`);
    if (model.mode && model.mode !== params.mode) {
      throw new FrontierError('bad-input', `${model.label} does "${modeLabel(model.mode)}": set Fix to ${modeLabel(model.mode)}, or pick a model for ${modeLabel(params.mode)}.`);
    }
  },
  async run(ctx) {
    const image = ctx.job.image;
    if (!image) throw new FrontierError('bad-input', 'Restore needs an image: select an image or a frame.');
    if (image.width * image.height > MAX_PIXELS) {
      throw new FrontierError('too-large', `${image.width}×${image.height} px is more than this engine restores at once (64 MP). Crop the image or restore it in parts.`);
    }
    const build = await buildFor(ctx, image);
    const { tile } = build.card.io;
    const padded = padMirror(image, tile.size, tile.size);
    const tileCount = planTiles(padded.width, padded.height, tile.size, tile.overlap).tiles.length;
    // The whole-image pass counts as one more tile of work, done first.
    const harmonize = !!tile.harmonize && tileCount > 1;
    const total = tileCount + (harmonize ? 1 : 0);
    let whole: RgbaImage | undefined;
    if (harmonize) {
      ctx.progress({ stage: 'run', done: 0, total, message: 'Reading the whole picture' });
      whole = await restoreWhole(ctx, build, image);
      ctx.throwIfCancelled();
    }
    const first = harmonize ? 1 : 0;
    const restored = await runTiled(padded, {
      tile: tile.size,
      overlap: tile.overlap,
      scale: 1,
      // Several tiles at once where the session runs on several workers (the WASM pool); one by one elsewhere.
      concurrency: build.session.concurrency,
      // "tile k / n": k − 1 tiles are finished (one or more of them running now).
      progress: (finished) => ctx.progress({ stage: 'run', done: first + finished, total, message: `Restoring tile ${finished + 1} / ${tileCount}` }),
      infer: async (piece) => {
        ctx.throwIfCancelled(); // between tiles: a cancel that arrived while a tile ran (or was reported) costs no more tiles
        return infer(ctx, build, piece);
      },
    });
    ctx.throwIfCancelled();
    // runTiled carries alpha over from its input, so the crop holds the original's own alpha.
    const tiled = padded === image ? restored : crop(restored, 0, 0, image.width, image.height);
    const toned = whole ? harmonizeTones(tiled, whole) : tiled;
    const sigma = ctx.model.io.localMeanFromInput;
    const result = sigma ? keepLocalMean(toned, image, sigma) : toned;
    ctx.progress({ stage: 'run', done: total, total, message: `Restored ${tileCount} tile${tileCount === 1 ? '' : 's'}` });
    return { images: [result] };
  },
};
