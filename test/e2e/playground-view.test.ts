// The playground shows what lands on its canvas, as Figma does (plugin/figma/place.ts selects the placed node and
// calls figma.viewport.scrollAndZoomIntoView): a result placed out of view (here beside a source scrolled away) becomes
// the selection and is scrolled into view, one undo takes it away and gives the dragged region back; an opened file
// lands in view, selected, and one too large for the view at this zoom zooms the canvas out (never in); a Results entry
// clicked in the UI selects its result and brings it into view.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { inView, nodes, openPlayground, runAndWaitForNode, viewport, type Playground } from './harness.ts';

interface Hook {
  openSample(name: string): Promise<string>;
  openImage(name: string, bytes: Uint8Array, type?: string): Promise<string>;
  selectRegion(nodeId: string, x: number, y: number, width: number, height: number): string;
  selection(): { nodes: string[]; region: { id: string } | null };
  undo(): string | undefined;
}

type Win = { playground: Hook };

const shots = process.env.FRONTIER_SCREENSHOTS;

/** Scrolls the canvas as far down as it goes, as a user would with the wheel. */
function scrollToBottom(page: Page): Promise<void> {
  return page.evaluate(() => {
    const canvas = document.getElementById('canvas')!;
    canvas.scrollTo({ top: canvas.scrollHeight, behavior: 'instant' });
  });
}

function scrollToTop(page: Page): Promise<void> {
  return page.evaluate(() => document.getElementById('canvas')!.scrollTo({ top: 0, left: 0, behavior: 'instant' }));
}

describe('the playground shows what lands on its canvas', { timeout: 300_000 }, () => {
  let pg: Playground;
  before(async () => {
    pg = await openPlayground();
    await pg.page.selectOption('#zoom', '1');
  });
  after(async () => {
    await pg?.close();
  });

  test('opened files land in view, selected, even with the canvas scrolled away', async () => {
    // At 100 % two photos fill the view: the third and fourth go out of it, whether the canvas is scrolled down or up.
    for (let i = 0; i < 4; i++) {
      await (i % 2 ? scrollToBottom(pg.page) : scrollToTop(pg.page));
      const id = await pg.page.evaluate(() => (window as unknown as Win).playground.openSample('chelsea.png'));
      const node = (await nodes(pg.page)).find((n) => n.id === id)!;
      const view = await viewport(pg.page);
      assert.ok(inView(node, view), `opened ${JSON.stringify(node)} is in view ${JSON.stringify(view)}`);
      assert.deepEqual((await pg.page.evaluate(() => (window as unknown as Win).playground.selection())).nodes, [id], 'and selected');
      assert.equal(view.zoom, 1, 'no zoom change for an image that fits');
    }
  });

  test('an upscaled region placed beside a source scrolled out of view is selected and scrolled into view; one undo removes it and gives the region back', async () => {
    const [first] = await nodes(pg.page);
    await scrollToBottom(pg.page);
    const spotBeside = { x: first.x + first.width, y: first.y, width: 100, height: 60 };
    assert.ok(!inView(spotBeside, await viewport(pg.page)), 'precondition: where the result goes is out of view');
    const regionId = await pg.page.evaluate((id) => (window as unknown as Win).playground.selectRegion(id, 180, 110, 24, 20), first.id);
    await pg.ui.locator('[data-testid="selection"]', { hasText: 'region 24×20' }).waitFor();
    await pg.ui.locator('[data-testid="param-scale-2"]').click();
    await pg.ui.locator('[data-testid="param-quality-fast"]').click();
    await pg.ui.locator('[data-testid="target-select"]').selectOption('wasm');

    const result = await runAndWaitForNode(pg);
    assert.deepEqual([result.width, result.height], [48, 40]);
    assert.ok(result.x >= first.x + first.width && result.y === first.y, 'beside the source');
    const view = await viewport(pg.page);
    assert.ok(inView(result, view), `result ${JSON.stringify(result)} is in view ${JSON.stringify(view)}`);
    assert.equal(view.zoom, 1, 'a result that fits does not change the zoom');
    assert.deepEqual(await pg.page.evaluate(() => (window as unknown as Win).playground.selection()), { nodes: [result.id], region: null }, 'the result is the selection');
    // The canvas shows it selected, where a designer can see it.
    const box = await pg.page.locator(`.node[data-node-id="${result.id}"]`).boundingBox();
    const canvas = await pg.page.locator('#canvas').boundingBox();
    assert.ok(box && canvas && box.y >= canvas.y && box.y + box.height <= canvas.y + canvas.height && box.x >= canvas.x && box.x + box.width <= canvas.x + canvas.width, 'on screen');
    assert.equal(await pg.page.locator(`.node.selected[data-node-id="${result.id}"]`).count(), 1);
    if (shots) await pg.page.screenshot({ path: join(shots, 'playground-result-in-view.png') });

    assert.match((await pg.page.evaluate(() => (window as unknown as Win).playground.undo())) ?? '', /^Place Upscale/);
    assert.ok(!(await nodes(pg.page)).some((n) => n.id === result.id), 'one undo removes the result');
    // The UI's result card goes with it (it asks the host whether the result is still there when the selection changes).
    await pg.ui.locator('[data-testid="result"]').waitFor({ state: 'detached', timeout: 10_000 });
    const selection = await pg.page.evaluate(() => (window as unknown as Win).playground.selection());
    assert.deepEqual([selection.nodes, selection.region?.id], [[], regionId], 'the dragged region is selected again');
  });

  test('one run that places several results shows one toast that counts them, not a stack', async () => {
    const before = (await nodes(pg.page)).length;
    // The toasts of earlier tests go first (a toast still on screen would count this run's results with its own).
    await pg.page.waitForFunction(() => document.querySelectorAll('#toasts .toast').length === 0, undefined, { timeout: 30_000 });
    const shown = () => pg.page.evaluate(() => (window as unknown as { playground: { toastsShown(): string[] } }).playground.toastsShown());
    const toastsBefore = (await shown()).length;
    await pg.page.evaluate(() => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([]));
    await pg.ui.locator('[data-testid="task-select"]').selectOption('generate');
    await pg.ui.locator('[data-testid="target-select"]').selectOption('wasm');
    await pg.ui.locator('input[data-testid="param-count"]').fill('3');
    await pg.ui.locator('[data-testid="run"]').click();
    await pg.page.waitForFunction((n) => document.querySelectorAll('#canvas .node').length >= n + 3, before, { timeout: 120_000 });
    await pg.ui.locator('[data-testid="run"]').waitFor({ timeout: 30_000 });
    // What the run showed, read from the page's record (a toast on screen goes after a few seconds: a slow machine
    // could miss it on screen).
    const toasts = (await shown()).slice(toastsBefore);
    assert.equal(toasts.length, 1, `one toast: ${JSON.stringify(toasts)}`);
    assert.match(toasts[0], /^Placed 3 results, the last “Generate · seed \d+/);
  });

  test('a Results entry shows its result: selected and scrolled into view (show-node), as Figma does', async () => {
    const entry = pg.ui.locator('[data-testid="results-entry"][data-removed="false"]').first();
    await pg.ui.locator('[data-testid="results"] .disclosure-toggle').click();
    const id = (await entry.getAttribute('data-node'))!;
    const node = (await nodes(pg.page)).find((n) => n.id === id)!;
    await pg.page.evaluate(() => (window as unknown as { playground: { select(ids: string[]): void } }).playground.select([]));
    await scrollToBottom(pg.page);
    if (inView(node, await viewport(pg.page))) await scrollToTop(pg.page);
    assert.ok(!inView(node, await viewport(pg.page)), 'precondition: the result is out of view');
    await entry.locator('[data-testid="results-show"]').click();
    await pg.page.waitForFunction((nodeId) => (window as unknown as Win).playground.selection().nodes.includes(nodeId), id, { timeout: 10_000 });
    assert.deepEqual((await pg.page.evaluate(() => (window as unknown as Win).playground.selection())).nodes, [id], 'the result is the selection');
    assert.ok(inView(node, await viewport(pg.page)), 'and in view');
  });

  test('an opened image too large for the view at 100 % zooms the canvas out until it fits', async () => {
    const png = new PNG({ width: 2000, height: 1500 });
    png.data.fill(200);
    const bytes = [...PNG.sync.write(png)];
    await scrollToBottom(pg.page);
    const id = await pg.page.evaluate((data) => (window as unknown as Win).playground.openImage('large.png', Uint8Array.from(data)), bytes);
    const node = (await nodes(pg.page)).find((n) => n.id === id)!;
    const view = await viewport(pg.page);
    assert.ok(view.zoom < 1, `zoomed out (${view.zoom})`);
    assert.ok(inView(node, view), `${JSON.stringify(node)} in view ${JSON.stringify(view)}`);
    assert.equal(await pg.page.locator('#zoom').inputValue(), String(view.zoom), 'the zoom menu shows the zoom');
    assert.equal((await pg.page.locator('#zoom option:checked').textContent())?.trim(), `${Math.round(view.zoom * 100)}%`);
    if (shots) await pg.page.screenshot({ path: join(shots, 'playground-zoomed-out.png') });
  });
});
