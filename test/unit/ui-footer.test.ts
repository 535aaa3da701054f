// The run footer at Figma's plugin size (320×560), for every task: Run is in view without scrolling; while a job
// runs, its progress and Cancel are in view and stay so when the controls are scrolled; the result shows there after.
// The fake engine lists every real task (real params) and holds each job at a step until the test releases it, so
// each check looks at a state, not at a moment. Screenshots (before / during / after) go to $UI_SCREENSHOTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { assertInView, holdAt, inView, release, selectItems, waitHeld, withHarness } from './ui-harness/ui-page.ts';

const shots = process.env.UI_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'frontier-footer-shots-')));
const shoot = (page: Page, name: string) => page.locator('#plugin').screenshot({ path: join(shots, `${name}.png`) });

/** Each task with what it needs selected in the fake host (fake-host.js). */
const TASKS: { id: string; select: string[] }[] = [
  { id: 'upscale', select: ['1:1'] },
  { id: 'restore', select: ['1:2'] },
  { id: 'upscale-video', select: ['6:1'] },
  { id: 'restore-video', select: ['6:1'] },
  { id: 'generate', select: [] },
  { id: 'vary', select: ['3:1'] },
  { id: 'interpolate', select: ['3:1', '3:2'] },
  { id: 'rotate-view', select: ['3:3'] },
  { id: 'inpaint', select: ['4:1'] },
  { id: 'text-to-image', select: [] },
];

/** Scrolls the controls to `to` (top or bottom) and back to the top after `body`. */
async function scrolled(ui: FrameLocator, to: 'top' | 'bottom'): Promise<void> {
  await ui.getByTestId('content').evaluate((el, where) => el.scrollTo({ top: where === 'top' ? 0 : el.scrollHeight, behavior: 'instant' }), to);
}

test('at 320×560, every task keeps Run, then its progress and Cancel, then its result in view', { timeout: 240_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    const listed = await ui.getByTestId('task-select').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual([...listed].sort(), TASKS.map((t) => t.id).sort(), 'every task of the engine is checked here');

    for (const task of TASKS) {
      await selectItems(page, task.select);
      await ui.getByTestId('task-select').selectOption(task.id);
      await scrolled(ui, 'top');
      const run = ui.getByTestId('run');
      await run.and(ui.locator(':not([disabled])')).waitFor({ timeout: 10_000 }).catch(async () => {
        throw new Error(`${task.id}: Run stays disabled: ${await ui.getByTestId('run-footer').innerText()}`);
      });
      // Before: the primary action is in view without scrolling, and nothing covers it.
      await assertInView(ui, 'run');
      await shoot(page, `${task.id}-1-before`);

      // During: held at its fourth step; progress and Cancel in view, also with the controls scrolled either way.
      // (Rotate view with one frame places its finished preview without a job: a turntable of two runs one.)
      if (task.id === 'rotate-view') await ui.getByTestId('param-frames').fill('2');
      await holdAt(page, 'run:3');
      await run.click();
      await waitHeld(page, 'run:3');
      await ui.getByTestId('progress').getByText(/\b4 \/ \d+/).waitFor();
      await assertInView(ui, 'progress', 'cancel');
      await ui.getByTestId('progress-eta').waitFor(); // two steps done after the first: a time left
      await shoot(page, `${task.id}-2-during`);
      for (const where of ['bottom', 'top'] as const) {
        await scrolled(ui, where);
        await assertInView(ui, 'progress', 'cancel');
      }
      if (task.id === 'text-to-image') await assertInView(ui, 'sampling-preview');
      await release(page);

      // After: the result (or the clip to download) in the footer, with Run back.
      await ui.getByTestId('run').waitFor({ timeout: 20_000 });
      await ui.getByTestId('result').waitFor({ timeout: 10_000 });
      await assertInView(ui, 'result', 'run');
      assert.equal(await ui.getByTestId('error').count(), 0, `${task.id}: ${await ui.getByTestId('run-footer').innerText()}`);
      await shoot(page, `${task.id}-3-after`);
    }

    // The controls scroll above the footer: the last of them (Settings) can be scrolled fully into view, not under it.
    await ui.getByTestId('task-select').selectOption('upscale');
    await selectItems(page, ['1:1', '1:2']);
    await ui.getByTestId('settings-panel').locator('summary').click();
    await scrolled(ui, 'bottom');
    const lastBottom = await ui.getByTestId('settings-panel').evaluate((el) => el.getBoundingClientRect().bottom);
    const footerTop = await ui.getByTestId('run-footer').evaluate((el) => el.getBoundingClientRect().top);
    assert.ok(lastBottom <= footerTop + 0.5, `Settings ends at ${lastBottom} px, under the footer from ${footerTop} px`);
    assert.ok((await inView(ui, 'settings-save')).ok, 'the last control is reachable above the footer');
    await shoot(page, 'scrolled-to-settings');
  });
});

test('help is folded behind the info buttons, and the target line speaks plainly', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await ui.getByTestId('task-select').selectOption('restore');
    const help = ui.getByTestId('task-help');
    assert.equal(await help.isVisible(), false, 'the task\'s description is folded');
    await ui.getByTestId('task-info').click();
    assert.equal(await help.isVisible(), true);
    assert.equal(await ui.getByTestId('task-info').getAttribute('aria-expanded'), 'true');
    const status = await ui.getByTestId('status').innerText();
    assert.doesNotMatch(status, /WASM|WebGPU|thread/, 'the status line is plain until asked');
    await ui.getByTestId('status-info').click();
    assert.match(await ui.getByTestId('status-facts').innerText(), /Graphics card: Frontier cannot use it here[\s\S]*Processor: one core/);
    assert.equal(await ui.getByTestId('target-reason').innerText(), 'On this computer');
    await shoot(page, 'restore-help-open');
  });
});
