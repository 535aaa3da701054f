// Render check: the real UI bundle (with a fake engine worker) in real Chromium, inside a sandboxed srcdoc
// iframe driven by a fake host page. Screenshots go to $UI_SCREENSHOTS (default: a temp dir, printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import { buildHarness } from './ui-harness/build-harness.ts';
import type { HarnessOptions } from './ui-harness/build-harness.ts';

interface Placed { sourceNodeId: string; name: string; width: number; height: number; mode: string; pngOk: boolean; meta: { model: string; params: Record<string, unknown> } }
interface HostLog { received: string[]; placed: Placed[]; settings: unknown[] }

const shots = process.env.UI_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'frontier-ui-shots-')));

async function withHarness(options: HarnessOptions, body: (page: Page, ui: FrameLocator) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'frontier-ui-'));
  const profile = await mkdtemp(join(tmpdir(), 'frontier-chromium-'));
  let browser: BrowserContext | undefined;
  try {
    const hostPath = await buildHarness(dir, options);
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 320, height: 900 },
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(pathToFileURL(hostPath).href);
    await body(page, page.frameLocator('#plugin'));
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
  } finally {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  }
}

const hostLog = (page: Page) => page.evaluate(() => (window as unknown as { hostLog: HostLog }).hostLog);
const shoot = (page: Page, name: string) => page.locator('#plugin').screenshot({ path: join(shots, `${name}.png`) });

test('the UI runs a batch end to end: progress, place-result for each item, result preview; light and dark', { timeout: 90_000 }, async () => {
  await withHarness({}, async (page, ui) => {
    await ui.getByTestId('status').getByText('Engine ready').waitFor({ timeout: 15_000 });
    assert.match(await ui.getByTestId('selection').innerText(), /2 items selected[\s\S]*Astronaut[\s\S]*512 × 512/);
    assert.match(await ui.getByTestId('target-reason').innerText(), /auto → WASM: no WebGPU adapter/);
    assert.equal(await ui.getByTestId('param-scale-2').getAttribute('aria-checked'), 'true', 'default from the spec');
    const modelOptions = await ui.getByTestId('model-select').locator('option').allInnerTexts();
    assert.ok(modelOptions.some((t) => t.includes('ESRGAN tiny') && t.includes('TEST MODEL (random weights)') && t.includes('cached')), modelOptions.join(' | '));
    assert.ok(modelOptions.some((t) => t.includes('ESRGAN thick · 28.4 MB')), modelOptions.join(' | '));
    await shoot(page, 'idle-light');

    await ui.getByTestId('run').click();
    const progress = ui.getByTestId('progress');
    await progress.getByText(/Downloading model \d+\.\d \/ 28\.4 MB/).waitFor({ timeout: 10_000 });
    assert.match(await progress.innerText(), /Item 1 of 2/);
    await progress.getByText(/Upscaling tile \d+ \/ 16/).waitFor({ timeout: 10_000 });
    const now = Number(await progress.getAttribute('aria-valuenow'));
    assert.ok(now > 0 && now < 100, `aria-valuenow ${now}`);
    await shoot(page, 'running-light');

    await ui.getByTestId('run').waitFor({ timeout: 20_000 });
    const log = await hostLog(page);
    assert.equal(log.received[0], 'ui-ready');
    assert.equal(log.placed.length, 2, 'one place-result per selected item');
    assert.deepEqual(log.placed.map((p) => [p.sourceNodeId, p.width, p.height, p.pngOk, p.mode]), [['1:1', 1024, 1024, true, 'beside'], ['1:2', 902, 600, true, 'beside']]);
    assert.equal(log.placed[0].name, 'Upscale ×2 · ESRGAN thick');
    assert.match(await ui.getByTestId('result').innerText(), /902 × 600 px/);
    const thumbWidth = await ui.getByTestId('result').locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth);
    assert.equal(thumbWidth, 902, 'the preview shows the PNG that was placed');
    await shoot(page, 'done-light');

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
    await page.keyboard.press('Enter'); // Enter in a field runs
    await ui.getByTestId('progress').getByText(/Upscaling tile/).waitFor({ timeout: 10_000 });
    await shoot(page, 'running-dark');
    await page.keyboard.press('Tab'); // focus ring check: Cancel has focus, Tab moves on

    // Escape cancels: a neutral message, and nothing more is placed.
    await page.keyboard.press('Escape');
    const message = ui.getByTestId('error');
    await message.getByText(/Cancelled — nothing was placed/).waitFor({ timeout: 10_000 });
    assert.equal(await message.getAttribute('data-tone'), 'neutral');
    assert.equal((await hostLog(page)).placed.length, 2);
    await shoot(page, 'cancelled-dark');

    // Enter on a focused Run button runs too; the job carries the edited params.
    await ui.getByTestId('run').focus();
    await page.keyboard.press('Enter');
    await ui.getByTestId('progress').waitFor();
    await ui.getByTestId('run').waitFor({ timeout: 20_000 });
    const after = await hostLog(page);
    assert.equal(after.placed.length, 4);
    assert.deepEqual(after.placed[3].meta.params, { scale: 2, quality: 'fast', sharpen: 0.8, tta: true });
  });
});

test('scales that do not fit the host are disabled and explained', { timeout: 60_000 }, async () => {
  await withHarness({ maxImageEdge: 1200 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Engine ready').waitFor({ timeout: 15_000 });
    assert.equal(await ui.getByTestId('param-scale-3').isDisabled(), true);
    assert.equal(await ui.getByTestId('param-scale-2').isDisabled(), false);
    assert.equal(await ui.getByTestId('param-scale-note').innerText(),
      '“Astronaut” at ×3 would be 1536 px wide; Figma places at most 1200 px. Largest that fits: ×2.');
    await shoot(page, 'scale-limit-light');
    await page.evaluate(() => (window as unknown as { selectItems(ids: string[]): void }).selectItems([]));
    await ui.getByTestId('selection').getByText('Select an image or a frame.').waitFor();
    assert.equal(await ui.getByTestId('run').isDisabled(), true, 'nothing selected: Run is disabled');
    // Model manager: clearing a cached model updates its status.
    await ui.getByTestId('models-panel').locator('summary').click();
    const tiny = ui.getByTestId('models-panel').locator('li', { hasText: 'ESRGAN tiny' });
    assert.match(await tiny.innerText(), /TEST MODEL \(random weights\)[\s\S]*· cached/);
    await tiny.getByRole('button', { name: 'Clear ESRGAN tiny' }).click();
    await tiny.getByText(/not cached/).waitFor();
    await ui.getByTestId('models-panel').locator('summary').click();
    await ui.getByTestId('target-select').selectOption('webgpu');
    await ui.getByTestId('target-reason').getByText(/WebGPU is not available here/).waitFor();
    await shoot(page, 'constraints-light');
  });
});

test('a crashed worker shows Restart engine, and restarting brings the engine back', { timeout: 60_000 }, async () => {
  await withHarness({}, async (page, ui) => {
    await ui.getByTestId('status').getByText('Engine ready').waitFor({ timeout: 15_000 });
    await page.evaluate(() => (window as unknown as { selectItems(ids: string[]): void }).selectItems(['9:9']));
    await ui.getByTestId('run').click();
    const error = ui.getByTestId('error');
    await error.getByText(/engine worker crashed \(.*fake engine crash/).waitFor({ timeout: 10_000 });
    await shoot(page, 'crashed-light');
    await error.getByRole('button', { name: 'Restart engine' }).click();
    await ui.getByTestId('status').getByText('Engine ready').waitFor({ timeout: 15_000 });
    await page.evaluate(() => (window as unknown as { selectItems(ids: string[]): void }).selectItems(['1:2']));
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
    await status.getByText('Engine ready').waitFor({ timeout: 15_000 });
    const log = await hostLog(page);
    assert.equal((log.settings.at(-1) as { serverUrl: string }).serverUrl, 'http://127.0.0.1:8740');
  });
});

test.after(() => console.log(`UI screenshots: ${shots}`));
