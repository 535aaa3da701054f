// What the generation bench runs, shared by the Node child (onnxruntime-node) and the browser worker
// (onnxruntime-web): the inputs are made as the tasks make them (worker/tasks/generate.ts, rotate-view.ts).
import { latentFromSeed } from '../../worker/latent.ts';
import { cameraRays, type Tile } from '../../worker/render/camera.ts';
import type { Tensor } from '../../worker/runtime/runtime.ts';
import { runLoop, type BenchSession, type RunTimes } from '../common/run-loop.ts';
import type { ModelCard } from '../../worker/models/card.ts';

export type Family = 'styleswin' | 'gram';

export const SEED = 1;
export const TRUNCATION = 0.7;

/** GRAM's frame and tiles as rotate-view renders them at Size 256. */
export interface GramFrame {
  size: number;
  tile: number;
  fovDeg: number;
  yaw: number;
  pitch: number;
}

/** One model on one target. Serialisable: it travels to the Node child as JSON and into the page. */
export interface RunSpec {
  family: Family;
  card: ModelCard;
  /** A file path (Node) or URL (browser). */
  model: string;
  /** Timed runs after one untimed warm-up run; 0 = no warm-up and no timing (a WebGPU correctness run). */
  timedRuns: number;
  /** GRAM: the frame whose tiles are timed (warm-up on tile 0, run i on tile i + 1). */
  frame?: GramFrame;
  /** GRAM: the small ray set every target also renders, to compare outputs (StyleSwin compares its image). */
  checkTile?: Tile;
  /** How many times to run the check input (WebGPU: the first includes shader compilation). */
  checkRuns: number;
}

export interface RunResult extends RunTimes {
  /** Outputs of the check input, by output name. */
  check: Record<string, Float32Array>;
}

export function gramTiles(frame: GramFrame): Tile[] {
  const tiles: Tile[] = [];
  for (let y = 0; y < frame.size; y += frame.tile) {
    for (let x = 0; x < frame.size; x += frame.tile) tiles.push({ x, y, width: frame.tile, height: frame.tile });
  }
  return tiles;
}

function f32(data: Float32Array, dims: number[]): Tensor {
  return { dtype: 'float32', dims, data };
}

export function styleswinFeeds(card: ModelCard): Record<string, Tensor> {
  const z = latentFromSeed(SEED, card.io.latent!.size);
  return { [card.io.latent!.name]: f32(z, [1, z.length]), truncation: f32(Float32Array.of(TRUNCATION), [1]) };
}

export function gramFeeds(card: ModelCard, frame: GramFrame, tile: Tile): Record<string, Tensor> {
  const z = latentFromSeed(SEED, card.io.latent!.size);
  const rays = cameraRays({ yaw: frame.yaw, pitch: frame.pitch }, frame.fovDeg, frame.size, tile);
  return {
    [card.io.latent!.name]: f32(z, [1, z.length]),
    truncation: f32(Float32Array.of(TRUNCATION), [1]),
    ray_origins: f32(rays.origins, [1, rays.count, 3]),
    ray_directions: f32(rays.directions, [1, rays.count, 3]),
  };
}

/** Warm-up, timed runs and check runs of `spec` on an open session; `cpuNow` = the process's CPU time in ms. */
export async function runSpec(spec: RunSpec, session: BenchSession, log: (line: string) => void = () => {}, cpuNow?: () => number): Promise<Omit<RunResult, 'sessionMs'>> {
  const { timedRuns, checkRuns } = spec;
  let loop;
  if (spec.family === 'styleswin') {
    const feeds = styleswinFeeds(spec.card);
    loop = await runLoop(session, { timedRuns, checkRuns, warmup: () => feeds, timed: () => feeds, check: () => feeds }, log, cpuNow);
  } else {
    const frame = spec.frame!;
    const tiles = gramTiles(frame);
    loop = await runLoop(session, {
      timedRuns,
      checkRuns,
      unit: 'tile',
      warmup: () => gramFeeds(spec.card, frame, tiles[0]),
      timed: (i) => gramFeeds(spec.card, frame, tiles[(i + 1) % tiles.length]),
      check: () => gramFeeds(spec.card, frame, spec.checkTile!),
    }, log, cpuNow);
  }
  const { lastTimed, lastCheck, ...times } = loop;
  // StyleSwin's timed input is its check input; GRAM checks a patch of its own.
  const out = lastCheck ?? (spec.family === 'styleswin' ? lastTimed : undefined) ?? {};
  const check = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Float32Array.from(v.data as Float32Array)]));
  return { ...times, check };
}
