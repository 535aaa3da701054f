// "Run on" is remembered per task (issue 14 finding 7): settings carry `targets` by task id, checked field by field in
// every host's store (Figma's clientStorage, Photoshop's localStorage, the playground's), and the UI keeps one task's
// choice from changing the others'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeSettings } from '../../plugin/figma/settings.ts';
import { sanitizeSettings as sanitizePhotoshop } from '../../plugin/photoshop/settings.ts';
import { cleanSettings, defaultSettings } from '../../server/playground/settings.ts';
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
    const saved = (await hostLog(page)).settings.at(-1) as { target: string; targets?: Record<string, string> };
    assert.deepEqual([saved.target, saved.targets], ['auto', { upscale: 'wasm' }]);
  });
});
