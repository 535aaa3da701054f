// Issue 14 finding 2, before the first run: a rough time hint next to the choices that change the cost, for the
// current "Run on" place, from the project's benchmark figures (ui/cost-prior.ts), until a run here measures it
// (ui/cost.ts wins). The figures, the model Automatic would use (the engine says: Engine.defaultModelFor, asked once
// per choices by AutomaticModels), the words; then the hints in real Chromium (fake host and engine: its Best model is
// "esrgan-thick-x2", which the benchmarks timed at ×4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutomaticModels, expectedModel, formatRough, priorEstimate, priorRate, tileFor, timeHint } from '../../ui/cost-prior.ts';
import { readFileSync } from 'node:fs';
import type { Registry } from '../../worker/models/card.ts';
import { Engine, type EnginePlatform } from '../../worker/engine.ts';
import type { Params } from '../../worker/job.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { upscale } from '../../worker/tasks/upscale.ts';
import { selectItems, withHarness } from './ui-harness/ui-page.ts';

const shots = process.env.UI_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'frontier-prior-shots-')));
const SLIM = { size: 128, overlap: 16 };
const THICK = { size: 96, overlap: 16 };
const MAXIM = { size: 128, overlap: 32 };
const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1, `${what}: ${actual} ≠ ${expected}`);

test('the prior gives back the benchmark figures it was made from (bench/results/upscale.md, restore-rerun-128.md)', () => {
  const photo = [{ width: 512, height: 512 }];
  const crop = [{ width: 128, height: 128 }];
  near(priorEstimate('esrgan-slim-x4', 'wasm', photo, { tile: SLIM })!.ms, 16192, 'slim ×4, 512², WASM 1 thread');
  near(priorEstimate('esrgan-slim-x4', 'wasm', photo, { tile: SLIM, threads: 2 })!.ms, 7798, 'slim ×4, WASM 2 threads');
  near(priorEstimate('esrgan-thick-x4', 'wasm', crop, { tile: THICK })!.ms, 25611, 'thick ×4, 128², WASM 1 thread');
  near(priorEstimate('esrgan-thick-x4', 'server', crop, { tile: THICK })!.ms, 2493, 'thick ×4 on the server (onnxruntime-node)');
  near(priorEstimate('maxim-denoise', 'wasm', crop, { tile: MAXIM })!.ms, 4379, 'denoise, one 128² tile, WASM');
  near(priorEstimate('maxim-denoise', 'server', crop, { tile: MAXIM })!.ms, 1645, 'denoise on the Frontier server');
  // Medium (not timed) lies between slim and thick per pixel; the 2-stage MAXIM graphs cost less than denoise.
  for (const target of ['wasm', 'server'] as const) {
    const [slim, medium, thick] = ['slim', 'medium', 'thick'].map((f) => priorRate(`esrgan-${f}-x4`, target)!);
    assert.ok(slim < medium && medium < thick, `${target}: ${slim} < ${medium} < ${thick}`);
    assert.ok(priorRate('maxim-derain', target)! < priorRate('maxim-denoise', target)!);
  }
  // ×2 and ×3 stand on the ×4 figure (an upper bound); 2 threads where only 1 was timed: the 1-thread figure.
  assert.equal(priorRate('esrgan-thick-x2', 'wasm'), priorRate('esrgan-thick-x4', 'wasm'));
  assert.equal(priorRate('maxim-denoise', 'wasm', 4), priorRate('maxim-denoise', 'wasm', 1));
  // Nothing where nothing was timed: a graphics card (the bench had a software one), test models, other models.
  assert.equal(priorRate('esrgan-thick-x4', 'webgpu'), undefined);
  assert.equal(priorRate('esrgan-tiny-x4', 'wasm'), undefined);
  assert.equal(priorRate('styleswin-ffhq-256', 'wasm'), undefined);
  assert.equal(priorEstimate('esrgan-thick-x4', 'wasm', []), undefined, 'nothing selected: no estimate');
  // The case: Best ×4 on a 512² photo takes minutes on this computer, under a minute on the server.
  assert.equal(formatRough(priorEstimate('esrgan-thick-x4', 'wasm', photo, { tile: THICK })!.ms), 'about 5 min');
  assert.equal(formatRough(priorEstimate('esrgan-thick-x4', 'server', photo, { tile: THICK })!.ms), 'about 30 s');
});

test('restore on the server is priced on its 256-px tiles where the task uses them, as restore.ts picks them', () => {
  // The shipped registry: the derain card names its larger-tile build, low light has none (it keeps 128-px tiles).
  const shipped = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'models', 'registry.json'), 'utf8')) as Registry).models;
  const derain = shipped.find((c) => c.id === 'maxim-derain')!;
  const lowLight = shipped.find((c) => c.id === 'maxim-low-light')!;
  const large = shipped.find((c) => c.id === derain.largeTiles)!;
  assert.ok(large && large.io.tile!.size === 256, `derain's larger-tile build: ${derain.largeTiles}`);
  const photo = { width: 512, height: 512 };
  // MAXIM graphs are of fixed size: their tiles are never shrunk (anySize false).
  const fixed = (t: { size: number; overlap: number }) => ({ ...t, anySize: false });
  assert.deepEqual(tileFor(derain, 'server', photo, shipped), fixed(large.io.tile!), 'the server runs 256-px tiles');
  assert.deepEqual(tileFor(derain, 'node', photo, shipped), fixed(large.io.tile!));
  const oneCore = { threads: 1, machine: { cores: 1 } }; // no worker pool: lanes are test/unit/ui-cost-pool.test.ts's
  assert.deepEqual(tileFor(derain, 'wasm', photo, shipped, oneCore), fixed(derain.io.tile!), 'this computer keeps 128-px tiles');
  assert.deepEqual(tileFor(derain, 'server', { width: 128, height: 100 }, shipped), fixed(derain.io.tile!), 'one 128-px tile: the small graph');
  assert.deepEqual(tileFor(lowLight, 'server', photo, shipped), fixed(lowLight.io.tile!), 'no larger-tile build');
  assert.deepEqual(tileFor(derain, 'server', photo, shipped.filter((c) => c.id !== large.id)), fixed(derain.io.tile!), 'the build not here');
  // ESRGAN takes any size: its tiles shrink to what covering the image needs.
  const thick = shipped.find((c) => c.id === 'esrgan-thick-x4')!;
  assert.equal(tileFor(thick, 'wasm', photo, shipped, oneCore)?.anySize, true);
  // The 256-px tiles process more pixels with their overlaps: bench:restore-tiling timed them 1.3–1.5× the 128-px run.
  const on = (tile: (it: { width: number; height: number }) => ReturnType<typeof tileFor>) => priorEstimate('maxim-derain', 'server', [photo], { tile })!.ms;
  const ratio = on((it) => tileFor(derain, 'server', it, shipped)) / on(() => fixed(derain.io.tile!));
  assert.ok(ratio > 1.3 && ratio < 1.5, `256-px tiles against 128-px ones: ×${ratio.toFixed(2)}`);
});

const card = (id: string, extra: Partial<ModelCard> = {}) => ({ id, task: 'upscale', variant: 'full', io: { tile: SLIM }, ...extra }) as unknown as ModelCard;
/** An engine whose registry holds `cards` (defaultModelFor reads only the registry and the task table). */
const engineWith = (cards: ModelCard[]) => new Engine({ loadRegistry: async () => ({ version: 1, models: cards }) } as unknown as EnginePlatform);

test('the model a run would use: the chosen one, else what Automatic picks (the engine says), if it is here and not a test model', async () => {
  const cards = ['esrgan-slim-x4', 'esrgan-thick-x4', 'esrgan-thick-x2'].map((id) => card(id));
  const engine = engineWith(cards);
  const expected = async (task: string, params: Params, chosen: string | undefined, available: ModelCard[], from = engine) =>
    expectedModel(chosen, chosen ? undefined : await from.defaultModelFor(task, params), available);
  assert.equal((await expected('upscale', { scale: 4, quality: 'best' }, undefined, cards))?.id, 'esrgan-thick-x4');
  assert.equal((await expected('upscale', { scale: 4, quality: 'fast' }, undefined, cards))?.id, 'esrgan-slim-x4');
  assert.equal((await expected('upscale', { scale: 2 }, undefined, cards))?.id, 'esrgan-thick-x2', 'quality from its default');
  assert.equal(await expected('upscale', { scale: 3, quality: 'best' }, undefined, cards), undefined, 'not installed here');
  assert.equal(await engine.defaultModelFor('upscale', { scale: 3, quality: 'best' }), undefined, 'the engine names no model that is not installed');
  assert.equal((await expected('upscale', { scale: 4, quality: 'best' }, 'esrgan-slim-x4', cards))?.id, 'esrgan-slim-x4', 'a chosen model wins');
  const tiny = [card('esrgan-thick-x4-tiny', { variant: 'tiny' })];
  assert.equal(await expected('upscale', { scale: 4, quality: 'best' }, 'esrgan-thick-x4-tiny', tiny), undefined, 'a test model: no prior');
  const maxim = [card('maxim-denoise-tiny', { task: 'restore', variant: 'tiny', mode: 'denoise' }), card('maxim-denoise', { task: 'restore', mode: 'denoise' }), card('maxim-derain', { task: 'restore', mode: 'derain' })];
  const restorer = engineWith(maxim);
  assert.equal((await expected('restore', { mode: 'derain' }, undefined, maxim, restorer))?.id, 'maxim-derain');
  assert.equal((await expected('restore', {}, undefined, maxim, restorer))?.id, 'maxim-denoise', 'the real model before its test model');
  const generator = await expected('generate', {}, undefined, [card('styleswin-ffhq-256', { task: 'generate' })], engineWith([card('styleswin-ffhq-256', { task: 'generate' })]));
  assert.equal(generator?.id, 'styleswin-ffhq-256');
  assert.equal(priorEstimate(generator!.id, 'wasm', [{ width: 256, height: 256 }]), undefined, 'a task whose models were not benchmarked: no prior');
});

test('the UI asks the engine once per task and choices, and draws again when an answer comes', async () => {
  const asked: [string, Params][] = [];
  let answered = 0;
  let answer!: (id: string | undefined) => void;
  const automatic = new AutomaticModels((task, params) => {
    asked.push([task, params]);
    return new Promise((resolve) => (answer = resolve));
  }, () => answered++);
  const specs = upscale.params;
  assert.equal(automatic.get('upscale', { scale: 4, quality: 'best' }, specs), undefined, 'not known until the engine says');
  assert.equal(automatic.get('upscale', { scale: 4, quality: 'best' }, specs), undefined);
  assert.deepEqual(asked, [['upscale', { scale: 4, quality: 'best' }]], 'asked once, while the first question is open');
  answer('esrgan-thick-x4');
  await Promise.resolve();
  assert.equal(answered, 1);
  assert.equal(automatic.get('upscale', { scale: 4, quality: 'best', seed: 9 }, specs), 'esrgan-thick-x4', 'a param that picks no model is not asked again');
  assert.equal(automatic.get('upscale', { scale: 4 }, specs), 'esrgan-thick-x4', 'a param left out is its default');
  assert.equal(asked.length, 1);
  // Other choices are another question: only the choices travel.
  assert.equal(automatic.get('upscale', { scale: 2, quality: 'fast', seed: 9 }, specs), undefined);
  assert.deepEqual(asked[1], ['upscale', { scale: 2, quality: 'fast' }]);
  answer(undefined); // not installed: nothing to draw
  await Promise.resolve();
  assert.equal(answered, 1);
  assert.equal(automatic.get('upscale', { scale: 2, quality: 'fast' }, specs), undefined);
  assert.equal(asked.length, 2, 'not asked again');
  // An engine that cannot say gives no hint, and is not asked again for those choices.
  const failing = new AutomaticModels(async () => {
    throw new Error('worker-crashed');
  }, () => answered++);
  assert.equal(failing.get('restore', { mode: 'derain' }, []), undefined);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(failing.get('restore', { mode: 'derain' }, []), undefined);
  assert.equal(answered, 1);
});

test('the words: rough and labelled so until a run here; a measured time replaces it for its place', () => {
  assert.equal(formatRough(3_000), 'a few seconds');
  assert.equal(formatRough(23_000), 'about 20 s');
  assert.equal(formatRough(70_000), 'about 1 min');
  assert.equal(formatRough(313_000), 'about 5 min');
  assert.equal(formatRough(2.6 * 3_600_000), 'about 3 h');
  const prior = { target: 'wasm' as const, ms: 313_000, rough: true };
  assert.deepEqual(timeHint([], 'wasm', prior), { line: 'about 5 min on this computer', rough: true, sentence: 'About 5 min on this computer (rough estimate)' });
  assert.deepEqual(timeHint([{ target: 'wasm', ms: 200_000 }], 'wasm', prior), { line: '≈ 3 min on this computer', rough: false, sentence: '≈ 3 min on this computer' }, 'measured here wins');
  assert.deepEqual(timeHint([{ target: 'server', ms: 20_000 }], 'wasm', prior),
    { line: 'about 5 min on this computer · ≈ 20 s on the server', rough: true, sentence: 'About 5 min on this computer (rough estimate) · ≈ 20 s on the server' });
  assert.deepEqual(timeHint([{ target: 'server', ms: 20_000 }, { target: 'wasm', ms: 200_000 }], 'server'),
    { line: '≈ 20 s on the server · ≈ 3 min on this computer', rough: false, sentence: '≈ 20 s on the server · ≈ 3 min on this computer' });
  assert.equal(timeHint([], 'wasm'), undefined);
});

test('in the panel: before a run, a rough hint for Best and above Run on the current place; a run replaces it', { timeout: 90_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    // A one-core computer, whatever this machine has: no worker pool, so the 1-thread figure as benchmarked (the
    // pool's lanes and waves: test/unit/ui-cost-pool.test.ts).
    const plugin = await (await page.$('#plugin'))!.contentFrame();
    await plugin!.evaluate(() => Object.defineProperty(navigator, 'hardwareConcurrency', { value: 1 }));
    await selectItems(page, ['1:1']);
    await ui.getByTestId('task-select').selectOption('upscale');
    const hint = ui.getByTestId('param-quality-hint');
    const estimate = ui.getByTestId('run-estimate');
    await hint.waitFor();
    // Astronaut (512²) with the Best model on this computer's processor (1 thread): the thick figure.
    assert.equal(await hint.innerText(), 'Best: about 5 min on this computer\nRough: timed on a modest 2-core computer; a run here gives real times.');
    assert.equal(await estimate.innerText(), 'About 5 min on this computer (rough estimate)');
    assert.equal(await ui.getByTestId('param-quality-best').getAttribute('title'), 'Best: about 5 min on this computer');
    assert.equal(await ui.getByTestId('param-quality-fast').getAttribute('title'), null, 'Fast’s model is not here: no hint');
    await page.locator('#plugin').screenshot({ path: join(shots, 'prior-1-this-computer.png') });

    // A run here measures it: the measured time replaces the guess for this computer.
    await ui.getByTestId('run').click();
    await ui.getByTestId('result').waitFor({ timeout: 20_000 });
    await estimate.getByText(/^≈ \d+ s on this computer$/).waitFor();
    assert.match(await hint.innerText(), /^Best: ≈ \d+ s on this computer$/, 'no rough note once measured');
    // On the server (not run there yet): the server's guess leads, then what this computer measured.
    await ui.getByTestId('target-select').selectOption('server');
    await estimate.getByText(/^About 30 s on the server \(rough estimate\) · ≈ \d+ s on this computer$/).waitFor();
    assert.match(await hint.innerText(), /^Best: about 30 s on the server · ≈ \d+ s on this computer\nRough: /);
    await page.locator('#plugin').screenshot({ path: join(shots, 'prior-2-server-after-a-run-here.png') });
  });
});

test.after(() => console.log(`Time hint screenshots: ${shots}`));
