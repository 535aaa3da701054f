// Tiled inference with overlap and seamless blending, in bounded memory.
// Tiles overlap by at least `overlap` input pixels. In each overlap the output of neighbouring tiles is
// cross-faded with linear ramps; weights are normalised per axis, so the 2-D weights of all tiles covering
// a pixel sum to exactly 1 (no seams, no brightness steps). Output rows are accumulated in floats only
// while a tile row can still touch them, then written out as bytes: memory is a few tile rows, not the image.
import type { RgbaImage } from '../job.ts';
import { clampByte } from './tensor.ts';
import { createRgba, crop, hasTransparency, resizeChannelBilinear } from './rgba.ts';

export interface Span {
  start: number;
  end: number; // exclusive
}

/**
 * Splits [0, length) into spans of at most `tile` with overlaps of at least `overlap`, spread evenly. A model that
 * takes any input size (`anySize`) gets the fewest spans of `tile` at most, each only as long as they need to be to
 * cover the length with that overlap: a 128-px side in 96-px tiles is two spans of 72 px, not two of 96 (their
 * overlap grew to 64 px: 1.5× the pixels per side, 2.25× per image, measured against UpscalerJS by bench:peer).
 * A graph of fixed size (MAXIM) keeps spans of exactly `tile`.
 */
export function planSpans(length: number, tile: number, overlap: number, anySize = false): Span[] {
  if (!(tile > overlap && overlap >= 0)) throw new Error(`tile (${tile}) must be larger than overlap (${overlap})`);
  if (length <= tile) return [{ start: 0, end: length }];
  const count = Math.ceil((length - overlap) / (tile - overlap));
  // Starts spread by (length − size) / (count − 1) ≤ size − overlap, rounded: the overlap never falls below `overlap`.
  const size = anySize ? Math.min(tile, Math.ceil((length + (count - 1) * overlap) / count)) : tile;
  const spans: Span[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.round((i * (length - size)) / (count - 1));
    spans.push({ start, end: start + size });
  }
  return spans;
}

/** Whether a model's image input takes any height and width (symbolic dimensions), so its tiles may be smaller. */
export function takesAnySize(io: { inputs: { shape: (number | string)[] }[] }): boolean {
  const shape = io.inputs[0]?.shape ?? [];
  return shape.length === 4 && shape.slice(1).some((d) => typeof d === 'string');
}

/**
 * Per-span blending weights along one axis, in output pixels (input × scale): a ramp of `ramp` output pixels
 * on each inner edge, flat 1 elsewhere, then normalised so the spans covering any position sum to 1.
 */
export function spanWeights(spans: Span[], scale: number, ramp: number): Float32Array[] {
  const length = spans[spans.length - 1].end * scale;
  const raw = spans.map((s, i) => {
    const w = new Float32Array((s.end - s.start) * scale);
    for (let k = 0; k < w.length; k++) {
      const rampIn = i > 0 ? (k + 0.5) / ramp : 1;
      const rampOut = i < spans.length - 1 ? (w.length - k - 0.5) / ramp : 1;
      w[k] = Math.max(1e-3, Math.min(1, rampIn, rampOut));
    }
    return w;
  });
  const sum = new Float32Array(length);
  spans.forEach((s, i) => raw[i].forEach((v, k) => (sum[s.start * scale + k] += v)));
  spans.forEach((s, i) => raw[i].forEach((v, k) => (raw[i][k] = v / sum[s.start * scale + k])));
  return raw;
}

export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
  row: number;
  col: number;
}

export interface TilePlan {
  xs: Span[];
  ys: Span[];
  tiles: Tile[];
}

export function planTiles(width: number, height: number, tile: number, overlap: number, anySize = false): TilePlan {
  const xs = planSpans(width, tile, overlap, anySize);
  const ys = planSpans(height, tile, overlap, anySize);
  const tiles: Tile[] = [];
  ys.forEach((y, row) =>
    xs.forEach((x, col) => tiles.push({ x: x.start, y: y.start, width: x.end - x.start, height: y.end - y.start, row, col })),
  );
  return { xs, ys, tiles };
}

/** A model's output for one tile: size and a reader of channel c at pixel index i on the 0..255 scale (float). */
export interface TileOutput {
  width: number;
  height: number;
  read(i: number, c: number): number;
}

export interface TiledRunOptions {
  tile: number;
  overlap: number;
  /** The model takes any input size: tiles only as large as covering the image needs (planSpans). */
  anySize?: boolean;
  scale: number;
  /**
   * Called once per tile, in tile order; throw to stop (e.g. on cancel). Up to `concurrency` calls are in flight at
   * once, so it must not assume the previous tile has finished.
   */
  infer(tile: RgbaImage, index: number, total: number): Promise<TileOutput>;
  /**
   * How many `infer` calls may be in flight at once (default 1: one after another). The result is the same bytes
   * whatever the order tiles finish in: tiles are blended in tile order, a finished tile waiting for those before it.
   */
  concurrency?: number;
  /**
   * Finished tiles: called with 0 before the first tile starts, then each time a tile's `infer` finishes while
   * tiles remain (1 … total − 1), once per count. Tasks report "tile finished + 1 / total" from it.
   */
  progress?(finished: number, total: number): void;
}

/**
 * Runs `infer` over tiles of `img` and blends the results into one image `scale` times larger. With `concurrency`
 * above 1, several tiles are inferred at once (a session that runs on several workers); at most 2 × concurrency
 * tiles are started ahead of the first one not yet blended, so memory stays a few tiles and rows. On the first error
 * no further tile starts, the ones in flight are waited for, and the error is thrown.
 */
export async function runTiled(img: RgbaImage, opts: TiledRunOptions): Promise<RgbaImage> {
  const { scale } = opts;
  const plan = planTiles(img.width, img.height, opts.tile, opts.overlap, opts.anySize);
  const total = plan.tiles.length;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  const ahead = 2 * concurrency;
  const ramp = Math.max(1, opts.overlap * scale);
  const wx = spanWeights(plan.xs, scale, ramp);
  const wy = spanWeights(plan.ys, scale, ramp);
  const out = createRgba(img.width * scale, img.height * scale);
  const rows = new Map<number, Float32Array>(); // output row → RGB accumulators
  let flushedTo = 0;

  const flushRowsBelow = (limit: number) => {
    for (let y = flushedTo; y < limit; y++) {
      const acc = rows.get(y);
      if (!acc) throw new Error(`tiling: output row ${y} was never written`);
      for (let x = 0; x < out.width; x++) {
        for (let c = 0; c < 3; c++) out.data[(y * out.width + x) * 4 + c] = clampByte(acc[x * 3 + c]);
        out.data[(y * out.width + x) * 4 + 3] = 255;
      }
      rows.delete(y);
    }
    flushedTo = Math.max(flushedTo, limit);
  };

  const blend = (t: Tile, result: TileOutput) => {
    const ox = t.x * scale;
    const oy = t.y * scale;
    const wCol = wx[t.col];
    const wRow = wy[t.row];
    for (let y = 0; y < result.height; y++) {
      let acc = rows.get(oy + y);
      if (!acc) rows.set(oy + y, (acc = new Float32Array(out.width * 3)));
      for (let x = 0; x < result.width; x++) {
        const w = wRow[y] * wCol[x];
        const i = y * result.width + x;
        const a = (ox + x) * 3;
        acc[a] += w * result.read(i, 0);
        acc[a + 1] += w * result.read(i, 1);
        acc[a + 2] += w * result.read(i, 2);
      }
    }
    const rowDone = t.col === plan.xs.length - 1;
    if (rowDone) {
      const nextRow = plan.ys[t.row + 1];
      flushRowsBelow(nextRow ? nextRow.start * scale : out.height);
    }
  };

  const finishedTiles = new Map<number, TileOutput>(); // inferred, waiting for the tiles before them to be blended
  const inFlight = new Map<number, Promise<void>>();
  let failure: { error: unknown } | undefined;
  let started = 0;
  let finished = 0;
  let blended = 0;

  const start = (index: number) => {
    const t = plan.tiles[index];
    const work = (async () => {
      const result = await opts.infer(crop(img, t.x, t.y, t.width, t.height), index, total);
      if (result.width !== t.width * scale || result.height !== t.height * scale) {
        throw new Error(`the model returned ${result.width}×${result.height} for a ${t.width}×${t.height} tile; expected ×${scale}`);
      }
      finishedTiles.set(index, result);
      finished++;
      if (!failure && finished < total) opts.progress?.(finished, total);
    })()
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(index));
    inFlight.set(index, work);
  };

  opts.progress?.(0, total);
  while (blended < total) {
    while (!failure && started < total && inFlight.size < concurrency && started < blended + ahead) start(started++);
    if (failure) break;
    // Blend in tile order only: the float sums, and so the bytes, are those of one tile after another.
    for (let result = finishedTiles.get(blended); result; result = finishedTiles.get(blended)) {
      finishedTiles.delete(blended);
      blend(plan.tiles[blended++], result);
    }
    if (blended < total && inFlight.size) await Promise.race(inFlight.values());
  }
  if (failure) {
    await Promise.all(inFlight.values());
    throw failure.error;
  }
  if (hasTransparency(img)) resizeChannelBilinear(img, out, 3);
  return out;
}
