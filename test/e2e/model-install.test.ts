// Official models in one click, through the playground in real Chromium with the real server: Generate has only its
// random-weight test model, so the task says so and offers the real one; in the model manager, Install from file…
// sends a StyleSwin checkpoint in the official layout (random values, 200 MB) to the server, whose progress the entry
// shows (upload, then preparing), and the entry ends Installed (unverified: no published checksum); the model list is
// reloaded, so Generate (Automatic) now runs styleswin-ffhq-256, the full model, instead of the test model. Remove
// takes it out again. The server works in a throwaway root: nothing is installed into this checkout.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ResultMeta } from '../../worker/job.ts';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { makeFakeCheckpoint, requireTorch } from '../export/export-util.ts';
import { REPO, type TempRoot } from '../server/helpers.ts';
import { openPlayground, runAndWaitForNode, tempPlaygroundRoot, uiFrame, type Playground } from './harness.ts';

const ENTRY = 'styleswin-ffhq-256';
const TINY = 'styleswin-ffhq-256-tiny';
/** Where to save screenshots of the plugin at 320×560 (unset: none). */
const SHOTS = process.env.FRONTIER_SCREENSHOTS;

describe('installing an official model from the plugin', { timeout: 1_500_000 }, () => {
  let root: TempRoot;
  let pg: Playground;
  let checkpoint: string;

  before(async () => {
    requireTorch();
    // The shipped registry of this root: the tiny StyleSwin only, with its file.
    const shipped = JSON.parse(await readFile(join(REPO, 'models', 'registry.json'), 'utf8')) as Registry;
    const tiny = shipped.models.find((m) => m.id === TINY) as ModelCard;
    root = await tempPlaygroundRoot({ 'models/registry.json': JSON.stringify({ ...shipped, models: [tiny] }) });
    await mkdir(join(root.root, 'models', 'build', 'files'), { recursive: true });
    for (const f of tiny.files) await copyFile(join(REPO, 'models', 'build', 'files', f.name), join(root.root, 'models', 'build', 'files', f.name));
    checkpoint = join(root.root, 'FFHQ_256.pt');
    await makeFakeCheckpoint('styleswin', ENTRY, checkpoint);
    pg = await openPlayground({ root: root.root });
    if (SHOTS) {
      // Figma's plugin size: the UI's iframe 320×560 (the inspector hidden, the page as much shorter as needed).
      await pg.page.addStyleTag({ content: '.inspector { display: none !important; }' });
      const height = await pg.page.locator('iframe').evaluate((f) => f.getBoundingClientRect().height);
      await pg.page.setViewportSize({ width: 1280, height: Math.round(800 - (height - 560)) });
    }
  });
  after(async () => {
    await pg?.close();
    await root?.remove();
  });

  const ui = () => pg.ui;
  const shoot = async (name: string) => {
    if (SHOTS) await pg.page.locator('iframe').screenshot({ path: join(SHOTS, `${name}.png`) });
  };
  const entry = () => ui().getByTestId(`official-${ENTRY}`);
  const select = (ids: string[]) => pg.page.evaluate((list) => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select(list), ids);

  async function registry(): Promise<Registry> {
    const res = await fetch(`${pg.server.url}/models/registry.json`, { headers: { Authorization: `Bearer ${pg.server.token}` } });
    return (await res.json()) as Registry;
  }

  test('Generate with only its test model says so and offers the real one right there', async () => {
    await select([]);
    await ui().getByTestId('task-select').selectOption('generate');
    const notice = ui().getByTestId('test-model-notice');
    await notice.getByTestId('install-file').waitFor(); // the catalogue arrived
    assert.match(await notice.innerText(), /Test model: results are noise — install the real one[\s\S]*Faces \(FFHQ, 256 px\)[\s\S]*NON-COMMERCIAL/);
    await shoot('install-1-notice');
  });

  test('Install from file… in the model manager: progress while it uploads and converts, then Installed', async () => {
    await ui().getByTestId('models-panel').locator('summary').click();
    await entry().waitFor();
    assert.equal(await entry().getAttribute('data-state'), 'not-installed');
    // Every progress text the entry shows, recorded in the page as it changes (no sampling by the test).
    // (A string: tsx's helpers do not exist in the page.)
    await uiFrame(pg.page).evaluate(`(() => {
      const seen = [];
      window.progressSeen = seen;
      const li = document.querySelector('[data-testid="official-${ENTRY}"]');
      new MutationObserver(() => {
        const text = li.querySelector('[data-testid="install-progress"]')?.getAttribute('aria-valuetext');
        if (text && seen[seen.length - 1] !== text) seen.push(text);
      }).observe(li, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuetext'] });
    })()`);
    await entry().getByTestId('install-file-input').setInputFiles(checkpoint);
    await ui().locator(`[data-testid="official-${ENTRY}"][data-state="installing"]`).waitFor();
    await entry().getByTestId('install-progress').waitFor();
    if (SHOTS) {
      await entry().scrollIntoViewIfNeeded();
      await shoot('install-2-uploading');
      // (Only for the picture: conversion lasts seconds here, but a passing state is nothing for a test to rely on.)
      await entry().getByTestId('install-progress').and(ui().locator('[aria-valuetext^="Preparing"]')).waitFor({ timeout: 900_000 });
      await shoot('install-3-preparing');
    }
    assert.match(await entry().getByTestId('install-progress').getAttribute('aria-label') ?? '', /Installing Faces \(FFHQ, 256 px\)/);
    await ui().locator(`[data-testid="official-${ENTRY}"][data-state="installed"]`).waitFor({ timeout: 900_000 });
    const seen = await uiFrame(pg.page).evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    console.log(`progress: ${seen.join(' | ')}`);
    assert.ok(seen.some((t) => /^Sending the model file \d+ \/ 2\d\d MB/.test(t)), `upload progress: ${seen.join(' | ')}`);
    assert.ok(seen.some((t) => /^Preparing/.test(t)), `conversion progress: ${seen.join(' | ')}`);
    assert.match(await entry().getByTestId('official-state').innerText(), /^Installed · \d+ MB · unverified: no published checksum$/);
    const card = (await registry()).models.find((m) => m.id === ENTRY);
    assert.equal(card?.variant, 'full', 'the server lists the real model');
    await shoot('install-4-installed');
  });

  test('the model list is reloaded: Generate (Automatic) now runs the real model, not the test model', async () => {
    await ui().getByTestId('models-panel').locator('summary').click(); // fold the manager
    assert.equal(await ui().getByTestId('test-model-notice').count(), 0, 'no test-model notice any more');
    assert.match(await ui().getByTestId('installed-notice').innerText(), /Installed: Generate now uses Faces \(FFHQ, 256 px\)/);
    const options = await ui().getByTestId('model-select').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.ok(options.includes(ENTRY), options.join(', '));
    assert.equal(await ui().getByTestId('model-select').inputValue(), '', 'Automatic');
    await ui().locator('input[data-testid="param-seed"]').fill('3');
    const made = await runAndWaitForNode(pg, 2400); // up to 10 min: the full model on single-threaded WASM
    const meta = JSON.parse(made.pluginData.frontier) as ResultMeta;
    assert.equal(meta.model, ENTRY, `placed by ${meta.model}`);
    assert.equal(made.width, 256);
    await ui().getByTestId('task-select').scrollIntoViewIfNeeded();
    await shoot('install-5-generated');
  });

  test('Remove takes it out again: the test model and its notice are back', async () => {
    await ui().getByTestId('models-panel').locator('summary').click();
    await entry().getByTestId('remove').click();
    await entry().getByTestId('confirm-remove').click();
    await ui().locator(`[data-testid="official-${ENTRY}"][data-state="not-installed"]`).waitFor();
    assert.equal((await registry()).models.some((m) => m.id === ENTRY), false);
    await ui().getByTestId('test-model-notice').waitFor();
    const options = await ui().getByTestId('model-select').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.ok(!options.includes(ENTRY), options.join(', '));
  });
});
