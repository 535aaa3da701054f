// One VQ-Diffusion denoising step on plain arrays, following microsoft/VQ-Diffusion (diffusion_transformer.py
// predict_start / q_posterior / log_sample_categorical, dalle.py guidance and 'top{r}r' truncation).
// Layout everywhere: [class, position] row-major, like the transformer's log_probs for one image. Classes 0..C−1 are
// codes, class C is the mask. Arithmetic is float64 (the transformer output is float32).

import type { DiffusionIo, PlannedStep, Schedule } from './schedule.ts';
import { scheduleFor } from './schedule.ts';

/** The official "log 0" of one-hot vectors and of the zero rows in q_posterior: log(1e-30). */
export const LOG_ZERO = Math.log(1e-30);

/** Guidance scales this close to 1 skip the unconditional branch (as the official code). */
export const NO_GUIDANCE_EPSILON = 1e-3;

export function usesGuidance(scale: number): boolean {
  return Math.abs(scale - 1) >= NO_GUIDANCE_EPSILON;
}

function logAddExp(a: number, b: number): number {
  const m = a > b ? a : b;
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

function clamp(v: number, floor: number): number {
  return v < floor ? floor : v > 0 ? 0 : v;
}

/** log p(x0) with classifier-free guidance into `out` [C, L]: both branches clamped to [floor, 0] (predict_start),
 * then uncond + s·(cond − uncond), renormalised per position with logsumexp and clamped again. Without `uncond`
 * (or s ≈ 1) it is the clamped cond, as officially. `work` holds 2·L per-position values. */
export function guideLogProbs(cond: Float32Array, uncond: Float32Array | null, scale: number, classes: number,
  positions: number, floor: number, out: Float64Array, work: Float64Array = new Float64Array(2 * positions)): Float64Array {
  const n = classes * positions;
  if (cond.length < n || out.length < n || (uncond && uncond.length < n)) throw new Error('guideLogProbs: arrays too short');
  if (!uncond || !usesGuidance(scale)) {
    for (let i = 0; i < n; i++) out[i] = clamp(cond[i], floor);
    return out;
  }
  const max = work.subarray(0, positions).fill(-Infinity);
  const sum = work.subarray(positions, 2 * positions).fill(0);
  for (let k = 0, i = 0; k < classes; k++) {
    for (let p = 0; p < positions; p++, i++) {
      const u = clamp(uncond[i], floor);
      const v = u + scale * (clamp(cond[i], floor) - u);
      out[i] = v;
      if (v > max[p]) max[p] = v;
    }
  }
  for (let k = 0, i = 0; k < classes; k++) {
    for (let p = 0; p < positions; p++, i++) sum[p] += Math.exp(out[i] - max[p]);
  }
  for (let p = 0; p < positions; p++) max[p] += Math.log(sum[p]); // now the log-sum-exp
  for (let k = 0, i = 0; k < classes; k++) {
    for (let p = 0; p < positions; p++, i++) out[i] = clamp(out[i] - max[p], floor);
  }
  return out;
}

// Truncation sorts only candidates: the classes within `delta` (in log-probability) of the position's maximum,
// widening delta until they hold the cut. Guided distributions are peaky, so that is a handful of classes instead of
// a sort of all 4096 per position (≈ 0.7 s per ITHQ step).
const TRUNCATION_FIRST_DELTA = 4;
const TRUNCATION_LAST_DELTA = 64; // beyond this every class is a candidate

/** Positions truncated together: their columns are copied out in one pass over the classes (reading 16
 * neighbouring values per class instead of one value 8 KB apart). */
const TRUNCATION_BLOCK = 16;

/** Scratch for truncateLogProbs, sized for `classes`. */
export class TruncationScratch {
  readonly columns: Float64Array;
  readonly candidates: number[] = [];
  constructor(classes: number) {
    this.columns = new Float64Array(TRUNCATION_BLOCK * classes);
  }
}

/** Truncation 'top{r}r': per position keep the most probable classes until their cumulative probability reaches
 * r (a class stays when the probability of the classes before it in descending order is < r; the first always
 * stays), the rest become `floor`; kept values are not renormalised (official). Ties keep the lower class ids (a
 * stable descending sort). r ≥ 1 keeps everything. Returns the kept count summed over positions. */
export function truncateLogProbs(x0: Float64Array, classes: number, positions: number, r: number, floor: number,
  scratch: TruncationScratch = new TruncationScratch(classes)): number {
  if (!(r > 0)) throw new Error(`truncation must be in (0, 1] (got ${r})`);
  if (r >= 1) return classes * positions;
  const { columns, candidates } = scratch;
  let keptTotal = 0;
  for (let p0 = 0; p0 < positions; p0 += TRUNCATION_BLOCK) {
    const block = Math.min(TRUNCATION_BLOCK, positions - p0);
    for (let k = 0; k < classes; k++) {
      const row = k * positions + p0;
      for (let j = 0; j < block; j++) columns[j * classes + k] = x0[row + j];
    }
    for (let j = 0; j < block; j++) {
      const column = columns.subarray(j * classes, (j + 1) * classes);
      let max = -Infinity;
      for (let k = 0; k < classes; k++) if (column[k] > max) max = column[k];
      let keep = 0;
      for (let delta = TRUNCATION_FIRST_DELTA; ; delta *= 2) {
        const threshold = delta > TRUNCATION_LAST_DELTA ? -Infinity : max - delta;
        candidates.length = 0;
        for (let k = 0; k < classes; k++) if (column[k] >= threshold) candidates.push(k);
        candidates.sort((a, b) => column[b] - column[a] || a - b);
        let before = 0; // probability of the classes before, summed in descending order like a cumsum
        keep = 0;
        while (keep < candidates.length && before < r) before += Math.exp(column[candidates[keep++]]);
        // Done when the cut falls inside the candidates (every class below them has ≥ r before it).
        if (keep < candidates.length || before >= r || candidates.length === classes) break;
      }
      for (let i = keep; i < candidates.length; i++) column[candidates[i]] = floor - 1; // mark: dropped
      const lowest = candidates.length === classes ? -Infinity : column[candidates[keep - 1]];
      for (let k = 0; k < classes; k++) {
        if (column[k] < lowest || column[k] === floor - 1) column[k] = floor;
      }
      keptTotal += keep;
    }
    for (let k = 0; k < classes; k++) {
      const row = k * positions + p0;
      for (let j = 0; j < block; j++) x0[row + j] = columns[j * classes + k];
    }
  }
  return keptTotal;
}

/** log q(x_{t−1} | x_t, x0) summed over p(x0), exactly as the official q_posterior, into `out` [C + 1, L] (row C: the
 * mask). `x0`: log p(x0) [C, L]; `tokens`: x_t (C = masked); `t`: the posterior timestep. Values clamped to
 * [floor, 0]. Each position's probabilities sum to Σ p(x0) (1 unless truncated; the official soft zeros move it
 * by ~1e-30). `lse` holds L. */
export function posteriorLogProbs(x0: Float64Array, tokens: Int32Array, schedule: Schedule, t: number, floor: number,
  out: Float64Array, lse: Float64Array = new Float64Array(tokens.length)): Float64Array {
  const C = schedule.classes;
  const L = tokens.length;
  if (!(t >= 0 && t < schedule.steps)) throw new Error(`posterior timestep ${t} outside 0..${schedule.steps - 1}`);
  if (x0.length < C * L || out.length < (C + 1) * L) throw new Error('posteriorLogProbs: arrays too short');
  const prev = t === 0 ? schedule.steps : t - 1; // the official (t − 1) mod (T + 1)
  // q(x_t | x0) for x0 = a code: masked x_t → c~_t; unmasked, x0 = x_t → a~_t + b~_t, else b~_t (with the official
  // soft one-hot: log 1e-30 instead of −∞ off the token).
  const qtMasked = schedule.logCumCt[t];
  const qtSame = logAddExp(schedule.logCumAt[t], schedule.logCumBt[t]);
  const qtOther = logAddExp(LOG_ZERO + schedule.logCumAt[t], schedule.logCumBt[t]);
  // q(x_t | x_{t−1}) as a function of x_{t−1}: masked x_t → c_t for codes, 1 for the mask; unmasked → a_t + b_t,
  // b_t (others), "0" for the mask.
  const oneMasked = schedule.logCt[t];
  const oneSame = logAddExp(schedule.logAt[t], schedule.logBt[t]);
  const oneOther = logAddExp(LOG_ZERO + schedule.logAt[t], schedule.logBt[t]);
  const cumAPrev = schedule.logCumAt[prev];
  const cumBPrev = schedule.logCumBt[prev];
  const cumBPrevExp = Math.exp(cumBPrev); // log(e^a + e^b) as log(e^a + B): one exp fewer per entry
  const cumCPrev = schedule.logCumCt[prev];
  const oneMinusCumCPrev = schedule.log1MinCumCt[prev];

  // q = log x0 − log q(x_t | x0) over the codes, plus a LOG_ZERO mask row; lse = logsumexp over the C + 1 rows.
  const max = lse.fill(LOG_ZERO);
  for (let k = 0, i = 0; k < C; k++) {
    for (let p = 0; p < L; p++, i++) {
      const x = tokens[p];
      const q = x0[i] - (x === C ? qtMasked : x === k ? qtSame : qtOther);
      out[i] = q;
      if (q > max[p]) max[p] = q;
    }
  }
  const maskRow = C * L;
  for (let p = 0; p < L; p++) out[maskRow + p] = Math.exp(LOG_ZERO - max[p]); // Σ starts with the mask row
  for (let k = 0, i = 0; k < C; k++) {
    for (let p = 0; p < L; p++, i++) out[maskRow + p] += Math.exp(out[i] - max[p]);
  }
  for (let p = 0; p < L; p++) lse[p] = max[p] + Math.log(out[maskRow + p]);
  // q_pred(q − lse, t − 1) + log q(x_t | x_{t−1}) + lse.
  for (let k = 0, i = 0; k < C; k++) {
    for (let p = 0; p < L; p++, i++) {
      const x = tokens[p];
      const one = x === C ? oneMasked : x === k ? oneSame : oneOther;
      out[i] = clamp(Math.log(Math.exp(out[i] - lse[p] + cumAPrev) + cumBPrevExp) + one + lse[p], floor);
    }
  }
  for (let p = 0; p < L; p++) {
    const one = tokens[p] === C ? 0 : LOG_ZERO;
    out[maskRow + p] = clamp(logAddExp(LOG_ZERO - lse[p] + oneMinusCumCPrev, cumCPrev) + one + lse[p], floor);
  }
  return out;
}

/** Gumbel-argmax sampling per position from log-probabilities `logits` [rows, L]: argmax_k logits + g with
 * g = −log(−log(u + 1e-30) + 1e-30) (official log_sample_categorical). One uniform per entry, drawn in layout
 * order (row by row). First maximum wins. */
export function gumbelArgmax(logits: Float64Array, rows: number, positions: number, uniform: () => number,
  out: Int32Array, best: Float64Array = new Float64Array(positions)): Int32Array {
  best.fill(-Infinity);
  for (let k = 0, i = 0; k < rows; k++) {
    for (let p = 0; p < positions; p++, i++) {
      const g = -Math.log(-Math.log(uniform() + 1e-30) + 1e-30);
      const v = logits[i] + g;
      if (v > best[p]) {
        best[p] = v;
        out[p] = k;
      }
    }
  }
  return out;
}

/** The most probable code per position of log p(x0) [C, L]: a token map the decoder can render at any step. */
export function argmaxClasses(x0: Float64Array, classes: number, positions: number,
  out: Int32Array = new Int32Array(positions)): Int32Array {
  const best: Float64Array = new Float64Array(positions).fill(-Infinity);
  for (let k = 0, i = 0; k < classes; k++) {
    for (let p = 0; p < positions; p++, i++) {
      if (x0[i] > best[p]) {
        best[p] = x0[i];
        out[p] = k;
      }
    }
  }
  return out;
}

export interface StepOptions {
  /** Classifier-free guidance scale s (1 = none). */
  guidance: number;
  /** Truncation r in (0, 1]. */
  truncation: number;
  /** Uniform numbers in (0, 1) for the Gumbel noise: (C + 1)·L per step. */
  uniform: () => number;
}

/** The sampler's state for one image: the tokens x_t (start: all masked) and reused buffers (full ITHQ model:
 * ≈ 67 MB of float64 for 4096 × 1024). */
export class VqSampler {
  readonly classes: number;
  readonly positions: number;
  readonly floor: number;
  readonly schedule: Schedule;
  /** x_t; all masked until the first step. */
  readonly tokens: Int32Array;
  /** log p(x0) of the last step (guided, truncated), [C, L]. */
  readonly x0: Float64Array;
  private readonly posterior: Float64Array;
  private readonly perPosition: Float64Array;
  private readonly guideWork: Float64Array;
  private readonly truncation: TruncationScratch;

  constructor(diffusion: DiffusionIo) {
    this.classes = diffusion.classes;
    this.positions = diffusion.latent.height * diffusion.latent.width;
    this.floor = diffusion.logProbFloor;
    this.schedule = scheduleFor(diffusion);
    this.tokens = new Int32Array(this.positions).fill(diffusion.maskToken);
    this.x0 = new Float64Array(this.classes * this.positions);
    this.posterior = new Float64Array((this.classes + 1) * this.positions);
    this.perPosition = new Float64Array(this.positions);
    this.guideWork = new Float64Array(2 * this.positions);
    this.truncation = new TruncationScratch(this.classes);
  }

  /** One denoising step: `cond` (and `uncond` when guided) are this image's log_probs [C, L] from the transformer
   * run at `plan.timestep` on `tokens`; updates `tokens` to the sample of x at the next visited timestep. */
  step(cond: Float32Array, uncond: Float32Array | null, plan: PlannedStep, options: StepOptions): void {
    const { classes: C, positions: L, floor } = this;
    guideLogProbs(cond, uncond, options.guidance, C, L, floor, this.x0, this.guideWork);
    truncateLogProbs(this.x0, C, L, options.truncation, floor, this.truncation);
    posteriorLogProbs(this.x0, this.tokens, this.schedule, plan.posteriorTimestep, floor, this.posterior,
      this.perPosition);
    gumbelArgmax(this.posterior, C + 1, L, options.uniform, this.tokens, this.perPosition);
  }

  /** argmax of the last step's log p(x0) (the preview's tokens). */
  x0Argmax(out: Int32Array = new Int32Array(this.positions)): Int32Array {
    return argmaxClasses(this.x0, this.classes, this.positions, out);
  }
}
