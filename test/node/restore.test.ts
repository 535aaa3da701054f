// Restore (MAXIM, the real weights converted from the npm packages) on onnxruntime-node: sizes that are no multiple of
// the model's 64 px are mirrored out to a tile or tiled, never refused, and come back at their own size, in place,
// with their alpha byte for byte; tiles blend without a seam (checked against the same crop run as one call on a graph
// converted at the crop's full size); progress counts tiles (and the whole-picture run of the fixes that harmonise
// tone) and ends at the total; cancel between tiles stops the job; the CLI writes the PNG and names every fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EnginePlatform } from '../../worker/engine.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import { crop, psnr } from '../../worker/image/rgba.ts';
import { Rng } from '../../worker/random.ts';
import { clampByte, rgbaToTensor, tensorReader } from '../../worker/image/tensor.ts';
import { planSpans } from '../../worker/image/tiling.ts';
import type { FrontierError, Progress, RgbaImage } from '../../worker/job.ts';
import type { ImageIo } from '../../worker/models/card.ts';
import { RESTORE_MODES } from '../../worker/tasks/restore.ts';
import { convertMaxim, describeMaximModel } from '../../models/convert/maxim.ts';
// After the engine's modules: worker/runtime/ort-node.ts turns telemetry off before onnxruntime-node initialises.
import * as ort from 'onnxruntime-node';
import { loadPhoto, withBrowserTiles } from './helpers.ts';
import { agreement } from '../../bench/common/tile-agreement.ts';

/** Remove rain: one of the 60 MB MAXIM graphs, ≈40% faster per tile than denoise's 93 MB (the CLI test runs denoise). */
const MODE = 'derain';
const TILE = 128;
const OVERLAP = 32;
/** The MAXIM cards' tensor layout and value range (models/registry.json). */
const IO: ImageIo = { layout: 'NHWC', range: [0, 1] };

/** The Node platform with every model run counted (a tile, or the whole picture shrunk to one); `afterRun` follows each. */
function countingPlatform(inner: EnginePlatform): { platform: EnginePlatform; counter: { runs: number; afterRun?: () => void; cards: string[] } } {
  const counter: { runs: number; afterRun?: () => void; cards: string[] } = { runs: 0, cards: [] };
  const platform: EnginePlatform = {
    ...inner,
    runtime(target) {
      const runtime = inner.runtime(target);
      return {
        name: runtime.name,
        async createSession(card, loadBytes, more) {
          const session = await runtime.createSession(card, loadBytes, more);
          counter.cards.push(card.id);
          return {
            inputNames: session.inputNames,
            outputNames: session.outputNames,
            async run(feeds, options) {
              const out = await session.run(feeds, options);
              counter.runs++;
              counter.afterRun?.();
              return out;
            },
            dispose: () => session.dispose(),
          };
        },
      };
    },
  };
  return { platform, counter };
}

// The tests below restore on the cards' own 128-px tiles, as the browser does (the larger-tile builds left out);
// the 256-px build that Node and the server use for larger images has its own test.
const { platform, counter } = countingPlatform(withBrowserTiles(createNodePlatform({ threads: 2 })));
const engine = new Engine(platform);

/** Runs restore on `image`, returning the result, its progress events and how many times the model ran. */
async function restore(id: string, image: RgbaImage, mode = MODE): Promise<{ out: RgbaImage; progress: Progress[]; runs: number }> {
  const progress: Progress[] = [];
  const before = counter.runs;
  const result = await engine.run({ id, task: 'restore', params: { mode }, image }, (p) => progress.push(p));
  assert.equal(result.meta.model, `maxim-${mode}`);
  return { out: result.images[0], progress, runs: counter.runs - before };
}

/** `image` with a fully transparent block (RGB 0, as editors store it) and a half-transparent band. */
function withAlpha(image: RgbaImage): RgbaImage {
  const out = { ...image, data: image.data.slice() };
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const i = (y * out.width + x) * 4;
      if (x < out.width / 4 && y < (out.height * 2) / 3) out.data.set([0, 0, 0, 0], i);
      else if (y >= (out.height * 2) / 3 && y < (out.height * 5) / 6) out.data[i + 3] = 128;
    }
  }
  return out;
}

const channelMean = (img: RgbaImage, c: number): number => {
  let sum = 0;
  for (let i = c; i < img.data.length; i += 4) sum += img.data[i];
  return sum / (img.width * img.height);
};

/** Mean absolute RGB difference between `a` and `b` moved by (dx, dy), over the pixels that are opaque in `b`. */
function meanShifted(a: RgbaImage, b: RgbaImage, dx: number, dy: number): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.max(0, dy); y < a.height + Math.min(0, dy); y++) {
    for (let x = Math.max(0, dx); x < a.width + Math.min(0, dx); x++) {
      const i = (y * a.width + x) * 4;
      const j = ((y - dy) * b.width + (x - dx)) * 4;
      if (b.data[j + 3] !== 255) continue;
      for (let c = 0; c < 3; c++) sum += Math.abs(a.data[i + c] - b.data[j + c]);
      n += 3;
    }
  }
  return sum / n;
}

/** The sizes test's runs, kept for the progress test (a MAXIM tile costs seconds: each size runs once). */
const sized = new Map<string, Promise<{ input: RgbaImage; out: RgbaImage; progress: Progress[]; runs: number }>>();
function restoreSize(width: number, height: number) {
  const key = `${width}x${height}`;
  if (!sized.has(key)) {
    sized.set(key, (async () => {
      const input = withAlpha(crop(await loadPhoto('chelsea.png'), 150, 60, width, height));
      return { input, ...(await restore(`size-${key}`, input)) };
    })());
  }
  return sized.get(key)!;
}

test('sizes that are no multiple of 64 (100×70: one mirrored tile; 200×150: four tiles) come back at their own size, in place, alpha exactly kept', async () => {
  for (const [width, height, tiles] of [[100, 70, 1], [200, 150, 4]]) {
    const { input, out, runs } = await restoreSize(width, height);
    assert.deepEqual([out.width, out.height], [width, height], 'the input size, not a multiple of 64 nor the padded tile');
    assert.equal(runs, tiles, `${width}×${height} runs ${tiles} tile(s) of ${TILE} px`);
    let alphaChanged = 0;
    for (let i = 3; i < input.data.length; i += 4) if (out.data[i] !== input.data[i]) alphaChanged++;
    assert.equal(alphaChanged, 0, 'alpha comes back byte for byte (transparent stays transparent, 128 stays 128)');
    // In place: removing rain from a photo without rain changes it little, and much less than the same photo moved by one pixel
    // (a padding or crop misplaced by even one pixel would show here).
    const aligned = meanShifted(out, input, 0, 0);
    const movedX = meanShifted(out, input, 1, 0);
    const movedY = meanShifted(out, input, 0, 1);
    console.log(`${width}×${height}: mean |restored − input| ${aligned.toFixed(2)} levels; moved 1 px: ${movedX.toFixed(2)} (x), ${movedY.toFixed(2)} (y)`);
    assert.ok(aligned < 8 && aligned < movedX && aligned < movedY, `the restored picture is not in place: ${aligned} vs ${movedX}, ${movedY}`);
  }
});

test('progress counts the tiles one by one and ends at the total', async () => {
  const { progress, runs } = await restoreSize(200, 150);
  const run = progress.filter((p) => p.stage === 'run');
  assert.deepEqual(run.map((p) => [p.done, p.total]), [[0, 4], [1, 4], [2, 4], [3, 4], [4, 4]]);
  assert.deepEqual(run.map((p) => p.message), ['Restoring tile 1 / 4', 'Restoring tile 2 / 4', 'Restoring tile 3 / 4', 'Restoring tile 4 / 4', 'Restored 4 tiles']);
  assert.equal(runs, 4, 'one model run per tile');
  assert.ok(progress.every((p) => p.jobId === 'size-200x150'));
});

test('fixes whose tone depends on the whole picture (dehaze, low light, retouch) add one whole-picture run: progress counts it, size and alpha kept', async () => {
  const input = withAlpha(crop(await loadPhoto('chelsea.png'), 150, 60, 160, 100)); // mirrored out to 160×128: 2 tiles
  const { out, progress, runs } = await restore('harmonized', input, 'dehaze-outdoor');
  assert.deepEqual([out.width, out.height], [160, 100]);
  assert.equal(runs, 3, 'two tiles and the whole picture shrunk to one tile');
  const run = progress.filter((p) => p.stage === 'run');
  assert.deepEqual(run.map((p) => [p.done, p.total, p.message]), [
    [0, 3, 'Reading the whole picture'], [1, 3, 'Restoring tile 1 / 2'], [2, 3, 'Restoring tile 2 / 2'], [3, 3, 'Restored 2 tiles'],
  ]);
  let alphaChanged = 0;
  for (let i = 3; i < input.data.length; i += 4) if (out.data[i] !== input.data[i]) alphaChanged++;
  assert.equal(alphaChanged, 0, 'alpha comes back byte for byte');
});

test('cancel between tiles stops the job with a "cancelled" error; the engine runs again afterwards', async () => {
  const image = crop(await loadPhoto('chelsea.png'), 100, 50, 200, 150);
  const progress: Progress[] = [];
  const before = counter.runs;
  counter.afterRun = () => engine.cancel('cancel-me'); // the first tile has just finished
  try {
    await assert.rejects(
      engine.run({ id: 'cancel-me', task: 'restore', params: { mode: MODE }, image }, (p) => progress.push(p)),
      (err: FrontierError) => {
        assert.equal(err.code, 'cancelled');
        assert.match(err.message, /nothing was placed/);
        return true;
      },
    );
  } finally {
    counter.afterRun = undefined;
  }
  assert.equal(counter.runs - before, 1, 'no tile runs after the cancel');
  assert.ok(!progress.some((p) => p.stage === 'run' && p.done === p.total), 'the run never reports it finished');
  const again = await restore('after-cancel', crop(image, 0, 0, 40, 30));
  assert.deepEqual([again.out.width, again.out.height], [40, 30]);
});

test('in Node an image larger than one 128-px tile runs on the 256-px build (2 tiles where 128 px would take 6)', async () => {
  const large = countingPlatform(createNodePlatform({ threads: 2 }));
  const image = withAlpha(crop(await loadPhoto('chelsea.png'), 60, 40, 300, 200)); // 2 × 1 tiles of 256 (128 px: 3 × 2)
  const progress: Progress[] = [];
  const result = await new Engine(large.platform).run({ id: 'large-tiles', task: 'restore', params: { mode: MODE }, image }, (p) => progress.push(p));
  assert.equal(result.meta.model, `maxim-${MODE}`, 'the recipe names the mode\'s card, whichever build ran');
  assert.deepEqual(large.counter.cards, [`maxim-${MODE}-256`]);
  assert.equal(large.counter.runs, 2);
  assert.deepEqual(progress.filter((p) => p.stage === 'run').map((p) => p.message), ['Restoring tile 1 / 2', 'Restoring tile 2 / 2', 'Restored 2 tiles']);
  const out = result.images[0];
  assert.deepEqual([out.width, out.height], [300, 200]);
  let alphaChanged = 0;
  for (let i = 3; i < image.data.length; i += 4) if (out.data[i] !== image.data[i]) alphaChanged++;
  assert.equal(alphaChanged, 0, 'alpha comes back byte for byte');
  const aligned = meanShifted(out, image, 0, 0);
  assert.ok(aligned < 8 && aligned < meanShifted(out, image, 1, 0) && aligned < meanShifted(out, image, 0, 1), `not in place: ${aligned}`);
  // Where the 256-px build is not installed (the other tests' registry), the same card runs on its own 128-px tiles:
  // the sizes test's 200×150 takes four of them.
});

/**
 * Seams: a 192×192 crop runs as 2×2 tiles of 128 px (starts 0 and 64: tile edges at 64 and 128 on each axis) and is
 * compared with the same crop run in ONE call of the deraining graph converted at 192×192. MAXIM mixes information
 * across the whole tile (its grid gMLP), so tiled and one-call outputs differ a little everywhere, not only at tile
 * borders. Measured (chelsea 120,40 / astronaut 150,100): max 6 / 14 levels, mean 0.98 / 1.57; within 4 px of a tile
 * edge the mean difference is ×0.97 / ×0.92 the mean elsewhere; across an edge line the difference steps by at most
 * ×1.18 / ×1.23 the median step between neighbouring lines of the same axis. For scale, the same tiles assembled with
 * no blending (a hard cut at a tile edge, the classic seam): edge steps ×2.6–6.1, while the near-edge mean moves
 * little (×0.9–1.1: neighbouring tiles differ by about as much as tiled and one-call outputs do, so only the step
 * measure tells a cut apart).
 * Bounds, with margin: max ≤ 32, mean ≤ 3, near-edge/elsewhere ≤ 1.5, edge step ≤ ×2 the median step.
 */
const SEAM = { size: 192, maxAbs: 32, maxMean: 3, maxBorderRatio: 1.5, maxEdgeStep: 2 };

/** One call of the deraining graph converted at the image's own (square) size, with onnxruntime-node directly. */
async function oneCall(image: RgbaImage): Promise<RgbaImage> {
  const { bytes } = convertMaxim(describeMaximModel('deraining'), image.width);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
  try {
    const x = rgbaToTensor(image, IO);
    const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, x.dims) });
    const y = outputs[session.outputNames[0]];
    const read = tensorReader({ dtype: 'float32', dims: [...y.dims], data: y.data as Float32Array }, IO);
    const out: RgbaImage = { width: image.width, height: image.height, data: new Uint8Array(image.data.length) };
    for (let i = 0; i < image.width * image.height; i++) {
      for (let c = 0; c < 3; c++) out.data[i * 4 + c] = clampByte(read(i, c));
      out.data[i * 4 + 3] = 255;
    }
    return out;
  } finally {
    await session.release();
  }
}

test('tiling is seamless: the tiled result matches one call on a graph converted at the full size, and is no worse along tile edges', async () => {
  const { size } = SEAM;
  const image = crop(await loadPhoto('chelsea.png'), 120, 40, size, size);
  const { out: tiled, runs } = await restore('seams', image);
  assert.equal(runs, 4);
  const whole = await oneCall(image);

  const spans = planSpans(size, TILE, OVERLAP);
  const edges = [...new Set(spans.flatMap((s) => [s.start, s.end]).filter((e) => e > 0 && e < size))].sort((a, b) => a - b);
  assert.deepEqual(edges, [64, 128]);
  // The measures the 512-px bench bounds too (bench/common/tile-agreement.ts).
  const { max, mean, borderRatio: ratio, edgeSteps: steps } = agreement(tiled, whole, TILE, OVERLAP);
  const edgeSteps = steps.map((s) => s.ratio);
  console.log(
    `tiled (${TILE} px, ${OVERLAP} px overlap) vs one call at ${size}: max ${max}, mean ${mean.toFixed(3)} levels; ` +
      `near tile edges ×${ratio.toFixed(2)} the mean elsewhere; steps across edge lines ×${edgeSteps.map((s) => s.toFixed(2)).join(', ×')} the median step along that axis`,
  );
  assert.ok(max <= SEAM.maxAbs, `max difference ${max} > ${SEAM.maxAbs}`);
  assert.ok(mean <= SEAM.maxMean, `mean difference ${mean} > ${SEAM.maxMean}`);
  assert.ok(ratio <= SEAM.maxBorderRatio, `a seam: the difference near tile edges is ×${ratio.toFixed(2)} the difference elsewhere`);
  assert.ok(Math.max(...edgeSteps) <= SEAM.maxEdgeStep, `a seam: the difference steps across a tile edge by ×${Math.max(...edgeSteps).toFixed(2)} the median step`);
});

test('denoise keeps the photo\'s colours: on Gaussian noise (σ 25) the mean of each channel stays within 1.5 levels of the clean photo\'s, and the noise goes', async () => {
  // MAXIM's SIDD denoiser alone drifts on this noise (measured on this crop: red +5.4 levels); the card's
  // localMeanFromInput puts the input's local averages back.
  const clean = crop(await loadPhoto('astronaut.png'), 120, 300, 128, 128);
  const rng = new Rng(25);
  const noisy = { ...clean, data: clean.data.map((v, i) => (i % 4 === 3 ? v : clampByte(v + 25 * rng.normal()))) };
  const { out } = await restore('denoise-colour', noisy, 'denoise');
  for (let c = 0; c < 3; c++) {
    const drift = channelMean(out, c) - channelMean(clean, c);
    assert.ok(Math.abs(drift) < 1.5, `channel ${'RGB'[c]}: ${drift.toFixed(2)} levels off the clean photo`);
  }
  assert.ok(psnr(out, clean) > psnr(noisy, clean) + 4, `PSNR ${psnr(noisy, clean).toFixed(1)} → ${psnr(out, clean).toFixed(1)} dB`);
});

test('bad restore jobs are refused with what to do, before any model loads', async () => {
  const image = crop(await loadPhoto('chelsea.png'), 0, 0, 8, 8);
  const before = counter.runs;
  await assert.rejects(engine.run({ id: 'r1', task: 'restore', params: { mode: 'sharpen' }, image }), /Fix must be one of denoise, deblur, derain, dehaze-outdoor, dehaze-indoor, low-light, retouch \(got sharpen\)/);
  await assert.rejects(engine.run({ id: 'r2', task: 'restore', params: {} }), /Restore needs an image/);
  await assert.rejects(engine.run({ id: 'r3', task: 'restore', params: {}, model: 'esrgan-slim-x2', image }), /is not a restoration model/);
  await assert.rejects(engine.run({ id: 'r4', task: 'restore', params: {}, image: { width: 0, height: 0, data: new Uint8Array(0) } }), /empty/);
  assert.equal(counter.runs, before);
});

// ---- The CLI, as a user runs it (a real process; see cli.test.ts) ----------------------------------------------

const BIN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'frontier.js');

/** Runs the CLI without blocking this process (a MAXIM tile takes seconds). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 300_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test('frontier restore in.png out.png --mode denoise writes a PNG of the input size; --help names every fix; a wrong fix is explained', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'frontier-cli-restore-'));
  try {
    const input = join(dir, 'in.png');
    await writeFile(input, await nodeCodec.encodePng(crop(await loadPhoto('astronaut.png'), 200, 150, 100, 70)));
    const r = await cli(['restore', input, join(dir, 'out.png'), '--mode', 'denoise']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /out\.png: 100×70 \(maxim-denoise on node/);
    const out = await nodeCodec.decode(new Uint8Array(await readFile(join(dir, 'out.png'))));
    assert.deepEqual([out.width, out.height], [100, 70]);

    const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(help.status, 0);
    const line = help.stdout.split('\n').find((l) => l.includes('--mode <')) ?? '';
    for (const { value } of RESTORE_MODES) assert.ok(line.includes(value), `--help names --mode ${value}: ${line}`);
    assert.match(line, /--mode <denoise\|deblur\|derain\|dehaze-outdoor\|dehaze-indoor\|low-light\|retouch>/);
    assert.equal(RESTORE_MODES.length, 7);

    const bad = spawnSync(process.execPath, [BIN, 'restore', input, join(dir, 'bad.png'), '--mode', 'sharpen'], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(bad.status, 0);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /Fix must be one of denoise, deblur, .*retouch \(got sharpen\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
