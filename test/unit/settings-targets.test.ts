// Per-task memory (issue 14 finding 7 and "settings remembered per task"): settings carry "Run on" (`targets`) and the
// settings of each task's last run (`params`) by task id, checked field by field in every host's store (Figma's
// clientStorage, Photoshop's localStorage, the playground's); the UI keeps one task's choice from changing the others'
// and starts a task from its last run's settings where they still fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeSettings } from '../../plugin/figma/settings.ts';
import { sanitizeSettings as sanitizePhotoshop } from '../../plugin/photoshop/settings.ts';
import { cleanSettings, defaultSettings } from '../../server/playground/settings.ts';
import { TASKS } from '../../worker/tasks/index.ts';
import { taskInfo } from '../../worker/tasks/task.ts';
import { savedParamsFitting } from '../../ui/saved-params.ts';
import { hostLog, selectItems, withHarness } from './ui-harness/ui-page.ts';

test('stored per-task targets keep valid task ids and targets only, in every host', () => {
  const stored = { target: 'auto', targets: { upscale: 'wasm', restore: 'server', 'Bad Id': 'wasm', generate: 'gpu-please', inpaint: 42 } };
  assert.deepEqual(sanitizeSettings(stored).targets, { upscale: 'wasm', restore: 'server' });
  assert.deepEqual(sanitizePhotoshop(stored).targets, { upscale: 'wasm', restore: 'server' });
  assert.deepEqual(cleanSettings(stored, defaultSettings('http://127.0.0.1:8740')).targets, { upscale: 'wasm', restore: 'server' });
  assert.equal(sanitizeSettings({ targets: ['wasm'] }).targets, undefined);
  assert.equal(sanitizeSettings({}).targets, undefined);
  const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`task-${i}`, 'wasm']));
  assert.equal(Object.keys(sanitizeSettings({ targets: many }).targets ?? {}).length, 32, 'bounded');
});

test('choosing where one task runs leaves the other tasks where they were, and is saved', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:1']);
    const picker = ui.getByTestId('target-select');
    await ui.getByTestId('task-select').selectOption('upscale');
    await picker.selectOption('wasm');
    await ui.getByTestId('task-select').selectOption('restore');
    assert.equal(await picker.inputValue(), 'auto', 'restore keeps its own choice');
    await ui.getByTestId('task-select').selectOption('upscale');
    assert.equal(await picker.inputValue(), 'wasm');
    await page.waitForFunction(() => (window as unknown as { hostLog: { settings: { targets?: Record<string, string> }[] } }).hostLog.settings.some((x) => x.targets?.upscale === 'wasm'));
    const saved = (await hostLog(page)).settings.at(-1) as { target: string; targets?: Record<string, string> };
    assert.deepEqual([saved.target, saved.targets], ['auto', { upscale: 'wasm' }]);
  });
});

test('stored per-task params keep plain values only, bounded; the UI takes those that still fit the task', () => {
  const stored = { params: { upscale: { scale: 3, quality: 'fast', tta: true, weird: { x: 1 }, 'Bad Name': 1, big: 'x'.repeat(500) }, 'Bad Task': { scale: 2 }, restore: 'no' } };
  const clean = { upscale: { scale: 3, quality: 'fast', tta: true } };
  assert.deepEqual(sanitizeSettings(stored).params, clean);
  assert.deepEqual(cleanSettings(stored, defaultSettings('http://127.0.0.1:8740')).params, clean);
  const upscale = taskInfo(TASKS.find((t) => t.id === 'upscale')!);
  const names = upscale.params.map((p) => p.name);
  assert.ok(names.includes('scale') && names.includes('quality'), names.join());
  // Kept: values the task still takes; dropped: unknown names, values out of range, choices that no longer exist.
  assert.deepEqual(savedParamsFitting(upscale, { scale: 4, quality: 'fast', gone: 1 }), { scale: 4, quality: 'fast' });
  assert.deepEqual(savedParamsFitting(upscale, { scale: 7, quality: 'turbo' }), {});
});

test("a run saves its task's settings for next time", { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:2']);
    await ui.getByTestId('task-select').selectOption('upscale');
    await ui.getByTestId('param-scale-3').click();
    await ui.getByTestId('run').click();
    await ui.getByTestId('result').waitFor({ timeout: 20_000 });
    const saved = (await hostLog(page)).settings.at(-1) as { params?: Record<string, Record<string, unknown>> };
    assert.equal(saved.params?.upscale?.scale, 3);
  });
});

test('next time, a task starts from the settings of its last run (those that still fit) and its "Run on"', { timeout: 60_000 }, async () => {
  const settings = { targets: { upscale: 'wasm' }, params: { upscale: { scale: 4, quality: 'turbo', sharpen: 0.9 } } };
  await withHarness({ height: 560, settings }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:2']);
    await ui.getByTestId('task-select').selectOption('upscale');
    assert.equal(await ui.getByTestId('param-scale-4').getAttribute('aria-checked'), 'true');
    assert.equal(await ui.getByTestId('param-sharpen').inputValue(), '0.9');
    assert.equal(await ui.getByTestId('target-select').inputValue(), 'wasm');
  });
});

test('a server check that failed is asked again: the line follows the server once it answers, with no click', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560, serverUrl: 'http://127.0.0.1:8740/starting' }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:2']);
    await ui.getByTestId('task-select').selectOption('upscale');
    await ui.getByTestId('target-select').selectOption('server');
    const reason = ui.getByTestId('target-reason');
    await reason.getByText(/^The server can’t run this now: The server is not answering yet/).waitFor({ timeout: 10_000 });
    await reason.getByText(/^On the server$/).waitFor({ timeout: 15_000 });
    assert.equal(await ui.getByTestId('run').isDisabled(), false);
  });
});

test('before the host has sent its settings, "Run on" cannot be changed and nothing is saved over the stored ones', { timeout: 60_000 }, async () => {
  // A busy machine: the host answers late. The menu used to take a choice then, save the defaults (no pairing code)
  // over the host's stored settings, and lose the choice when the host's settings arrived.
  await withHarness({ height: 560, holdInit: true, settings: { token: 'stored-code', targets: { upscale: 'wasm' } } }, async (page, ui) => {
    await page.waitForFunction(() => (window as unknown as { hostLog: { received: string[] } }).hostLog.received.includes('ui-ready'));
    assert.equal(await ui.getByTestId('target-select').isDisabled(), true, 'no choice before the host has answered');
    assert.deepEqual((await hostLog(page)).settings, [], 'nothing saved');
    await page.evaluate(() => (window as unknown as { sendInit(): void }).sendInit());
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await ui.getByTestId('task-select').selectOption('upscale');
    assert.equal(await ui.getByTestId('target-select').inputValue(), 'wasm', 'the stored choice');
    await ui.getByTestId('target-select').selectOption('server');
    // The save crosses the bridge as a message: wait for the host to have it, then read what it got.
    await page.waitForFunction(() => (window as unknown as { hostLog: { settings: { targets?: Record<string, string> }[] } }).hostLog.settings.some((x) => x.targets?.upscale === 'server'));
    const saved = (await hostLog(page)).settings.at(-1) as { token?: string; targets?: Record<string, string> };
    assert.deepEqual([saved.token, saved.targets?.upscale], ['(set)', 'server'], 'saved over the stored settings, pairing code kept');
  });
});
