// Issue 16, the warm-up before Run: the panel asks the engine to warm the chosen upscale model up (EngineApi.warmUp)
// once the engine is ready and whenever the choice changes, once per choice, never while a job runs (the fake engine
// records each ask and whether a job ran then). In real Chromium with the fake engine, which holds a job at a step until
// the test releases it: every check waits on a state (an ask recorded, a job held, a result placed), never on a moment.
// The asks cross one Comlink port in order, so once a later ask is recorded, any earlier one would be too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { engineWarmUps, holdAt, release, selectItems, waitHeld, withHarness } from './ui-harness/ui-page.ts';
import type { EngineWarmUp } from './ui-harness/ui-page.ts';

/** The asks once there are at least `n` (polled: the fake engine's record). */
async function warmUpsAtLeast(page: Page, n: number): Promise<EngineWarmUp[]> {
  for (let i = 0; i < 400; i++) {
    const asks = await engineWarmUps(page);
    if (asks.length >= n) return asks;
    await page.waitForTimeout(50);
  }
  assert.fail(`fewer than ${n} warm-up asks: ${JSON.stringify(await engineWarmUps(page))}`);
}

const placed = (page: Page, n: number) =>
  page.waitForFunction((count) => (window as unknown as { hostLog: { placed: unknown[] } }).hostLog.placed.length >= count, n, { timeout: 30_000 });

test('upscale asks for a warm-up once per choice, and never while a job runs', { timeout: 120_000 }, async () => {
  await withHarness({}, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 20_000 });
    // Upscale is the first task: chosen when the engine is ready, it asks at once, for what Run would do now.
    const [first] = await warmUpsAtLeast(page, 1);
    assert.deepEqual(first, { task: 'upscale', params: { scale: 2, quality: 'best', sharpen: 0.5, tta: false }, target: 'auto', duringJob: false });

    // Another task (no warm-up of its own) and back: the same choice is not asked again; a new quality is.
    await ui.getByTestId('task-select').selectOption('restore');
    await ui.getByTestId('task-select').selectOption('upscale');
    await selectItems(page, ['1:2']);
    await ui.getByTestId('selection').getByText('Astronaut').waitFor({ state: 'detached' });
    await ui.getByTestId('param-quality-fast').click();
    const two = await warmUpsAtLeast(page, 2);
    assert.equal(two.length, 2, `one ask per choice: ${JSON.stringify(two)}`);
    assert.deepEqual(two[1].params, { scale: 2, quality: 'fast', sharpen: 0.5, tta: false });

    // While a job runs, a new choice asks nothing; it is asked once the job has ended.
    await ui.getByTestId('run').and(ui.locator(':not([disabled])')).waitFor();
    await holdAt(page, 'run:3');
    await ui.getByTestId('run').click();
    await waitHeld(page, 'run:3');
    await ui.getByTestId('param-scale-4').click();
    await release(page);
    await placed(page, 1);
    const asks = await warmUpsAtLeast(page, 3);
    assert.deepEqual(asks.map((a) => a.duringJob), asks.map(() => false), `no ask while the job ran: ${JSON.stringify(asks)}`);
    assert.equal(asks.length, 3, `the choice made during the job asked once, after it: ${JSON.stringify(asks)}`);
    assert.deepEqual(asks[2].params, { scale: 4, quality: 'fast', sharpen: 0.5, tta: false });
  });
});
