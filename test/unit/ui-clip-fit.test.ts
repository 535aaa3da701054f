// The clip chooser's warning in real Chromium against a real server (GET /jobs/fit): the chooser wired as app.tsx
// wires it for a video task (test/unit/ui-clip-fit/page.tsx), on a file:// page (origin null, as Figma's iframe).
// A 640×360 clip with TTVSR on a server whose TTVSR budget is 2 GB: the warning in designers' words names the
// largest frames that fit, and Run is off; ESRGAN per frame (or Automatic) takes the same clip, Run is on; a small
// clip fits TTVSR; a wrong pairing code leaves the question unanswered (the server's own refusal stays the word).
// Every step waits on the chooser's data-fit state, never on time.
//
//   CHROME_PATH=/usr/bin/chromium node --import tsx --test --test-reporter=spec test/unit/ui-clip-fit.test.ts
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunningServer } from '../../server/server.ts';
import { startClipFitServer } from '../server/clip-fit-server.ts';
import type { TempRoot } from '../server/helpers.ts';
import { makeClip, requireFfmpeg } from '../server/jobs-util.ts';

requireFfmpeg();
let work = '';
let server: RunningServer;
let root: TempRoot;
let browser: BrowserContext;
let script = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'frontier-ui-clip-fit-'));
  await makeClip(join(work, 'wide.mp4'), { width: 640, height: 360, fps: 8, seconds: 1 });
  await makeClip(join(work, 'small.mp4'), { width: 64, height: 64, fps: 8, seconds: 1 });
  ({ server, root } = await startClipFitServer({ dir: join(work, 'jobs'), ttvsrMemoryBytes: 2e9 }));
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, 'ui-clip-fit', 'page.tsx')], bundle: true, format: 'iife', platform: 'browser', target: 'es2022',
    jsx: 'automatic', jsxImportSource: 'preact', write: false, logLevel: 'silent',
  });
  script = bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
  browser = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await root?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

async function openPage(token: string): Promise<{ page: Page; errors: string[] }> {
  const html = join(work, `page-${token.length}.html`);
  const config = JSON.stringify({ serverUrl: server.url, token });
  await writeFile(html, `<!doctype html><meta charset="utf-8"><div id="app"></div><script>window.clipFitConfig = ${config};</script><script>${script}</script>`);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(pathToFileURL(html).href);
  return { page, errors };
}

const fitState = (page: Page, state: string) => page.locator(`[data-testid="clip-chosen"][data-fit="${state}"]`).waitFor({ timeout: 20_000 });

test('a clip too large for TTVSR on this server: warned at choose time with the largest frames that fit, Run off; ESRGAN per frame takes it', { timeout: 120_000 }, async () => {
  const { page, errors } = await openPage(server.token!);
  const run = page.getByTestId('run');
  await page.getByTestId('clip-input').setInputFiles(join(work, 'wide.mp4'));
  await fitState(page, 'too-large');
  const warning = (await page.getByTestId('clip-too-large').textContent()) ?? '';
  const [, w, h] = /^This clip is too large for TTVSR \(REDS\) on this server: at most (\d+)×(\d+) frames\. Choose ESRGAN per frame, or a smaller clip\.$/.exec(warning) ?? [];
  assert.ok(w && h, warning);
  assert.ok(Number(w) < 640 && Math.abs(Number(w) / Number(h) - 640 / 360) < 0.02, `${w}×${h}`);
  assert.equal(await page.getByTestId('clip-too-large').getAttribute('role'), 'alert');
  assert.equal(await run.isDisabled(), true);
  assert.equal(await run.getAttribute('title'), warning);

  await page.getByTestId('model').selectOption('esrgan-slim-x2');
  await fitState(page, 'fits');
  assert.equal(await page.getByTestId('clip-too-large').count(), 0);
  assert.equal(await run.isDisabled(), false);

  await page.getByTestId('model').selectOption('');
  await fitState(page, 'none');
  assert.equal(await run.isDisabled(), false, 'Automatic picks a per-frame model: nothing to warn of');

  await page.getByTestId('model').selectOption('ttvsr-reds');
  await fitState(page, 'too-large');
  assert.equal(await run.isDisabled(), true);

  await page.getByTestId('clip-input').setInputFiles(join(work, 'small.mp4'));
  await page.getByTestId('clip-facts').getByText('64 × 64').waitFor({ timeout: 20_000 });
  await fitState(page, 'fits');
  assert.equal(await page.getByTestId('clip-too-large').count(), 0);
  assert.equal(await run.isDisabled(), false);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a wrong pairing code: the chooser cannot ask, so it warns of nothing and leaves the refusal to the server', { timeout: 120_000 }, async () => {
  const { page, errors } = await openPage('not-the-code');
  await page.getByTestId('clip-input').setInputFiles(join(work, 'wide.mp4'));
  await fitState(page, 'unknown');
  assert.equal(await page.getByTestId('clip-too-large').count(), 0);
  assert.equal(await page.getByTestId('run').isDisabled(), false);
  assert.deepEqual(errors, []);
  await page.close();
});
