// How much one /infer request may ask of a model, from the model's own card: the body limit alone let one 12 MB
// UINT8 request of 2048×2048 drive the server to 9.9 GB. Frontier's clients cut images into tiles of the card's
// tile size (`io.tile.size`, also in the model's metadata as tile_size), so one request is one tile:
//
// - Positions: the dynamic dimensions of an input other than a dynamic first one (an image's height × width, a
//   renderer's rays) multiply to at most tile.size² (one tile: 128 × 128 = 16,384 pixels for esrgan-slim-x2).
// - Batch: a dynamic first dimension is the batch, at most MAX_BATCH (Frontier sends 1, or 2 for guidance).
// - Fixed dimensions are what the model says (checked with the shape).
// - Body: at most what the largest admitted request can take as JSON (BODY_BYTES_PER_ELEMENT per element, plus
//   HEADER_ALLOWANCE), so a request is refused before its body is buffered, not after.
// - Integer inputs stay in the range the card states: a text encoder's token ids (its tokenizer: CLIP's end token is
//   the last id of its vocabulary), a VQ-Diffusion transformer's content tokens (0..maskToken) and timestep
//   (0..steps−1).
// - An input dimension named like one of another input ("batch", "rays") has the same size there.
// Larger inputs get 413 with the limit and what to do (tile the image); other violations 400.
import type { ModelCard } from '../../worker/models/card.ts';
import { HttpError } from '../http-util.ts';
import type { TypedData } from './datatypes.ts';

export const MAX_BATCH = 4;
/** A JSON number with its separator and indentation, generously (pretty-printed float64 text is about 30 bytes). */
export const BODY_BYTES_PER_ELEMENT = 48;
export const HEADER_ALLOWANCE = 64 * 1024;

/** What the bounds need of a model input (sessions.ts TensorInfo). */
export interface BoundedInput {
  name: string;
  /** -1 marks a dynamic dimension. */
  shape: number[];
  /** The dimension names the graph or the card give (null where none). */
  symbols: (string | null)[];
}

export interface IntegerRange {
  min: number;
  max: number;
  /** What the values are, for messages ("token ids of its vocabulary"). */
  what: string;
}

export interface RequestBounds {
  tileSize: number;
  maxPositions: number;
  maxBatch: number;
  /** The largest body a request to this model needs, in bytes. */
  maxBodyBytes: number;
  /** Integer inputs with a range, by input name. */
  ranges: Map<string, IntegerRange>;
}

const count = (n: number) => n.toLocaleString('en-US');

/** Indices of the input's dynamic dimensions after the first (the positions); null when it has none. */
function positionDims(input: BoundedInput): number[] | null {
  const dims = input.shape.map((_, i) => i).filter((i) => i > 0 && input.shape[i] < 0);
  return dims.length ? dims : null;
}

/** The most elements one request can put in `input` under the bounds. */
function maxElements(input: BoundedInput, maxPositions: number): number {
  return input.shape.reduce((n, d, i) => {
    if (d >= 0) return n * d;
    if (i === 0) return n * MAX_BATCH;
    return n; // the positions, counted once below
  }, positionDims(input) ? maxPositions : 1);
}

function integerRanges(card: ModelCard): Map<string, IntegerRange> {
  const ranges = new Map<string, IntegerRange>();
  const inputs = card.io.inputs;
  const tokenizer = card.io.tokenizer as { endToken?: unknown } | undefined;
  if (tokenizer && Number.isSafeInteger(tokenizer.endToken) && inputs[0]?.dtype === 'int64') {
    ranges.set(inputs[0].name, { min: 0, max: tokenizer.endToken as number, what: 'token ids of its vocabulary' });
  }
  const diffusion = card.io.diffusion;
  if (diffusion) {
    // The order the text-to-image task feeds them: content tokens, timestep, text.
    if (inputs[0]?.dtype === 'int64') ranges.set(inputs[0].name, { min: 0, max: diffusion.maskToken, what: `content tokens (0..${diffusion.classes - 1}, ${diffusion.maskToken} = mask)` });
    if (inputs[1]?.dtype === 'int64') ranges.set(inputs[1].name, { min: 0, max: diffusion.steps - 1, what: `timesteps of its ${diffusion.steps}-step schedule` });
  }
  return ranges;
}

/**
 * Video models that run on whole frames (TTVSR's parts: tile size 0, io.video) take one frame's positions, padded:
 * a frame of up to 1920 × 1088 pixels (the video jobs' frame limit, rounded up to TTVSR's multiple of 4), or its
 * keyframe token maps (keyframes × H/4 × W/4, at most 16 keyframes at that size).
 */
export const WHOLE_FRAME_POSITIONS = 1920 * 1088;

export function requestBounds(card: ModelCard, inputs: BoundedInput[]): RequestBounds {
  const tileSize = card.io.tile.size;
  const wholeFrames = tileSize === 0 && 'video' in card.io;
  const maxPositions = wholeFrames ? WHOLE_FRAME_POSITIONS : tileSize * tileSize;
  const elements = inputs.reduce((n, input) => n + maxElements(input, maxPositions), 0);
  return { tileSize, maxPositions, maxBatch: MAX_BATCH, maxBodyBytes: HEADER_ALLOWANCE + elements * BODY_BYTES_PER_ELEMENT, ranges: integerRanges(card) };
}

/** 413 unless `shape` (already checked against the input's rank and fixed dims) is within the bounds. */
export function checkInputBounds(modelId: string, bounds: RequestBounds, input: BoundedInput, shape: number[], where: string): void {
  if (input.shape[0] < 0 && shape[0] > bounds.maxBatch) {
    throw new HttpError(413, `${where}: a batch of ${shape[0]} is more than ${modelId} takes in one request (${bounds.maxBatch}): send it in smaller batches.`);
  }
  const dims = positionDims(input);
  if (!dims) return;
  const positions = dims.reduce((n, i) => n * shape[i], 1);
  if (positions <= bounds.maxPositions) return;
  const names = dims.map((i) => input.symbols[i] ?? `dimension ${i}`).join(' × ');
  const sizes = dims.map((i) => shape[i]).join(' × ');
  const tile = `${bounds.tileSize} × ${bounds.tileSize}`;
  const what = dims.length === 2 ? `Split the image into tiles of at most ${tile} pixels` : `Split it into parts of at most ${count(bounds.maxPositions)}`;
  throw new HttpError(
    413,
    `${where}: ${names} is ${sizes} = ${count(positions)}, more than ${modelId} takes in one request: ${count(bounds.maxPositions)} (one ${tile} tile). ` +
      `${what} and send one request per tile (GET /v2/models/${modelId} gives tile_size and tile_overlap).`,
  );
}

/** 400 when an integer input holds a value outside the range its card states. */
export function checkIntegerRange(modelId: string, bounds: RequestBounds, name: string, data: TypedData, where: string): void {
  const range = bounds.ranges.get(name);
  if (!range || !(data instanceof BigInt64Array)) return;
  const min = BigInt(range.min);
  const max = BigInt(range.max);
  const i = data.findIndex((v) => v < min || v > max);
  if (i < 0) return;
  throw new HttpError(400, `${where}: element ${i} is ${data[i]}; ${modelId} takes ${range.what} there, ${range.min}..${range.max}.`);
}

/** 400 when a named dimension (e.g. "batch") has different sizes in different inputs. */
export function checkSharedDimensions(inputs: BoundedInput[], shapes: Map<string, number[]>): void {
  const seen = new Map<string, { input: string; size: number }>();
  for (const input of inputs) {
    const shape = shapes.get(input.name);
    if (!shape) continue;
    input.symbols.forEach((symbol, i) => {
      if (symbol === null || input.shape[i] >= 0) return;
      const first = seen.get(symbol);
      if (!first) seen.set(symbol, { input: input.name, size: shape[i] });
      else if (first.size !== shape[i]) {
        throw new HttpError(400, `Input ${input.name}: its "${symbol}" dimension is ${shape[i]} but input ${first.input} has ${first.size} there; the model needs the same size in every input with a "${symbol}" dimension.`);
      }
    });
  }
}

const tooLargeMessages = new WeakMap<RequestBounds, string>();

/** 413 for a body over the model's bound (readBody's message when the per-model limit is the smaller one). Made once
 * per loaded model: every request passes it to readBody. */
export function bodyTooLargeMessage(modelId: string, bounds: RequestBounds): string {
  let message = tooLargeMessages.get(bounds);
  if (message === undefined) {
    const mb = (bounds.maxBodyBytes / 2 ** 20).toFixed(1);
    message =
      `The request body is larger than ${modelId} can take in one request (${mb} MB: one ${bounds.tileSize} × ${bounds.tileSize} tile per request). ` +
      `Split the image into tiles of at most ${bounds.tileSize} × ${bounds.tileSize} pixels (GET /v2/models/${modelId} gives tile_size and tile_overlap) and send one request per tile.`;
    tooLargeMessages.set(bounds, message);
  }
  return message;
}
