// A time hint before the first run: how long a model takes, from the project's own benchmark runs (bench/results/),
// until a run in this session measures it here (ui/cost.ts: a measured time always wins). It is a rough guess, and the
// words say so: the figures come from one modest machine (2 shared CPU cores, no GPU; see each figure's file), not
// from the designer's. Only models and places that were timed get one: nothing for a graphics card (the benchmarks'
// WebGPU ran on a software GPU, which says nothing about a real one), test models, or models never benchmarked.
import type { Params, ResolvedTarget } from '../worker/job.ts';
import type { ModelCard } from '../worker/models/card.ts';
import type { ParamSpec } from '../worker/tasks/task.ts';
import { formatEstimate, placeName } from './format.ts';
import { choiceKey, tileSpecOf, waitPixels, workPixels, type Estimate, type TileSpec } from './cost.ts';
import { browserMachine, planPool } from '../worker/runtime/pool-size.ts';
import type { MachineInfo } from '../worker/runtime/registry.ts';

/** One benchmark figure: `ms` for a whole run on a `width`×`height` input, tiled as the card was then. */
interface Timed {
  ms: number;
  width: number;
  height: number;
  tile: TileSpec;
}

/** Per place: this computer's processor (WASM with 1 or 2 threads), onnxruntime-node here, a Frontier server. */
interface Timings {
  wasm1: Timed;
  wasm2?: Timed;
  node: Timed;
  server: Timed;
}

const ESRGAN_SLIM_TILE = { size: 128, overlap: 16 };
const ESRGAN_THICK_TILE = { size: 96, overlap: 16 };
const MAXIM_TILE = { size: 128, overlap: 32 };

// bench/results/upscale.md (2026-11-28, `npm run bench`; 2× Intel Xeon, no GPU): the upscale task end to end, median
// after a warm-up (no download, no session creation). onnxruntime-node used 2 threads; the server row is that figure
// (a Frontier server runs onnxruntime-node: bench/results/server.md measured its /infer overhead at 1.3× on a 64² input,
// less on larger ones). Only ×4 was timed: the ×2 and ×3 models share its body with less upsampling, so its figure
// stands for them as an upper bound.
const SLIM_X4: Timings = {
  wasm1: { ms: 16192, width: 512, height: 512, tile: ESRGAN_SLIM_TILE },
  wasm2: { ms: 7798, width: 512, height: 512, tile: ESRGAN_SLIM_TILE },
  node: { ms: 3603, width: 512, height: 512, tile: ESRGAN_SLIM_TILE },
  server: { ms: 3603, width: 512, height: 512, tile: ESRGAN_SLIM_TILE },
};
const THICK_X4: Timings = {
  wasm1: { ms: 25611, width: 128, height: 128, tile: ESRGAN_THICK_TILE },
  wasm2: { ms: 12460, width: 128, height: 128, tile: ESRGAN_THICK_TILE },
  node: { ms: 2493, width: 128, height: 128, tile: ESRGAN_THICK_TILE },
  server: { ms: 2493, width: 128, height: 128, tile: ESRGAN_THICK_TILE },
};
/** Weight bytes (models/registry.json) of the ×4 models: ESRGAN medium was not timed, so it is placed between slim
 *  and thick by its size, on the power law through their two measured rates (a rough middle, as the words say). */
const ESRGAN_BYTES = { slim: 937_272, medium: 2_826_308, thick: 29_099_582 };

// bench/results/restore-rerun-128.md (2026-12-05, `RESTORE_PHASES=convert,speed RESTORE_SIZES=128 npm run
// bench:restore`; 2× AMD EPYC, no GPU): maxim-denoise, one 128² tile, wall-clock medians: WASM 1 thread 4379 ms,
// onnxruntime-node 1 thread 1565 ms, the Frontier server through the Open Inference Protocol 1645 ms. WASM with 2
// threads was slower there (7102 ms: the bench shared its cores), so this computer's figure is the 1-thread one.
const MAXIM_DENOISE: Timings = {
  wasm1: { ms: 4379, width: 128, height: 128, tile: MAXIM_TILE },
  node: { ms: 1565, width: 128, height: 128, tile: MAXIM_TILE },
  server: { ms: 1645, width: 128, height: 128, tile: MAXIM_TILE },
};
// bench/results/restore-quality.md (2026-12-05, onnxruntime-node): each fix's run on the same two 320² photos (coffee,
// rocket; 9 tiles, plus one whole-picture run for the harmonised fixes), in seconds. Their ratio to denoise scales
// the denoise tile above: the 2-stage graphs (rain, haze, light, retouch) are ≈ 0.7 of the 3-stage ones.
const MAXIM_RUN_S: Record<string, [number, number]> = {
  denoise: [12.4, 11.6], // σ 25
  deblur: [13.9, 11.4],
  derain: [8.6, 7.4],
  'dehaze-outdoor': [12.0, 8.2],
  'dehaze-indoor': [12.1, 8.1],
  'low-light': [8.6, 8.2],
  retouch: [8.6, 8.2],
};

type Place = keyof Timings;

/** Milliseconds per pixel the model processes (tiles with their overlaps) for a figure. */
const rateOf = (t: Timed) => t.ms / workPixels(t.width, t.height, t.tile);

function esrganRate(family: string, place: Place): number | undefined {
  const slim = SLIM_X4[place];
  const thick = THICK_X4[place];
  if (!slim || !thick) return undefined;
  if (family === 'slim') return rateOf(slim);
  if (family === 'thick') return rateOf(thick);
  if (family !== 'medium') return undefined;
  const exponent = Math.log(rateOf(thick) / rateOf(slim)) / Math.log(ESRGAN_BYTES.thick / ESRGAN_BYTES.slim);
  return rateOf(slim) * (ESRGAN_BYTES.medium / ESRGAN_BYTES.slim) ** exponent;
}

function maximRate(mode: string, place: Place): number | undefined {
  const base = MAXIM_DENOISE[place];
  const runs = MAXIM_RUN_S[mode];
  if (!base || !runs) return undefined;
  const mean = (xs: [number, number]) => (xs[0] + xs[1]) / 2;
  return (rateOf(base) * mean(runs)) / mean(MAXIM_RUN_S.denoise);
}

/** ms per processed pixel for a benchmarked model on a place, or undefined when it was not timed there. */
export function priorRate(model: string, target: ResolvedTarget, threads = 1): number | undefined {
  if (target === 'webgpu') return undefined;
  const place: Place = target === 'wasm' ? (threads >= 2 ? 'wasm2' : 'wasm1') : target;
  const esrgan = /^esrgan-(slim|medium|thick)-x[234]$/.exec(model);
  if (esrgan) return esrganRate(esrgan[1], place) ?? (place === 'wasm2' ? esrganRate(esrgan[1], 'wasm1') : undefined);
  const maxim = /^maxim-(.+)$/.exec(model);
  if (maxim) return maximRate(maxim[1], place) ?? (place === 'wasm2' ? maximRate(maxim[1], 'wasm1') : undefined);
  return undefined;
}

/** The rough run time of `model` for these items on `target` (tiled as `opts.tile` says, per item where it is a
 *  function), when it was benchmarked. The rate is per processed pixel, so larger tiles count their larger overlaps;
 *  where the tiles run on several workers at once (TileSpec.lanes), the time is the waves of tiles (waitPixels): each
 *  worker computes at the one-thread rate, as it does with a core to itself (bench/results/pool.md). */
export function priorEstimate(model: string, target: ResolvedTarget, items: { width: number; height: number }[], opts: { tile?: TileSpec | ((item: { width: number; height: number }) => TileSpec | undefined); threads?: number } = {}): Estimate | undefined {
  const rate = priorRate(model, target, opts.threads);
  if (rate === undefined || !items.length) return undefined;
  const tileOf = typeof opts.tile === 'function' ? opts.tile : () => opts.tile as TileSpec | undefined;
  return { target, ms: items.reduce((sum, it) => sum + waitPixels(it.width, it.height, tileOf(it)) * rate, 0), rough: true };
}

/** This computer as the UI sees it: onnxruntime-web's WASM threads (caps.wasm.threads) and its cores and memory. */
export interface Computer {
  threads?: number;
  machine?: MachineInfo;
}

/**
 * How many workers the WASM pool runs `card` on here (1 where it does not take it: a cross-origin isolated page with
 * threads, one core, a model too large to copy per core), by the pool's own rule (worker/runtime/pool-size.ts).
 */
export function poolWorkers(card: ModelCard, computer: Computer = {}): number {
  const threads = computer.threads ?? 1;
  const machine = computer.machine ?? browserMachine();
  const caps = { webgpu: { available: false, detail: '' }, wasm: { available: true, threads, crossOriginIsolated: threads > 1, detail: '' }, machine };
  const plan = planPool(card, caps);
  return plan.ok ? plan.workers : 1;
}

/**
 * The tiles a run of `card` uses for `item` on `target`, as the restore task picks them (worker/tasks/restore.ts
 * buildFor): in Node and on the server its larger-tile build's (256 px with a 64-px overlap: 2.25× a 512² photo's
 * pixels against 1.56× for 128-px tiles, which is why bench:restore-tiling timed them 1.3–1.5× slower) when the item
 * does not fit one of the card's own tiles and the build is among `cards`; else the card's own. On this computer
 * (WASM) with the worker pool, as many lanes as the pool has workers: the engine cuts a small image into that many
 * tiles (upscale) and runs the tiles in waves of that many (upscale and restore).
 */
export function tileFor(card: ModelCard, target: ResolvedTarget, item: { width: number; height: number }, cards: ModelCard[], computer: Computer = {}): TileSpec | undefined {
  const own = tileSpecOf(card);
  if (target === 'wasm') {
    const lanes = own ? poolWorkers(card, computer) : 1;
    return own && lanes > 1 ? { ...own, lanes } : own;
  }
  const fitsOneTile = !own || (item.width <= own.size && item.height <= own.size);
  if (!card.largeTiles || fitsOneTile || (target !== 'node' && target !== 'server')) return own;
  const large = cards.find((c) => c.id === card.largeTiles);
  return large?.targets.includes(target) ? (tileSpecOf(large) ?? own) : own;
}

/**
 * Which model Automatic would run, as the engine answers it (EngineApi.defaultModelFor: the task's own rule stays
 * with the task code, which the UI does not bundle), asked once per task and choice params (ui/cost.ts choiceKey: a
 * seed or a slider does not pick a model). `get` answers from what it knows and asks the engine for the rest;
 * `answered` is called when a new answer comes, so the UI draws again. Make a new one when the engine or its model
 * list changes (an installed model can change the pick).
 */
export class AutomaticModels {
  /** Per choice key: the model id; null while asked, when none is installed, or when the engine could not say. */
  private readonly known = new Map<string, string | null>();

  constructor(
    private readonly ask: (task: string, params: Params) => Promise<string | undefined>,
    private readonly answered: () => void,
  ) {}

  /** The model Automatic runs for these choices, once the engine has said; undefined until then, or when none. */
  get(task: string, params: Params, specs: ParamSpec[]): string | undefined {
    const key = choiceKey(task, undefined, params, specs);
    if (!this.known.has(key)) {
      this.known.set(key, null);
      // Only the params the key names: the answer stands for every params with this key.
      const choices = Object.fromEntries(specs.filter((s) => s.type === 'choice' || s.type === 'boolean').map((s) => [s.name, params[s.name] ?? s.default]));
      this.ask(task, choices).then(
        (id) => {
          if (!id) return;
          this.known.set(key, id);
          this.answered();
        },
        () => undefined, // no hint for these choices: the run itself says what went wrong
      );
    }
    return this.known.get(key) ?? undefined;
  }
}

/**
 * The model a run with these choices would use: the chosen one, else `automatic` (what Automatic picks, from
 * AutomaticModels), when it is available and a real model (a test model's time says nothing). Undefined when that
 * cannot be told here.
 */
export function expectedModel(chosen: string | undefined, automatic: string | undefined, available: ModelCard[]): ModelCard | undefined {
  const id = chosen || automatic;
  const card = id ? available.find((m) => m.id === id) : undefined;
  return card && card.variant !== 'tiny' ? card : undefined;
}

/** "about 3 min", "a few seconds": a rough estimate, rounded as far as a guess from another machine deserves. */
export function formatRough(ms: number): string {
  if (ms < 5_000) return 'a few seconds';
  if (ms < 55_000) return `about ${Math.max(10, Math.round(ms / 10_000) * 10)} s`;
  if (ms < 90_000) return 'about 1 min';
  if (ms < 55 * 60_000) return `about ${Math.round(ms / 60_000)} min`;
  return `about ${Math.max(1, Math.round(ms / 3_600_000))} h`;
}

export interface TimeHint {
  line: string;
  /** The line leads with the rough prior: the current place has not run these choices here yet. */
  rough: boolean;
  /** The line as a sentence of its own (above Run): capitalised, the rough part labelled as such. */
  sentence: string;
}

/**
 * "≈ 3 min on this computer · ≈ 20 s on the server": measured estimates of the places that ran these choices here,
 * the current place first; when the current place has not run them yet, its rough prior leads ("about 5 min on this
 * computer"). Undefined when there is neither.
 */
export function timeHint(measured: Estimate[], current: ResolvedTarget | undefined, prior?: Estimate): TimeHint | undefined {
  const remote = (t: ResolvedTarget) => (t === 'server' ? 1 : 0);
  const sorted = [...measured].sort((a, b) => Number(b.target === current) - Number(a.target === current) || remote(a.target) - remote(b.target));
  const rough = !!prior && !measured.some((e) => e.target === prior.target);
  if (prior && rough) sorted.unshift(prior);
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const e of sorted) {
    const where = placeName(e.target);
    if (seen.has(where)) continue;
    seen.add(where);
    parts.push(`${e.rough ? formatRough(e.ms) : formatEstimate(e.ms)} on ${where}`);
  }
  if (!parts.length) return undefined;
  const sentence = [`${parts[0].charAt(0).toUpperCase()}${parts[0].slice(1)}${rough ? ' (rough estimate)' : ''}`, ...parts.slice(1)].join(' · ');
  return { line: parts.join(' · '), rough, sentence };
}

/** Said once under rough hints. */
export const ROUGH_NOTE = 'Rough: timed on a modest 2-core computer; a run here gives real times.';
