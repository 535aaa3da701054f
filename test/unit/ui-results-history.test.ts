// Issue 14: the Results list of this session, in real Chromium with the fake host and engine (fake-host.js records
// show-node; window.undoLast() takes the newest result away as Undo does). Two runs give two entries, newest first,
// in designer words; a click asks the host to show that result; Undo marks it Removed; "Use these settings" sets the
// task and its settings back; folded, the list leaves Run in view at Figma's 320×560. A screenshot of the open list
// goes to .scratch/shots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { assertInView, hostLog, selectItems, withHarness } from './ui-harness/ui-page.ts';

const shots = fileURLToPath(new URL('../../.scratch/shots/', import.meta.url));

test('Results: two runs → two entries newest first; click shows it; Undo marks it Removed; Use these settings restores', { timeout: 90_000 }, async () => {
  await mkdir(shots, { recursive: true });
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    const result = ui.getByTestId('result');

    // Run 1: Upscale ×4 · Best of the cat.
    await selectItems(page, ['1:2']);
    await ui.getByTestId('task-select').selectOption('upscale');
    await ui.getByTestId('param-scale-4').click();
    await ui.getByTestId('run').click();
    await result.waitFor({ timeout: 20_000 });
    const upscaled = await result.getAttribute('data-placed');
    assert.ok(upscaled);
    // Settings change after the run: "Use these settings" must bring ×4 back.
    await ui.getByTestId('param-scale-2').click();

    // Run 2: Restore in "Remove rain" mode.
    await ui.getByTestId('task-select').selectOption('restore');
    await ui.getByTestId('param-mode').selectOption('derain');
    await ui.getByTestId('run').click();
    await result.and(ui.locator(`:not([data-placed="${upscaled}"])`)).waitFor({ timeout: 20_000 });
    const restored = await result.getAttribute('data-placed');
    await ui.getByTestId('param-mode').selectOption('denoise');

    // Folded: "Results (2)", the list hidden, Run in view.
    const toggle = ui.getByTestId('results').getByRole('button', { name: 'Results (2)' });
    await toggle.waitFor();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await ui.getByTestId('results-list').isVisible(), false);
    await assertInView(ui, 'run');

    // Open: newest first, in designer words, where it ran, how long, when.
    await toggle.click();
    const entries = ui.getByTestId('results-entry');
    assert.deepEqual(await ui.getByTestId('results-words').allInnerTexts(), ['Remove rain', 'Upscale ×4 · Best']);
    assert.deepEqual(await entries.evaluateAll((els) => els.map((el) => el.getAttribute('data-node'))), [restored, upscaled]);
    for (const meta of await entries.locator('.history-meta').allInnerTexts()) assert.match(meta, /^\d+\.\d s on this computer · \d{1,2}:\d{2}/);
    // Thumbnails are small copies, not the results themselves.
    const thumbs = entries.locator('img.history-thumb');
    await thumbs.nth(1).waitFor();
    for (const size of await thumbs.evaluateAll((els) => els.map((el) => Math.max((el as HTMLImageElement).naturalWidth, (el as HTMLImageElement).naturalHeight)))) {
      assert.ok(size > 0 && size <= 64, `a thumbnail of ${size} px`);
    }
    await assertInView(ui, 'run');
    await page.screenshot({ path: `${shots}results-open-320x560.png` });

    // A click asks the host to show that result.
    await entries.nth(1).getByTestId('results-show').click();
    await page.waitForFunction((id) => (window as unknown as { hostLog: { shown: string[] } }).hostLog.shown.includes(id), upscaled);
    assert.deepEqual((await hostLog(page)).shown, [upscaled]);

    // Undo takes the newest result away: its entry stays, marked Removed, and can no longer be shown.
    assert.equal(await page.evaluate(() => (window as unknown as { undoLast(): string }).undoLast()), restored);
    await entries.first().and(ui.locator('[data-removed="true"]')).waitFor({ timeout: 10_000 });
    assert.equal(await entries.first().getByTestId('results-state').innerText(), 'Removed');
    assert.equal(await entries.first().getByTestId('results-show').isDisabled(), true);
    assert.equal(await entries.nth(1).getAttribute('data-removed'), 'false', 'the other result is still there');
    await page.screenshot({ path: `${shots}results-removed-320x560.png` });

    // Use these settings: back to Upscale at ×4.
    await entries.nth(1).getByTestId('results-use').click();
    await ui.getByTestId('param-scale-4').and(ui.locator('[aria-checked="true"]')).waitFor();
    assert.equal(await ui.getByTestId('task-select').inputValue(), 'upscale');
    assert.equal(await ui.getByTestId('param-quality-best').getAttribute('aria-checked'), 'true');
    // …and back to Restore in "Remove rain" mode.
    await entries.first().getByTestId('results-use').click();
    await ui.getByTestId('param-mode').waitFor();
    assert.equal(await ui.getByTestId('task-select').inputValue(), 'restore');
    assert.equal(await ui.getByTestId('param-mode').inputValue(), 'derain');

    // Folded again, Run is still where the designer expects it.
    await toggle.click();
    assert.equal(await ui.getByTestId('results-list').isVisible(), false);
    await assertInView(ui, 'run');
  });
});
