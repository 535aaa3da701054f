// Latents as results store them: round trips are exact (the base64 itself: base64.test.ts), other models' latents
// are refused, variations stay near their source and keep a Gaussian norm, in-betweens run from one end to the other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeLatent, encodeLatent, latentFromSeed, slerp, varyLatent } from '../../worker/latent.ts';

const norm = (z: Float32Array) => Math.sqrt(z.reduce((s, v) => s + v * v, 0));
const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

test('a stored latent decodes to exactly the same float32 values; a wrong size or damaged record says what to do', () => {
  const z = latentFromSeed(7, 512);
  assert.deepEqual(decodeLatent(encodeLatent(z), 512), z);
  assert.throws(() => decodeLatent(encodeLatent(z), 256), /512-value latent; this model takes 256\. Pick the model it was generated with/);
  assert.throws(() => decodeLatent('%%%', 512), /damaged latent record/);
});

test('variations stay close to the source, keep a Gaussian norm and differ by seed; strength 0 is the source', () => {
  const z = latentFromSeed(1, 512);
  const near = varyLatent(z, 0.2, 100);
  const far = varyLatent(z, 0.8, 100);
  assert.ok(dist(near, z) < dist(far, z));
  for (const v of [near, far]) assert.ok(Math.abs(norm(v) - Math.sqrt(512)) < 0.1 * Math.sqrt(512), `norm ${norm(v)}`);
  assert.notDeepEqual(varyLatent(z, 0.2, 101), near);
  assert.ok(dist(varyLatent(z, 0, 5), z) < 1e-4);
});

test('slerp runs from a (t=0) to b (t=1) with in-betweens of typical norm', () => {
  const a = latentFromSeed(2, 256);
  const b = latentFromSeed(3, 256);
  assert.ok(dist(slerp(a, b, 0), a) < 1e-4);
  assert.ok(dist(slerp(a, b, 1), b) < 1e-4);
  const mid = slerp(a, b, 0.5);
  const angle = (x: Float32Array, y: Float32Array) => Math.acos(x.reduce((s, v, i) => s + v * y[i], 0) / (norm(x) * norm(y)));
  assert.ok(Math.abs(angle(mid, a) + angle(mid, b) - angle(a, b)) < 1e-4, 'on the arc between a and b');
  assert.ok(angle(mid, a) > 0.3 * angle(a, b) && angle(mid, b) > 0.3 * angle(a, b), 'well inside the arc');
  assert.ok(norm(mid) > 0.9 * Math.min(norm(a), norm(b)), 'no dip in norm halfway (a straight line would lose ≈30 %)');
  assert.throws(() => slerp(a, latentFromSeed(3, 512), 0.5), /different models/);
});
