import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchFraction, describeTargetChoice, itemFraction, scaleFit, scaleOptions, stageText } from '../../ui/format.ts';
import type { SelectedItem } from '../../plugin/messages.ts';

const item = (name: string, width: number, height: number): SelectedItem => ({ nodeId: name, name, width, height, kind: 'image' });

test('stage text says what is happening in the units the user cares about', () => {
  assert.equal(stageText({ stage: 'download', done: 3_200_000, total: 28_400_000 }, 'upscale'), 'Downloading model 3.2 / 28.4 MB');
  assert.equal(stageText({ stage: 'load', done: 0, total: 1 }, 'upscale'), 'Loading model');
  assert.equal(stageText({ stage: 'run', done: 4, total: 16 }, 'upscale'), 'Upscaling tile 5 / 16');
  assert.equal(stageText({ stage: 'run', done: 16, total: 16 }, 'upscale'), 'Upscaling tile 16 / 16');
  assert.equal(stageText({ stage: 'run', done: 9, total: 50 }, 'text-to-image'), 'Generating step 10 / 50');
  assert.equal(stageText({ stage: 'run', done: 0, total: 1 }, 'novel', 'Novel task'), 'Running Novel task');
});

test('the bar only moves forward through the stages, and across batch items', () => {
  const points = [itemFraction('download', 0, 10), itemFraction('download', 10, 10), itemFraction('load', 0, 1), itemFraction('run', 8, 16), itemFraction('run', 16, 16), itemFraction('encode', 0, 1), itemFraction('place', 1, 1)];
  for (let i = 1; i < points.length; i++) assert.ok(points[i] >= points[i - 1], `step ${i}: ${points}`);
  assert.equal(points.at(-1), 1);
  assert.equal(batchFraction(1, 4, 0.5), 0.375);
  assert.equal(itemFraction('run', 3, 0), 0.4, 'an unknown total does not divide by zero');
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

test('the target line explains auto and refuses a forced target the engine would not use', () => {
  assert.deepEqual(describeTargetChoice('auto', { target: 'wasm', reason: 'no WebGPU adapter' }), { ok: true, text: 'auto → WASM: no WebGPU adapter' });
  assert.deepEqual(describeTargetChoice('auto', { target: 'webgpu', reason: 'auto: WebGPU adapter found' }), { ok: true, text: 'auto: WebGPU adapter found' });
  assert.deepEqual(describeTargetChoice('webgpu', { target: 'wasm', reason: 'no adapter' }), { ok: false, text: 'WebGPU cannot run this: no adapter' });
  assert.equal(describeTargetChoice('server', { target: 'server', reason: 'http://127.0.0.1:8740' }).ok, true);
});
