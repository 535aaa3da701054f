// Issue 14, keyboard: a run never drops focus to <body>. While a job runs, Cancel has the focus and is reachable with
// Tab; it keeps the focus while cancelling (an engine slow to stop: the fake engine's hold('cancel')); when the run
// ends, focus is on Run, or on what the run left (its result) when Run cannot be used then. Every focus loss is
// recorded in the UI frame as it happens (a focusout with nowhere to go), so the test reads events, not a moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { holdAt, release, selectItems, uiFrame, waitHeld, withHarness } from './ui-harness/ui-page.ts';

/** What has the focus in the UI frame: its test id (or tag). */
const focused = (page: Page) => uiFrame(page).evaluate(() => {
  const a = document.activeElement;
  return !a || a === document.body ? 'body' : (a.getAttribute('data-testid') ?? a.tagName.toLowerCase());
});

/** Records each focus loss (focus leaving an element for nowhere) in the UI frame. */
async function recordFocusLosses(page: Page): Promise<() => Promise<string[]>> {
  // A string, not a function: tsx would wrap a named inner function in a helper the page does not have.
  await uiFrame(page).evaluate(`(() => {
    window.focusLost = [];
    document.addEventListener('focusout', (e) => {
      if (!e.relatedTarget) window.focusLost.push(e.target.getAttribute('data-testid') || e.target.tagName);
    }, true);
  })()`);
  return () => uiFrame(page).evaluate(() => (window as unknown as { focusLost: string[] }).focusLost);
}

test('focus during and after a run: Cancel reachable with Tab and kept while cancelling; Run, or the result, after', { timeout: 90_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:2']);
    await ui.getByTestId('run').and(ui.locator(':not([disabled])')).waitFor();
    const losses = await recordFocusLosses(page);

    // Running: Enter on Run; Cancel has the focus, and Tab from the first control reaches it.
    await holdAt(page, 'run:3');
    await ui.getByTestId('run').focus();
    await page.keyboard.press('Enter');
    await waitHeld(page, 'run:3');
    assert.equal(await focused(page), 'cancel', 'Cancel took the focus from Run');
    await ui.getByTestId('task-info').focus();
    const path: string[] = [];
    for (let i = 0; i < 20 && path.at(-1) !== 'cancel'; i++) {
      await page.keyboard.press('Tab');
      path.push(await focused(page));
    }
    assert.equal(path.at(-1), 'cancel', `Tab reaches Cancel: ${path.join(' → ')}`);

    // Cancelling (the engine slow to stop): Cancel keeps the focus; after the run, Run has it.
    await holdAt(page, 'cancel');
    await page.keyboard.press('Escape');
    await ui.getByTestId('cancel').getByText('Cancelling…').waitFor();
    assert.equal(await focused(page), 'cancel', 'Cancel keeps the focus while cancelling');
    await ui.getByTestId('error').getByText(/Cancelled/).waitFor({ timeout: 15_000 });
    await ui.getByTestId('run').waitFor();
    assert.equal(await focused(page), 'run', 'Run has the focus after a cancel');
    assert.deepEqual(await losses(), [], 'focus was never dropped to <body>');

    // Done while Run cannot be used (the selection went away during the run): focus goes to the result.
    await ui.getByTestId('error').getByRole('button', { name: 'Dismiss' }).click();
    await ui.getByTestId('error').waitFor({ state: 'detached' });
    assert.equal(await focused(page), 'run', 'dismissing the message hands its focus to Run');
    await holdAt(page, 'run:3');
    await page.keyboard.press('Enter');
    await waitHeld(page, 'run:3');
    await selectItems(page, []);
    await ui.getByTestId('selection').getByText('Select an image or a frame.').waitFor();
    await release(page);
    await ui.getByTestId('result').waitFor({ timeout: 20_000 });
    assert.equal(await ui.getByTestId('run').isDisabled(), true, 'nothing selected: Run cannot be used');
    await uiFrame(page).waitForFunction(() => document.activeElement?.closest('[data-testid="run-outcome"]') != null, undefined, { timeout: 10_000 })
      .catch(async () => assert.fail(`focus is on ${await focused(page)}, not on the result`));
    assert.deepEqual(await losses(), [], 'focus was never dropped to <body>');
  });
});
