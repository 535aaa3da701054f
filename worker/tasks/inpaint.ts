// Task `inpaint`: fill a masked region with SimMIM's reconstruction. SimMIM sees 192-px tiles whose hidden parts
// are whole 32-px cells, so the region is cropped with context, scaled down when a hole is too large for a tile,
// rounded up to cells, run tile by tile, and pasted back inside the user's mask only (plus an optional outward
// feather): every other pixel stays exactly as it was.
import { FrontierError, type RgbaImage } from '../job.ts';
import type { MaskIo, ModelCard } from '../models/card.ts';
import { distanceFrom, largestHoleExtent, maskAmounts, maskBounds, padEdge, type Box } from '../image/mask.ts';
import { crop, resizeBicubic } from '../image/rgba.ts';
import { clampByte, rgbaToTensor, tensorReader } from '../image/tensor.ts';
import type { TaskContext, TaskDef } from './task.ts';

/** Context kept around the mask, in cells of the working scale: tiles around a hole see this much of the image. */
const CONTEXT_CELLS = 2;
/** Working pixels of margin around each masked pixel when scaled: the bicubic kernel that scales the fill back up
 *  reaches 2 px, so the fill under the mask never mixes in pixels the model did not fill. */
const SCALED_MARGIN = 2;

function maskIo(model: ModelCard): MaskIo {
  const io = model.io.mask;
  if (!io) throw new FrontierError('bad-input', `${model.label} is not an inpainting model (its card has no mask input).`);
  return io;
}

/** Where the work happens: the crop of the image around the mask, and the scale it is processed at. */
export interface InpaintPlan {
  crop: Box;
  /** Working scale (≤ 1): holes larger than a tile's inside are processed smaller. */
  scale: number;
  width: number;
  height: number;
}

export function planInpaint(amounts: Float32Array, width: number, height: number, tile: number, cell: number): InpaintPlan {
  const bounds = maskBounds(amounts, width, height);
  if (!bounds) throw new FrontierError('bad-input', 'The mask is empty: draw a shape over the part of the image to fill (or select it), then run Inpaint again.');
  if (bounds.width === width && bounds.height === height && amounts.every((a) => a > 0)) {
    throw new FrontierError('bad-input', 'The mask covers the whole image: nothing is left to fill it from. Mask only the part to replace.');
  }
  // A hole must fit inside one tile with a cell of context on each side; larger ones are processed smaller.
  const inside = tile - 2 * cell;
  const scale = Math.min(1, inside / largestHoleExtent(amounts, width, height));
  const margin = Math.ceil((CONTEXT_CELLS * cell) / scale);
  const x0 = Math.max(0, bounds.x - margin);
  const y0 = Math.max(0, bounds.y - margin);
  const x1 = Math.min(width, bounds.x + bounds.width + margin);
  const y1 = Math.min(height, bounds.y + bounds.height + margin);
  const box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  return { crop: box, scale, width: Math.max(1, Math.round(box.width * scale)), height: Math.max(1, Math.round(box.height * scale)) };
}

/** Tile origins along one axis: multiples of `step` (so every tile shares one cell grid) until `length` is covered. */
function tileStarts(length: number, tile: number, step: number): number[] {
  const starts = [0];
  while (starts[starts.length - 1] + tile < length) starts.push(starts[starts.length - 1] + step);
  return starts;
}

export const inpaint: TaskDef = {
  id: 'inpaint',
  label: 'Inpaint',
  description: 'Fill a masked region from its surroundings with SimMIM; the original stays as it was.',
  inputs: ['image', 'mask'],
  display: { progress: { verb: 'Inpainting', unit: 'tile' } },
  params: [
    {
      name: 'feather',
      label: 'Feather',
      type: 'integer',
      default: 0,
      min: 0,
      max: 32,
      help: 'Pixels beyond the mask edge over which the fill fades into the image. 0 changes only pixels inside the mask.',
    },
  ],
  defaultModel(_params, available) {
    return available?.[0]?.id ?? 'simmim-swin-base-192';
  },
  checkModel(model) {
    maskIo(model);
  },
  async run(ctx: TaskContext) {
    const { job, model } = ctx;
    const image = job.image!;
    const mask = job.mask;
    if (!mask) throw new FrontierError('bad-input', 'Inpaint needs a mask: draw a shape over the image (Figma), make a marquee selection (Photoshop) or give --mask.');
    if (mask.width !== image.width || mask.height !== image.height) {
      throw new FrontierError('bad-input', `The mask is ${mask.width}×${mask.height} but the image is ${image.width}×${image.height}: they must be the same size.`);
    }
    const io = maskIo(model);
    const tile = model.io.tile.size;
    const step = tile - model.io.tile.overlap;
    if (step <= 0 || step % io.grid !== 0 || tile % io.grid !== 0) throw new FrontierError('bad-input', `${model.label}: its tiles do not follow its ${io.grid}-px mask grid.`);

    const amounts = maskAmounts(mask);
    const plan = planInpaint(amounts, image.width, image.height, tile, io.grid);
    const cropped = crop(image, plan.crop.x, plan.crop.y, plan.crop.width, plan.crop.height);
    const cropAmounts = maskAmounts(crop(mask, plan.crop.x, plan.crop.y, plan.crop.width, plan.crop.height));
    const work = plan.scale < 1 ? resizeBicubic(cropped, plan.width, plan.height) : cropped;

    // Cells of the working image that the model must fill: every cell a masked pixel falls in, whole.
    const xs = tileStarts(plan.width, tile, step);
    const ys = tileStarts(plan.height, tile, step);
    const paddedW = xs[xs.length - 1] + tile;
    const paddedH = ys[ys.length - 1] + tile;
    const cellsX = paddedW / io.grid;
    const hidden = new Uint8Array(cellsX * (paddedH / io.grid));
    const workX = (x: number) => Math.min(plan.width - 1, Math.floor(((x + 0.5) * plan.width) / plan.crop.width));
    const workY = (y: number) => Math.min(plan.height - 1, Math.floor(((y + 0.5) * plan.height) / plan.crop.height));
    const cellAt = (wx: number, wy: number) => Math.floor(wy / io.grid) * cellsX + Math.floor(wx / io.grid);
    // Cells under the outward feather are filled too, so the fill can fade out beyond the mask.
    const feather = ctx.params.feather as number;
    const margin = (plan.scale < 1 ? SCALED_MARGIN : 0) + Math.ceil(feather * plan.scale);
    for (let y = 0; y < plan.crop.height; y++) {
      for (let x = 0; x < plan.crop.width; x++) {
        if (!(cropAmounts[y * plan.crop.width + x] > 0)) continue;
        const wx = workX(x), wy = workY(y);
        for (let dy = -margin; dy <= margin; dy++) {
          for (let dx = -margin; dx <= margin; dx++) {
            const mx = wx + dx, my = wy + dy;
            if (mx >= 0 && my >= 0 && mx < plan.width && my < plan.height) hidden[cellAt(mx, my)] = 1;
          }
        }
      }
    }
    const padded = padEdge(work, paddedW, paddedH);
    const tiles = ys.flatMap((ty) => xs.map((tx) => ({ tx, ty }))).filter(({ tx, ty }) => {
      for (let cy = ty / io.grid; cy < (ty + tile) / io.grid; cy++) for (let cx = tx / io.grid; cx < (tx + tile) / io.grid; cx++) if (hidden[cy * cellsX + cx]) return true;
      return false;
    });

    const session = await ctx.session();
    const sum = new Float32Array(paddedW * paddedH * 3);
    const weight = new Float32Array(paddedW * paddedH);
    const ramp = (i: number) => Math.min(1, Math.min(i + 1, tile - i) / Math.max(1, model.io.tile.overlap));
    const perCell = io.grid / io.patch;
    for (let n = 0; n < tiles.length; n++) {
      ctx.throwIfCancelled();
      ctx.progress({ stage: 'run', done: n, total: tiles.length, message: `Filling tile ${n + 1} / ${tiles.length}` });
      const { tx, ty } = tiles[n];
      const tokens = new Float32Array(io.tokens * io.tokens);
      for (let r = 0; r < io.tokens; r++) {
        for (let c = 0; c < io.tokens; c++) {
          const cell = (ty / io.grid + Math.floor(r / perCell)) * cellsX + tx / io.grid + Math.floor(c / perCell);
          tokens[r * io.tokens + c] = hidden[cell];
        }
      }
      const feeds = {
        [model.io.inputs[0].name]: rgbaToTensor(crop(padded, tx, ty, tile, tile), model.io.image),
        [io.name]: { dtype: 'float32' as const, dims: [1, io.tokens, io.tokens], data: tokens },
      };
      const out = await session.run(feeds, { signal: ctx.signal });
      const read = tensorReader(out[model.io.outputs[0].name], model.io.image);
      for (let y = 0; y < tile; y++) {
        const py = ty + y;
        for (let x = 0; x < tile; x++) {
          const px = tx + x;
          if (!hidden[Math.floor(py / io.grid) * cellsX + Math.floor(px / io.grid)]) continue;
          const w = ramp(x) * ramp(y);
          const at = py * paddedW + px;
          const i = y * tile + x;
          for (let c = 0; c < 3; c++) sum[at * 3 + c] += w * read(i, c);
          weight[at] += w;
        }
      }
    }
    ctx.throwIfCancelled();
    ctx.progress({ stage: 'run', done: tiles.length, total: tiles.length, message: 'Blending the fill' });

    // The fill at working scale (visible pixels keep the image, so scaling up blends cleanly at cell edges).
    const fillWork: RgbaImage = { width: plan.width, height: plan.height, data: work.data.slice() };
    for (let y = 0; y < plan.height; y++) {
      for (let x = 0; x < plan.width; x++) {
        const at = y * paddedW + x;
        if (!weight[at]) continue;
        for (let c = 0; c < 3; c++) fillWork.data[(y * plan.width + x) * 4 + c] = clampByte(sum[at * 3 + c] / weight[at]);
      }
    }
    const fill = plan.scale < 1 ? resizeBicubic(fillWork, plan.crop.width, plan.crop.height) : fillWork;
    const result = pasteFill(image, fill, plan, cropAmounts, (x, y) => hidden[cellAt(workX(x), workY(y))] === 1, feather);
    return { images: [result] };
  },
};

/**
 * The image with the fill blended in: weight = the mask's own amount (soft selections stay soft), raised by an
 * outward ramp of `feather` px; zero wherever the model filled nothing. Pixels with weight 0 are copied unchanged.
 */
function pasteFill(image: RgbaImage, fill: RgbaImage, plan: InpaintPlan, amounts: Float32Array, filled: (x: number, y: number) => boolean, feather: number): RgbaImage {
  const out: RgbaImage = { width: image.width, height: image.height, data: image.data.slice() };
  const { x: ox, y: oy, width: w, height: h } = plan.crop;
  let distance: Float32Array | null = null;
  if (feather > 0) {
    const inside = new Uint8Array(w * h);
    for (let i = 0; i < inside.length; i++) inside[i] = amounts[i] > 0 ? 1 : 0;
    distance = distanceFrom(inside, w, h);
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let a = amounts[i];
      if (distance && distance[i] > 0 && distance[i] <= feather) a = Math.max(a, 1 - distance[i] / (feather + 1));
      if (a <= 0 || !filled(x, y)) continue;
      const at = ((oy + y) * image.width + ox + x) * 4;
      for (let c = 0; c < 3; c++) out.data[at + c] = clampByte(image.data[at + c] * (1 - a) + fill.data[i * 4 + c] * a);
    }
  }
  return out;
}
