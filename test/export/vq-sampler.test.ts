// worker/diffusion's sampling loop against models/export/vq_reference.py (an independent PyTorch version of the
// official formulas) on the tiny exported VQ-Diffusion transformer: both run the same ONNX on onnxruntime-node and
// draw the same uniforms (worker/random.ts, ported to Python), so the tokens at every step must be IDENTICAL.
// Needs Debian's python3-torch + python3-onnx; fails (never skips) without them.
//
//   node --import tsx --test test/export/vq-sampler.test.ts

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { sampleTokens } from '../../worker/diffusion/loop.ts';
import { type DiffusionIo, parseDiffusionIo, planSteps } from '../../worker/diffusion/schedule.ts';
import { Rng } from '../../worker/random.ts';
import { EXPORT_DIR, assertOk, requireTorch, runExport, runPython } from './export-util.ts';

const MODEL = 'vqdiffusion-ithq-transformer';
const TINY = `${MODEL}-tiny`;
const REFERENCE_PY = join(EXPORT_DIR, 'vq_reference.py');

interface Tiny {
  cardPath: string;
  onnxPath: string;
  nullPath: string;
  textPath: string;
  diffusion: DiffusionIo;
  text: Float32Array;
  nullText: Float32Array;
}

interface ReferenceResult {
  timesteps: number[];
  posteriorTimesteps: number[];
  xt: number[][];
  tokens: number[];
  x0Argmax: number[];
}

let work: string;
let tiny: Tiny;
let session: ort.InferenceSession;

function readF32(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'vq-sampler-'));
  const out = join(work, 'tiny');
  assertOk(await runExport([MODEL, '--tiny', '--out', out, '--seed', '0']), 'tiny transformer export');
  const cardPath = join(out, `${TINY}.card.json`);
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as {
    files: { name: string; kind?: string }[]; io: { diffusion: unknown };
  };
  const nullFile = card.files.find((f) => f.kind === 'null-text-embedding');
  assert.ok(nullFile, 'the card lists the null text embedding');
  const diffusion = parseDiffusionIo(card.io.diffusion);
  const [textLen, textDim] = diffusion.guidance.nullTextShape;
  // A prompt's features: unit-norm rows, like the text encoder's.
  const rng = new Rng(2024);
  const text = rng.normals(textLen * textDim);
  for (let r = 0; r < textLen; r++) {
    const row = text.subarray(r * textDim, (r + 1) * textDim);
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    for (let i = 0; i < textDim; i++) row[i] = Math.fround(row[i] / norm);
  }
  const textPath = join(work, 'text.f32');
  writeFileSync(textPath, new Uint8Array(text.buffer));
  const nullPath = join(out, nullFile.name);
  tiny = {
    cardPath, onnxPath: join(out, card.files[0].name), nullPath, textPath, diffusion, text,
    nullText: readF32(nullPath),
  };
  // The reference's session options: single-threaded, so equal inputs give bit-equal outputs.
  session = await ort.InferenceSession.create(tiny.onnxPath,
    { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
});

after(async () => {
  await session?.release();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run {
  tokens: Int32Array;
  fed: number[][];
  timesteps: number[];
  lastX0: Int32Array | null;
  transformerMs: number;
  totalMs: number;
}

async function runTs(seed: number, steps: number, guidance: number, truncation: number): Promise<Run> {
  const { diffusion, text, nullText } = tiny;
  const L = diffusion.latent.height * diffusion.latent.width;
  const fed: number[][] = [];
  const timesteps: number[] = [];
  let lastX0: Int32Array | null = null;
  let transformerMs = 0;
  const started = performance.now();
  const tokens = await sampleTokens({
    diffusion, steps, guidance, truncation, seed,
    async runTransformer(ids, timestep, batch) {
      assert.equal(ids.length, batch * L);
      if (batch === 2) assert.deepEqual(ids.subarray(0, L), ids.subarray(L), 'both halves are the same x_t');
      fed.push(Array.from(ids.subarray(0, L), Number));
      timesteps.push(timestep);
      const feedText = new Float32Array(batch * text.length);
      feedText.set(text);
      if (batch === 2) feedText.set(nullText, text.length);
      const t0 = performance.now();
      const out = await session.run({
        tokens: new ort.Tensor('int64', ids.slice(), [batch, L]),
        timestep: new ort.Tensor('int64', new BigInt64Array(batch).fill(BigInt(timestep)), [batch]),
        text: new ort.Tensor('float32', feedText, [batch, text.length / diffusion.guidance.nullTextShape[1],
          diffusion.guidance.nullTextShape[1]]),
      });
      transformerMs += performance.now() - t0;
      return out.log_probs.data as Float32Array;
    },
    onStep(_step, _total, x0) {
      lastX0 = x0;
    },
  });
  return { tokens, fed, timesteps, lastX0, transformerMs, totalMs: performance.now() - started };
}

async function runReference(seed: number, steps: number, guidance: number, truncation: number) {
  const out = join(work, `ref-${seed}-${steps}-${guidance}-${truncation}.json`);
  const result = await runPython([REFERENCE_PY, '--card', tiny.cardPath, '--onnx', tiny.onnxPath, '--text',
    tiny.textPath, '--null', tiny.nullPath, '--seed', String(seed), '--steps', String(steps), '--guidance',
    String(guidance), '--truncation', String(truncation), '--out', out], 300_000);
  assertOk(result, 'vq_reference.py');
  return { ...(JSON.parse(readFileSync(out, 'utf8')) as ReferenceResult), ms: result.ms };
}

/** Runs both and asserts identical tokens at every step; returns the TypeScript run. */
async function compare(t: { diagnostic(message: string): void }, seed: number, steps: number, guidance: number,
  truncation: number): Promise<Run> {
  const [ts, ref] = [await runTs(seed, steps, guidance, truncation), await runReference(seed, steps, guidance,
    truncation)];
  const plan = planSteps(tiny.diffusion.steps, steps);
  assert.deepEqual(ts.timesteps, plan.map((p) => p.timestep));
  assert.deepEqual(ref.timesteps, ts.timesteps, 'same visited timesteps');
  assert.deepEqual(ref.posteriorTimesteps, plan.map((p) => p.posteriorTimestep), 'same posterior timesteps');
  assert.equal(ts.fed.length, ref.xt.length);
  for (let i = 0; i < ts.fed.length; i++) {
    assert.deepEqual(ts.fed[i], ref.xt[i], `x_t fed at step ${i + 1} (timestep ${ts.timesteps[i]})`);
  }
  assert.deepEqual(Array.from(ts.tokens), ref.tokens, 'final tokens');
  assert.deepEqual(Array.from(ts.lastX0 ?? []), ref.x0Argmax, 'last preview (argmax of log p(x0))');
  const mask = tiny.diffusion.maskToken;
  assert.ok(ts.tokens.every((v) => v >= 0 && v < mask), 'every position decided at the end');
  assert.ok(new Set(ts.tokens).size > 3, 'not a constant map');
  t.diagnostic(`seed ${seed}, ${steps} steps, s=${guidance}, r=${truncation}: TypeScript ${ts.totalMs.toFixed(0)} ms `
    + `(${(ts.totalMs / steps).toFixed(2)} ms/step, of which transformer ${(ts.transformerMs / steps).toFixed(2)}); `
    + `reference ${(ref.ms / 1000).toFixed(1)} s`);
  return ts;
}

test('the Python reference draws the same uniforms as worker/random.ts', async () => {
  for (const seed of [0, 7, 2 ** 40 + 12345]) {
    const result = await runPython([REFERENCE_PY, '--uniforms', '1000', '--seed', String(seed)]);
    assertOk(result, 'uniforms');
    const rng = new Rng(seed);
    assert.deepEqual(JSON.parse(result.stdout) as number[], Array.from({ length: 1000 }, () => rng.uniform()),
      `seed ${seed}`);
  }
});

test('guided + truncated, all 100 steps: TypeScript and PyTorch give identical tokens at every step, for 2 seeds',
  async (t) => {
    const a = await compare(t, 1, 100, 5, 0.86);
    const b = await compare(t, 2, 100, 5, 0.86);
    assert.notDeepEqual(a.tokens, b.tokens, 'another seed, another sample');
  });

test('step skipping (20 of 100 timesteps), guided + truncated: identical tokens for 2 seeds', async (t) => {
  const a = await compare(t, 3, 20, 3, 0.9);
  const b = await compare(t, 4, 20, 3, 0.9);
  assert.notDeepEqual(a.tokens, b.tokens);
  assert.deepEqual(a.timesteps.slice(0, 4), [99, 94, 89, 83], "99·(19 − i)/19 rounded");
});

test('no guidance (batch 1), no truncation: identical tokens', async (t) => {
  await compare(t, 5, 100, 1, 1);
});
