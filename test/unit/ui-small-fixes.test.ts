// Issue 14 finding 7, the small things a designer trips over, each held by a check in real Chromium (fake host and
// engine): several selected items say whether they run in turn or together; a marked region's label does not cut the
// image's name short; an empty prompt is stopped at Run with what to do (the engine refuses one too: test/node/text-to-image.test.ts); the playground
// (server/playground) counts the results of one run in one toast: test/e2e/playground-view.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectItems, withHarness } from './ui-harness/ui-page.ts';

test('several items: each runs in turn for an image task, used together for In-betweens; a region label has its own line', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    const selection = ui.getByTestId('selection');
    await selectItems(page, ['1:1', '1:2']);
    await ui.getByTestId('task-select').selectOption('upscale');
    await selection.getByText('2 items selected — each runs in turn').waitFor();
    await selectItems(page, ['3:1', '3:2']);
    await ui.getByTestId('task-select').selectOption('interpolate');
    await selection.getByText('2 items selected — used together in one run').waitFor();

    await selectItems(page, ['4:1']);
    await ui.getByTestId('task-select').selectOption('inpaint');
    await selection.getByTestId('selection-mask').getByText('Dragged region').waitFor();
    const name = selection.locator('.selection-name');
    assert.equal(await name.innerText(), 'Chelsea, region marked');
    const cut = await name.evaluate((el) => el.scrollWidth > el.clientWidth);
    assert.equal(cut, false, 'the name is shown whole beside its size');
  });
});

test('Rotate view says when the selected image is not one of its portraits (it starts from the seed) instead of ignoring it silently', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await ui.getByTestId('task-select').selectOption('rotate-view');
    await selectItems(page, ['1:1']);
    await ui.getByTestId('selection-note').getByText('“Astronaut” is not a portrait made here by Rotate view, so Rotate view (3D) leaves it out and makes a new one from the seed.').waitFor();
    await selectItems(page, ['3:3']); // a portrait the (fake) GRAM model made
    await ui.getByTestId('selection').getByText('Face to turn').waitFor();
    assert.equal(await ui.getByTestId('selection-note').count(), 0);
  });
});

test('an empty prompt: Run is disabled and says what to do; typing one enables it', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, []);
    await ui.getByTestId('task-select').selectOption('text-to-image');
    const prompt = ui.getByTestId('param-prompt');
    await prompt.fill('   ');
    const run = ui.getByTestId('run');
    await run.and(ui.locator('[disabled]')).waitFor();
    assert.equal(await run.getAttribute('title'), 'Type a prompt first: say what you want to see.');
    await prompt.fill('a red kite over the sea');
    await run.and(ui.locator(':not([disabled])')).waitFor();
  });
});
