// Issue 14: a notice in the host when a long run ends while the designer is elsewhere (panel collapsed, behind other
// windows, working on the canvas). The decision is pure (ui/finish-notice.ts); in Chromium with the fake host and
// engine, a run held at a step is made "long" and "out of sight" by moving the UI frame's clock and focus, then
// released: the host gets one notice in designer words. The same run watched, or short, or cancelled, gets none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { finishNotice, LONG_RUN_MS, panelOutOfSight } from '../../ui/finish-notice.ts';
import { holdAt, hostLog, release, selectItems, uiFrame, waitHeld, withHarness } from './ui-harness/ui-page.ts';

const run = { words: 'Upscale ×4 · Best', placed: 1, kept: 0 };

test('finishNotice: only long runs out of sight, in words that fit a Figma notice', () => {
  assert.equal(finishNotice({ ...run, ms: LONG_RUN_MS + 1 }, false), null, 'watched');
  assert.equal(finishNotice({ ...run, ms: LONG_RUN_MS - 1 }, true), null, 'short');
  assert.equal(finishNotice({ ...run, ms: 60_000, cancelled: true }, true), null, 'cancelled by the designer');
  assert.deepEqual(finishNotice({ ...run, ms: 60_000 }, true), { message: 'Frontier: Upscale ×4 · Best is done, the result is placed.', error: false });
  assert.deepEqual(finishNotice({ ...run, placed: 3, ms: 60_000 }, true), { message: 'Frontier: Upscale ×4 · Best is done, 3 results are placed.', error: false });
  assert.deepEqual(finishNotice({ ...run, placed: 0, kept: 1, ms: 60_000 }, true), { message: 'Frontier: Upscale ×4 · Best is done. Download it from the panel.', error: false });
  assert.deepEqual(finishNotice({ ...run, ms: 60_000, error: 'The server stopped.' }, true), { message: 'Frontier: Upscale ×4 · Best failed. Open the panel to see why.', error: true });
  const long = finishNotice({ ...run, words: `Text to image · “${'a very long prompt '.repeat(5)}”`, ms: 60_000 }, true);
  assert.ok(long && long.message.length <= 100, `Figma cuts notices at 100 characters: ${long?.message}`);
});

test('panelOutOfSight: hidden, unfocused or collapsed', () => {
  const doc = (visibilityState: DocumentVisibilityState, focused: boolean) => ({ visibilityState, hasFocus: () => focused });
  assert.equal(panelOutOfSight(doc('visible', true), 560), false);
  assert.equal(panelOutOfSight(doc('hidden', true), 560), true);
  assert.equal(panelOutOfSight(doc('visible', false), 560), true);
  assert.equal(panelOutOfSight(doc('visible', true), 0), true);
});

/** Runs Upscale ×4 on the cat, held at a tile; `meanwhile` acts on the UI frame before the run is let go. */
async function heldRun(page: Page, ui: Parameters<Parameters<typeof withHarness>[1]>[1], meanwhile: (frame: Frame) => Promise<void>, finish: 'release' | 'cancel' = 'release') {
  await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
  await selectItems(page, ['1:2']);
  await ui.getByTestId('task-select').selectOption('upscale');
  await ui.getByTestId('param-scale-4').click();
  await holdAt(page, 'run:2');
  await ui.getByTestId('run').click();
  await waitHeld(page, 'run:2');
  await meanwhile(uiFrame(page));
  if (finish === 'cancel') await ui.getByTestId('cancel').click();
  else await release(page);
  await ui.getByTestId('run').waitFor({ timeout: 20_000 });
  await ui.getByTestId(finish === 'cancel' ? 'run' : 'result').waitFor({ timeout: 20_000 });
}

/** The designer went elsewhere half a minute ago: the UI's clock moves on and its document loses focus. */
const away = async (frame: Frame): Promise<void> => void (await frame.evaluate(`(() => {
  const now = Date.now.bind(Date);
  Date.now = () => now() + ${LONG_RUN_MS + 10_000};
  Document.prototype.hasFocus = () => false;
})()`));

test('in Chromium: a long run ending out of sight sends one notice to the host; watched or cancelled, none', { timeout: 120_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await heldRun(page, ui, async () => undefined);
    assert.deepEqual((await hostLog(page)).notices, [], 'a run the designer watched');
  });
  await withHarness({ height: 560 }, async (page, ui) => {
    await heldRun(page, ui, away, 'cancel');
    assert.deepEqual((await hostLog(page)).notices, [], 'a run the designer cancelled');
  });
  await withHarness({ height: 560 }, async (page, ui) => {
    await heldRun(page, ui, away);
    assert.deepEqual((await hostLog(page)).notices, [{ message: 'Frontier: Upscale ×4 · Best is done, the result is placed.', error: false }]);
  });
});
