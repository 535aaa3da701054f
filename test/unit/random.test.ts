// The seeded generator behind every latent: the reference xoshiro128** sequence, IEEE-only ln/cos/sin that match
// Math's to ~1 ulp, normals with the right moments, and the same seed → the same z.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactCosTurns, exactLn, exactSinTurns, randomSeed, Rng } from '../../worker/random.ts';

test('xoshiro128** matches the reference implementation (state 1,2,3,4)', () => {
  // Printed by the authors' C code (prng.di.unimi.it/xoshiro128starstar.c) compiled here.
  const rng = Rng.fromState([1, 2, 3, 4]);
  assert.deepEqual(Array.from({ length: 6 }, () => rng.nextU32()), [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

test('ln, cos and sin from + − × ÷ agree with Math to ~1e-15', () => {
  const rng = new Rng(1);
  for (let i = 0; i < 20_000; i++) {
    const u = rng.uniform();
    assert.ok(Math.abs(exactLn(u) - Math.log(u)) <= 2e-15 * Math.max(1, Math.abs(Math.log(u))), `ln ${u}`);
    assert.ok(Math.abs(exactCosTurns(u) - Math.cos(2 * Math.PI * u)) < 2e-15, `cos ${u}`);
    assert.ok(Math.abs(exactSinTurns(u) - Math.sin(2 * Math.PI * u)) < 2e-15, `sin ${u}`);
  }
  for (const x of [1e-300, 5e-324, 0.5, 1, 2, 1e300]) assert.ok(Math.abs(exactLn(x) - Math.log(x)) <= 1e-15 * Math.abs(Math.log(x)) + 1e-16, `ln ${x}`);
  assert.throws(() => exactLn(0), /positive/);
});

test('normals have mean 0 and variance 1; uniforms stay inside (0, 1)', () => {
  const rng = new Rng(42);
  const n = 200_000;
  let sum = 0;
  let sq = 0;
  let beyond3 = 0;
  for (let i = 0; i < n; i++) {
    const v = rng.normal();
    sum += v;
    sq += v * v;
    if (Math.abs(v) > 3) beyond3++;
  }
  const mean = sum / n;
  const variance = sq / n - mean * mean;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.015, `variance ${variance}`);
  assert.ok(Math.abs(beyond3 / n - 0.0027) < 0.0006, `tail mass ${beyond3 / n}`);
  for (let i = 0; i < 10_000; i++) {
    const u = rng.uniform();
    assert.ok(u > 0 && u < 1);
  }
});

test('the same seed gives the same latent; other seeds (also past 2^32) give others', () => {
  const z7 = new Rng(7).normals(512);
  assert.deepEqual(new Rng(7).normals(512), z7);
  assert.notDeepEqual(new Rng(8).normals(512), z7);
  assert.notDeepEqual(new Rng(7 + 2 ** 32).normals(512), z7, 'the high bits of the seed count');
  assert.throws(() => new Rng(-1), /whole number/);
  assert.throws(() => new Rng(1.5), /whole number/);
  const seed = randomSeed();
  assert.ok(Number.isSafeInteger(seed) && seed >= 0);
});
