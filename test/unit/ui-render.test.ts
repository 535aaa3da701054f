// Render check: the real UI bundle (with a fake engine worker) in real Chromium, inside a sandboxed srcdoc
// iframe driven by a fake host page. Screenshots go to $UI_SCREENSHOTS (default: a temp dir, printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { hostLog, holdAt, recordProgress, release, selectItems, waitHeld, withHarness } from './ui-harness/ui-page.ts';

const shots = process.env.UI_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'frontier-ui-shots-')));
const shoot = (page: Page, name: string) => page.locator('#plugin').screenshot({ path: join(shots, `${name}.png`) });

test('the UI runs a batch end to end: progress, place-result for each item, result preview; light and dark', { timeout: 90_000 }, async () => {
  await withHarness({}, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    assert.match(await ui.getByTestId('selection').innerText(), /2 items selected[\s\S]*Astronaut[\s\S]*512 × 512/);
    assert.equal(await ui.getByTestId('target-reason').innerText(), 'On this computer');
    assert.equal(await ui.getByTestId('target-detail').isVisible(), false, 'the engine\'s reason is folded');
    await ui.getByTestId('target-info').click();
    assert.match(await ui.getByTestId('target-detail').innerText(), /no WebGPU adapter/);
    assert.equal(await ui.getByTestId('target-skipped').innerText(), 'Not on this computer’s graphics card: this browser can’t use it.', 'why auto passed a place over, in plain words');
    assert.equal(await ui.getByTestId('param-scale-2').getAttribute('aria-checked'), 'true', 'default from the spec');
    const modelOptions = await ui.getByTestId('model-select').locator('option').allInnerTexts();
    assert.ok(modelOptions.some((t) => t === 'ESRGAN tiny · 0.1 MB · downloaded · test model, results are noise'), modelOptions.join(' | '));
    assert.ok(modelOptions.some((t) => t.includes('ESRGAN thick · 28.4 MB')), modelOptions.join(' | '));
    await shoot(page, 'idle-light');

    // Every state the bar shows is recorded as it changes; the fake engine holds the job where the test looks.
    const seen = await recordProgress(page);
    await holdAt(page, 'download:2', 'run:5');
    await ui.getByTestId('run').click();
    const progress = ui.getByTestId('progress');
    await waitHeld(page, 'download:2');
    assert.match(await progress.innerText(), /Item 1 of 2 · Downloading model 14\.2 \/ 28\.4 MB/);
    await release(page);
    await waitHeld(page, 'run:5');
    assert.match(await progress.innerText(), /Item 1 of 2 · Upscaling tile 6 \/ 16/);
    const now = Number(await progress.getAttribute('aria-valuenow'));
    assert.ok(now > 0 && now < 50, `aria-valuenow ${now} (the first of two items)`);
    await ui.getByTestId('progress-eta').waitFor(); // tiles have completed: a time left is known
    await shoot(page, 'running-light');
    await release(page);

    await ui.getByTestId('run').waitFor({ timeout: 20_000 });
    const log = await hostLog(page);
    assert.equal(log.received[0], 'ui-ready');
    assert.equal(log.placed.length, 2, 'one place-result per selected item');
    assert.deepEqual(log.placed.map((p) => [p.sourceNodeId, p.width, p.height, p.pngOk, p.mode]), [['1:1', 1024, 1024, true, 'beside'], ['1:2', 902, 600, true, 'beside']]);
    assert.equal(log.placed[0].name, 'Upscale ×2 · ESRGAN thick');
    assert.match(await ui.getByTestId('result').innerText(), /902 × 600 px · \d+\.\d s on this computer/);
    const thumbWidth = await ui.getByTestId('result').locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth);
    assert.equal(thumbWidth, 902, 'the preview shows the PNG that was placed');
    await shoot(page, 'done-light');
    // Best has run on this computer: its time shows next to the quality choice and above Run (none for Fast yet).
    assert.match(await ui.getByTestId('param-quality-hint').innerText(), /^Best: ≈ \d+ s on this computer$/);
    assert.match(await ui.getByTestId('run-estimate').innerText(), /^≈ \d+ s on this computer$/);
    assert.match((await ui.getByTestId('param-quality-best').getAttribute('title')) ?? '', /^Best: ≈ \d+ s on this computer$/);
    assert.equal(await ui.getByTestId('param-quality-fast').getAttribute('title'), null);

    // What the bar showed (every render, recorded in the page): download, then tiles, for both items; the bar only
    // moved forward; the time left appeared only once tiles had completed (two after the first: tile 4 at the earliest).
    const states = await seen();
    const texts = states.map((s) => s.text);
    assert.ok(texts.some((t) => /^Item 1 of 2 · Downloading model/.test(t)), texts.join(' | '));
    assert.ok(texts.some((t) => /^Item 2 of 2 · Upscaling tile \d+ \/ 16/.test(t)), texts.join(' | '));
    for (let i = 1; i < states.length; i++) assert.ok(states[i].now >= states[i - 1].now, `the bar went back: ${JSON.stringify(states.slice(i - 1, i + 1))}`);
    const firstEta = states.find((s) => s.eta);
    assert.ok(firstEta, `a time left showed: ${JSON.stringify(states)}`);
    assert.ok(Number(firstEta.text.match(/Upscaling tile (\d+) \//)?.[1]) >= 4, `time left first at ${firstEta.text}`);

    await page.evaluate(() => (window as unknown as { hostSend(m: unknown): void }).hostSend({ type: 'theme', mode: 'dark' }));
    await ui.locator('html.theme-dark').waitFor({ state: 'attached' });
    const bg = await ui.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
    assert.equal(bg, 'rgb(44, 44, 44)', 'dark fallback background');
    await ui.getByTestId('models-panel').locator('summary').click();
    await shoot(page, 'idle-dark');
    await ui.getByTestId('models-panel').locator('summary').click();
    await ui.getByTestId('param-quality-fast').click();
    await ui.getByTestId('param-tta').check();
    await ui.getByTestId('param-sharpen').fill('0.8');
    await holdAt(page, 'run:3');
    await page.keyboard.press('Enter'); // Enter in a field runs
    await waitHeld(page, 'run:3');
    await ui.getByTestId('progress').getByText('Upscaling tile 4 / 16').waitFor();
    await shoot(page, 'running-dark');
    assert.equal(await ui.getByTestId('cancel').evaluate((b) => b === document.activeElement), true, 'Cancel took the focus from Run');
    await page.keyboard.press('Shift+Tab'); // and it moves back into the controls (the footer comes last)

    // Escape cancels (the held job goes on to its next check and stops): a neutral message, and nothing more is placed.
    await page.keyboard.press('Escape');
    const message = ui.getByTestId('error');
    await message.getByText(/Cancelled — nothing was placed/).waitFor({ timeout: 10_000 });
    assert.equal(await message.getAttribute('data-tone'), 'neutral');
    assert.equal((await hostLog(page)).placed.length, 2);
    await shoot(page, 'cancelled-dark');

    // Enter on a focused Run button runs too; the job carries the edited params.
    await holdAt(page, 'run:1');
    await ui.getByTestId('run').focus();
    await page.keyboard.press('Enter');
    await waitHeld(page, 'run:1');
    await ui.getByTestId('cancel').waitFor();
    await release(page);
    await ui.getByTestId('run').waitFor({ timeout: 20_000 });
    const after = await hostLog(page);
    assert.equal(after.placed.length, 4);
    assert.deepEqual(after.placed[3].meta.params, { scale: 2, quality: 'fast', sharpen: 0.8, tta: true });
  });
});

test('scales that do not fit the host are disabled and explained', { timeout: 60_000 }, async () => {
  await withHarness({ maxImageEdge: 1200 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    assert.equal(await ui.getByTestId('param-scale-3').isDisabled(), true);
    assert.equal(await ui.getByTestId('param-scale-2').isDisabled(), false);
    assert.equal(await ui.getByTestId('param-scale-note').innerText(),
      '“Astronaut” at ×3 would be 1536 px wide; Figma places at most 1200 px. Largest that fits: ×2.');
    await shoot(page, 'scale-limit-light');
    await selectItems(page, []);
    await ui.getByTestId('selection').getByText('Select an image or a frame.').waitFor();
    assert.equal(await ui.getByTestId('run').isDisabled(), true, 'nothing selected: Run is disabled');
    // Model manager: clearing a cached model updates its status.
    await ui.getByTestId('models-panel').locator('summary').click();
    const tiny = ui.getByTestId('models-panel').locator('li', { hasText: 'ESRGAN tiny' });
    assert.match(await tiny.innerText(), /Test model[\s\S]*Upscale · 0\.1 MB · saved on this computer/);
    await tiny.getByRole('button', { name: 'Clear ESRGAN tiny' }).click();
    await tiny.getByText(/not saved yet/).waitFor();
    assert.equal(await tiny.getByRole('button', { name: 'Unload ESRGAN tiny' }).isDisabled(), true, 'nothing left to free');
    await ui.getByTestId('models-panel').locator('summary').click();
    await ui.getByTestId('target-select').selectOption('webgpu');
    await ui.getByTestId('target-reason').getByText('This computer’s graphics card can’t run this here. Choose Automatic.').waitFor();
    assert.equal(await ui.getByTestId('run').isDisabled(), true, 'a forced target that cannot work blocks Run');
    await shoot(page, 'constraints-light');
  });
});

test('a crashed worker shows Restart engine, and restarting brings the engine back', { timeout: 60_000 }, async () => {
  await withHarness({}, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['9:9']);
    await ui.getByTestId('run').click();
    const error = ui.getByTestId('error');
    // In plain words; the engine's own message (a worker, WASM) is behind Details.
    await error.getByText('Frontier’s engine stopped.').waitFor({ timeout: 10_000 });
    await error.getByText(/^Click Restart engine\. If it happens again, try a smaller image\.$/).waitFor();
    assert.match((await error.getByTestId('error-raw').textContent()) ?? '', /engine worker crashed \(.*fake engine crash/);
    await shoot(page, 'crashed-light');
    await error.getByRole('button', { name: 'Restart engine' }).click();
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:2']);
    await ui.getByTestId('run').click();
    await ui.getByTestId('result').getByText(/902 × 600 px/).waitFor({ timeout: 20_000 });
  });
});

test('an unreachable model host is shown with what to do', { timeout: 60_000 }, async () => {
  await withHarness({ serverUrl: 'http://unreachable.invalid:1' }, async (page, ui) => {
    const status = ui.getByTestId('status');
    await status.getByText('Engine not available').waitFor({ timeout: 15_000 });
    assert.match(await status.innerText(), /Could not reach the model host[\s\S]*Start the local server: npm start/);
    await shoot(page, 'unreachable-light');
    // Fixing the URL in Settings re-inits the engine and saves the settings through the host.
    assert.equal(await ui.getByTestId('settings-panel').getAttribute('open'), '', 'Settings opens by itself when the host is unreachable');
    await ui.getByTestId('setting-server').fill('http://127.0.0.1:8740');
    await ui.getByTestId('settings-save').click();
    await status.getByText('Ready').waitFor({ timeout: 15_000 });
    const log = await hostLog(page);
    assert.equal((log.settings.at(-1) as { serverUrl: string }).serverUrl, 'http://127.0.0.1:8740');
  });
});

test.after(() => console.log(`UI screenshots: ${shots}`));

test('where this window keeps nothing (no Cache API, as in Figma): models load from the server, and Unload frees what a run loaded', { timeout: 60_000 }, async () => {
  await withHarness({ serverUrl: 'http://127.0.0.1:8740/nocache' }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    const panel = ui.getByTestId('models-panel');
    await panel.locator('summary').first().click();
    const tiny = panel.getByTestId('model-esrgan-tiny-x2');
    assert.match(await tiny.getByTestId('model-state').innerText(), /^Upscale · 0\.1 MB · loads from the Frontier server$/);
    // A larger-tile build for the server (MAXIM's 256-px graphs) is the same model as its card, not a second entry.
    await panel.getByTestId('model-esrgan-thick-x2').waitFor();
    assert.equal(await panel.getByTestId('model-esrgan-thick-x2-256').count(), 0);
    assert.match(await panel.getByTestId('models-storage').innerText(), /can't keep files: models load from the Frontier server on this computer each time this window opens/);
    assert.equal(await tiny.getByRole('button', { name: 'Unload ESRGAN tiny' }).isDisabled(), true, 'nothing loaded yet');
    assert.equal(await panel.getByTestId('clear-all').isDisabled(), true);
    // A run loads its model: it is in memory, and Unload (and Unload all) can free it.
    await panel.locator('summary').first().click();
    await ui.getByTestId('model-select').selectOption('esrgan-tiny-x2');
    await ui.getByTestId('run').click();
    await ui.getByTestId('result').waitFor({ timeout: 20_000 });
    await panel.locator('summary').first().click();
    await tiny.getByTestId('model-state').getByText(/loads from the Frontier server · in memory$/).waitFor();
    assert.match(await panel.getByTestId('models-storage').innerText(), /In memory now: 1 model, 0\.1 MB\./);
    assert.equal(await panel.getByTestId('clear-all').innerText(), 'Unload all (0.1 MB)');
    await panel.getByTestId('models-storage').scrollIntoViewIfNeeded();
    await shoot(page, 'models-no-cache');
    await tiny.getByRole('button', { name: 'Unload ESRGAN tiny' }).click();
    await tiny.getByTestId('model-state').getByText(/^Upscale · 0\.1 MB · loads from the Frontier server$/).waitFor();
    assert.equal(await panel.getByTestId('clear-all').isDisabled(), true);
  });
});
