// How much memory TTVSR needs for a clip, from its frame size and the windows it runs in, before any of it runs: the
// server refuses a clip whose windows would not fit its budget (server/jobs/runner.ts) rather than let the engine
// process run out of memory halfway through.
//
// Two parts, in units of one feature map fm = 4·C·H·W bytes (C channels at the padded frame size; one keyframe's
// tokens [16C,H/4,W/4] are the same size):
//  - The driver's own buffers (worker/video/ttvsr.ts runWindow): every frame's feature map for the whole window, the
//    backward features of the kept frames, four keyframe token buffers per pass (K keyframes each), the trajectory
//    maps, and the current step's tensors. windowHeldBytes() replays the driver's schedule with sizes alone; its
//    `driver` is exactly the largest value of the driver's meter (runWindow's onHeld), which
//    test/export/ttvsr-windows.test.ts checks on the tiny model. A window of 8 frames with 4 of context: 46.8 fm.
//  - onnxruntime's working memory for each part, which no meter here sees. Each part's session keeps its arena at
//    its largest between runs, so they add up. MEASURED on onnxruntime-node 1.x (CPU, default arena and memory
//    patterns) with the five parts at full width (C = 64, random weights in the official layout), as the growth of the
//    process's peak resident memory over a part's second run, at 96×64 and 192×128 (the same multiples at both):
//    reconstruct 63 fm (its last layers work at 4H×4W), align 14.6 / 36.6 / 50.5 fm at 2 / 4 / 6 keyframes (the
//    keyframes' tokens sampled along the trajectories), refine ≤ 13.6, flow 3.4, features ≤ 1 (PART_WORK_FM rounds
//    them up). A whole window of 16 frames measured the same way grew 1221 MiB at 192×128, 1.23× the driver's
//    281 MiB plus these 714 MiB (buffers the garbage collector had not yet freed, output copies): hence MARGIN.
// At 1920×1080 (fm = 531 MB) that is ≈ 110 GB, of which the token buffers are 8.5 GB (12.7 GB at 6 keyframes);
// at 320×180 ≈ 3 GB.
import { keyframes, KEYFRAME_STRIDE, paddedSize, SCALE } from './ttvsr.ts';
import { frameWindows } from './windows.ts';
import type { ModelCard } from '../models/card.ts';

/** onnxruntime's working memory per part, in feature maps (measured: see above); align's is per keyframe. */
export const PART_WORK_FM = { flow: 4, features: 1, refine: 14, reconstruct: 64, alignPerKeyframe: 9 } as const;
/** A whole window took 1.23× the driver's buffers plus the parts' working memory (measured at 192×128): rounded up. */
export const MARGIN = 1.25;

export interface WindowShape {
  /** Frames in the window, context included. */
  frames: number;
  keepFrom?: number;
  keepTo?: number;
}

export interface FrameShape {
  /** Frame size before padding (the driver pads to multiples of 4, at least 64). */
  width: number;
  height: number;
  /** Feature channels C (64 for the official models, 8 for the tiny test ones). */
  channels: number;
  keyframeStride?: number;
}

export interface WindowBytes {
  /** The most the driver holds at once (its meter's largest value). */
  driver: number;
  /** The keyframe token buffers alone at their largest (4 buffers × K keyframes × one feature map). */
  tokens: number;
  /** Most keyframes in one pass's token buffers. */
  keyframes: number;
  /** The parts' working memory inside onnxruntime (measured multiples of a feature map). */
  parts: number;
  /** What the window needs in all: MARGIN × (driver + parts). */
  total: number;
}

/** The feature channels C of a TTVSR part card (its io.video.channels, else its `feature` input's channel count). */
export function ttvsrChannels(card: ModelCard): number {
  const video = (card.io as { video?: { channels?: unknown } }).video;
  if (typeof video?.channels === 'number') return video.channels;
  const feature = card.io.inputs.find((i) => i.name === 'feature' || i.name === 'backward');
  if (typeof feature?.shape[1] === 'number') return feature.shape[1];
  throw new Error(`${card.id} does not say how many feature channels TTVSR has (io.video.channels).`);
}

/**
 * The memory one TTVSR window needs: the driver's buffers replayed step by step as runWindow allocates and releases
 * them (float32 throughout; each buffer counted once, as its meter counts them), plus the parts' working memory.
 */
export function windowHeldBytes(size: FrameShape, window: WindowShape): WindowBytes {
  const { channels: c, keyframeStride = KEYFRAME_STRIDE } = size;
  const { frames: t, keepFrom = 0, keepTo = t } = window;
  const p = paddedSize(size.width, size.height);
  const hw = p.width * p.height;
  const frame = 4 * 3 * hw;
  const fm = 4 * c * hw;
  const flow = 4 * 2 * hw;
  const map = (4 * 2 * hw) / (4 * 4); // one trajectory map [1,1,2,H/4,W/4]
  const image = 4 * 3 * SCALE * SCALE * hw;

  let driver = 0;
  let most = 0; // keyframes
  const note = (bytes: number) => {
    driver = Math.max(driver, bytes);
  };

  let features = t; // feature maps held
  let kept = 0; // backward features held
  for (let j = 1; j <= t; j++) note(t * frame + j * fm + map); // features (the token grid is made first)
  for (const isBackward of [true, false]) {
    const keys = keyframes(t, isBackward, keyframeStride);
    const [start, stop, delta] = isBackward ? [t - 1, keepFrom - 1, -1] : [0, keepTo, 1];
    let k = 0; // keyframes in each token buffer
    let propagated = 0; // bytes of the propagated feature not also held as a backward feature
    let maps = 0; // maps in the trajectory state; 0 while it is the token grid itself
    // Always held: frames, features, backward features, token buffers, the token grid.
    const base = () => t * frame + features * fm + kept * fm + 4 * k * fm + map;
    for (let i = start; i !== stop; i += delta) {
      const isKey = keys.has(i);
      if (i === start) {
        maps = 0;
      } else {
        const inputs = maps || 1;
        note(base() + propagated + maps * map + flow); // flow → flow
        note(base() + propagated + maps * map + flow + fm + inputs * map); // align → aligned, location_out
        maps = isKey ? inputs + 1 : inputs;
      }
      const aligned = fm;
      note(base() + propagated + maps * map + aligned + fm + (isKey ? 4 * fm : 0)); // refine → propagated (+ tokens)
      propagated = fm;
      if (isKey) {
        for (let b = 1; b <= 4; b++) {
          // Buffer b − 1 is replaced by its concatenation with the new slot (the first slot is the refine output
          // itself); the refine outputs are still held.
          const buffers = k === 0 ? 0 : (4 * k + (b - 1)) * fm + (k + 1) * fm;
          note(t * frame + features * fm + kept * fm + buffers + map + propagated + maps * map + aligned + 4 * fm);
        }
        k++;
        most = Math.max(most, k);
      }
      if (isBackward) {
        if (i < keepTo) {
          kept++;
          propagated = 0; // now held as a backward feature
        }
      } else {
        features--;
        if (i >= keepFrom) {
          note(base() + propagated + maps * map + aligned + fm + image); // reconstruct(frame, backward, feature, forward) → image
          kept--;
        }
      }
    }
  }
  const w = PART_WORK_FM;
  const parts = (w.flow + w.features + w.refine + w.reconstruct + w.alignPerKeyframe * most) * fm;
  return { driver, tokens: 4 * most * fm, keyframes: most, parts, total: Math.ceil(MARGIN * (driver + parts)) };
}

/** The distinct window shapes of a clip of `frames` frames, cut as the server cuts it (frameWindows). */
export async function clipWindows(frames: number, window: number, context: number): Promise<Required<WindowShape>[]> {
  const shapes = new Map<string, Required<WindowShape>>();
  async function* indices() {
    for (let i = 0; i < frames; i++) yield i;
  }
  for await (const win of frameWindows(indices(), window, context)) {
    shapes.set(`${win.frames.length}/${win.keepFrom}/${win.keepTo}`, { frames: win.frames.length, keepFrom: win.keepFrom, keepTo: win.keepTo });
  }
  return [...shapes.values()];
}

/** The most any of `windows` needs (each field its own largest). */
export function windowsHeldBytes(size: FrameShape, windows: WindowShape[]): WindowBytes {
  const most: WindowBytes = { driver: 0, tokens: 0, keyframes: 0, parts: 0, total: 0 };
  for (const win of windows) {
    const b = windowHeldBytes(size, win);
    for (const key of Object.keys(most) as (keyof WindowBytes)[]) most[key] = Math.max(most[key], b[key]);
  }
  return most;
}

/**
 * The largest frame size of the same aspect ratio whose windows need at most `budget` bytes (`field`: what counts),
 * or null when even the smallest frames (the driver pads to 64×64) need more.
 */
export function largestFitting(size: FrameShape, windows: WindowShape[], budget: number, field: 'total' | 'driver' = 'total'): { width: number; height: number } | null {
  const at = (s: number) => ({ width: Math.max(1, Math.floor(size.width * s)), height: Math.max(1, Math.floor(size.height * s)) });
  const fits = (s: number) => windowsHeldBytes({ ...size, ...at(s) }, windows)[field] <= budget;
  if (!fits(Math.min(64 / size.width, 64 / size.height, 1))) return null;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return at(lo);
}
