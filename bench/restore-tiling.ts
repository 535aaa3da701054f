// `npm run bench:restore-tiling [-- --modes denoise,derain,dehaze-outdoor] [--keep DIR] [--report-only]`: does the
// restore task's tiling (MAXIM tiles of 256 px with a 64-px overlap in Node and on the server, 128 px with 32 in the
// browser; linear cross-fades; plus, for the fixes whose tone depends on the whole picture, one whole-picture run at
// tile size) give what ONE call of the same model on the whole 512×512 photo gives? The issue asks for "the tiled result must match a one-call run of the same image within a
// stated bound (measure it on a 512×512 photo)"; test/node/restore.test.ts checks the same thing on 192×192 crops.
//
// Per mode: a real 512×512 photo, degraded as bench/restore-quality.ts degrades it (its own functions), goes through
// (a) the product's restore task on the Node platform, tiled, as Node and the server run it (9 tiles of 256 px), and
//     again with the larger-tile builds left out of the registry, as the browser runs it (25 tiles of 128 px), and
// (b) one call of the graph converted at 512×512 by models/convert/maxim.ts, on onnxruntime-node directly, followed by
//     the task's own per-image step where the card has one (denoise: the input's local mean colour); harmonisation
//     does not apply to one call (the task harmonises only when it has more than one tile).
// Reported: |tiled − one call| (max, mean, 99th percentile, in 8-bit levels), PSNR(tiled, one call), how much of the
// difference is low-frequency tone, PSNR of each against the clean photo, and the test's seam measures: the mean
// difference within 4 px of a tile edge ÷ elsewhere, and the step of the difference across each tile-edge line ÷ the
// median step between neighbouring lines. For the harmonised modes the tiled run is repeated without the whole-picture
// run (the card's harmonize turned off through the registry), to show what harmonisation does to the agreement.
// Memory: one 512² session peaks at several GB, so modes run one at a time and every session is released before the
// next. Takes ≈ 10–15 min on 2 cores. Writes bench/results/restore-tiling.{json,md}; --keep DIR also writes the
// degraded input, both results and the difference (×8) as PNGs; --report-only rewrites the .md from the .json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Engine, type EnginePlatform } from '../worker/engine.ts';
import { createNodePlatform, REPO_ROOT } from '../worker/platform-node.ts';
import { nodeCodec } from '../worker/image/codec-node.ts';
import { psnr } from '../worker/image/rgba.ts';
import { rgbaToTensor, tensorReader, tensorSize, tensorToRgba } from '../worker/image/tensor.ts';
import { planSpans, runTiled } from '../worker/image/tiling.ts';
import { keepLocalMean } from '../worker/image/local-mean.ts';
import type { Progress, RgbaImage } from '../worker/job.ts';
import type { ModelCard } from '../worker/models/card.ts';
import { RESTORE_MODES } from '../worker/tasks/restore.ts';
import { convertMaxim, describeMaximModel, MAXIM_MODELS } from '../models/convert/maxim.ts';
import { degrade, DEGRADATION, type Mode } from './restore-quality.ts';
import { log } from './common/log.ts';
import { resultsDir, resultsJson, runMain, writeResults } from './common/results.ts';
import { listOption, parseOptions } from './common/args.ts';
import { agreement, type Agreement } from './common/tile-agreement.ts';
// After the engine's modules: worker/runtime/ort-node.ts turns telemetry off before onnxruntime-node initialises.
import * as ort from 'onnxruntime-node';

const SIZE = 512;
const PHOTO = {
  path: 'test/fixtures/images/astronaut.png',
  about: 'skimage `astronaut.png` (Eileen Collins, NASA; public domain), the whole 512×512 photo as committed in test/fixtures/images/ (see its README): face, hair, orange suit, flag, a model Space Shuttle and a dark background',
};
/**
 * The cases: a mode, and the seed of its degradation (bench/restore-quality.ts's functions; σ 25 as the issue's denoise
 * target). `undegraded`: the clean photo goes in, as in the 192-px test (derain on a photo without rain).
 */
interface Case {
  id: string;
  mode: Mode;
  sigma?: number;
  seed: number;
  undegraded?: boolean;
}
const CASES: Case[] = [
  { id: 'denoise', mode: 'denoise', sigma: 25, seed: 5125 },
  { id: 'derain', mode: 'derain', seed: 512 },
  { id: 'derain-no-rain', mode: 'derain', seed: 0, undegraded: true },
  { id: 'dehaze-outdoor', mode: 'dehaze-outdoor', seed: 0 },
  { id: 'deblur', mode: 'deblur', seed: 0 },
  { id: 'dehaze-indoor', mode: 'dehaze-indoor', seed: 0 },
  { id: 'low-light', mode: 'low-light', seed: 0 },
  { id: 'retouch', mode: 'retouch', seed: 0 },
];
const DEFAULT_MODES: Mode[] = ['denoise', 'derain', 'dehaze-outdoor', 'low-light'];
const MODES: Mode[] = RESTORE_MODES.map((m) => m.value);
const THREADS = 2;

/** test/node/restore.test.ts's bounds for the same comparison on a 192×192 crop (its SEAM). */
const BOUND_192 = { maxAbs: 32, maxMean: 3, maxBorderRatio: 1.5, maxEdgeStep: 2 };
type Bound = typeof BOUND_192;
/**
 * The bounds stated for 512×512, per case, for Node and the server and for the browser. Seams as the 192-px test's
 * everywhere (near-edge ≤ ×1.5, edge step ≤ ×2): the tiles must not show. Values are where tiling stands against one
 * call (measured 2026-12-06, with margin), not a claim that the two are equal: MAXIM mixes over a grid that grows with
 * its input, so a fix that uses the whole picture (haze, light; rain streaks longer than a tile) gives another result on
 * a larger call by design; which result is better is the clean-photo PSNR's question (second table). Denoise holds the
 * 192-px test's values at both tile sizes. The bench exits 1 when a case exceeds its bound.
 */
const seams = { maxBorderRatio: BOUND_192.maxBorderRatio, maxEdgeStep: BOUND_192.maxEdgeStep };
const BOUND_512: Record<string, { node: Bound; browser: Bound }> = {
  denoise: { node: BOUND_192, browser: BOUND_192 },
  derain: { node: { ...seams, maxAbs: 72, maxMean: 2.5 }, browser: { ...seams, maxAbs: 160, maxMean: 4 } },
  'derain-no-rain': { node: { ...seams, maxAbs: 32, maxMean: 3 }, browser: { ...seams, maxAbs: 40, maxMean: 4 } },
  'dehaze-outdoor': { node: { ...seams, maxAbs: 48, maxMean: 6 }, browser: { ...seams, maxAbs: 96, maxMean: 14 } },
  // Node runs the browser's harmonised 128-px tiles (no larger build: models/convert/maxim.ts says why).
  'low-light': { node: { ...seams, maxAbs: 128, maxMean: 35 }, browser: { ...seams, maxAbs: 128, maxMean: 35 } },
};

/** The cases outside their stated bound, and how. */
function overBound(results: ModeResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    const b = BOUND_512[r.case];
    if (!b) continue;
    const node = within(r.tiledVsOneCall, b.node);
    const browser = r.browser ? within(r.browser.vsOneCall, b.browser) : [];
    if (node.length) out.push(`${label(r)} in Node (${node.join(', ')})`);
    if (browser.length) out.push(`${label(r)} in the browser (${browser.join(', ')})`);
  }
  return out;
}

/** What the numbers were found to mean, written after looking at a run (the date says which); re-look after a re-run. */
const NOTES: { date: string; lines: string[] } = {
  date: 'run of 2026-12-06, and the --keep PNGs looked at by eye',
  lines: [
    '**No seams at 512, at either tile size.** The difference from one call is as large within 4 px of a tile edge as elsewhere (×0.87–1.13) and steps across a tile-edge line by at most ×1.35–1.71 the median step, inside the test\'s ×1.5 / ×2: what differs from one call is spread over the picture, not at the edges.',
    '**Larger tiles come closer to one call, because MAXIM mixes over a grid that grows with its input** (a 512² call mixes over 4× the distances of a 128² tile). With 256-px tiles in Node and on the server every difference shrinks against 128 px in the browser: denoise mean 1.06 → 0.77 (both 28.7 dB from the clean photo, as one call); derain 3.19 → 1.66, max 126 → 57 (29.48 dB vs 28.69, one call 29.78: the streaks the 128-px tiles leave on the light backdrop and the flag mostly go); derain on the photo without rain 3.07 → 2.02; dehaze (outdoor) 11.5 → 4.4 (29.71 dB vs 23.85, one call 31.41).',
    '**Harmonisation, where it stays.** The 256-px builds are not harmonised: for outdoor haze the whole-picture run (the photo shrunk to a tile) dehazes less and unevenly (lighter at the top, darker at the bottom than one call), and the tiles took that tilt (at 256 px, an earlier run this day: 26.89 dB harmonised vs 29.71 tiles alone). In the browser it stays for haze, brightening and retouching, and in Node for brightening (no 256 build): it costs here (low light 13.58 dB harmonised vs 14.81 tiles alone; one call 15.06: the harmonised picture has a whitish veil and flat contrast on the face and suit), but without it the low-light model paints wavy streaks and halos into the dark sky of bench/results/restore-low-light.png (rocket), at 128 and 256 px alike. A correction that only evens out tile-to-tile offsets (per-tile offsets solved over the overlaps) is the next thing to try.',
    '**The bounds.** Denoise holds the 192-px test\'s values (max 32, mean 3) in both places. For the fixes that use more of the picture than a tile sees, the stated values are where tiling stands against one call with margin, and one call is not the truth: which result is better is the clean-photo PSNR\'s question, where one call leads by 0.3 (rain) to 1.7 dB (haze) in Node.',
    '**Cost.** One 512² call holds 3.1–3.3 GiB resident and needs a graph converted at that size; a 256² tile session ≈ 2.3 GB, a 128² one ≈ 1 GB (too much for 256 in a browser tab). Here 9 tiles of 256 px took 1.3–1.5× as long as 25 of 128 for rain (58 vs 44 s, 62 vs 41 s without rain) and more for denoise and haze, under a load that changed during the run (times are indicative): the 256-px tiles cover 2.25× the photo\'s pixels with their 64-px overlaps, the 128-px ones 1.56×. The better result costs time; a quiet-machine timing belongs in bench:restore.',
  ],
};

// ---- measures ----

/** |a − b| × 8 per channel (opaque): where two results differ. */
function differenceImage(a: RgbaImage, b: RgbaImage): RgbaImage {
  const data = new Uint8Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : Math.min(255, 8 * Math.abs(a.data[i] - b.data[i]));
  return { width: a.width, height: a.height, data };
}

// ---- the runs ----

/** Where the task runs: Node and the server (the 256-px builds), or the browser's tile size (those builds left out). */
type Place = 'node' | 'browser';

/** The Node platform (2 threads), optionally with every card's harmonize off, or with the browser's tiles. */
function platform(harmonize: boolean, place: Place): EnginePlatform {
  const inner = createNodePlatform({ threads: THREADS });
  return {
    ...inner,
    async loadRegistry() {
      const registry = await inner.loadRegistry();
      const models = registry.models
        .filter((m) => place === 'node' || m.role !== 'large-tiles')
        .map((m) => (!harmonize && m.io.tile?.harmonize ? { ...m, io: { ...m.io, tile: { ...m.io.tile, harmonize: false } } } : m));
      return { ...registry, models };
    },
  };
}

interface TiledRun {
  image: RgbaImage;
  /** Model runs the task reported (tiles, plus the whole-picture run where it harmonises). */
  runs: number;
  /** engine.run wall time (loads the 128² session first) and its run stage (ResultMeta.runMs). */
  ms: number;
  runMs: number;
}

/** The product's restore task on the Node platform, tiled; the engine and its session are released afterwards. */
async function runTask(mode: Mode, image: RgbaImage, harmonize: boolean, place: Place): Promise<TiledRun> {
  const engine = new Engine(platform(harmonize, place));
  try {
    const progress: Progress[] = [];
    const t0 = performance.now();
    const result = await engine.run({ id: `tiling-${mode}`, task: 'restore', params: { mode }, image }, (p) => progress.push(p));
    const ms = performance.now() - t0;
    if (result.meta.model !== `maxim-${mode}`) throw new Error(`expected maxim-${mode}, the task ran ${result.meta.model}`);
    const runs = progress.filter((p) => p.stage === 'run').at(-1)?.total ?? 0;
    return { image: result.images[0], runs, ms, runMs: result.meta.runMs };
  } finally {
    await engine.dispose();
  }
}

interface OneCall {
  /** The graph's output, and the same with the task's per-image step (the local mean colour, where the card has it). */
  raw: RgbaImage;
  image: RgbaImage;
  convertMs: number;
  loadMs: number;
  runMs: number;
  /** Resident memory just after the run, before the session is released (MB). */
  rssAfterRunMb: number;
}

/** An onnxruntime-node session on the card's MAXIM graph converted at `size`×`size`, and what that took. */
async function convertedSession(card: ModelCard, size: number): Promise<{ session: ort.InferenceSession; convertMs: number; loadMs: number }> {
  const spec = MAXIM_MODELS.find((m) => m.id === card.id);
  if (!spec) throw new Error(`${card.id} is not one of models/convert/maxim.ts's MAXIM_MODELS`);
  let t0 = performance.now();
  const { bytes } = convertMaxim(describeMaximModel(spec.package), size);
  const convertMs = performance.now() - t0;
  t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: THREADS, graphOptimizationLevel: 'all' });
  return { session, convertMs, loadMs: performance.now() - t0 };
}

/** One model call: the output tensor in the engine's form. */
async function call(session: ort.InferenceSession, card: ModelCard, image: RgbaImage) {
  const x = rgbaToTensor(image, card.io.image!);
  const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, x.dims) });
  const y = outputs[session.outputNames[0]];
  return { dtype: 'float32' as const, dims: [...y.dims], data: y.data as Float32Array };
}

/** One call of the mode's graph converted at the image's own (square) size, on onnxruntime-node directly (as the test). */
async function runOneCall(card: ModelCard, image: RgbaImage): Promise<OneCall> {
  const { session, convertMs, loadMs } = await convertedSession(card, image.width);
  try {
    const t0 = performance.now();
    const y = await call(session, card, image);
    const runMs = performance.now() - t0;
    const rssAfterRunMb = process.memoryUsage().rss / 2 ** 20;
    const raw = tensorToRgba(y, card.io.image!);
    const sigma = card.io.localMeanFromInput;
    return { raw, image: sigma ? keepLocalMean(raw, image, sigma) : raw, convertMs, loadMs, runMs, rssAfterRunMb };
  } finally {
    await session.release();
  }
}

/**
 * Diagnostic, not the product: the task's tiling (worker/image/tiling.ts, same overlap and cross-fades, and the card's
 * local-mean step) with tiles of `tile` px from a graph converted at that size, without harmonisation. Tells whether
 * what differs from one call comes from the blending or from how much of the picture each call sees.
 */
async function runTiledAt(card: ModelCard, image: RgbaImage, tile: number): Promise<{ image: RgbaImage; tiles: number; runMs: number }> {
  const { session } = await convertedSession(card, tile);
  try {
    const io = card.io.image!;
    let tiles = 0;
    const t0 = performance.now();
    const out = await runTiled(image, {
      tile,
      overlap: card.io.tile.overlap,
      scale: 1,
      infer: async (piece) => {
        tiles++;
        const y = await call(session, card, piece);
        return { ...tensorSize(y, io), read: tensorReader(y, io) };
      },
    });
    const runMs = performance.now() - t0;
    const sigma = card.io.localMeanFromInput;
    return { image: sigma ? keepLocalMean(out, image, sigma) : out, tiles, runMs };
  } finally {
    await session.release();
  }
}

/** What one 512² call needs (measured: ≈3.3 GiB resident after the run), with margin. */
const ONE_CALL_NEEDS_MB = 5 * 1024;

/** Available memory (MemAvailable, else free), MB. */
function availableMb(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return freemem() / 2 ** 20;
}

/** Waits (up to 10 min) until `mb` are available: the machine is shared, and a 512² session is large. */
async function waitForMemory(mb: number): Promise<number> {
  const until = performance.now() + 600_000;
  let said = false;
  for (;;) {
    const now = availableMb();
    if (now >= mb || performance.now() > until) return now;
    if (!said) log(`waiting for ${(mb / 1024).toFixed(0)} GiB of memory to be available (${(now / 1024).toFixed(1)} GiB now; the machine is shared)…`);
    said = true;
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

interface ModeResult {
  /** The case's id (CASES). */
  case: string;
  mode: Mode;
  sigma?: number;
  seed: number;
  degradation: string;
  harmonize: boolean;
  localMeanFromInput?: number;
  /** The product's tiles in Node and on the server: their size and overlap (the larger-tile build), and how many. */
  tile: { size: number; overlap: number };
  tiles: number;
  /** The product in the browser: 128-px tiles (harmonised where the card says), vs one call and vs the clean photo. */
  browser?: { tile: { size: number; overlap: number }; tiles: number; vsOneCall: Agreement; psnrVsClean: number; runMs: number };
  /** Against the clean photo (retouch has no ground truth: its input is the clean photo). */
  psnrVsClean: { degraded: number; tiled: number; oneCall: number; tiledNoHarmonize?: number };
  /** The product's tiled result vs one call with the task's per-image step. */
  tiledVsOneCall: Agreement;
  /** Denoise: the tiled result vs the graph's raw one-call output (without the local mean colour), for scale. */
  tiledVsRawOneCall?: Agreement;
  /** Harmonised modes: the tiles alone (no whole-picture run) vs one call, at the place that harmonises. */
  tiledNoHarmonizeVsOneCall?: Agreement;
  plainPlace?: Place;
  /** The whole-picture run's effect: tiled with vs without it. */
  harmonizeShift?: { mean: number; max: number };
  /** Diagnostic (runTiledAt): the same tiling with larger tiles, no harmonisation, vs one call and vs the clean photo. */
  largerTiles: { tile: number; tiles: number; vsOneCall: Agreement; psnrVsClean: number; runMs: number }[];
  times: { tiledMs: number; tiledRunMs: number; tiledNoHarmonizeRunMs?: number; oneCall: { convertMs: number; loadMs: number; runMs: number }; rssAfterOneCallMb: number };
  memoryFreeBeforeOneCallMb: number;
}

async function runMode(c: Case, clean: RgbaImage, card: ModelCard, large: ModelCard, sweep: number[], keep?: string): Promise<ModeResult> {
  const degraded = c.undegraded ? clean : degrade(c.mode, clean, c.seed, c.sigma);
  const harmonize = !!large.io.tile.harmonize;
  log(`${c.id}: tiled in Node (the restore task, ${large.io.tile.size}-px tiles, ${large.io.tile.overlap}-px overlap${harmonize ? ', harmonised' : ''})…`);
  const tiled = await runTask(c.mode, degraded, true, 'node');
  log(`${c.id}: tiled in ${sec(tiled.ms)} (run ${sec(tiled.runMs)}, ${tiled.runs} model runs)`);
  // The tiles alone, where a place harmonises (Node's own tiles first, else the browser's): what harmonising does.
  const plainPlace: Place | undefined = harmonize ? 'node' : card.io.tile.harmonize ? 'browser' : undefined;
  let plain: TiledRun | undefined;
  if (plainPlace) {
    plain = await runTask(c.mode, degraded, false, plainPlace);
    log(`${c.id}: tiled (${plainPlace}) without the whole-picture run in ${sec(plain.ms)} (${plain.runs} model runs)`);
  }
  let inBrowser = tiled;
  if (large !== card) {
    log(`${c.id}: tiled as the browser does (${card.io.tile.size}-px tiles)…`);
    inBrowser = await runTask(c.mode, degraded, true, 'browser');
    log(`${c.id}: browser tiles in ${sec(inBrowser.ms)} (${inBrowser.runs} model runs)`);
  }
  const memoryFreeBeforeOneCallMb = await waitForMemory(ONE_CALL_NEEDS_MB);
  log(`${c.id}: one call at ${SIZE}×${SIZE} (${(memoryFreeBeforeOneCallMb / 1024).toFixed(1)} GiB available)…`);
  const one = await runOneCall(card, degraded);
  log(`${c.id}: one call: convert ${sec(one.convertMs)}, load ${sec(one.loadMs)}, run ${sec(one.runMs)}, RSS ${(one.rssAfterRunMb / 1024).toFixed(1)} GiB after the run`);
  const { size: tile, overlap } = large.io.tile;
  const largerTiles: ModeResult['largerTiles'] = [];
  for (const size of sweep) {
    log(`${c.id}: diagnostic: ${size}-px tiles, no harmonisation…`);
    await waitForMemory(3 * 1024);
    const t = await runTiledAt(card, degraded, size);
    largerTiles.push({ tile: size, tiles: t.tiles, vsOneCall: agreement(t.image, one.image, size, card.io.tile.overlap), psnrVsClean: psnr(t.image, clean), runMs: t.runMs });
    log(`${c.id}: ${size}-px tiles (${t.tiles}) in ${sec(t.runMs)}: vs one call mean ${f(largerTiles.at(-1)!.vsOneCall.mean, 3)}, max ${largerTiles.at(-1)!.vsOneCall.max}; vs clean ${f(largerTiles.at(-1)!.psnrVsClean)} dB`);
    if (keep) writeFileSync(join(keep, `${c.id}-tiles-${size}.png`), await nodeCodec.encodePng(t.image));
  }
  const r: ModeResult = {
    case: c.id,
    mode: c.mode,
    sigma: c.sigma,
    seed: c.seed,
    degradation: c.undegraded ? 'none: the clean photo goes in (the 192-px test\'s condition: derain on a photo without rain)' : `${DEGRADATION[c.mode]}${c.sigma ? `; here σ = ${c.sigma} only` : ''}`,
    harmonize,
    localMeanFromInput: card.io.localMeanFromInput,
    tile: { size: tile, overlap },
    tiles: tiled.runs - (harmonize ? 1 : 0),
    browser: {
      tile: { size: card.io.tile.size, overlap: card.io.tile.overlap },
      tiles: inBrowser.runs - (card.io.tile.harmonize ? 1 : 0),
      vsOneCall: agreement(inBrowser.image, one.image, card.io.tile.size, card.io.tile.overlap),
      psnrVsClean: psnr(inBrowser.image, clean),
      runMs: inBrowser.runMs,
    },
    psnrVsClean: { degraded: psnr(degraded, clean), tiled: psnr(tiled.image, clean), oneCall: psnr(one.image, clean), tiledNoHarmonize: plain && psnr(plain.image, clean) },
    tiledVsOneCall: agreement(tiled.image, one.image, tile, overlap),
    tiledVsRawOneCall: one.raw !== one.image ? agreement(tiled.image, one.raw, tile, overlap) : undefined,
    tiledNoHarmonizeVsOneCall: plain && (plainPlace === 'node' ? agreement(plain.image, one.image, tile, overlap) : agreement(plain.image, one.image, card.io.tile.size, card.io.tile.overlap)),
    plainPlace,
    harmonizeShift: plain && (() => {
      const harmonised = plainPlace === 'node' ? tiled : inBrowser;
      let sum = 0;
      let max = 0;
      for (let i = 0; i < plain.image.data.length; i++) {
        if (i % 4 === 3) continue;
        const a = Math.abs(plain.image.data[i] - harmonised.image.data[i]);
        sum += a;
        max = Math.max(max, a);
      }
      return { mean: sum / (SIZE * SIZE * 3), max };
    })(),
    largerTiles,
    times: {
      tiledMs: tiled.ms,
      tiledRunMs: tiled.runMs,
      tiledNoHarmonizeRunMs: plain?.runMs,
      oneCall: { convertMs: one.convertMs, loadMs: one.loadMs, runMs: one.runMs },
      rssAfterOneCallMb: one.rssAfterRunMb,
    },
    memoryFreeBeforeOneCallMb,
  };
  const a = r.tiledVsOneCall;
  log(`${c.id}: tiled vs one call: max ${a.max}, mean ${f(a.mean, 3)}, PSNR ${f(a.psnr)} dB; near-edge ×${f(a.borderRatio)}, max edge step ×${f(a.maxEdgeStep)}`);
  if (keep) {
    const write = async (name: string, img: RgbaImage) => writeFileSync(join(keep, `${c.id}-${name}.png`), await nodeCodec.encodePng(img));
    await write('degraded', degraded);
    await write('tiled', tiled.image);
    await write('tiled-browser', inBrowser.image);
    await write('one-call', one.image);
    await write('diff-x8', differenceImage(tiled.image, one.image));
    if (plain) {
      await write('tiled-no-harmonize', plain.image);
      await write('diff-no-harmonize-x8', differenceImage(plain.image, one.image));
    }
  }
  return r;
}

// ---- the report ----

const f = (v: number | undefined, digits = 2) => (v === undefined ? '–' : Number.isFinite(v) ? v.toFixed(digits) : '∞');
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Info {
  when: string;
  seconds: number;
  machine: string;
  uptime: [string, string];
  load: [number, number];
}

function within(a: Agreement, b: typeof BOUND_192): string[] {
  const out: string[] = [];
  if (a.max > b.maxAbs) out.push(`max ${a.max} > ${b.maxAbs}`);
  if (a.mean > b.maxMean) out.push(`mean ${f(a.mean, 3)} > ${b.maxMean}`);
  if (a.borderRatio > b.maxBorderRatio) out.push(`near-edge ×${f(a.borderRatio)} > ×${b.maxBorderRatio}`);
  if (a.maxEdgeStep > b.maxEdgeStep) out.push(`edge step ×${f(a.maxEdgeStep)} > ×${b.maxEdgeStep}`);
  return out;
}

const label = (r: ModeResult) => `${r.case ?? r.mode}${r.sigma ? ` σ ${r.sigma}` : ''}`;

function report(results: ModeResult[], info: Info): string {
  const { size: tile, overlap } = results[0]?.tile ?? { size: 256, overlap: 64 };
  const browser = results[0]?.browser?.tile ?? { size: 128, overlap: 32 };
  const lineList = (t: { size: number; overlap: number }) => [...new Set(planSpans(SIZE, t.size, t.overlap).flatMap((s) => [s.start, s.end]).filter((e) => e > 0 && e < SIZE))].sort((a, b) => a - b).join(', ');
  const lines = [
    `# Restoration tiling at 512×512: the tiled task vs one call of the same model (${info.when.slice(0, 10)})`,
    '',
    `\`npm run bench:restore-tiling\`. ${info.machine}; onnxruntime-node CPU, ${THREADS} threads; ${(info.seconds / 60).toFixed(1)} min in all. Load average (1 / 5 / 15 min, as \`uptime\` shows it): ${info.uptime[0]} at the start, ${info.uptime[1]} at the end (other jobs shared the machine: times are indicative, the differences are not affected).`,
    '',
    `Photo: ${PHOTO.about}. Degraded with bench/restore-quality.ts's functions (seeds in the JSON).`,
    `**Tiled**: the product's \`restore\` task on the Node platform, as Node and the server run it: ${results[0]?.tiles ?? 9} tiles of ${tile} px (the card's larger-tile build) with a ${overlap}-px overlap, cross-faded linearly (tile-edge lines at ${lineList({ size: tile, overlap })} on each axis); the harmonised fixes (dehaze, low light, retouch) add one run of the whole picture shrunk to ${tile} px, whose low frequencies the tiles take. **In the browser**: the same task with the larger-tile builds left out, as the browser runs it (${results[0]?.browser?.tiles ?? 25} tiles of ${browser.size} px, ${browser.overlap}-px overlap, lines at ${lineList(browser)}; the whole-picture run at ${browser.size} px). **One call**: the same MAXIM graph converted at 512×512 by models/convert/maxim.ts, run once on onnxruntime-node, then the task's per-image step where the card has one (denoise keeps the input's local mean colour, σ 4 px); there is no harmonisation in one call (the task harmonises only with more than one tile). **Diagnostic** rows (not the product): the same tiling code (worker/image/tiling.ts: overlap, cross-fades, the local-mean step) with larger tiles from a graph converted at that size, without harmonisation, to tell blending apart from how much of the picture each call sees.`,
    'Differences are over R, G and B in 8-bit levels. "Near-edge" and "edge step" are the test\'s seam measures: the mean difference within 4 px of a tile-edge line ÷ the mean elsewhere, and the mean step of the difference across a tile-edge line ÷ the median step between neighbouring lines on that axis (the largest of the 16 lines). "Tone / detail": the mean of the difference blurred by a Gaussian of σ 8 px, and of what the blur leaves.',
    '',
    '## Tiled vs one call',
    '',
    '| fix | max | mean | 99th / 99.9th pct | PSNR(tiled, one call) | tone / detail | near-edge | max edge step | within the 192-px test\'s bounds? |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const row = (label: string, a: Agreement) => {
    const over = within(a, BOUND_192);
    return `| ${label} | ${a.max} | ${f(a.mean, 3)} | ${a.p99} / ${a.p999} | ${f(a.psnr)} dB | ${f(a.lowFreqMean)} / ${f(a.highFreqMean)} | ×${f(a.borderRatio)} | ×${f(a.maxEdgeStep)} | ${over.length ? `**no**: ${over.join(', ')}` : 'yes'} |`;
  };
  for (const r of results) {
    lines.push(row(`**${label(r)}** (Node, server: ${r.tile?.size ?? 128}-px tiles)`, r.tiledVsOneCall));
    if (r.browser) lines.push(row(`${label(r)}: in the browser (${r.browser.tile.size}-px tiles)`, r.browser.vsOneCall));
    if (r.tiledVsRawOneCall) lines.push(row(`${label(r)}: vs the graph's raw one call (no local-mean step)`, r.tiledVsRawOneCall));
    if (r.tiledNoHarmonizeVsOneCall) lines.push(row(`${label(r)}: ${r.plainPlace === 'browser' ? 'in the browser, ' : ''}tiles alone (no whole-picture run)`, r.tiledNoHarmonizeVsOneCall));
    for (const t of r.largerTiles ?? []) lines.push(row(`${label(r)}: diagnostic, ${t.tile}-px tiles (${t.tiles}), no harmonisation`, t.vsOneCall));
  }
  lines.push('', `The 192-px test's bounds (test/node/restore.test.ts, SEAM, derain on a 192×192 crop of chelsea): max ≤ ${BOUND_192.maxAbs}, mean ≤ ${BOUND_192.maxMean}, near-edge ≤ ×${BOUND_192.maxBorderRatio}, edge step ≤ ×${BOUND_192.maxEdgeStep}.`, '');

  lines.push('## Against the clean photo, and times', '', '| fix | degradation | PSNR degraded | PSNR tiled | PSNR one call | tiled − one call | tiled: wall / run | one call: convert / load / run | RSS after the one call |', '|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const p = r.psnrVsClean;
    const t = r.times;
    const extra = [
      ...(p.tiledNoHarmonize !== undefined ? [`${r.plainPlace === 'browser' ? 'browser ' : ''}tiles alone ${f(p.tiledNoHarmonize)} dB`] : []),
      ...(r.browser ? [`browser ${f(r.browser.psnrVsClean)} dB`] : []),
      ...(r.largerTiles ?? []).map((t) => `${t.tile}-px tiles ${f(t.psnrVsClean)} dB`),
    ];
    const noHarm = extra.length ? ` (${extra.join('; ')})` : '';
    lines.push(`| ${label(r)} | ${r.mode === 'denoise' ? `Gaussian σ ${r.sigma}` : r.degradation.split(':')[0].split(',')[0]} | ${f(p.degraded)} dB | ${f(p.tiled)} dB${noHarm} | ${f(p.oneCall)} dB | ${f(p.tiled - p.oneCall)} dB | ${sec(t.tiledMs)} / ${sec(t.tiledRunMs)} | ${sec(t.oneCall.convertMs)} / ${sec(t.oneCall.loadMs)} / ${sec(t.oneCall.runMs)} | ${(t.rssAfterOneCallMb / 1024).toFixed(1)} GiB |`);
  }
  lines.push('', 'Tiled wall time includes loading the tile session; "run" is the task\'s run stage (ResultMeta.runMs). One call: converting the TF.js graph at 512², creating the onnxruntime session, one run.', '');
  const harm = results.filter((r) => r.harmonizeShift);
  if (harm.length) {
    lines.push(`What the whole-picture run changes (tiled with vs without it): ${harm.map((r) => `${label(r)} mean ${f(r.harmonizeShift!.mean)}, max ${r.harmonizeShift!.max} levels`).join('; ')}.`, '');
  }

  lines.push('## The bound at 512×512', '');
  {
    lines.push(`Stated per case (BOUND_512 in bench/restore-tiling.ts): tiled vs one call on a 512×512 photo. Seams everywhere as the 192-px test's: near-edge ≤ ×${BOUND_192.maxBorderRatio}, edge step ≤ ×${BOUND_192.maxEdgeStep}. Values: Denoise as the 192-px test's (max ≤ ${BOUND_192.maxAbs}, mean ≤ ${BOUND_192.maxMean}); the fixes that use more of the picture than a tile sees, where tiling stands against one call, with margin (see below). In Node and on the server (${tile}-px tiles, where the fix has that build), and in the browser (${browser.size}-px tiles):`, '');
    const held = (a: Agreement, b: Bound) => {
        const seams = within(a, { ...b, maxAbs: Infinity, maxMean: Infinity });
        const values = within(a, { ...b, maxBorderRatio: Infinity, maxEdgeStep: Infinity });
        return `seams ${seams.length ? `**exceed**: ${seams.join(', ')}` : `within (×${f(a.borderRatio)}, ×${f(a.maxEdgeStep)})`}; values ${values.length ? `**exceed**: ${values.join(', ')}` : `within (max ${a.max}, mean ${f(a.mean, 3)})`}`;
    };
    for (const r of results) {
      const b = BOUND_512[r.case];
      if (!b) {
        lines.push(`- ${label(r)}: no bound stated yet (look at a run first)`);
        continue;
      }
      const says = (x: Bound) => `max ≤ ${x.maxAbs}, mean ≤ ${x.maxMean}`;
      lines.push(`- ${label(r)}: Node/server (${says(b.node)}) ${held(r.tiledVsOneCall, b.node)}${r.browser ? `. Browser (${says(b.browser)}) ${held(r.browser.vsOneCall, b.browser)}` : ''}`);
    }
    lines.push('');
  }
  lines.push('## What it means', '');
  if (NOTES.lines.length) lines.push(`(${NOTES.date})`, '', ...NOTES.lines.map((l) => `- ${l}`), '');
  else lines.push('Not looked at yet.', '');
  return lines.join('\n');
}

function uptime(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(', ');
  } catch {
    return loadavg().map((v) => v.toFixed(2)).join(', ');
  }
}

interface Args {
  modes: Mode[];
  /** Tile sizes of the larger-tile diagnostic (multiples of 64; none: skip it). */
  sweep: number[];
  keep?: string;
  reportOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { modes: DEFAULT_MODES, sweep: [], reportOnly: false };
  parseOptions(argv, `restore-tiling.ts [--modes ${MODES.join(',')}] [--sweep 384|none] [--keep DIR] [--report-only]`, (key, value) => {
    if (key === '--keep') out.keep = value();
    else if (key === '--sweep') {
      const v = value();
      out.sweep = v === 'none' ? [] : v.split(',').map(Number);
      if (out.sweep.some((t) => !(t > 0 && t % 64 === 0 && t < SIZE))) throw new Error(`--sweep: tile sizes that are multiples of 64 below ${SIZE}, or none (got ${v})`);
    }
    else if (key === '--report-only') out.reportOnly = true;
    else if (key === '--modes') out.modes = listOption(value(), MODES, 'mode');
    else return false;
    return true;
  });
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.reportOnly) {
    const json = JSON.parse(readFileSync(join(resultsDir(), 'restore-tiling.json'), 'utf8')) as Info & { results: ModeResult[] };
    await writeResults('restore-tiling', resultsJson({ ...json, photo: PHOTO, bound512: BOUND_512, notes: NOTES }), report(json.results, json));
    return;
  }
  const started = performance.now();
  const uptime0 = uptime();
  const load0 = loadavg()[0];
  const clean = await nodeCodec.decode(new Uint8Array(readFileSync(join(REPO_ROOT, PHOTO.path))));
  if (clean.width !== SIZE || clean.height !== SIZE) throw new Error(`${PHOTO.path} is ${clean.width}×${clean.height}, not ${SIZE}×${SIZE}`);
  for (let i = 3; i < clean.data.length; i += 4) clean.data[i] = 255;
  if (args.keep) mkdirSync(args.keep, { recursive: true });
  const registry = await createNodePlatform().loadRegistry();
  const results: ModeResult[] = [];
  for (const mode of args.modes) {
    const card = registry.models.find((m) => m.id === `maxim-${mode}`);
    if (!card) throw new Error(`models/registry.json has no maxim-${mode}: npm run convert-models`);
    // A fix without a larger-tile build runs on its own tiles in Node too.
    const large = registry.models.find((m) => m.id === card.largeTiles) ?? card;
    for (const c of CASES.filter((x) => x.mode === mode)) results.push(await runMode(c, clean, card, large, args.sweep, args.keep));
  }
  const info: Info = {
    when: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
    machine: `${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    uptime: [uptime0, uptime()],
    load: [load0, loadavg()[0]],
  };
  const json = { ...info, photo: PHOTO, size: SIZE, threads: THREADS, bound192: BOUND_192, bound512: BOUND_512, notes: NOTES, results };
  await writeResults('restore-tiling', resultsJson(json), report(results, info), info.seconds);
  const over = overBound(results);
  if (over.length) {
    console.error(`BOUND EXCEEDED at ${SIZE}×${SIZE}: ${over.join('; ')}`);
    process.exitCode = 1;
  }
}

runMain(main);
