// Rotate view (issue 14 finding 6): the full-size preview of the current settings is Run's result. Finished, Run places
// it at once without rendering the view again; still rendering, Run follows that render to its end (its progress in the
// footer) instead of cancelling it and starting the same render as a new job — on one WASM thread that restart cost a
// whole render plus the wait for the cancelled tile. A turntable (frames > 1) is more than the preview: it runs a job.
// The fake engine records every job it is asked to run and holds a preview at a step, so each check is a state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FrameLocator, Page } from 'playwright-core';
import { engineRuns, holdAt, hostLog, release, selectItems, waitHeld, withHarness } from './ui-harness/ui-page.ts';

async function chooseRotateView(page: Page, ui: FrameLocator): Promise<void> {
  await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
  await selectItems(page, ['3:3']); // a face generated with the (fake) GRAM model
  await ui.getByTestId('task-select').selectOption('rotate-view');
}

const rotateRuns = async (page: Page) => (await engineRuns(page)).filter((r) => r.task === 'rotate-view');

test('a finished full-size preview is placed by Run without rendering again', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await chooseRotateView(page, ui);
    await ui.locator('[data-testid="view-preview"][data-size="256"][data-busy="false"]').waitFor({ timeout: 15_000 });
    const before = await rotateRuns(page);
    assert.deepEqual(before.map((r) => r.size), [256], 'one full-size preview rendered');
    await ui.getByTestId('run').click();
    await ui.getByTestId('result').waitFor({ timeout: 10_000 });
    assert.deepEqual(await rotateRuns(page), before, 'Run rendered nothing new');
    const placed = (await hostLog(page)).placed;
    assert.equal(placed.length, 1);
    assert.deepEqual([placed[0].width, placed[0].height], [256, 256]);
    assert.equal(placed[0].meta.params.size, 256);
  });
});

test('Run during the full-size preview follows it to its end (progress, then placed): one render in all', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await holdAt(page, 'preview:run:2');
    await chooseRotateView(page, ui);
    await waitHeld(page, 'preview:run:2');
    await ui.getByTestId('run').click();
    // The footer shows the render Run took over, at the step it has reached.
    await ui.getByTestId('progress').getByText(/3 \/ 8/).waitFor({ timeout: 10_000 });
    assert.equal((await rotateRuns(page)).length, 1, 'no second render started');
    await release(page);
    await ui.getByTestId('result').waitFor({ timeout: 10_000 });
    const runs = await rotateRuns(page);
    assert.equal(runs.length, 1, `one render in all: ${JSON.stringify(runs)}`);
    assert.match(runs[0].id, /^preview-/);
    assert.equal((await hostLog(page)).placed.length, 1);
  });
});

test('changed settings or a turntable run a job of their own', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await chooseRotateView(page, ui);
    await ui.locator('[data-testid="view-preview"][data-size="256"][data-busy="false"]').waitFor({ timeout: 15_000 });
    await ui.getByTestId('param-frames').fill('3');
    await ui.getByTestId('run').click();
    await ui.getByTestId('result').waitFor({ timeout: 10_000 });
    const jobs = (await rotateRuns(page)).filter((r) => r.id.startsWith('job-'));
    assert.equal(jobs.length, 1, 'the turntable ran as a job');
  });
});
