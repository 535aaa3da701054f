// The VQ-Diffusion sampling loop: from all-masked tokens, `steps` transformer calls (batch [cond, uncond] when
// guided), each followed by one denoising step (worker/diffusion/sampler.ts). The transformer itself is the
// caller's (any runtime); the noise comes from worker/random.ts, so a seed gives the same tokens everywhere.

import { Rng } from '../random.ts';
import { VqSampler, usesGuidance } from './sampler.ts';
import { type DiffusionIo, type PlannedStep, planSteps } from './schedule.ts';

export interface SampleTokensOptions {
  /** The transformer card's io.diffusion (parseDiffusionIo checks one read from JSON). */
  diffusion: DiffusionIo;
  /** Transformer calls, 1..diffusion.steps; fewer than diffusion.steps skip timesteps (planSteps). */
  steps: number;
  /** Classifier-free guidance scale s; 1 runs batch 1 without the unconditional branch. */
  guidance: number;
  /** Truncation r in (0, 1]; 1 keeps every class. */
  truncation: number;
  /** Seed of the Gumbel noise (worker/random.ts Rng). */
  seed: number;
  /** One transformer call: tokens int64 [batch·L] (guided: the same x_t twice, for [text, null text]) at
   * `timestep` → log_probs [batch, C, L]. */
  runTransformer(tokens: BigInt64Array, timestep: number, batch: 1 | 2): Promise<Float32Array>;
  /** After each step (1-based): the argmax of log p(x0), a fresh array the callback may keep. Awaited. */
  onStep?(step: number, total: number, x0Argmax: Int32Array): void | Promise<void>;
  /** Throws to stop; called before each transformer call and after each step. */
  throwIfCancelled?(): void;
}

/** Runs the loop; resolves to the final tokens x0 [L] (codes 0..C−1; the mask id C is possible only in theory). */
export async function sampleTokens(options: SampleTokensOptions): Promise<Int32Array> {
  const { diffusion, guidance, truncation } = options;
  if (!(truncation > 0 && truncation <= 1)) throw new Error(`truncation must be in (0, 1] (got ${truncation})`);
  if (!Number.isFinite(guidance)) throw new Error(`guidance must be a number (got ${guidance})`);
  const plan: PlannedStep[] = planSteps(diffusion.steps, options.steps);
  const sampler = new VqSampler(diffusion);
  const rng = new Rng(options.seed);
  const uniform = () => rng.uniform();
  const batch: 1 | 2 = usesGuidance(guidance) ? 2 : 1;
  const L = sampler.positions;
  const image = sampler.classes * L;
  const feed = new BigInt64Array(batch * L);

  for (const [index, visit] of plan.entries()) {
    options.throwIfCancelled?.();
    for (let b = 0; b < batch; b++) {
      for (let p = 0; p < L; p++) feed[b * L + p] = BigInt(sampler.tokens[p]);
    }
    const logProbs = await options.runTransformer(feed, visit.timestep, batch);
    if (logProbs.length !== batch * image) {
      throw new Error(`the transformer returned ${logProbs.length} values; [${batch}, ${sampler.classes}, ${L}] expected`);
    }
    const cond = logProbs.subarray(0, image);
    const uncond = batch === 2 ? logProbs.subarray(image, 2 * image) : null;
    sampler.step(cond, uncond, visit, { guidance, truncation, uniform });
    options.throwIfCancelled?.();
    if (options.onStep) await options.onStep(index + 1, plan.length, sampler.x0Argmax());
  }
  return sampler.tokens.slice();
}
