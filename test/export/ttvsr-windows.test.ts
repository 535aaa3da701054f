// worker/video/ttvsr.ts over the tiny TTVSR parts (models/export/ttvsr.py, exported by export.py, run on the product's
// onnxruntime-node runtime): a clip in windows with context against one pass over the whole clip (they differ
// because each window's recurrence sees only `context` frames of past and future: the bounds below are measured),
// context 0 differing more, padding of sizes that are not multiples of 4 (or under 64) and the exact ×4 crop,
// cancel between part calls, progress, and the memory estimate (worker/video/ttvsr-memory.ts) against what the driver
// really holds. The clip is a real photo (test/fixtures/images/chelsea.png) panned per frame.
// Needs Debian's python3-torch + python3-onnx for the export; fails (never skips) without them.
//
//   node --import tsx --test --test-reporter=spec test/export/ttvsr-windows.test.ts

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { ModelCard } from '../../worker/models/card.ts';
import { createOrtNodeRuntime } from '../../worker/runtime/ort-node.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import {
  TTVSR_PARTS, padFrame, runWindow, upscaleClipInWindows, type Progress, type RunPart, type TtvsrPart, type VideoFrame,
  type WindowOptions,
} from '../../worker/video/ttvsr.ts';
import { MARGIN, windowHeldBytes } from '../../worker/video/ttvsr-memory.ts';
import { REPO_ROOT, assertOk, readCheckedCard, requireTorch, runExport } from './export-util.ts';

const FRAMES = 18;
const HEIGHT = 64;
const WIDTH = 72;

let work = '';
let sessions: Record<TtvsrPart, Session>;
let clip: VideoFrame[];
let whole: VideoFrame[];

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'frontier-ttvsr-windows-'));
  const runtime = createOrtNodeRuntime({ threads: 1 });
  const out = join(work, 'tiny');
  // One export per part, in turn: each builds the whole tiny model from seed 0, so the parts' weights agree.
  const entries: [TtvsrPart, Session][] = [];
  for (const part of TTVSR_PARTS) {
    const result = await runExport([`ttvsr-reds-${part}`, '--tiny', '--seed', '0', '--out', out], 300_000);
    assertOk(result, `tiny export of ${part}`);
    const { card, onnxPath } = readCheckedCard(out, `ttvsr-reds-${part}-tiny`);
    entries.push([part, await runtime.createSession(card as ModelCard, async () => readFileSync(onnxPath))]);
  }
  sessions = Object.fromEntries(entries) as Record<TtvsrPart, Session>;
  clip = pannedClip(FRAMES, WIDTH, HEIGHT);
  whole = await upscale(clip, { window: FRAMES, context: 0 });
});

after(async () => {
  if (sessions) await Promise.all(Object.values(sessions).map((s) => s.dispose()));
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Crops of chelsea.png (451×300), the window moving 3 px right and 2 px down per frame: a camera pan. */
function pannedClip(frames: number, width: number, height: number, from = { x: 100, y: 60 }): VideoFrame[] {
  const png = PNG.sync.read(readFileSync(join(REPO_ROOT, 'test/fixtures/images/chelsea.png')));
  return Array.from({ length: frames }, (_, i) => {
    const x0 = from.x + 3 * i;
    const y0 = from.y + 2 * i;
    assert.ok(x0 + width <= png.width && y0 + height <= png.height);
    const data = new Float32Array(3 * width * height);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = png.data[((y0 + y) * png.width + x0 + x) * 4 + c] / 255;
      }
    }
    return { width, height, data };
  });
}

const runner: RunPart = (part, feeds, signal) => sessions[part].run(feeds, { signal });

async function* stream<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function upscale(frames: VideoFrame[], options: WindowOptions, runPart = runner, signal?: AbortSignal, onProgress?: (p: Progress) => void) {
  const out: VideoFrame[] = [];
  for await (const frame of upscaleClipInWindows(stream(frames), options, runPart, signal, onProgress)) out.push(frame);
  return out;
}

/** Max and mean |a − b| over all frames' pixels. */
function compare(a: VideoFrame[], b: VideoFrame[]): { max: number; mean: number } {
  assert.equal(a.length, b.length);
  let max = 0;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    assert.deepEqual([a[i].width, a[i].height], [b[i].width, b[i].height]);
    for (let j = 0; j < a[i].data.length; j++) {
      const d = Math.abs(a[i].data[j] - b[i].data[j]);
      if (d > max) max = d;
      sum += d;
    }
    count += a[i].data.length;
  }
  return { max, mean: sum / count };
}

const fmt = ({ max, mean }: { max: number; mean: number }) =>
  `max ${max.toExponential(2)} (${(max * 255).toFixed(2)} levels), mean ${mean.toExponential(2)} (${(mean * 255).toFixed(3)} levels)`;

test('runWindow: skipping the steps that cannot reach the kept frames gives the full run\'s kept frames', async () => {
  const frames = clip.slice(0, 7).map((f) => ({ dtype: 'float32' as const, dims: [1, 3, HEIGHT, WIDTH], data: f.data }));
  const full = [];
  for await (const { image } of runWindow(frames, runner)) full.push(image);
  const kept = [];
  let calls = 0;
  const counting: RunPart = (part, feeds, signal) => { calls++; return runner(part, feeds, signal); };
  for await (const { index, image } of runWindow(frames, counting, { keepFrom: 2, keepTo: 5 })) kept.push({ index, image });
  assert.deepEqual(kept.map((k) => k.index), [2, 3, 4]);
  for (const { index, image } of kept) assert.deepEqual(image.data, full[index].data, `frame ${index}`);
  // 7 features; backward 6 → 2 (5 steps, 4 with flow + align); forward 0 → 4 (5 steps, 4 with flow + align, 3
  // reconstructs): 7 + (5 + 8) + (5 + 8 + 3) instead of 7 + 2·(7 + 12) + 7 for the full run.
  assert.equal(calls, 36);
  assert.equal(full.length, 7);
  assert.deepEqual(full[0].dims, [1, 3, 4 * HEIGHT, 4 * WIDTH]);
});

// Measured on this machine (tiny random-weight model, 18 frames 64×72 of a pan, 8-bit levels of the ×4 output):
//   (window, context)   max     mean   |  context 0   max     mean
//   (4, 2)              42.1    3.03   |  (4, 0)      41.6    3.38
//   (6, 3)              40.6    3.00   |  (6, 0)      44.5    3.00
//   (8, 4)              36.0    2.69   |  (8, 0)      42.8    3.26
// More context does not converge on the whole clip here: the random model's discrete choices (nearest trajectory
// positions, the most similar keyframe) amplify small changes (1e-4 added to frame 0 alone moves frame 16 by up to
// 13.7 levels), so any frame the recurrence does not see changes the rest by a few levels. The bounds hold these
// measurements with a margin; what context buys exactly is that a kept frame whose window reaches both ends of the
// clip equals the whole pass bit for bit, which context 0 does not give.
const MAX_BOUND = 0.2; // 51 levels
const MEAN_BOUND = 4 / 255;

/** Frames [from, to) of a and b. */
const span = (a: VideoFrame[], b: VideoFrame[], from: number, to: number) => compare(a.slice(from, to), b.slice(from, to));

test('windows with context equal one pass over the clip within the measured bounds; context 0 differs more', async () => {
  const range = [Infinity, -Infinity];
  for (const f of whole) for (const v of f.data) { range[0] = Math.min(range[0], v); range[1] = Math.max(range[1], v); }
  assert.ok(range[1] - range[0] > 0.5, `the tiny model makes a varied output (${range})`);
  assert.equal(whole.length, FRAMES);
  for (const f of whole) assert.deepEqual([f.width, f.height], [4 * WIDTH, 4 * HEIGHT]);

  for (const [window, context] of [[4, 2], [6, 3], [8, 4]]) {
    const progress: Progress[] = [];
    const got = await upscale(clip, { window, context, total: FRAMES }, runner, undefined, (p) => progress.push(p));
    assert.deepEqual(progress, Array.from({ length: FRAMES }, (_, i) => ({ done: i + 1, total: FRAMES })));
    const d = compare(got, whole);
    console.log(`window ${window}, context ${context}: ${fmt(d)}`);
    assert.ok(d.max <= MAX_BOUND && d.mean <= MEAN_BOUND, `(${window}, ${context}): ${fmt(d)}`);
  }

  // Context reaches the recurrence: window 8 with context 8 gives frames 8–15 all 18 frames (exact), context 0 not.
  const wide = await upscale(clip, { window: 8, context: 8 });
  const none = await upscale(clip, { window: 8, context: 0 });
  const wideMiddle = span(wide, whole, 8, 16);
  const noneMiddle = span(none, whole, 8, 16);
  console.log(`window 8, context 8, frames 8–15: ${fmt(wideMiddle)}; whole clip ${fmt(compare(wide, whole))}`);
  console.log(`window 8, context 0, frames 8–15: ${fmt(noneMiddle)}; whole clip ${fmt(compare(none, whole))}`);
  assert.equal(wideMiddle.max, 0);
  assert.ok(noneMiddle.mean > 1 / 255, `context 0 should differ by levels: ${fmt(noneMiddle)}`);
  assert.ok(compare(wide, whole).mean < compare(none, whole).mean);

  // The bounds catch a window bug: frames kept one slot off (a keep-range error) are far outside them.
  const shifted = compare(whole.slice(1), whole.slice(0, -1));
  console.log(`control, frames off by one: ${fmt(shifted)}`);
  assert.ok(shifted.mean > 2 * MEAN_BOUND, fmt(shifted));
});

test('a size that is not a multiple of 4 (and under 64) is edge-padded and the output cropped to exactly 4H×4W', async () => {
  const [w, h] = [70, 61];
  const frames = pannedClip(5, w, h, { x: 200, y: 100 });
  const progress: Progress[] = [];
  const got = await upscale(frames, { window: 3, context: 1 }, runner, undefined, (p) => progress.push(p));
  assert.equal(got.length, 5);
  for (const f of got) {
    assert.deepEqual([f.width, f.height], [4 * w, 4 * h]);
    assert.equal(f.data.length, 3 * 16 * w * h);
  }
  assert.deepEqual(progress.map((p) => p.done), [1, 2, 3, 4, 5]);
  assert.ok(progress.every((p) => p.total === undefined), 'no total unless the caller knows it');

  // The same frames padded here by edge replication to 72×64 and upscaled: cropping their output gives `got`.
  const pad = (f: VideoFrame, edge: boolean): VideoFrame => {
    const [pw, ph] = [72, 64];
    const data = new Float32Array(3 * pw * ph);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < ph; y++) {
        for (let x = 0; x < pw; x++) {
          data[(c * ph + y) * pw + x] = edge || (x < w && y < h) ? f.data[(c * h + Math.min(y, h - 1)) * w + Math.min(x, w - 1)] : 0;
        }
      }
    }
    return { width: pw, height: ph, data };
  };
  const crop = (f: VideoFrame): VideoFrame => {
    const data = new Float32Array(3 * 16 * w * h);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 4 * h; y++) data.set(f.data.subarray((c * f.height + y) * f.width, (c * f.height + y) * f.width + 4 * w), (c * 4 * h + y) * 4 * w);
    }
    return { width: 4 * w, height: 4 * h, data };
  };
  const edge = (await upscale(frames.map((f) => pad(f, true)), { window: 3, context: 1 })).map(crop);
  assert.equal(compare(got, edge).max, 0);
  // Control: zero padding would give another result (the comparison can fail).
  const zero = (await upscale(frames.map((f) => pad(f, false)), { window: 3, context: 1 })).map(crop);
  assert.ok(compare(got, zero).max > 1e-3, `zero padding: ${fmt(compare(got, zero))}`);
});

test('cancel between part calls: rejects with an AbortError and calls no part after the abort', async () => {
  const controller = new AbortController();
  let calls = 0;
  let afterAbort = 0;
  // (4, 2): window 1 (frames 0–5, keeps 0–3) makes 6 features + 16 backward + 14 forward calls = 36, window 2
  // (frames 2–9) 8 + 16 + 20: call 60 ends window 2's backward pass, after 4 frames are out.
  const ABORT_AT = 60;
  const counting: RunPart = async (part, feeds, signal) => {
    if (controller.signal.aborted) afterAbort++;
    calls++;
    const out = await runner(part, feeds, signal);
    if (calls === ABORT_AT) controller.abort();
    return out;
  };
  const progress: Progress[] = [];
  await assert.rejects(upscale(clip, { window: 4, context: 2, total: FRAMES }, counting, controller.signal, (p) => progress.push(p)), (err: Error) => {
    assert.equal(err.name, 'AbortError');
    assert.match(err.message, /cancelled/);
    return true;
  });
  assert.equal(calls, ABORT_AT);
  assert.equal(afterAbort, 0);
  assert.equal(progress.length, 4, 'window 1\'s frames only');

  // Already aborted: rejects before any part runs.
  calls = 0;
  await assert.rejects(upscale(clip.slice(0, 3), {}, counting, AbortSignal.abort()), { name: 'AbortError' });
  assert.equal(calls, 0);
});

test('frames of different sizes and bad window options are refused', async () => {
  const mixed = [...pannedClip(2, WIDTH, HEIGHT), ...pannedClip(1, WIDTH + 4, HEIGHT)];
  await assert.rejects(upscale(mixed, { window: 2, context: 0 }), /frame 2 is 76×64; the clip's first frame is 72×64/);
  await assert.rejects(upscale(clip.slice(0, 2), { window: 0, context: 1 }), /window size must be a whole number/);
  await assert.rejects(upscale(clip.slice(0, 2), { keyframeStride: 0 }), /keyframe stride must be a whole number/);
});

// The memory estimate (worker/video/ttvsr-memory.ts) against what the driver really holds on the tiny model: its
// meter (runWindow's onHeld: every tensor it references after each part call and token append, each buffer once) and
// the token buffers the align part is fed. The estimate replays the schedule from the sizes alone.
test('memory: windowHeldBytes is the most the driver holds, and each keyframe\'s tokens are one feature map', async () => {
  const cases: { width: number; height: number; window: { frames: number; keepFrom?: number; keepTo?: number }; keyframeStride?: number; what: string }[] = [
    { width: WIDTH, height: HEIGHT, window: { frames: 16, keepFrom: 4, keepTo: 12 }, what: 'the product’s middle window (8 + 4 either side)' },
    { width: WIDTH, height: HEIGHT, window: { frames: 12, keepFrom: 0, keepTo: 8 }, what: 'a clip’s first window' },
    { width: 70, height: 61, window: { frames: 10, keepFrom: 4, keepTo: 10 }, what: 'a last window, padded to 72×64' },
    { width: 96, height: 64, window: { frames: 7 }, what: 'one pass over a short clip' },
    { width: 64, height: 80, window: { frames: 18, keepFrom: 5, keepTo: 9 }, keyframeStride: 2, what: 'keyframes every 2' },
  ];
  for (const c of cases) {
    const frames = pannedClip(c.window.frames, c.width, c.height).map(padFrame);
    let peak = 0;
    let channels = 0;
    let alignTokens = 0;
    let alignKeyframes = 0;
    const watching: RunPart = async (part, feeds, signal) => {
      const out = await runner(part, feeds, signal);
      if (part === 'features') channels = out.feature.dims[1];
      if (part === 'align') {
        const [n, k, f, h, w] = feeds.tokens_s1.dims;
        const [, , fh, fw] = feeds.feature.dims;
        assert.equal(n * f * h * w, channels * fh * fw, 'one keyframe of tokens [16C, H/4, W/4] holds as many values as a feature map');
        alignKeyframes = Math.max(alignKeyframes, k);
        alignTokens = Math.max(alignTokens, ['tokens_s1', 'tokens_s2', 'tokens_s3', 'tokens_index'].reduce((s, name) => s + (feeds[name].data as Float32Array).byteLength, 0));
      }
      return out;
    };
    for await (const _ of runWindow(frames, watching, { ...c.window, keyframeStride: c.keyframeStride, onHeld: (bytes) => (peak = Math.max(peak, bytes)) })) void _;
    const est = windowHeldBytes({ width: c.width, height: c.height, channels, keyframeStride: c.keyframeStride }, c.window);
    console.log(`${c.what}: the driver held at most ${peak} bytes, estimated ${est.driver}; tokens fed to align ${alignTokens} (${alignKeyframes} keyframes), estimated at most ${est.tokens} (${est.keyframes})`);
    assert.equal(channels, 8, 'the tiny model');
    assert.equal(est.driver, peak, c.what);
    assert.ok(alignTokens <= est.tokens && alignKeyframes <= est.keyframes, c.what);
    if (c.what.startsWith('the product')) assert.deepEqual([alignTokens, alignKeyframes], [est.tokens, est.keyframes], 'the middle window feeds align all its keyframes');
    assert.equal(est.total, Math.ceil(MARGIN * (est.driver + est.parts)));
  }
});
