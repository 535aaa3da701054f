// Generation on onnxruntime-node with the tiny (random-weight) StyleSwin and GRAM: seeds are reproducible, results
// remember their latent, variations/in-betweens start from it, a view turned back to the front is the portrait, and
// the CLI writes PNGs that remember how they were made.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../worker/engine.ts';
import { readPngText } from '../../worker/image/png-meta.ts';
import { parseResultMeta, type Job, type JobResult, type RgbaImage } from '../../worker/job.ts';
import { decodeLatent, latentFromSeed } from '../../worker/latent.ts';
import { createNodePlatform, REPO_ROOT } from '../../worker/platform-node.ts';

const STYLESWIN = 'styleswin-ffhq-256-tiny';
const GRAM = 'gram-ffhq-256-tiny';
const engine = new Engine(createNodePlatform());
let n = 0;
const run = (job: Omit<Job, 'id'>): Promise<JobResult> => engine.run({ id: `g${++n}`, ...job });

/** Mean absolute difference per channel value, 0..255. */
function meanDiff(a: RgbaImage, b: RgbaImage): number {
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) if (i % 4 !== 3) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / ((a.data.length / 4) * 3);
}

test('generate: the same seed gives the same image, another seed another; each image remembers its seed and latent', async () => {
  const a = await run({ task: 'generate', model: STYLESWIN, params: { seed: 7, count: 3 } });
  assert.equal(a.images.length, 3);
  assert.deepEqual(a.imageMeta?.map((m) => m.seed), [7, 8, 9]);
  assert.equal(a.meta.modelVariant, 'tiny');
  const again = await run({ task: 'generate', model: STYLESWIN, params: { seed: 7, count: 1 } });
  assert.deepEqual(again.images[0].data, a.images[0].data, 'seed 7 again: identical pixels');
  assert.ok(meanDiff(a.images[0], a.images[1]) > 2, 'seed 8 differs');
  assert.deepEqual(decodeLatent(a.imageMeta![1].latent!, 32), latentFromSeed(8, 32), 'the stored latent is the seed\'s');
  const truncated = await run({ task: 'generate', model: STYLESWIN, params: { seed: 7, truncation: 0.3 } });
  assert.ok(meanDiff(truncated.images[0], a.images[0]) > 0.5, 'truncation changes the image');
});

test('variations stay nearer their source as strength falls; in-betweens lie between their ends', async () => {
  const made = await run({ task: 'generate', model: STYLESWIN, params: { seed: 11, count: 2 } });
  const [first, second] = made.imageMeta!;
  const subtle = await run({ task: 'vary', params: { strength: 0.1, count: 2, seed: 5 }, sources: [first] });
  assert.equal(subtle.meta.model, STYLESWIN, 'the model comes from the selected result');
  const bold = await run({ task: 'vary', params: { strength: 0.9, count: 2, seed: 5 }, sources: [first] });
  const d = (r: JobResult) => r.images.reduce((s, img) => s + meanDiff(img, made.images[0]), 0) / r.images.length;
  assert.ok(d(subtle) < d(bold), `strength 0.1 (${d(subtle).toFixed(2)}) is nearer than 0.9 (${d(bold).toFixed(2)})`);
  assert.ok(d(subtle) > 0, 'a variation is not a copy');

  const between = await run({ task: 'interpolate', params: { steps: 3 }, sources: [first, second] });
  assert.equal(between.images.length, 3);
  const [a, b] = made.images;
  assert.ok(meanDiff(between.images[0], a) < meanDiff(between.images[0], b), 'the first in-between is nearer the first end');
  assert.ok(meanDiff(between.images[2], b) < meanDiff(between.images[2], a), 'the last is nearer the second end');
  await assert.rejects(run({ task: 'interpolate', params: {}, sources: [first] }), /needs 2 generated images/);
  await assert.rejects(run({ task: 'vary', params: {} }), /needs a generated image selected/);
});

test('rotate-view: a portrait turned back to the front equals it; other yaws differ; a turntable makes a row of views', async () => {
  const front = await run({ task: 'rotate-view', model: GRAM, params: { seed: 3, size: 64 } });
  assert.deepEqual([front.images[0].width, front.images[0].height], [64, 64]);
  const portrait = front.imageMeta![0];
  const turned = await run({ task: 'rotate-view', params: { yaw: 30, size: 64 }, sources: [portrait] });
  assert.equal(turned.meta.model, GRAM, 'a selected GRAM portrait brings its model');
  const back = await run({ task: 'rotate-view', params: { yaw: 0, size: 64 }, sources: [turned.imageMeta![0]] });
  assert.deepEqual(back.images[0].data, front.images[0].data, 'turned to the default pose: the same image');
  assert.ok(meanDiff(turned.images[0], front.images[0]) > 0.01, 'yaw 30° renders another view');
  const table = await run({ task: 'rotate-view', params: { frames: 3, sweep: 20, size: 64 }, sources: [portrait] });
  assert.deepEqual(table.imageMeta!.map((m) => m.params.yaw), [-20, 0, 20]);
  assert.deepEqual(table.images[1].data, front.images[0].data, 'the middle turntable frame is the front view');
});

test('CLI: generate and rotate-view write PNGs that remember their meta; vary reads it back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frontier-cli-gen-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'server/bin/frontier.js'), ...args], { cwd: dir, encoding: 'utf8' });
  try {
    let r = cli('generate', 'out.png', '--model', STYLESWIN, '--seed', '7');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /out\.png: 32×32 \(styleswin-ffhq-256-tiny — tiny random-weight TEST model on node, seed 7/);
    const meta = parseResultMeta(readPngText(new Uint8Array(readFileSync(join(dir, 'out.png'))), 'frontier'));
    assert.equal(meta?.seed, 7);
    assert.ok(meta?.latent);
    r = cli('vary', 'out.png', 'near.png', '--count', '1');
    assert.equal(r.status, 0, r.stderr);
    r = cli('rotate-view', 'turned.png', '--model', GRAM, '--seed', '7', '--yaw', '0.3', '--size', '64');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /turned\.png: 64×64 \(gram-ffhq-256-tiny/);
    r = cli('vary', join(REPO_ROOT, 'test/fixtures/images/chelsea.png'), 'x.png');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not say how it was made: use a PNG written by "frontier generate"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rotate-view tiles: a 128 px view from four 64 px tiles equals the same view rendered in one call', async () => {
  const registry = JSON.parse(readFileSync(join(REPO_ROOT, 'models/registry.json'), 'utf8')) as { models: { id: string; io: { tile: { size: number } } }[] };
  registry.models.find((m) => m.id === GRAM)!.io.tile.size = 128;
  const dir = mkdtempSync(join(tmpdir(), 'frontier-tiles-'));
  try {
    const path = join(dir, 'registry.json');
    writeFileSync(path, JSON.stringify(registry));
    const whole = await new Engine(createNodePlatform({ registryPath: path })).run({ id: 'whole', task: 'rotate-view', model: GRAM, params: { seed: 5, size: 128, yaw: -15 } });
    const tiled = await run({ task: 'rotate-view', model: GRAM, params: { seed: 5, size: 128, yaw: -15 } });
    // Per-ray maths: only float summation order could differ with the batch size, never by more than a level.
    const a = tiled.images[0].data;
    const b = whole.images[0].data;
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    assert.ok(max <= 1, `max difference ${max}`);
    assert.ok(meanDiff(tiled.images[0], whole.images[0]) < 0.01);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
