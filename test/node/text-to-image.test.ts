// Text-to-image on onnxruntime-node with the tiny (random-weight) VQ-Diffusion pipeline: the job names the
// transformer and the engine finds the text encoder and decoder; same prompt + seed → same image, another seed or
// prompt → another; previews arrive every few steps; cancel stops mid-sampling; the CLI writes the PNG.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../worker/engine.ts';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import { readPngText } from '../../worker/image/png-meta.ts';
import { FrontierError, parseResultMeta, type Job, type JobResult, type Progress } from '../../worker/job.ts';
import { createNodePlatform, REPO_ROOT } from '../../worker/platform-node.ts';

const TRANSFORMER = 'vqdiffusion-ithq-transformer-tiny';
const engine = new Engine(createNodePlatform());
let n = 0;
const run = (params: Job['params'], onProgress?: (p: Progress) => void, id = `t${++n}`): Promise<JobResult> =>
  engine.run({ id, task: 'text-to-image', params, target: 'node' }, onProgress);

test('text-to-image: the default model is the tiny pipeline; same prompt and seed give the same image, others differ', async () => {
  const base = { prompt: 'a red fox in the snow', seed: 7, steps: 20 };
  const a = await run(base);
  assert.equal(a.meta.model, TRANSFORMER);
  assert.equal(a.meta.modelVariant, 'tiny');
  assert.deepEqual([a.images[0].width, a.images[0].height], [64, 64]);
  assert.equal(a.imageMeta?.[0].seed, 7);
  const again = await run(base);
  assert.deepEqual(again.images[0].data, a.images[0].data, 'same seed, same pixels');
  const differs = (r: JobResult) => r.images[0].data.some((v, i) => v !== a.images[0].data[i]);
  assert.ok(differs(await run({ ...base, seed: 8 })), 'another seed');
  assert.ok(differs(await run({ ...base, prompt: 'a blue boat on a lake' })), 'another prompt');
  assert.ok(differs(await run({ ...base, guidance: 1 })), 'no guidance');
  assert.ok(differs(await run({ ...base, truncation: 0.6 })), 'truncation');
  // The pipeline's id (as the catalogue and `frontier models` name it) means the part this task runs by.
  const byPipeline = await engine.run({ id: `t${++n}`, task: 'text-to-image', model: 'vqdiffusion-ithq-tiny', params: base, target: 'node' });
  assert.equal(byPipeline.meta.model, TRANSFORMER);
  assert.deepEqual(byPipeline.images[0].data, a.images[0].data);
});

test('text-to-image: progress counts every step and carries previews; cancel stops mid-sampling', async () => {
  const events: Progress[] = [];
  await run({ prompt: 'a house', seed: 1, steps: 10 }, (p) => events.push(p));
  const steps = events.filter((p) => p.message?.startsWith('Step '));
  assert.equal(steps.length, 10);
  const previews = events.filter((p) => p.preview);
  assert.ok(previews.length >= 3 && previews.length <= 6, `a few previews (${previews.length})`);
  assert.deepEqual([previews[0].preview!.width, previews[0].preview!.height], [64, 64]);
  const fractions = events.filter((p) => p.stage === 'run').map((p) => p.done / p.total);
  assert.deepEqual(fractions, [...fractions].sort((x, y) => x - y), 'the bar only moves forward');

  let seen = 0;
  const cancelled = run({ prompt: 'a house', seed: 1, steps: 50 }, (p) => {
    if (p.message?.startsWith('Step ') && ++seen === 3) engine.cancel('cancel-me');
  }, 'cancel-me');
  await assert.rejects(cancelled, (err: FrontierError) => err.code === 'cancelled');
  assert.ok(seen < 10, `stopped soon after the cancel (${seen} steps)`);
});

test('text-to-image: an empty prompt, too many steps and a model that is not a transformer are explained', async () => {
  await assert.rejects(run({ prompt: '   ' }), /Type a prompt/);
  await assert.rejects(run({ prompt: 'x', steps: 101 }), /Steps must be between 2 and 100/);
  await assert.rejects(engine.run({ id: 'w', task: 'text-to-image', model: 'vqdiffusion-ithq-decoder-tiny', params: { prompt: 'x' } }), /not a VQ-Diffusion transformer/);
  // With only test models installed, the server target needs a server: said, not silently run here.
  await assert.rejects(engine.run({ id: 's', task: 'text-to-image', params: { prompt: 'x' }, target: 'server' }), (err: FrontierError) => err.code === 'target-unavailable');
});

test('text-to-image: the CLI writes the engine\'s image and remembers the prompt', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'frontier-t2i-'));
  try {
    const out = join(dir, 'fox.png');
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'server', 'bin', 'frontier.js'), 'text-to-image', out, '--prompt', 'a red fox in the snow', '--seed', '7', '--steps', '20', '--model', TRANSFORMER], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /tiny random-weight TEST model/);
    const png = readFileSync(out);
    const meta = parseResultMeta(readPngText(png, 'frontier'));
    assert.equal(meta?.params.prompt, 'a red fox in the snow');
    const local = await run({ prompt: 'a red fox in the snow', seed: 7, steps: 20 });
    assert.deepEqual((await nodeCodec.decode(png)).data, local.images[0].data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
