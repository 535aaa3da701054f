// Latents as results remember them: a generated node stores its z (base64 of little-endian float32) in its
// ResultMeta, so variations, in-betweens and new views start from exactly that z in a later session, whatever
// produced it (a seed, a variation, an interpolation). Pure arithmetic, no DOM: runs in the worker, Node and hosts.
import { base64ToBytes, bytesToBase64 } from './base64.ts';
import { FrontierError } from './job.ts';
import { Rng } from './random.ts';

/** z → base64 of its little-endian float32 bytes. */
export function encodeLatent(z: Float32Array): string {
  const bytes = new Uint8Array(z.length * 4);
  const view = new DataView(bytes.buffer);
  z.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytesToBase64(bytes);
}

/** The z a result stored; `size` is what the model expects (a latent of another model is refused, saying so). */
export function decodeLatent(text: string, size: number, what = 'The selected result'): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(text);
  } catch {
    throw new FrontierError('bad-input', `${what} has a damaged latent record: generate it again.`);
  }
  if (bytes.length !== size * 4) {
    throw new FrontierError('bad-input', `${what} was made with a ${bytes.length / 4}-value latent; this model takes ${size}. Pick the model it was generated with.`);
  }
  const view = new DataView(bytes.buffer);
  return Float32Array.from({ length: size }, (_, i) => view.getFloat32(i * 4, true));
}

/** The latent of `seed` for a model with `size` latent values. */
export function latentFromSeed(seed: number, size: number): Float32Array {
  return new Rng(seed).normals(size);
}

/**
 * A nearby latent: z moved by `strength` towards fresh noise along the sphere, so its norm (what a Gaussian latent
 * "looks like" to the generator) stays typical: slerp(z, noise(seed), strength).
 */
export function varyLatent(z: Float32Array, strength: number, seed: number): Float32Array {
  return slerp(z, new Rng(seed).normals(z.length), strength);
}

/** Spherical interpolation (Shoemake): in-betweens of Gaussian latents keep a typical norm, unlike a straight line. */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (a.length !== b.length) throw new FrontierError('bad-input', `Latents of different models cannot be blended (${a.length} vs ${b.length} values).`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = Math.min(1, Math.max(-1, dot / (Math.sqrt(na * nb) || 1)));
  const omega = Math.acos(cos);
  const out = new Float32Array(a.length);
  if (omega < 1e-6) {
    for (let i = 0; i < a.length; i++) out[i] = a[i] + t * (b[i] - a[i]);
    return out;
  }
  const sa = Math.sin((1 - t) * omega) / Math.sin(omega);
  const sb = Math.sin(t * omega) / Math.sin(omega);
  for (let i = 0; i < a.length; i++) out[i] = sa * a[i] + sb * b[i];
  return out;
}
