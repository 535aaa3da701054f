// VQ-Diffusion's noise schedule ("alpha1", microsoft/VQ-Diffusion diffusion_transformer.alpha_schedule) and the
// card block that describes it. Timestep t (0-based) is the official index: t = 0 is the last denoising step.
// The official code rounds the log buffers to float32; we keep float64 (differences ≤ 1 float32 ulp).

/** The transformer card's io.diffusion (models/export/vqdiffusion.py card()). */
export interface DiffusionIo {
  /** Training timesteps T; the transformer accepts 0..T−1. */
  steps: number;
  /** Codebook size C: the transformer predicts C classes. */
  classes: number;
  /** Token id of the mask (= C). */
  maskToken: number;
  latent: { height: number; width: number };
  schedule: { type: 'alpha1'; att1: number; attT: number; ctt1: number; cttT: number };
  guidance: { scale: number; nullTextKind: string; nullTextDtype: string; nullTextShape: number[] };
  /** Default truncation r (1 keeps every class). */
  truncation: number;
  /** Log-probabilities are clamped here (official −70). */
  logProbFloor: number;
}

/** Checks a card's io.diffusion and returns it typed; throws saying which field is wrong. */
export function parseDiffusionIo(value: unknown): DiffusionIo {
  const fail = (what: string): never => {
    throw new Error(`io.diffusion of the VQ-Diffusion transformer card: ${what}`);
  };
  if (!value || typeof value !== 'object') fail('missing');
  const d = value as Record<string, unknown>;
  const int = (name: string, min: number) => {
    const v = d[name];
    if (!Number.isInteger(v) || (v as number) < min) fail(`${name} must be an integer ≥ ${min} (got ${String(v)})`);
    return v as number;
  };
  int('steps', 2);
  const classes = int('classes', 2);
  const maskToken = int('maskToken', 0);
  if (maskToken !== classes) fail(`maskToken must equal classes (${classes}), got ${maskToken}`);
  const latent = d.latent as Record<string, unknown> | undefined;
  if (!latent || !Number.isInteger(latent.height) || !Number.isInteger(latent.width)) fail('latent {height, width}');
  const schedule = d.schedule as Record<string, unknown> | undefined;
  if (!schedule || schedule.type !== 'alpha1') fail(`schedule.type must be 'alpha1' (got ${String(schedule?.type)})`);
  for (const key of ['att1', 'attT', 'ctt1', 'cttT']) {
    if (typeof schedule![key] !== 'number') fail(`schedule.${key} must be a number`);
  }
  if (typeof d.logProbFloor !== 'number' || !(d.logProbFloor < 0)) fail('logProbFloor must be a negative number');
  if (typeof d.truncation !== 'number' || !(d.truncation > 0 && d.truncation <= 1)) fail('truncation must be in (0, 1]');
  if (!d.guidance || typeof (d.guidance as Record<string, unknown>).scale !== 'number') fail('guidance.scale');
  return d as unknown as DiffusionIo;
}

/** Log-space schedule. Per-step arrays have T entries; cumulative ones T + 1, where entry T (what t − 1 wraps to
 * at t = 0) is "no noise": cumulative a = 1, b = c = 0 (logs 0, −∞, −∞). */
export interface Schedule {
  steps: number;
  classes: number;
  logAt: Float64Array;
  logBt: Float64Array;
  logCt: Float64Array;
  log1MinCt: Float64Array;
  logCumAt: Float64Array;
  logCumBt: Float64Array;
  logCumCt: Float64Array;
  log1MinCumCt: Float64Array;
}

/** log(1 − e^a) as the official log_1_min_a (with its +1e-40). */
function log1MinExp(a: number): number {
  return Math.log(1 - Math.exp(a) + 1e-40);
}

/** The alpha1 schedule for `steps` timesteps over `classes` codes: a linear in the cumulative a~ (att1 → attT) and
 * c~ (ctt1 → cttT); per step a = a~_t / a~_{t−1}, 1 − c = (1 − c~_t)/(1 − c~_{t−1}), b = (1 − a − c)/classes. */
export function alpha1Schedule(steps: number, classes: number, p: DiffusionIo['schedule']): Schedule {
  const T = steps;
  const cumA = new Float64Array(T + 1);
  const cumC = new Float64Array(T + 1);
  for (let t = 0; t < T; t++) {
    cumA[t] = (t / (T - 1)) * (p.attT - p.att1) + p.att1;
    cumC[t] = (t / (T - 1)) * (p.cttT - p.ctt1) + p.ctt1;
  }
  cumA[T] = 1;
  cumC[T] = 0;
  const s: Schedule = {
    steps: T, classes,
    logAt: new Float64Array(T), logBt: new Float64Array(T), logCt: new Float64Array(T), log1MinCt: new Float64Array(T),
    logCumAt: new Float64Array(T + 1), logCumBt: new Float64Array(T + 1), logCumCt: new Float64Array(T + 1),
    log1MinCumCt: new Float64Array(T + 1),
  };
  for (let t = 0; t < T; t++) {
    const prevA = t === 0 ? 1 : cumA[t - 1];
    const prevC = t === 0 ? 0 : cumC[t - 1];
    const at = cumA[t] / prevA;
    const ct = 1 - (1 - cumC[t]) / (1 - prevC);
    const bt = (1 - at - ct) / classes;
    s.logAt[t] = Math.log(at);
    s.logBt[t] = Math.log(bt);
    s.logCt[t] = Math.log(ct);
    s.log1MinCt[t] = log1MinExp(s.logCt[t]);
  }
  for (let t = 0; t <= T; t++) {
    s.logCumAt[t] = Math.log(cumA[t]);
    s.logCumBt[t] = Math.log((1 - cumA[t] - cumC[t]) / classes); // −∞ at T
    s.logCumCt[t] = Math.log(cumC[t]); // −∞ at T
    s.log1MinCumCt[t] = log1MinExp(s.logCumCt[t]);
  }
  return s;
}

/** The schedule a card describes. */
export function scheduleFor(d: DiffusionIo): Schedule {
  return alpha1Schedule(d.steps, d.classes, d.schedule);
}

/** One visit of the sampling loop: run the transformer at `timestep`, then jump with the posterior at
 * `posteriorTimestep` (q(x_{p−1} | x_p, x0) applied as if the tokens were at p). */
export interface PlannedStep {
  timestep: number;
  posteriorTimestep: number;
}

/** Visits for explicit timesteps (strictly decreasing, ending at 0): each jumps with the posterior at (next visited
 * timestep + 1), so it lands exactly on the next one. This generalises the official sample_fast rule
 * ("q_posterior at t − skip_step" for the stride lists T−1, T−1−k, …) to uneven gaps; on those lists it is the same
 * except for sample_fast's appended final 0 after a gap > 1, where it keeps t (a jump to t − 1, not to 0). */
export function planTimesteps(timesteps: readonly number[]): PlannedStep[] {
  if (timesteps.length === 0 || timesteps[timesteps.length - 1] !== 0) {
    throw new Error(`timesteps must end at 0 (got ${timesteps.join(', ')})`);
  }
  return timesteps.map((t, i) => {
    if (i > 0 && !(t < timesteps[i - 1])) throw new Error(`timesteps must decrease (got ${timesteps.join(', ')})`);
    return { timestep: t, posteriorTimestep: i + 1 < timesteps.length ? timesteps[i + 1] + 1 : 0 };
  });
}

/** `steps` visits (1 ≤ steps ≤ T) evenly spaced from T − 1 down to 0 (rounded half up); steps = T is the full
 * loop T − 1, …, 0 with posterior timestep = timestep. One step jumps from T − 1 straight to x0. */
export function planSteps(trainSteps: number, steps: number): PlannedStep[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainSteps) {
    throw new Error(`steps must be a whole number from 1 to ${trainSteps} (got ${steps})`);
  }
  if (steps === 1) return [{ timestep: trainSteps - 1, posteriorTimestep: 0 }];
  const span = trainSteps - 1;
  const gaps = steps - 1;
  // round(span·(gaps − i)/gaps) in integers: exact and identical in the Python reference.
  const timesteps = Array.from({ length: steps }, (_, i) => Math.floor((2 * span * (gaps - i) + gaps) / (2 * gaps)));
  return planTimesteps(timesteps);
}
