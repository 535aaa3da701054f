// Seeded randomness for latents: the same seed gives the same z on every target and every JavaScript engine
// (Chromium and Node run V8, Photoshop's macOS webview runs JavaScriptCore). Math.log/Math.cos are allowed to differ
// in the last bit between engines, so the normal sampler uses only IEEE-exact operations (+ − × ÷ √) with its own
// ln and cos; xoshiro128** (32-bit integer ops only) makes the uniform bits.

/** A 32-bit seed mixer (splitmix32) to fill the generator's state from one number. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * mulberry32: uniforms in [0, 1) from a 32-bit seed. Small and fast, for test data, fixtures and benches that must be
 * the same on every run (latents use Rng below, whose normals are exact on every engine).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /** `seed`: any integer in [0, 2^53); the high and low 32 bits both matter. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`A seed is a whole number from 0 to 2^53 − 1 (got ${seed}).`);
    const lo = splitmix32(seed >>> 0);
    const hi = splitmix32(Math.floor(seed / 2 ** 32) ^ 0x5bd1e995);
    this.s0 = lo() ^ hi();
    this.s1 = lo() ^ hi();
    this.s2 = lo() ^ hi();
    this.s3 = lo() ^ hi();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state never leaves zero
  }

  /** A generator in a given state (for checking against the reference implementation's test vectors). */
  static fromState(state: [number, number, number, number]): Rng {
    const rng = new Rng(0);
    [rng.s0, rng.s1, rng.s2, rng.s3] = state.map((v) => v >>> 0);
    return rng;
  }

  /** Next 32 random bits (xoshiro128**). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1): 53 random bits, never exactly 0 (ln is taken of it). */
  uniform(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b + 0.5) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const radius = Math.sqrt(-2 * exactLn(this.uniform()));
    const turn = this.uniform(); // angle = 2π·turn
    this.spare = radius * exactSinTurns(turn);
    return radius * exactCosTurns(turn);
  }

  /** `n` standard normals as float32 (what a latent input takes). */
  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const LN2 = 0.6931471805599453;

/** ln(x) for x > 0 with + − × ÷ only: x = m·2^e (m in [√½, √2)), ln m = 2·atanh((m−1)/(m+1)) as a series. */
export function exactLn(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new Error(`ln needs a finite positive number (got ${x})`);
  let m = x;
  let e = 0;
  while (m >= Math.SQRT2) {
    m /= 2;
    e++;
  }
  while (m < Math.SQRT1_2) {
    m *= 2;
    e--;
  }
  const t = (m - 1) / (m + 1); // |t| ≤ 0.1716: t^2k falls below 1e-17 by k = 11
  const t2 = t * t;
  let term = t;
  let sum = 0;
  for (let k = 1; k <= 41; k += 2) {
    sum += term / k;
    term *= t2;
  }
  return 2 * sum + e * LN2;
}

const TWO_PI = 6.283185307179586;

/** cos and sin of 2π·turn by quadrant reduction and Taylor series on [−π/4, π/4] (+ − × ÷ only). */
function cosSinTurns(turn: number): [number, number] {
  const r = turn - Math.floor(turn); // [0, 1)
  const octant = Math.floor(r * 8); // which eighth of the circle
  const quarters = (octant + 1) >> 1; // nearest multiple of 90°, 0..4
  const quadrant = quarters & 3;
  const x = (r - quarters / 4) * TWO_PI; // in [−π/4, π/4]
  const x2 = x * x;
  let c = 1;
  let s = x;
  let ct = 1;
  let st = x;
  for (let k = 1; k <= 10; k++) {
    ct *= -x2 / ((2 * k - 1) * (2 * k));
    st *= -x2 / ((2 * k) * (2 * k + 1));
    c += ct;
    s += st;
  }
  switch (quadrant) {
    case 0:
      return [c, s];
    case 1:
      return [-s, c];
    case 2:
      return [-c, -s];
    default:
      return [s, -c];
  }
}

export function exactCosTurns(turn: number): number {
  return cosSinTurns(turn)[0];
}

export function exactSinTurns(turn: number): number {
  return cosSinTurns(turn)[1];
}

/** A fresh random seed for the dice button (not reproducible by design). */
export function randomSeed(): number {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (words[0] & 0x1fffff) * 2 ** 32 + words[1];
}
