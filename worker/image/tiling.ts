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
 * `count` asks an any-size model for more spans than the fewest (laneGrid chooses it); fewer are never made.
 * A graph of fixed size (MAXIM) keeps spans of exactly `tile`, as many as it needs.
 */
export function planSpans(length: number, tile: number, overlap: number, anySize = false, count?: number): Span[] {
  if (!(tile > overlap && overlap >= 0)) throw new Error(`tile (${tile}) must be larger than overlap (${overlap})`);
  const fewest = spanCount(length, tile, overlap);
  const n = anySize && count !== undefined && count > fewest ? Math.floor(count) : fewest;
  if (n === 1) return [{ start: 0, end: length }];
  // Starts spread by (length − size) / (n − 1) ≤ size − overlap, rounded: the overlap never falls below `overlap`.
  const size = anySize ? Math.min(tile, fittedSide(length, n, overlap)) : tile;
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const start = Math.round((i * (length - size)) / (n - 1));
    spans.push({ start, end: start + size });
  }
  return spans;
}

/** The fewest spans of at most `tile` that cover `length` overlapping by `overlap`. */
const spanCount = (length: number, tile: number, overlap: number) => (length <= tile ? 1 : Math.ceil((length - overlap) / (tile - overlap)));
/** The side of `count` equal spans that cover `length` overlapping by `overlap`. */
const fittedSide = (length: number, count: number, overlap: number) => (count <= 1 ? length : Math.ceil((length + (count - 1) * overlap) / count));

/**
 * The smallest side, in overlaps, that laneGrid cuts a tile down to for more lanes. ESRGAN's run time is linear in
 * the pixels it computes down to 64² (bench/results/peer.md: slim 24 µs per pixel at 64² and at 128², thick 540 µs
 * at 64² and 529 µs in 72-px tiles), so a cut pays by pixels alone. With tiles at least 2.5 overlaps wide (40 px for
 * ESRGAN's 16) the pixels computed grow at most 1.8× within MAX_WORKERS = 8 lanes (64² in 1 × 2 tiles: 1.25×; in
 * 2 × 2: 1.56×; the worst, 2 × 4 tiles all at the floor: 1.79×), while the slowest tile, which is what the designer
 * waits for when each lane has a core, is 1.6× (2 lanes) to 2.6–5.2× (8 lanes) smaller than the whole image. 2.5 is
 * the least that still cuts a 64² icon in two; 2 overlaps would let thin tiles compute up to 2.1× the pixels, 3 would
 * leave 64² uncut.
 */
export const MIN_CUT_OVERLAPS = 2.5;
/** The least side in pixels for a model with a small or no overlap: below this a run's fixed costs start to count. */
export const MIN_CUT_PX = 32;
/** The smallest tile side a cut for more lanes may make (see MIN_CUT_OVERLAPS). */
export const minCutSide = (overlap: number): number => Math.max(MIN_CUT_PX, Math.ceil(MIN_CUT_OVERLAPS * overlap));

/** How many spans across (cols) and down (rows) a tiled run uses. */
export interface Grid {
  cols: number;
  rows: number;
}

/**
 * How many tiles across and down for `lanes` runs at once (the workers of a pool). A model of fixed size, one lane,
 * or an image already cut into at least `lanes` tiles keeps the fewest tiles (planSpans). Otherwise an any-size
 * model's image is cut into more, at most `lanes` (one wave: every tile runs at once), none narrower than
 * minCutSide(overlap) on an axis that is cut further: of those grids (1 × n, n × 1 or a × b), the one whose tile is
 * smallest, which is the one that computes the fewest pixels for its count, and what the designer waits for. Ties go
 * to fewer pixels in all, then to fewer tiles. Usually that is `lanes` tiles (2 → 1 × 2, 4 → 2 × 2, 8 → 2 × 4 for a
 * square); where the floor stops it short, fewer (thick ×4's 64² icon on 8 lanes: 2 × 2 of 40 px).
 */
export function laneGrid(width: number, height: number, tile: number, overlap: number, anySize: boolean, lanes = 1): Grid {
  const fewest = { cols: spanCount(width, tile, overlap), rows: spanCount(height, tile, overlap) };
  if (!anySize || !(lanes > fewest.cols * fewest.rows)) return fewest;
  const floor = minCutSide(overlap);
  const side = (length: number, count: number, least: number) => (count === least ? Math.min(tile, fittedSide(length, count, overlap)) : fittedSide(length, count, overlap));
  let best = { ...fewest, tilePx: side(width, fewest.cols, fewest.cols) * side(height, fewest.rows, fewest.rows), allPx: 0 };
  best.allPx = best.tilePx * best.cols * best.rows;
  for (let cols = fewest.cols; cols * fewest.rows <= lanes; cols++) {
    const w = side(width, cols, fewest.cols);
    if (cols > fewest.cols && w < floor) break;
    for (let rows = fewest.rows; cols * rows <= lanes; rows++) {
      const h = side(height, rows, fewest.rows);
      if (rows > fewest.rows && h < floor) break;
      const tilePx = w * h;
      const allPx = tilePx * cols * rows;
      if (tilePx < best.tilePx || (tilePx === best.tilePx && allPx < best.allPx)) best = { cols, rows, tilePx, allPx };
    }
  }
  return { cols: best.cols, rows: best.rows };
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

/**
 * The tiles of a `width`×`height` image, row by row. `lanes` (default 1: today's fewest tiles) is how many runs go at
 * once: an any-size model's image with fewer tiles than lanes is cut into more (laneGrid). Note what that means for a
 * pool of n workers: a small image it used to run whole on one worker is now n tiles (up to n), so its result differs
 * from one worker's uncut result by the blending of those tiles (the seam agreement: ESRGAN tiles against one whole
 * call, test/node/engine.test.ts, test/e2e/wasm-pool.test.ts), while the pool still gives one worker's bytes exactly
 * for the same tiles (same lanes).
 */
export function planTiles(width: number, height: number, tile: number, overlap: number, anySize = false, lanes = 1): TilePlan {
  const grid = laneGrid(width, height, tile, overlap, anySize, lanes);
  const xs = planSpans(width, tile, overlap, anySize, grid.cols);
  const ys = planSpans(height, tile, overlap, anySize, grid.rows);
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
  /**
   * Runs that can go at once (a pool's workers): an any-size model's image with fewer tiles than this is cut into up
   * to this many (planTiles, laneGrid). Default 1: the fewest tiles. Tasks pass the session's concurrency.
   */
  lanes?: number;
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
  const plan = planTiles(img.width, img.height, opts.tile, opts.overlap, opts.anySize, opts.lanes);
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
