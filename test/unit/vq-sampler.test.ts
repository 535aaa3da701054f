// worker/diffusion: the alpha1 schedule, the step plan, guidance, truncation, the discrete posterior, Gumbel
// sampling and the loop (seeds, progress, cancellation) with a stand-in transformer. The comparison with the
// PyTorch reference on the real exported model is test/export/vq-sampler.test.ts.
//
//   node --import tsx --test test/unit/vq-sampler.test.ts

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleTokens } from '../../worker/diffusion/loop.ts';
import {
  LOG_ZERO, VqSampler, argmaxClasses, guideLogProbs, gumbelArgmax, posteriorLogProbs, truncateLogProbs,
} from '../../worker/diffusion/sampler.ts';
import {
  type DiffusionIo, alpha1Schedule, parseDiffusionIo, planSteps, planTimesteps,
} from '../../worker/diffusion/schedule.ts';
import { Rng } from '../../worker/random.ts';

const FLOOR = -70;
const ALPHA1 = { type: 'alpha1' as const, att1: 0.99999, attT: 0.000009, ctt1: 0.000009, cttT: 0.99999 };

/** The card block vqdiffusion.py writes (ITHQ numbers unless overridden). */
function diffusionIo(over: Partial<DiffusionIo> = {}): DiffusionIo {
  return {
    steps: 100, classes: 4096, maskToken: 4096, latent: { height: 32, width: 32 }, schedule: ALPHA1,
    guidance: { scale: 5, nullTextKind: 'null-text-embedding', nullTextDtype: 'float32', nullTextShape: [77, 512] },
    truncation: 1, logProbFloor: FLOOR, ...over,
  };
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

/** Random log-softmax columns [C, L] (float32, like the transformer's output). */
function randomLogProbs(rng: Rng, classes: number, positions: number, spread = 3): Float32Array {
  const out = new Float32Array(classes * positions);
  for (let p = 0; p < positions; p++) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) {
      out[k * positions + p] = spread * rng.normal();
      max = Math.max(max, out[k * positions + p]);
    }
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(out[k * positions + p] - max);
    const lse = max + Math.log(sum);
    for (let k = 0; k < classes; k++) out[k * positions + p] -= lse;
  }
  return out;
}

test('alpha1 schedule: the official values (computed by models/export/vq_reference.py, float64) at T = 100', () => {
  const s = alpha1Schedule(100, 4096, ALPHA1);
  const at = (values: Float64Array, expected: [number, number][], what: string) => {
    for (const [t, v] of expected) close(values[t], v, 1e-13 * Math.max(1, Math.abs(v)), `${what}[${t}]`);
  };
  at(s.logAt, [[0, -1.0000050000287824e-05], [1, -0.010152279626369144], [50, -0.020202343643687004],
    [99, -7.024037750518258]], 'log a');
  at(s.logBt, [[0, -22.133276724765885], [1, -26.728396571014695], [50, -25.36222151121781],
    [99, -17.540018023725395]], 'log b');
  at(s.logCt, [[0, -11.618285980623972], [1, -4.5951298502745965], [50, -3.9120428056083196],
    [99, -0.0009895290649419267]], 'log c');
  at(s.log1MinCt, [[0, -9.000040500279759e-06], [99, -6.918776143724626]], 'log(1 − c)');
  at(s.logCumAt, [[0, -1.0000050000287824e-05], [1, -0.010162279676369443], [50, -0.7033003683508271],
    [99, -11.618285980623972], [100, 0]], 'log a~');
  at(s.logCumBt, [[0, -22.13327672472913], [50, -22.133276724765885]], 'log b~');
  at(s.logCumCt, [[0, -11.618285980628055], [1, -4.594248230105716], [50, -0.6830980247071399],
    [99, -1.0000050000287824e-05]], 'log c~');
  at(s.log1MinCumCt, [[1, -0.010161269462788792], [50, -0.7032983479430558], [99, -11.51292546497478],
    [100, 0]], 'log(1 − c~)');
  // By hand: a~ runs linearly from att1 to attT, c~ from ctt1 to cttT; entry T is "no noise".
  close(s.logCumAt[0], Math.log(0.99999), 1e-15, 'a~_0 = att1');
  close(s.logCumAt[99], Math.log(0.000009), 1e-11, 'a~_99 = attT (up to the interpolation\'s rounding)');
  close(s.logCumCt[99], Math.log(0.99999), 1e-15, 'c~_99 = cttT');
  assert.equal(s.logCumBt[100], -Infinity);
  assert.equal(s.logCumCt[100], -Infinity);
  // a + b·N + c = 1 at every step (a transition row sums to 1).
  for (let t = 0; t < 100; t++) {
    close(Math.exp(s.logAt[t]) + 4096 * Math.exp(s.logBt[t]) + Math.exp(s.logCt[t]), 1, 1e-12, `row sum t=${t}`);
  }
});

test('parseDiffusionIo accepts the card block and names what is wrong', () => {
  const io = diffusionIo({ classes: 64, maskToken: 64 });
  assert.equal(parseDiffusionIo(JSON.parse(JSON.stringify(io))).classes, 64);
  assert.throws(() => parseDiffusionIo(undefined), /io.diffusion.*missing/);
  assert.throws(() => parseDiffusionIo({ ...io, maskToken: 3 }), /maskToken must equal classes/);
  assert.throws(() => parseDiffusionIo({ ...io, schedule: { ...io.schedule, type: 'cos' } }), /alpha1/);
  assert.throws(() => parseDiffusionIo({ ...io, truncation: 0 }), /truncation/);
});

test('step plans: all steps, evenly spaced skips, and the official sample_fast stride lists', () => {
  const full = planSteps(100, 100);
  assert.equal(full.length, 100);
  assert.ok(full.every((p, i) => p.timestep === 99 - i && p.posteriorTimestep === p.timestep));
  const five = planSteps(100, 5);
  assert.deepEqual(five.map((p) => p.timestep), [99, 74, 50, 25, 0]); // 99·(4 − i)/4 rounded half up
  assert.deepEqual(five.map((p) => p.posteriorTimestep), [75, 51, 26, 1, 0]);
  assert.deepEqual(planSteps(100, 1), [{ timestep: 99, posteriorTimestep: 0 }]);
  for (const steps of [2, 7, 33, 50, 99]) {
    const plan = planSteps(100, steps);
    assert.equal(plan.length, steps);
    assert.equal(plan[0].timestep, 99);
    assert.equal(plan[steps - 1].timestep, 0);
  }
  assert.throws(() => planSteps(100, 0), /1 to 100/);
  assert.throws(() => planSteps(100, 101), /1 to 100/);
  assert.throws(() => planTimesteps([99, 50]), /end at 0/);
  assert.throws(() => planTimesteps([50, 60, 0]), /decrease/);
  // Official sample_fast(skip_step = k − 1) for sample_type 'time{k}': visits range(99, −1, −k) (+ 0) and takes the
  // posterior at t − skip_step while t > skip_step, else at t.
  for (const k of [2, 3, 4, 5, 10]) {
    const skip = k - 1;
    const visits: number[] = [];
    for (let t = 99; t >= 0; t -= k) visits.push(t);
    if (visits[visits.length - 1] !== 0) visits.push(0);
    const official = visits.map((t) => (t > skip ? t - skip : t));
    const ours = planTimesteps(visits).map((p) => p.posteriorTimestep);
    // Same everywhere except the step before an appended 0 that follows a gap > 1 (official: t, ours: 1).
    const differ = official.flatMap((v, i) => (v === ours[i] ? [] : [i]));
    const appendedAfterGap = visits.length >= 2 && (99 % k !== 0) && visits[visits.length - 2] > 1;
    assert.deepEqual(differ, appendedAfterGap ? [visits.length - 2] : [], `time${k}`);
  }
});

test('guidance: s = 1 returns cond exactly (clamped); s = 5 is uncond + s·(cond − uncond), renormalised', () => {
  const rng = new Rng(3);
  const C = 16;
  const L = 5;
  const cond = randomLogProbs(rng, C, L, 40); // wide: some entries fall below the floor
  const uncond = randomLogProbs(rng, C, L);
  const one = guideLogProbs(cond, uncond, 1, C, L, FLOOR, new Float64Array(C * L));
  assert.deepEqual(Array.from(one), Array.from(cond, (v) => Math.max(FLOOR, v)));
  assert.ok(one.some((v) => v === FLOOR), 'the floor applies');
  assert.deepEqual(guideLogProbs(cond, null, 5, C, L, FLOOR, new Float64Array(C * L)), one, 'no uncond: cond');

  const s = 5;
  const guided = guideLogProbs(cond, uncond, s, C, L, FLOOR, new Float64Array(C * L));
  for (let p = 0; p < L; p++) {
    const raw = Array.from({ length: C }, (_, k) => {
      const c = Math.max(FLOOR, cond[k * L + p]);
      const u = Math.max(FLOOR, uncond[k * L + p]);
      return u + s * (c - u);
    });
    const lse = Math.log(raw.reduce((sum, v) => sum + Math.exp(v), 0));
    let total = 0;
    for (let k = 0; k < C; k++) {
      close(guided[k * L + p], Math.max(FLOOR, raw[k] - lse), 1e-9, `guided[${k}, ${p}]`);
      total += Math.exp(guided[k * L + p]);
    }
    close(total, 1, 1e-9, `position ${p} normalised`);
  }
});

test('truncation keeps the most probable classes until their cumulative probability reaches r', () => {
  // Three positions (columns) of four classes; probabilities per column.
  const columns = [[0.05, 0.5, 0.15, 0.3], [0.25, 0.25, 0.25, 0.25], [0.97, 0.01, 0.01, 0.01]];
  const C = 4;
  const L = columns.length;
  const make = () => {
    const x = new Float64Array(C * L);
    columns.forEach((col, p) => col.forEach((v, k) => { x[k * L + p] = Math.log(v); }));
    return x;
  };
  const kept = (x: Float64Array) => columns.map((_, p) => [0, 1, 2, 3].filter((k) => x[k * L + p] !== FLOOR));
  const cases: [number, number[][]][] = [
    [0.86, [[1, 2, 3], [0, 1, 2, 3], [0]]], // 0.5 + 0.3 = 0.8 < 0.86 → also 0.15; 0.25·3 = 0.75 < 0.86 → all four
    [0.79, [[1, 3], [0, 1, 2, 3], [0]]], // 0.5 < 0.79 → 0.3 kept; then 0.8 ≥ 0.79
    [0.6, [[1, 3], [0, 1, 2], [0]]], // ties keep the lower ids
    [0.01, [[1], [0], [0]]], // the most probable class always stays
    [0.975, [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1]]], // 0.97 < 0.975 → the first of the 0.01 ties too
    [1, [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]],
  ];
  for (const [r, expected] of cases) {
    const x = make();
    const count = truncateLogProbs(x, C, L, r, FLOOR);
    assert.deepEqual(kept(x), expected, `r = ${r}`);
    assert.equal(count, expected.flat().length);
    const original = make();
    for (let i = 0; i < x.length; i++) assert.ok(x[i] === FLOOR || x[i] === original[i], 'kept values unchanged');
  }
  assert.throws(() => truncateLogProbs(make(), C, L, 0, FLOOR), /truncation/);
});

test('truncation equals a plain full sort + cumsum on peaky, flat and tied distributions', () => {
  const rng = new Rng(21);
  const C = 300;
  const L = 40; // more than one block of positions
  for (const spread of [0.05, 1, 4, 20]) {
    const x = Float64Array.from(randomLogProbs(rng, C, L, spread), (v) => Math.max(FLOOR, v));
    for (let k = 0; k < C; k += 7) x[k * L + 3] = x[3]; // ties with class 0 at position 3
    for (const r of [0.3, 0.86, 0.999]) {
      const expected = Float64Array.from(x);
      for (let p = 0; p < L; p++) {
        const order = Array.from({ length: C }, (_, k) => k).sort((a, b) => x[b * L + p] - x[a * L + p] || a - b);
        let before = 0;
        order.forEach((k, i) => {
          if (i > 0 && !(before < r)) expected[k * L + p] = FLOOR;
          before += Math.exp(x[k * L + p]);
        });
      }
      const got = Float64Array.from(x);
      truncateLogProbs(got, C, L, r, FLOOR);
      assert.deepEqual(got, expected, `spread ${spread}, r = ${r}`);
    }
  }
});

test('posterior: rows sum to 1; decided tokens never re-mask; t = 0 decides every masked position', () => {
  const rng = new Rng(11);
  const C = 32;
  const L = 24;
  const s = alpha1Schedule(100, C, ALPHA1);
  const x0 = Float64Array.from(randomLogProbs(rng, C, L, 2));
  const tokens = new Int32Array(L).map((_, p) => (p % 3 === 0 ? C : (p * 7) % C)); // a third masked
  const out = new Float64Array((C + 1) * L);
  for (const t of [0, 1, 10, 50, 98, 99]) {
    posteriorLogProbs(x0, tokens, s, t, FLOOR, out);
    for (let p = 0; p < L; p++) {
      let total = 0;
      for (let k = 0; k <= C; k++) {
        const v = out[k * L + p];
        assert.ok(v >= FLOOR && v <= 0, `clamped: ${v}`);
        total += Math.exp(v);
      }
      close(total, 1, 1e-6, `t=${t} position ${p} sums to 1`);
      const maskProbability = Math.exp(out[C * L + p]);
      if (tokens[p] !== C) assert.ok(maskProbability < 1e-20, `t=${t}: a decided token stays decided`);
      if (t === 0) assert.ok(maskProbability < 1e-20, 'the last step unmasks everything');
    }
    // A masked position at the first step mostly stays masked (c~ ≈ 1 at t = 98).
    if (t === 99) assert.ok(Math.exp(out[C * L]) > 0.9, `mask probability ${Math.exp(out[C * L])}`);
  }
  // At t = 0 a masked position's posterior is p(x0) itself.
  posteriorLogProbs(x0, tokens, s, 0, FLOOR, out);
  for (let k = 0; k < C; k++) close(out[k * L], x0[k * L], 1e-9, `t=0 class ${k}`);
  // An unmasked token mostly keeps its value late in sampling (a_t ≈ 1 at t = 1).
  posteriorLogProbs(x0, tokens, s, 1, FLOOR, out);
  assert.ok(Math.exp(out[tokens[1] * L + 1]) > 0.98);
  assert.equal(LOG_ZERO, Math.log(1e-30));
  assert.throws(() => posteriorLogProbs(x0, tokens, s, 100, FLOOR, out), /outside 0..99/);
});

test('Gumbel-argmax sampling follows the probabilities and uses one uniform per entry, in layout order', () => {
  const probabilities = [0.6, 0.3, 0.1];
  const n = 30_000;
  const logits = new Float64Array(3 * n);
  probabilities.forEach((v, k) => logits.fill(Math.log(v), k * n, (k + 1) * n));
  const rng = new Rng(5);
  let draws = 0;
  const out = gumbelArgmax(logits, 3, n, () => { draws++; return rng.uniform(); }, new Int32Array(n));
  assert.equal(draws, 3 * n);
  const counts = [0, 0, 0];
  for (const v of out) counts[v]++;
  probabilities.forEach((v, k) => close(counts[k] / n, v, 0.015, `class ${k}`));
  // The formula: with uniforms u, the winner is argmax logit − log(−log u).
  const fixed = [0.9, 0.2, 0.5, 0.1, 0.99, 0.3]; // [3 classes, 2 positions], row by row
  const small = Float64Array.from([0, -1, -0.5, -3, -2, -2]);
  let i = 0;
  const picked = gumbelArgmax(small, 3, 2, () => fixed[i++], new Int32Array(2));
  const expected = [0, 1].map((p) => [0, 1, 2].reduce((best, k) => {
    const score = (c: number) => small[c * 2 + p] - Math.log(-Math.log(fixed[c * 2 + p]));
    return score(k) > score(best) ? k : best;
  }, 0));
  assert.deepEqual(Array.from(picked), expected);
  assert.deepEqual(expected, [2, 0], 'at position 0 the noise (u = 0.99) overturns the most probable class');
  assert.deepEqual(Array.from(argmaxClasses(small, 3, 2)), [0, 0]);
});

/** A deterministic stand-in transformer: log-softmax of a hash of (class, position, token, timestep, branch). */
function fakeTransformer(classes: number, positions: number, calls: { timestep: number; batch: number; tokens: number[] }[]) {
  return async (tokens: BigInt64Array, timestep: number, batch: 1 | 2): Promise<Float32Array> => {
    calls.push({ timestep, batch, tokens: Array.from(tokens, Number) });
    const out = new Float32Array(batch * classes * positions);
    for (let b = 0; b < batch; b++) {
      for (let p = 0; p < positions; p++) {
        const token = Number(tokens[b * positions + p]);
        const row: number[] = [];
        for (let k = 0; k < classes; k++) {
          const h = Math.imul(k * 73856093 ^ p * 19349663 ^ token * 83492791 ^ timestep * 2654435761 ^ b * 97, 0x9e3779b1);
          row.push(((h >>> 8) / 2 ** 24) * 6);
        }
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        row.forEach((v, k) => { out[(b * classes + k) * positions + p] = v - lse; });
      }
    }
    return out;
  };
}

const SMALL = diffusionIo({ steps: 20, classes: 16, maskToken: 16, latent: { height: 4, width: 4 } });

test('sampleTokens: same seed → same tokens, another seed → others; [cond, uncond] batch only when guided', async () => {
  const run = async (seed: number, guidance: number, steps = 20) => {
    const calls: { timestep: number; batch: number; tokens: number[] }[] = [];
    const progress: [number, number, number][] = [];
    const tokens = await sampleTokens({
      diffusion: SMALL, steps, guidance, truncation: 0.9, seed,
      runTransformer: fakeTransformer(16, 16, calls),
      onStep: (step, total, x0) => {
        assert.equal(x0.length, 16);
        assert.ok(x0.every((v) => v >= 0 && v < 16), 'preview tokens are codes');
        progress.push([step, total, x0[0]]);
      },
    });
    return { tokens, calls, progress };
  };
  const a = await run(1, 3);
  const again = await run(1, 3);
  const other = await run(2, 3);
  assert.deepEqual(again.tokens, a.tokens);
  assert.notDeepEqual(other.tokens, a.tokens);
  assert.ok(a.tokens.every((v) => v >= 0 && v < 16), 'all decided');
  assert.deepEqual(a.calls.map((c) => c.timestep), Array.from({ length: 20 }, (_, i) => 19 - i));
  assert.ok(a.calls.every((c) => c.batch === 2 && c.tokens.length === 32));
  assert.deepEqual(a.calls[0].tokens, new Array(32).fill(16), 'starts all masked');
  assert.deepEqual(a.progress.map(([step, total]) => [step, total]), Array.from({ length: 20 }, (_, i) => [i + 1, 20]));
  const masked = a.calls.map((c) => c.tokens.slice(0, 16).filter((v) => v === 16).length);
  assert.ok(masked.every((m, i) => i === 0 || m <= masked[i - 1]), `masks only disappear: ${masked}`);

  const unguided = await run(1, 1);
  assert.ok(unguided.calls.every((c) => c.batch === 1 && c.tokens.length === 16));
  const skipped = await run(1, 3, 6);
  assert.deepEqual(skipped.calls.map((c) => c.timestep), [19, 15, 11, 8, 4, 0]);
  assert.ok(skipped.tokens.every((v) => v >= 0 && v < 16));
});

test('sampleTokens: cancellation between steps stops before the next transformer call', async () => {
  const calls: { timestep: number; batch: number; tokens: number[] }[] = [];
  let steps = 0;
  let cancelled = false;
  await assert.rejects(sampleTokens({
    diffusion: SMALL, steps: 20, guidance: 5, truncation: 1, seed: 9,
    runTransformer: fakeTransformer(16, 16, calls),
    onStep: () => { if (++steps === 3) cancelled = true; },
    throwIfCancelled: () => { if (cancelled) throw new Error('cancelled by the user'); },
  }), /cancelled by the user/);
  assert.equal(calls.length, 3);
  assert.equal(steps, 3);
});

test('sampleTokens: a transformer output of the wrong size and bad options fail clearly', async () => {
  const base = { diffusion: SMALL, steps: 20, guidance: 5, truncation: 1, seed: 1 };
  await assert.rejects(sampleTokens({ ...base, runTransformer: async () => new Float32Array(10) }),
    /returned 10 values; \[2, 16, 16\] expected/);
  const runTransformer = fakeTransformer(16, 16, []);
  await assert.rejects(sampleTokens({ ...base, truncation: 0, runTransformer }), /truncation/);
  await assert.rejects(sampleTokens({ ...base, steps: 21, runTransformer }), /1 to 20/);
  await assert.rejects(sampleTokens({ ...base, seed: -1, runTransformer }), /seed/);
});

test('one full-size ITHQ step (4096 classes × 1024 positions, guided, r = 0.86) in reused buffers', (t) => {
  const io = diffusionIo();
  const sampler = new VqSampler(io);
  const rng = new Rng(1);
  const C = io.classes;
  const L = 1024;
  const cond = randomLogProbs(rng, C, L, 1.5);
  const uncond = randomLogProbs(rng, C, L, 1.5);
  const plan = planSteps(io.steps, io.steps);
  const timings: number[] = [];
  for (const visit of plan.slice(0, 2)) {
    const started = performance.now();
    sampler.step(cond, uncond, visit, { guidance: 5, truncation: 0.86, uniform: () => rng.uniform() });
    timings.push(performance.now() - started);
  }
  const masked = sampler.tokens.filter((v) => v === C).length;
  assert.ok(masked > 900 && masked < L, `after 2 of 100 steps most positions stay masked (${masked})`);
  assert.ok(sampler.tokens.every((v) => v >= 0 && v <= C));
  const preview = sampler.x0Argmax();
  assert.ok(preview.every((v) => v >= 0 && v < C));
  t.diagnostic(`full-size step: ${timings.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  assert.ok(timings[1] < 30_000, `a step took ${timings[1]} ms`);
});
