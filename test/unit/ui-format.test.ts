import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchFraction, describeTargetChoice, describeTargetProblem, formatEstimate, modelName, scaleFit, scaleOptions, stageText } from '../../ui/format.ts';
import type { SelectedItem } from '../../plugin/messages.ts';
import { findTask } from '../../worker/tasks/index.ts';
import { taskInfo } from '../../worker/tasks/task.ts';

/** A task's row as the engine lists it (with its display facts): the UI has no task table of its own. */
const row = (id: string) => taskInfo(findTask(id)!);

const item = (name: string, width: number, height: number): SelectedItem => ({ nodeId: name, name, width, height, kind: 'image' });

test('stage text says what is happening in the units the user cares about', () => {
  assert.equal(stageText({ stage: 'download', done: 3_200_000, total: 28_400_000 }, row('upscale')), 'Downloading model 3.2 / 28.4 MB');
  assert.equal(stageText({ stage: 'load', done: 0, total: 1 }, row('upscale')), 'Loading model');
  assert.equal(stageText({ stage: 'run', done: 4, total: 16 }, row('upscale')), 'Upscaling tile 5 / 16');
  assert.equal(stageText({ stage: 'run', done: 16, total: 16 }, row('upscale')), 'Upscaling tile 16 / 16');
  assert.equal(stageText({ stage: 'run', done: 9, total: 50 }, row('text-to-image')), 'Generating step 10 / 50');
  assert.equal(stageText({ stage: 'run', done: 0, total: 1 }, { id: 'novel' }, 'Novel task'), 'Running Novel task');
});

test('a batch item takes its share of the bar', () => {
  assert.equal(batchFraction(1, 4, 0.5), 0.375);
  assert.equal(batchFraction(0, 0, 0.5), 0);
});

test('scale options come from choices or an integer range', () => {
  assert.deepEqual(scaleOptions({ name: 'scale', label: 'Scale', type: 'choice', default: 2, choices: [{ value: 2, label: '×2' }, { value: 4, label: '×4' }] }), [2, 4]);
  assert.deepEqual(scaleOptions({ name: 'scale', label: 'Scale', type: 'integer', default: 2, min: 2, max: 4 }), [2, 3, 4]);
});

test('scales that exceed the host limit are refused with the numbers that explain it', () => {
  const fit = scaleFit([item('Hero', 1280, 720)], [2, 3, 4], 4096, 'figma', 4);
  assert.equal(fit.largest, 3);
  assert.equal(fit.fits(3), true);
  assert.equal(fit.fits(4), false);
  assert.equal(fit.note, '×4 would be 5120 px wide; Figma places at most 4096 px. Largest that fits: ×3.');
  const tall = scaleFit([item('Poster', 500, 1500), item('Icon', 64, 64)], [2, 3, 4], 4096, 'photoshop');
  assert.equal(tall.largest, 2);
  assert.equal(tall.note, '“Poster” at ×3 would be 4500 px tall; Photoshop places at most 4096 px. Largest that fits: ×2.');
  const none = scaleFit([item('Huge', 3000, 3000)], [2, 4], 4096, 'figma');
  assert.equal(none.largest, 0);
  assert.match(none.note!, /×2 would be 6000 px wide.*Select a smaller item\./);
  const all = scaleFit([item('Small', 100, 100)], [2, 3, 4], 4096, 'figma');
  assert.equal(all.note, undefined);
  assert.equal(scaleFit([], [2, 3, 4], 4096, 'figma').fits(4), true, 'nothing selected: nothing to refuse yet');
});

test('the target line says where a job runs in plain words; the engine\'s reason is the detail', () => {
  assert.deepEqual(describeTargetChoice('auto', { target: 'wasm', reason: 'auto → WASM (1 thread): no WebGPU adapter' }),
    { ok: true, text: 'On this computer', detail: 'auto → WASM (1 thread): no WebGPU adapter', target: 'wasm' });
  const faster = describeTargetChoice('auto', { target: 'server', reason: 'auto → local server (frontier at http://127.0.0.1:8740): native onnxruntime, faster than WASM (1 thread)' });
  assert.equal(faster.text, 'On the Frontier server: faster than this computer');
  assert.equal(describeTargetChoice('server', { target: 'server', reason: 'Server: triton at http://gpu:8000 (4 ms round trip)' }).text, 'On the server');
  assert.equal(describeTargetChoice('webgpu', { target: 'webgpu', reason: 'WebGPU: adapter found' }).text, 'On this computer’s graphics card');
  assert.deepEqual(describeTargetChoice('webgpu', { target: 'wasm', reason: 'no adapter' }), { ok: false, text: 'This computer’s graphics card can’t run this here. Choose Automatic.', detail: 'no adapter' });
  assert.equal(describeTargetProblem('server', 'Cannot reach the server at http://127.0.0.1:9.').text, 'The server can’t run this now: Cannot reach the server at http://127.0.0.1:9.');
  for (const line of [faster, describeTargetChoice('auto', { target: 'wasm', reason: 'WASM (1 thread)' })]) {
    assert.doesNotMatch(line.text, /WASM|WebGPU|onnxruntime|thread|tensor/i, 'no engineer words in the line itself');
  }
});

test('estimates are rounded as far as an estimate deserves', () => {
  assert.equal(formatEstimate(800), '≈ 1 s');
  assert.equal(formatEstimate(6_400), '≈ 6 s');
  assert.equal(formatEstimate(21_000), '≈ 20 s');
  assert.equal(formatEstimate(70_000), '≈ 1 min');
  assert.equal(formatEstimate(185_000), '≈ 3 min');
  assert.equal(formatEstimate(2 * 3_600_000 + 10 * 60_000), '≈ 2 h 10 min');
});

test('a test model is named once, by its badge, however the registry words it', () => {
  assert.equal(modelName({ label: 'StyleSwin tiny 32px (random weights, test model)', variant: 'tiny' }), 'StyleSwin tiny 32px');
  assert.equal(modelName({ label: 'GRAM FFHQ 256 (tiny random-weight test model)', variant: 'tiny' }), 'GRAM FFHQ 256');
  assert.equal(modelName({ label: 'VQ-Diffusion tiny transformer (random-weight test model)', variant: 'tiny', role: 'transformer' }), 'VQ-Diffusion tiny');
  assert.equal(modelName({ label: 'ESRGAN thick ×4', variant: 'full' }), 'ESRGAN thick ×4');
});
