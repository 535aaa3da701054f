// How long a run takes, learnt from the runs of this session: which model a set of choices ran (Automatic picks by
// quality and scale), and how many ms a run with that model took per pixel it processed on each target. An estimate
// exists only for a model and a target that have run here; before that, ui/cost-prior.ts gives a rough one from the
// benchmarks, which this one replaces.
import type { Params, ResolvedTarget } from '../worker/job.ts';
import { planTiles, takesAnySize } from '../worker/image/tiling.ts';
import type { ModelCard } from '../worker/models/card.ts';
import type { ParamSpec } from '../worker/tasks/task.ts';

export interface TileSpec {
  size: number;
  overlap: number;
  /** The model takes any input size: its tiles are only as large as they need to be (worker/image/tiling.ts). */
  anySize?: boolean;
  /**
   * Runs at once: the WASM pool's workers on this computer (default 1). The engine cuts a small image of an any-size
   * model into up to this many tiles (tiling.ts laneGrid), and the tiles run in waves of this many.
   */
  lanes?: number;
}

/** A card's tiles as the engine plans them: its tile size and overlap, and whether the model takes any size. */
export function tileSpecOf(card: Pick<ModelCard, 'io'>): TileSpec | undefined {
  return card.io.tile && { ...card.io.tile, anySize: takesAnySize(card.io) };
}

const planOf = (width: number, height: number, tile: TileSpec) => planTiles(Math.max(1, width), Math.max(1, height), tile.size, tile.overlap, tile.anySize, tile.lanes);

/** Pixels a tiled model processes for a w×h input: the tiles' areas, overlaps counted each time they run. */
export function workPixels(width: number, height: number, tile?: TileSpec): number {
  if (!tile || !(tile.size > tile.overlap)) return width * height;
  return planOf(width, height, tile).tiles.reduce((s, t) => s + t.width * t.height, 0);
}

/**
 * Pixels the run waits for: with `lanes` runs at once, the tiles go in waves of that many, each wave as long as its
 * largest tile (the engine's tiles are all one size). With one lane, workPixels.
 */
export function waitPixels(width: number, height: number, tile?: TileSpec): number {
  const lanes = Math.max(1, Math.floor(tile?.lanes ?? 1));
  if (!tile || lanes === 1 || !(tile.size > tile.overlap)) return workPixels(width, height, tile);
  const tiles = planOf(width, height, tile).tiles;
  return Math.ceil(tiles.length / lanes) * Math.max(...tiles.map((t) => t.width * t.height));
}

/**
 * The choices that decide which model Automatic runs and how much work it is: the task, the chosen model, and the
 * choice and on/off params (scale, quality, mode). Numbers (a seed, a slider) do not pick a model.
 */
export function choiceKey(task: string, model: string | undefined, params: Params, specs: ParamSpec[]): string {
  const picked = specs.filter((s) => s.type === 'choice' || s.type === 'boolean').map((s) => `${s.name}=${String(params[s.name] ?? s.default)}`);
  return [task, model || 'auto', ...picked].join('|');
}

export interface RunRecord {
  key: string;
  /** The model that ran (meta.model) and its tile spec. */
  model: string;
  tile?: TileSpec;
  target: ResolvedTarget;
  /** Input size of the item. */
  width: number;
  height: number;
  /** Time the item took, less downloading and loading the model (a repeat run does not pay those again). */
  ms: number;
}

export interface Estimate {
  target: ResolvedTarget;
  ms: number;
  /** A guess from the benchmarks (ui/cost-prior.ts), not a run measured here. */
  rough?: boolean;
}

export class CostBook {
  private readonly models = new Map<string, { model: string; tile?: TileSpec }>();
  private readonly rates = new Map<string, number>();

  record(run: RunRecord): void {
    const pixels = workPixels(run.width, run.height, run.tile);
    if (!(pixels > 0) || !(run.ms > 0)) return;
    this.models.set(run.key, { model: run.model, tile: run.tile });
    this.rates.set(`${run.model}|${run.target}`, run.ms / pixels);
  }

  /** Estimated model time for these items on each target it has run on here, for the choices `key`. */
  estimates(key: string, items: { width: number; height: number }[]): Estimate[] {
    const known = this.models.get(key);
    if (!known || !items.length) return [];
    const out: Estimate[] = [];
    for (const [id, perPixel] of this.rates) {
      const [model, target] = id.split('|') as [string, ResolvedTarget];
      if (model !== known.model) continue;
      out.push({ target, ms: items.reduce((sum, it) => sum + workPixels(it.width, it.height, known.tile) * perPixel, 0) });
    }
    return out;
  }
}
