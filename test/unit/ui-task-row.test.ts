// Issue 14 (task facts leak out of the task table): a new task needs no UI edit. The fake engine lists a made-up task
// row (test/unit/made-up-task.ts) beside the real ones; in Chromium the UI draws its widgets from the row's hints
// (a text box that wraps for a 60-character prompt, a dice for a seed not named "seed", a slider otherwise), says its
// progress in the row's words while a run is held at a step, and lists the result in the Results list by the row's
// main params. The fake engine sends this task no run messages, so every word shown comes from the row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { taskInfo } from '../../worker/tasks/task.ts';
import { SKETCH } from './made-up-task.ts';
import { holdAt, hostLog, release, waitHeld, withHarness } from './ui-harness/ui-page.ts';

test('a made-up task row: its widgets, progress words and Results words, with no UI edit', { timeout: 90_000 }, async () => {
  await withHarness({ height: 560, extraTasks: [taskInfo(SKETCH)] }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await ui.getByTestId('task-select').selectOption('sketch');

    // Widgets from the hints, not from the params' names.
    const idea = ui.getByTestId('param-idea');
    await idea.waitFor();
    assert.equal(await idea.evaluate((el) => el.tagName), 'TEXTAREA', "widget 'prompt': a text box that wraps, however short its limit");
    await ui.getByTestId('param-luck-dice').waitFor();
    assert.equal(await ui.getByTestId('param-luck-slider').count(), 0, "widget 'seed': no slider over 4 billion values");
    await ui.getByTestId('param-lines-slider').waitFor();
    await ui.getByTestId('param-style-charcoal').click();
    await idea.fill('a paper boat on a pond');

    // Held at its third step: the footer says it in the row's words.
    await holdAt(page, 'run:2');
    await ui.getByTestId('run').click();
    await waitHeld(page, 'run:2');
    await ui.getByTestId('progress').getByText('Sketching step 3 / 8').waitFor({ timeout: 10_000 });
    await release(page);

    await ui.getByTestId('result').waitFor({ timeout: 20_000 });
    const placed = (await hostLog(page)).placed;
    assert.equal(placed.length, 1);
    assert.equal(placed[0].name, 'Sketch · StyleSwin (fake)', 'seedInName false: the name has no seed');

    await ui.getByTestId('results').getByRole('button', { name: 'Results (1)' }).click();
    assert.deepEqual(await ui.getByTestId('results-words').allInnerTexts(), ['Charcoal lines 12 · “a paper boat on a pond”']);
  });
});
