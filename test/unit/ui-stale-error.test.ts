// A run's failure belongs to its task: choosing another task takes it away (it read "Frontier could not finish this
// run" above the other task's Run button), while the engine's own problems stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failNext, withHarness } from './ui-harness/ui-page.ts';

test('a failed run\'s message goes when another task is chosen', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 20_000 });
    await failNext(page, { code: 'run-failed', message: 'Non-zero status code returned while running Conv node.' });
    await ui.getByTestId('run').click();
    const error = ui.getByTestId('error');
    await error.waitFor({ timeout: 20_000 });
    assert.match(await error.innerText(), /could not finish this run/);
    await ui.getByTestId('task-select').selectOption('restore');
    await error.waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await ui.getByTestId('run').innerText(), 'Restore · 2 items');
  });
});
