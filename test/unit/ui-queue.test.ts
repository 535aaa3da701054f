// Issue 14, the queue: while a job runs, the designer sets up the next ones and adds them to the queue; each keeps the
// task, settings, model, "Run on" and selected items of the moment it was queued, and they run in order when the
// running one ends, whatever its outcome (a failure does not drop the rest; Cancel stops only the running job). In
// real Chromium with the fake engine, which holds a job at a step until the test releases it: every check waits on a
// state (a job held, a result placed), never on a moment. A screenshot of a run with two queued jobs goes to
// $UI_SCREENSHOTS (or a temporary folder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { assertInView, engineRuns, failNext, holdAt, hostLog, release, selectItems, waitHeld, withHarness } from './ui-harness/ui-page.ts';

const shots = process.env.UI_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'frontier-queue-shots-')));

const queueWords = (ui: FrameLocator) => ui.getByTestId('queue-words').allInnerTexts();
const placedCount = (page: Page, n: number) =>
  page.waitForFunction((count) => (window as unknown as { hostLog: { placed: unknown[] } }).hostLog.placed.length >= count, n, { timeout: 30_000 });

/** Sets the upscale controls: scale, quality, model ('' for Automatic) and "Run on". */
async function setUp(ui: FrameLocator, o: { scale: number; quality: 'fast' | 'best'; model?: string; target?: string }): Promise<void> {
  await ui.getByTestId(`param-scale-${o.scale}`).click();
  await ui.getByTestId(`param-quality-${o.quality}`).click();
  await ui.getByTestId('model-select').selectOption(o.model ?? '');
  await ui.getByTestId('target-select').selectOption(o.target ?? 'auto');
}

/** Upscale ×2 Best of the astronaut, Run pressed and the job held at its fourth tile. */
async function startUpscaleOfAstronaut(page: Page, ui: FrameLocator): Promise<void> {
  await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 20_000 });
  await ui.getByTestId('task-select').selectOption('upscale');
  await selectItems(page, ['1:1']);
  await setUp(ui, { scale: 2, quality: 'best' });
  await ui.getByTestId('run').and(ui.locator(':not([disabled])')).waitFor();
  await holdAt(page, 'run:3');
  await ui.getByTestId('run').click();
  await waitHeld(page, 'run:3');
}

test('jobs queued while one runs keep what was set up, run in order, and go on after a failure', { timeout: 120_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    // A: ×2 Best on the astronaut, held at its fourth tile.
    await startUpscaleOfAstronaut(page, ui);
    assert.equal(await ui.getByTestId('queue-add').innerText(), 'Add to queue', 'while a job runs the primary action queues');
    await assertInView(ui, 'progress', 'cancel', 'queue-add');

    // B: ×4 Best on the cat. C: ×2 Fast with the test model, on this computer's processor, on both. D: taken out again.
    await selectItems(page, ['1:2']);
    await ui.getByTestId('selection').getByText('Chelsea the cat').waitFor();
    await setUp(ui, { scale: 4, quality: 'best' });
    await ui.getByTestId('queue-add').click();
    await selectItems(page, ['1:1', '1:2']);
    await ui.getByTestId('selection').getByText('Astronaut').waitFor();
    await setUp(ui, { scale: 2, quality: 'fast', model: 'esrgan-tiny-x2', target: 'wasm' });
    await ui.getByTestId('queue-add').click();
    await selectItems(page, ['1:2']);
    await ui.getByTestId('selection').getByText('Astronaut').waitFor({ state: 'detached' });
    await setUp(ui, { scale: 3, quality: 'fast' });
    await ui.getByTestId('queue-add').click();
    assert.deepEqual(await queueWords(ui), ['Upscale ×4 · Best — 1 image', 'Upscale ×2 · Fast — 2 images', 'Upscale ×3 · Fast — 1 image']);
    const c = ui.getByTestId('queue-entry').nth(1);
    assert.equal(await c.getAttribute('title'), 'Astronaut, Chelsea the cat · ESRGAN tiny (test model) · on this computer');

    // × takes D out; the others stay, in order.
    await ui.getByTestId('queue-entry').nth(2).getByTestId('queue-remove').click();
    await ui.getByTestId('queue-entry').nth(2).waitFor({ state: 'detached' });
    assert.deepEqual(await queueWords(ui), ['Upscale ×4 · Best — 1 image', 'Upscale ×2 · Fast — 2 images']);
    assert.equal(await ui.getByTestId('queue-now').innerText(), 'Now\nUpscale ×2 · Best — 1 image', 'which job runs now');
    await assertInView(ui, 'progress', 'cancel', 'queue-add', 'queue');
    await page.locator('#plugin').screenshot({ path: join(shots, 'queue-two-waiting-320x560.png') });

    // Changing the panel now changes none of the queued jobs.
    await setUp(ui, { scale: 3, quality: 'best' });
    await selectItems(page, []);

    // B fails; C still runs, with what it was queued with.
    await failNext(page, { code: 'run-failed', message: 'Non-zero status code returned while running Conv node.' });
    await release(page);
    await placedCount(page, 3);
    await ui.getByTestId('run').waitFor({ timeout: 20_000 });
    assert.equal(await ui.getByTestId('queue').count(), 0, 'the queue is empty');
    assert.match(await ui.getByTestId('error').innerText(), /could not finish this run/, 'B’s failure stays in view');

    const placed = (await hostLog(page)).placed.map((p) => ({ source: p.sourceNodeId, size: `${p.width}×${p.height}`, model: p.meta.model, scale: p.meta.params.scale, quality: p.meta.params.quality }));
    assert.deepEqual(placed, [
      { source: '1:1', size: '1024×1024', model: 'esrgan-thick-x2', scale: 2, quality: 'best' }, // A
      { source: '1:1', size: '1024×1024', model: 'esrgan-tiny-x2', scale: 2, quality: 'fast' }, // C, first item
      { source: '1:2', size: '902×600', model: 'esrgan-tiny-x2', scale: 2, quality: 'fast' }, // C, second item
    ]);
    const runs = await engineRuns(page);
    assert.equal(runs.length, 4, `A, B (failed), C twice: ${JSON.stringify(runs)}`);
    // The order: the failure the engine was told to make hit the second run, so B ran second (C placed both its items).
    // Each run's results are in the Results list, like any run.
    await ui.getByTestId('results').getByRole('button', { name: 'Results (3)' }).waitFor();
  });
});

test('Cancel stops only the running job; Clear queue drops the queued ones', { timeout: 120_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    // Cancel: the running job stops, the queued one runs and is placed.
    await startUpscaleOfAstronaut(page, ui);
    await selectItems(page, ['1:2']);
    await ui.getByTestId('selection').getByText('Chelsea the cat').waitFor();
    await setUp(ui, { scale: 4, quality: 'best' });
    await ui.getByTestId('queue-add').click();
    await ui.getByTestId('queue-entry').waitFor();
    await ui.getByTestId('cancel').click();
    await placedCount(page, 1);
    await ui.getByTestId('run').waitFor({ timeout: 20_000 });
    const [placed] = (await hostLog(page)).placed;
    assert.deepEqual({ source: placed.sourceNodeId, width: placed.width, height: placed.height }, { source: '1:2', width: 1804, height: 1200 });
    assert.match(await ui.getByTestId('error').innerText(), /Cancelled/);

    // Clear queue: nothing queued runs after the running job.
    await holdAt(page, 'run:3');
    await ui.getByTestId('run').click();
    await waitHeld(page, 'run:3');
    await ui.getByTestId('queue-add').click();
    await ui.getByTestId('queue-add').click();
    assert.equal(await ui.getByTestId('queue-entry').count(), 2);
    await ui.getByTestId('queue-clear').click();
    await ui.getByTestId('queue').waitFor({ state: 'detached' });
    const before = (await engineRuns(page)).length;
    await release(page);
    await placedCount(page, 2);
    await ui.getByTestId('run').waitFor({ timeout: 20_000 });
    assert.equal((await engineRuns(page)).length, before, 'no queued job ran');
    assert.equal((await hostLog(page)).placed.length, 2);
  });
});
