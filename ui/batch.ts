// One Run click: for each selected item, in order, read its pixels from the host, run the job in the
// engine and place the result. Sequential on purpose: one image in memory and one message in flight at a time.
// Pixels stay raw where the host gives and takes raw RGBA (Photoshop): straight to the engine, straight back; a PNG is
// made only for a host that places files (Figma, the playground), and by the components that show one.
import { RAW_RGBA, type HostName, type HostToUi, type ImageMime, type PlaceMode, type ResultPixels, type SelectedItem } from '../plugin/messages.ts';
import type { EncodedVideo, JobResult, Params, Progress, RgbaImage, Target } from '../worker/job.ts';
import { composeMask, levelsToRgba } from '../worker/image/mask.ts';
import type { TaskInfo } from '../worker/tasks/task.ts';
import { EngineError } from './engine-client.ts';
import type { EngineClient } from './engine-client.ts';
import type { HostClient } from './host-client.ts';
import { batchFraction, stageText, taskDisplay } from './format.ts';
import { ItemProgress } from './progress.ts';
import type { Phase, ProgressPoint } from './progress.ts';

export interface BatchDeps {
  /** `takesRawPixels` absent (a test's host): results are placed as PNG. */
  host: Pick<HostClient, 'readImage' | 'placeResult' | 'readVideo' | 'placeVideo'> & Partial<Pick<HostClient, 'takesRawPixels'>>;
  engine: Pick<EngineClient, 'decode' | 'run' | 'encodePng'>;
}

export interface BatchRequest {
  task: TaskInfo;
  /** Omitted: the engine picks the task's default model. */
  model?: string;
  params: Params;
  target: Target;
  placeMode: PlaceMode;
  items: SelectedItem[];
  /** Display name of a model id, for the placed node's name. */
  modelLabel(id: string): string;
  /** Whether the host can place video results (else they are kept in the UI to download). */
  hostTakesVideo?: boolean;
  /** Where the host refuses a clip (Figma without a paid plan): its first frame, placed as an image instead. */
  firstFrame?(video: EncodedVideo): Promise<{ png: Uint8Array; width: number; height: number }>;
  /** Clips chosen from files in the UI, by item id: read here, never through the host, and placed with no source. */
  chosenClips?: ReadonlyMap<string, ChosenClipSource>;
  /** A render already made or under way of exactly this job (rotate-view's full-size preview): placed instead of
   *  running the job again. */
  prerendered?(onProgress: (p: Progress) => void): { jobId: string; result: Promise<JobResult> } | null;
}

/** A clip the UI holds (Choose a clip…). */
export interface ChosenClipSource {
  mime: string;
  width: number;
  height: number;
  read(): Promise<Uint8Array>;
}

export interface BatchProgress {
  /** 0-based index of the item being processed, and how many there are. */
  index: number;
  count: number;
  item: SelectedItem;
  text: string;
  /** Whole-batch fraction, 0..1, weighted by the work each stage is (the tiles or steps are the bulk). */
  fraction: number;
  /** When this was reported (ms since the epoch, or the clock given in BatchEvents.now). */
  at: number;
  /** Whole-batch fraction gained per ms at the measured rate, and how far the bar may glide before the next report
   *  (see fractionAt in progress.ts). */
  speed: number;
  cap: number;
  /** When the whole batch should be done, once tiles/steps have completed to measure a rate. */
  finishAt?: number;
  /** The engine's latest preview of the result (text-to-image shows its guess every few steps). */
  preview?: RgbaImage;
}

export interface ItemResult {
  item: SelectedItem;
  /** An image result as the PNG placed, where the host places files (Figma, the playground). */
  png?: Uint8Array;
  /** An image result's raw pixels, where the host took them raw (Photoshop) and no PNG was made: the UI makes one
   *  only to show it (ui/image-url.ts). One of the two per image result (not both: a 4096² result is 64 MiB raw). */
  image?: RgbaImage;
  /** What the task started from, as the host gave it (image-to-image tasks): for comparing before and after. */
  before?: ShownPixels;
  /** The video result (video tasks). */
  video?: EncodedVideo;
  width: number;
  height: number;
  name: string;
  /** The placed node, or null when the host could not take the result (it stays in the UI to download). */
  placedNodeId: string | null;
  /** Why the result was not placed. */
  notPlaced?: string;
  /** Wall time for the item, read to placed. */
  ms: number;
  /** Of that, the time spent downloading and loading the model (a next run on the same target skips it). */
  setupMs?: number;
  meta: JobResult['meta'];
}

/** Pixels as a host gave them: an encoded file, or raw RGBA (mime RAW_RGBA). */
export interface ShownPixels {
  bytes: Uint8Array;
  mime: ImageMime;
  width: number;
  height: number;
}

/** What an item's result keeps of its image: the PNG placed, else the raw pixels. */
function kept(image: RgbaImage, pixels: ResultPixels): Pick<ItemResult, 'png' | 'image'> {
  return pixels.png ? { png: pixels.png } : { image };
}

/** The result's pixels as the host takes them: raw where it takes raw RGBA, else a PNG the engine encodes. */
async function pixelsToPlace(deps: BatchDeps, image: RgbaImage): Promise<ResultPixels> {
  if (deps.host.takesRawPixels?.()) return { rgba: image.data };
  return { png: await deps.engine.encodePng(image) };
}

/** The engine's image of what the host read: raw pixels as they are, an encoded file decoded by the engine. */
async function engineImage(deps: BatchDeps, image: HostToUi['image']): Promise<RgbaImage> {
  if (image.mime === RAW_RGBA) return { width: image.width, height: image.height, data: image.bytes };
  return deps.engine.decode(image.bytes, image.mime);
}

export interface BatchEvents {
  onProgress(p: BatchProgress): void;
  /** The engine job id of the item now running (for cancel). */
  onJob(jobId: string): void;
  onResult(result: ItemResult): void;
  isCancelled(): boolean;
  /** The clock for progress times (tests); Date.now by default. */
  now?(): number;
}

/** Reports an item's progress as the batch's: the item's point scaled into its place, the time left for all items. */
function batchReporter(req: BatchRequest, events: BatchEvents, index: number, item: SelectedItem, extra: () => Partial<BatchProgress> = () => ({})) {
  const now = () => (events.now ? events.now() : Date.now());
  const tracker = new ItemProgress(now);
  const started = now();
  const count = Math.max(1, req.items.length);
  const prefix = req.items.length > 1 ? `Item ${index + 1} of ${req.items.length} · ` : '';
  // The items after this one take about as long as this one per pixel.
  const pixels = (it: SelectedItem | undefined) => Math.max(1, (it?.width ?? 0) * (it?.height ?? 0));
  const restPixels = req.items.slice(index + 1).reduce((sum, it) => sum + pixels(it), 0);
  // Time in download and load: what a repeat run does not pay again.
  let setup = 0;
  let phase: { name: Phase; since: number } | null = null;
  const enter = (name: Phase) => {
    if (phase?.name === name) return;
    const t = now();
    if (phase && (phase.name === 'download' || phase.name === 'load')) setup += t - phase.since;
    phase = { name, since: t };
  };
  const emit = (text: string, p: ProgressPoint) => {
    const finishAt = p.finishAt === undefined ? undefined : p.finishAt + ((p.finishAt - started) * restPixels) / pixels(item);
    events.onProgress({
      index, count: req.items.length || 1, item, text: prefix + text,
      fraction: batchFraction(index, count, p.fraction), at: p.at, speed: p.speed / count, cap: batchFraction(index, count, p.cap),
      ...(finishAt !== undefined ? { finishAt } : {}), ...extra(),
    });
  };
  return {
    step: (text: string, name: Phase, done: number, total: number) => {
      enter(name);
      emit(text, tracker.update(name, done, total));
    },
    done: (text: string) => {
      enter('place');
      emit(text, tracker.finish());
    },
    setupMs: () => setup,
  };
}

let jobCounter = 0;

/** A job id no other client picks: the server's job API is keyed by it (8–64 of A-Z a-z 0-9 _ -). */
export function newJobId(): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `job-${Date.now().toString(36)}-${++jobCounter}-${random}`;
}

/** Name of a placed result, e.g. "Upscale ×4 · ESRGAN thick". */
export function resultName(task: TaskInfo, params: Params, modelLabel: string): string {
  const scale = params.scale !== undefined ? ` ×${params.scale}` : '';
  // "ESRGAN slim ×2" already says the scale once: drop the repeat from the model part.
  const model = scale && modelLabel.endsWith(scale) ? modelLabel.slice(0, -scale.length) : modelLabel;
  return `${task.label}${scale} · ${model}`;
}

/** Name of a generated result: the task, what makes this image itself (seed, yaw, t) and the model. */
export function generatedName(task: TaskInfo, meta: JobResult['meta'], modelLabel: string): string {
  const p = meta.params;
  const parts = [task.label];
  if (typeof p.prompt === 'string' && p.prompt.trim()) {
    const prompt = p.prompt.trim();
    parts.push(`“${prompt.length > 32 ? `${prompt.slice(0, 31)}…` : prompt}”`);
  }
  // Not where the seed only picks a variation of a selected image, or is unused (TaskDisplay.seedInName).
  if (meta.seed !== undefined && taskDisplay(task).seedInName !== false) parts.push(`seed ${meta.seed}`);
  if (p.yaw !== undefined) parts.push(`yaw ${p.yaw}°`);
  if (p.pitch !== undefined && Number(p.pitch) !== 0) parts.push(`pitch ${p.pitch}°`);
  if (p.t !== undefined) parts.push(`t ${p.t}`);
  parts.push(modelLabel);
  return parts.join(' · ');
}

/** Tasks that read no pixels: they make images from a seed or from the latents selected results stored. */
export function isGenerator(task: TaskInfo): boolean {
  return !task.inputs.includes('image') && !task.inputs.includes('video');
}

/** One job for the whole selection: its images are placed side by side, each with its own meta (seed, latent). */
async function runGenerator(deps: BatchDeps, req: BatchRequest, events: BatchEvents): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  const started = Date.now();
  let preview: RgbaImage | undefined;
  // One job for the whole selection: its progress is one item's.
  const report = batchReporter({ ...req, items: [req.items[0] ?? NO_ITEM] }, events, 0, req.items[0] ?? NO_ITEM, () => (preview ? { preview } : {}));
  const sources = req.items.flatMap((it) => (it.meta?.latent ? [it.meta] : []));
  const onProgress = (p: Progress) => {
    if (p.preview) preview = p.preview;
    // The task's own run messages ("Step 3 of 50"); the engine's model stages in the UI's words (its messages name the
    // model by its registry label, e.g. a test model's "(random-weight test model)").
    report.step(p.stage === 'run' && p.message ? p.message : stageText(p, req.task), p.stage, p.done, p.total);
  };
  const taken = req.prerendered?.(onProgress) ?? null;
  const jobId = taken?.jobId ?? newJobId();
  events.onJob(jobId);
  try {
    const result = taken
      ? await taken.result
      : await deps.engine.run({ id: jobId, task: req.task.id, ...(req.model ? { model: req.model } : {}), params: req.params, ...(sources.length ? { sources } : {}), target: req.target }, onProgress);
    const count = result.images.length;
    for (const [i, image] of result.images.entries()) {
      if (events.isCancelled()) throw new EngineError('cancelled', cancelledMessage(results.length));
      const meta = result.imageMeta?.[i] ?? result.meta;
      report.step(count > 1 ? `Placing ${i + 1} / ${count}` : 'Placing result', 'place', i, count);
      const pixels = await pixelsToPlace(deps, image);
      const name = generatedName(req.task, meta, req.modelLabel(meta.model));
      const source = req.items[0];
      // Several images form a grid (about square) anchored at the first one placed.
      const grid = i > 0 && results[0]?.placedNodeId ? { anchorNodeId: results[0].placedNodeId, index: i, columns: Math.ceil(Math.sqrt(count)) } : undefined;
      const placed = await deps.host.placeResult({ sourceNodeId: source?.nodeId ?? '', ...pixels, width: image.width, height: image.height, name, mode: 'beside', meta, ...(grid ? { grid } : {}) });
      const done: ItemResult = { item: source ?? NO_ITEM, ...kept(image, pixels), width: image.width, height: image.height, name, placedNodeId: placed.nodeId, ms: Date.now() - started, setupMs: report.setupMs(), meta };
      results.push(done);
      events.onResult(done);
    }
    report.done('Placed');
    return results;
  } catch (err) {
    const code = err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' ? (err as EngineError).code : undefined;
    if (code === 'cancelled') throw new EngineError('cancelled', cancelledMessage(results.length));
    throw err;
  }
}

/** Stands in for the selection when a generator runs with nothing selected. */
const NO_ITEM: SelectedItem = { nodeId: '', name: 'New image', width: 0, height: 0, kind: 'image' };

export async function runBatch(deps: BatchDeps, req: BatchRequest, events: BatchEvents): Promise<ItemResult[]> {
  if (isGenerator(req.task)) return runGenerator(deps, req, events);
  const results: ItemResult[] = [];
  const count = req.items.length;
  for (let index = 0; index < count; index++) {
    const item = req.items[index];
    // A video job's latest frame, when the server's progress carries one, shows above the bar (as text-to-image's steps).
    let latestFrame: RgbaImage | undefined;
    const report = batchReporter(req, events, index, item, () => (latestFrame ? { preview: latestFrame } : {})); // the bar never moves backwards within an item
    const checkCancelled = () => {
      if (events.isCancelled()) throw new EngineError('cancelled', cancelledMessage(results.length));
    };
    try {
      checkCancelled();
      const started = Date.now();
      if (req.task.inputs.includes('video')) {
        const done = await runVideoItem(deps, req, item, events, report, checkCancelled, started, { set: (image) => (latestFrame = image) });
        results.push(done);
        events.onResult(done);
        // A host's own words may already say where the clip is (Photoshop's cancelled save): not said twice.
        const kept = /download/i.test(done.notPlaced ?? '') ? '' : ` The ${taskDisplay(req.task).clipWord ?? 'finished'} clip is kept below: download it.`;
        if (done.notPlaced && req.hostTakesVideo) throw new EngineError('run-failed', `${done.notPlaced}${kept}`);
        continue;
      }
      report.step(`Reading “${item.name}”`, 'read', 0, 1);
      const withMask = req.task.inputs.includes('mask');
      const image = await deps.host.readImage(item.nodeId, item.name, withMask ? { withMask } : {});
      checkCancelled();
      const rgba = await engineImage(deps, image);
      checkCancelled();
      const mask = withMask ? await readMask(deps, image, item) : undefined;
      checkCancelled();
      report.step(`Read “${item.name}”`, 'read', 1, 1);
      const jobId = newJobId();
      events.onJob(jobId);
      // A task's own run messages say what it does ("Reading the whole picture"); the other stages speak the UI's words.
      const onProgress = (p: Progress) => report.step(p.stage === 'run' && p.message ? p.message : stageText(p, req.task), p.stage, p.done, p.total);
      const result = await deps.engine.run(
        { id: jobId, task: req.task.id, ...(req.model ? { model: req.model } : {}), params: req.params, image: rgba, ...(mask ? { mask } : {}), target: req.target },
        onProgress,
      );
      const out = result.images[0];
      if (!out) throw new EngineError('run-failed', `${req.task.label} returned no image. Try another model or target.`);
      if (!deps.host.takesRawPixels?.()) report.step('Encoding result', 'encode', 0, 1);
      const pixels = await pixelsToPlace(deps, out);
      checkCancelled();
      report.step('Placing result', 'place', 0, 1);
      const name = resultName(req.task, req.params, req.modelLabel(result.meta.model));
      const placed = await deps.host.placeResult({
        // A read with its mask names exactly what it read (Photoshop: the layer's bounds, not the marquee's): the
        // result goes over those pixels.
        sourceNodeId: withMask ? image.nodeId : item.nodeId, ...pixels, width: out.width, height: out.height, name, mode: req.placeMode, meta: result.meta,
      });
      report.done('Placed');
      const done: ItemResult = {
        item, ...kept(out, pixels), before: { bytes: image.bytes, mime: image.mime, width: image.width, height: image.height }, width: out.width, height: out.height, name, placedNodeId: placed.nodeId,
        ms: Date.now() - started, setupMs: report.setupMs(), meta: result.meta,
      };
      results.push(done);
      events.onResult(done);
    } catch (err) {
      throw itemError(err, item, count, results.length);
    }
  }
  return results;
}

/** One clip: read it from the host, run the server job, place the result or keep it to download. */
async function runVideoItem(
  deps: BatchDeps,
  req: BatchRequest,
  item: SelectedItem,
  events: BatchEvents,
  report: ReturnType<typeof batchReporter>,
  checkCancelled: () => void,
  started: number,
  preview: { set(image: RgbaImage): void },
): Promise<ItemResult> {
  const chosen = req.chosenClips?.get(item.nodeId);
  report.step(chosen ? `Reading “${item.name}”` : `Exporting “${item.name}” as video`, 'read', 0, 1);
  const clip = chosen ? { bytes: await readChosen(chosen, item), mime: chosen.mime, width: chosen.width, height: chosen.height } : await deps.host.readVideo(item.nodeId, item.name);
  checkCancelled();
  const jobId = newJobId();
  events.onJob(jobId);
  const onProgress = (p: Progress) => {
    if (p.preview) preview.set(p.preview);
    report.step(p.message ?? stageText(p, req.task), p.stage, p.done, p.total);
  };
  const result = await deps.engine.run(
    { id: jobId, task: req.task.id, ...(req.model ? { model: req.model } : {}), params: req.params, video: { bytes: clip.bytes, mime: clip.mime, width: clip.width, height: clip.height }, target: req.target },
    onProgress,
  );
  const video = result.video;
  if (!video) throw new EngineError('run-failed', `${req.task.label} returned no video. Try again; if it repeats, check the server's log.`);
  const width = video.width ?? clip.width * Number(req.params.scale ?? 1);
  const height = video.height ?? clip.height * Number(req.params.scale ?? 1);
  const name = resultName(req.task, req.params, req.modelLabel(result.meta.model));
  const base = { item, video, width, height, name, meta: result.meta };
  if (!req.hostTakesVideo) {
    report.done('Done: download the clip');
    return { ...base, placedNodeId: null, notPlaced: 'This host cannot place video.', ms: Date.now() - started };
  }
  report.step('Placing result', 'place', 0, 1);
  try {
    // A chosen file has no node: the host places it where a new result goes.
    const placed = await deps.host.placeVideo({ ...(chosen ? {} : { sourceNodeId: item.nodeId }), bytes: video.bytes, mime: video.mime, width, height, name, meta: result.meta });
    report.done('Placed');
    return { ...base, placedNodeId: placed.nodeId, ms: Date.now() - started };
  } catch (err) {
    // The work is done: keep the clip for download instead of losing it with the error, and show its first frame.
    const why = err instanceof Error ? err.message : String(err);
    const still = await placeFirstFrame(deps, req, video, chosen ? '' : item.nodeId, name, result.meta);
    report.done(still ? 'Placed the first frame' : 'Done: download the clip');
    return { ...base, placedNodeId: still, notPlaced: still ? `${why} Its first frame is placed instead.` : why, ms: Date.now() - started };
  }
}

/** The clip's first frame as an image beside the source (or in view), or null when that cannot be done either. */
async function placeFirstFrame(deps: BatchDeps, req: BatchRequest, video: EncodedVideo, sourceNodeId: string, name: string, meta: JobResult['meta']): Promise<string | null> {
  if (!req.firstFrame) return null;
  try {
    const frame = await req.firstFrame(video);
    const placed = await deps.host.placeResult({ sourceNodeId, png: frame.png, width: frame.width, height: frame.height, name: `${name} (first frame)`, mode: 'beside', meta });
    return placed.nodeId;
  } catch {
    return null; // the clip is still kept to download; the host's first refusal says why
  }
}

/** The bytes of a chosen file: a file moved or changed on disk since it was chosen can no longer be read. */
async function readChosen(chosen: ChosenClipSource, item: SelectedItem): Promise<Uint8Array> {
  try {
    return await chosen.read();
  } catch (err) {
    throw new EngineError('bad-input', `Could not read “${item.name}” (${err instanceof Error ? err.message : String(err)}): it may have been moved or changed. Choose it again.`);
  }
}

/** The item's mask as one image of its size, from the pieces the host sent (shapes, a marquee). */
async function readMask(deps: BatchDeps, image: HostToUi['image'], item: SelectedItem): Promise<RgbaImage> {
  if (!image.mask?.length) throw new EngineError('bad-input', `Nothing marks what to fill in “${item.name}”: ${maskHint()}`);
  const parts = [];
  for (const part of image.mask) {
    // Raw levels (Photoshop's selection) are the amounts as they are; a PNG part is decoded by the engine.
    if (part.alpha && part.alpha.length !== part.width * part.height) {
      throw new EngineError('bad-input', `The host sent a mask of ${part.alpha.length} levels for ${part.width}×${part.height} px. Select the region again.`);
    }
    const pixels = part.alpha ? levelsToRgba(part.alpha, part.width, part.height) : await deps.engine.decode(part.png, 'image/png');
    parts.push({ image: pixels, x: part.x, y: part.y });
  }
  return composeMask(image.width, image.height, parts);
}

/** How to mark a region, in each host. */
/** How to mark what Inpaint fills, in the words of the host at hand (every host's way when it is not known). */
export function maskHint(host?: HostName): string {
  switch (host) {
    case 'figma': return 'draw a shape over the image and select both.';
    case 'photoshop': return 'make a marquee selection on the layer.';
    case 'playground': return 'drag across the image to mark a region, or draw a shape over it and select both.';
    default: return 'in Figma draw a shape over the image and select both; in Photoshop make a marquee selection on the layer; in the playground drag across the image.';
  }
}

function cancelledMessage(placed: number): string {
  return placed ? `Cancelled — ${placed} placed, the rest were not.` : 'Cancelled — nothing was placed.';
}

/** Keeps the engine's code; names the item in a batch; says how many were placed before a cancel. */
function itemError(err: unknown, item: SelectedItem, count: number, placed: number): Error {
  const code = err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' ? (err as EngineError).code : undefined;
  if (code === 'cancelled') return new EngineError('cancelled', cancelledMessage(placed));
  const message = err instanceof Error ? err.message : String(err);
  const text = count > 1 ? `“${item.name}”: ${message}` : message;
  return code ? new EngineError(code, text) : new Error(text);
}
