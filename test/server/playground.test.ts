// The playground host in real Chromium, driving a stand-in plugin UI (test/server/standin-ui.html) that speaks the
// same bridge as dist/figma/ui.html: read the selection, place a result beside it, undo, refuse a too-large image.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { PLACE_GAP } from '../../server/playground/document.ts';
import { playgroundUrl } from '../../server/playground/ui-url.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { bundlePlayground, CHROMIUM_ARGS, chromiumPath, REPO, STANDIN_UI, tempRoot, type TempRoot } from './helpers.ts';

const TIMEOUT = { timeout: 60_000 };
const STANDIN_PATH = '/dist/test/standin-ui.html';

let root: TempRoot;
let server: RunningServer;
let profile: string;
let context: BrowserContext;

before(async () => {
  root = await tempRoot({ 'models/registry.json': '{"version":1,"models":[]}', 'dist/test/standin-ui.html': await readFile(STANDIN_UI) });
  await bundlePlayground(root.root);
  server = await startServer({ port: 0, root: root.root });
  profile = await mkdtemp(join(tmpdir(), 'frontier-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 800 }, timeout: 30_000 });
  context.setDefaultTimeout(15_000);
});
after(async () => {
  await context?.close();
  await server?.close();
  await root?.remove();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Opens the playground on the stand-in UI and waits for its ui-ready (bounded: a broken UI must not hang the test). */
async function openPlayground(coi = false): Promise<{ page: Page; ui: Frame; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(playgroundUrl(server.url, { ui: STANDIN_PATH, coi }));
  await page.waitForFunction(() => window.playground !== undefined);
  await Promise.race([
    page.evaluate(() => window.playground.ready),
    new Promise((_, reject) => setTimeout(() => reject(new Error('the stand-in UI never sent ui-ready')), 15_000)),
  ]);
  const ui = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(ui, 'the UI iframe exists');
  return { page, ui, errors };
}

type Msg = { type: string; [k: string]: unknown };
const received = (ui: Frame) => ui.evaluate(() => (window as unknown as { standin: { received: Msg[] } }).standin.received.map((m) => JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)))));
const standin = <T>(ui: Frame, fn: string, ...args: unknown[]) =>
  ui.evaluate(([fn, args]) => (window as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>).standin[fn as string](...(args as unknown[])), [fn, args] as const) as Promise<T>;

describe('playground host', () => {
  test('without a built ui.html the page says to run the build', TIMEOUT, async () => {
    const page = await context.newPage();
    try {
      await page.goto(server.url + '/');
      await page.waitForSelector('#ui-error:not([hidden])');
      assert.match(await page.textContent('#ui-error') ?? '', /npm run build/);
    } finally {
      await page.close();
    }
  });

  test('the UI runs in a null-origin iframe and gets init with host info, settings and selection', TIMEOUT, async () => {
    const { page, ui, errors } = await openPlayground();
    try {
      assert.equal(await ui.evaluate(() => self.origin), 'null');
      const [init] = (await received(ui)).filter((m) => m.type === 'init') as { host: Record<string, unknown>; settings: Record<string, unknown>; selection: { items: unknown[]; problem?: string } }[];
      assert.deepEqual(init.host, { name: 'playground', version: '0.1.0', maxImageEdge: 4096, video: true, videoPlace: 'canvas' });
      assert.equal(init.settings.serverUrl, server.url);
      assert.deepEqual(init.selection.items, []);
      assert.match(init.selection.problem ?? '', /canvas is empty/);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  test('open a sample, read it, place a result beside it, undo and redo, refuse a too-large result', TIMEOUT, async () => {
    const { page, ui, errors } = await openPlayground();
    try {
      const id = await page.evaluate(() => window.playground.openSample('chelsea.png'));
      // Opening selects the new image; the UI hears about it.
      await ui.waitForFunction(() => (window as unknown as { standin: { selection(): { items: { kind: string }[] } } }).standin.selection().items.length === 1);
      const selection = await ui.evaluate(() => (window as unknown as { standin: { selection(): unknown } }).standin.selection());
      assert.deepEqual(selection, { items: [{ nodeId: id, name: 'chelsea.png', width: 451, height: 300, kind: 'image' }] });

      // read-image returns the file's own PNG bytes.
      const image = await ui.evaluate(async (nodeId) => {
        const m = (await (window as unknown as { standin: { readImage(id: string): Promise<{ type: string; bytes: Uint8Array; mime: string; width: number; height: number }> } }).standin.readImage(nodeId));
        return { type: m.type, bytes: Array.from(m.bytes), mime: m.mime, width: m.width, height: m.height };
      }, id);
      assert.equal(image.type, 'image');
      assert.deepEqual([image.mime, image.width, image.height], ['image/png', 451, 300]);
      assert.deepEqual(Buffer.from(image.bytes), await readFile(join(REPO, 'test/fixtures/images/chelsea.png')));

      const unknown = await standin<{ type: string; message: string }>(ui, 'readImage', 'n999');
      assert.equal(unknown.type, 'request-failed');
      assert.match(unknown.message, /No image or region with id n999/);

      // place-result → a new node to the right of the source, with pluginData saying how it was made.
      const placed = await standin<{ type: string; nodeId: string }>(ui, 'invertAndPlace', id);
      assert.equal(placed.type, 'placed');
      const nodes = await page.evaluate(() => window.playground.nodes());
      assert.equal(nodes.length, 2);
      const [source, result] = nodes;
      assert.equal(result.id, placed.nodeId);
      assert.deepEqual([result.x, result.y, result.width, result.height], [source.x + source.width + PLACE_GAP, source.y, 451, 300]);
      const meta = JSON.parse(result.pluginData.frontier);
      assert.equal(meta.task, 'invert');
      assert.equal(meta.seed, 7);
      const patch = { x: 200, y: 100, width: 16, height: 16 };
      const [before, after] = await page.evaluate(async ([a, b, r]) => Promise.all([window.playground.pixels(a, r), window.playground.pixels(b, r)]), [source.id, result.id, patch] as const);
      assert.equal(after.data.length, 16 * 16 * 4);
      assert.notDeepEqual(before.data.slice(0, 64), after.data.slice(0, 64));
      for (let i = 0; i < before.data.length; i += 4) {
        assert.deepEqual(after.data.slice(i, i + 3), before.data.slice(i, i + 3).map((v) => 255 - v), `pixel ${i / 4}`);
      }
      // The inspector shows the result's pluginData once it is selected.
      await page.evaluate((rid) => window.playground.select([rid]), result.id);
      assert.match(await page.textContent('#inspector pre') ?? '', /"task": "invert"/);
      await page.evaluate((sid) => window.playground.select([sid]), source.id);

      // A second result must not overlap the first.
      const second = await standin<{ nodeId: string }>(ui, 'invertAndPlace', id);
      const all = await page.evaluate(() => window.playground.nodes());
      const third = all.find((n) => n.id === second.nodeId)!;
      assert.equal(third.x, result.x + result.width + PLACE_GAP);

      // Undo removes whole actions; redo brings them back; the buttons work too.
      assert.equal(await page.evaluate(() => window.playground.undo()), 'Place Inverted (stand-in)');
      await page.click('#undo');
      assert.deepEqual((await page.evaluate(() => window.playground.nodes())).map((n) => n.id), [id]);
      await page.click('#redo');
      assert.deepEqual((await page.evaluate(() => window.playground.nodes())).map((n) => n.id), [id, result.id]);
      await page.click('#canvas', { position: { x: 900, y: 700 } });
      await page.keyboard.press('Control+z');
      assert.deepEqual((await page.evaluate(() => window.playground.nodes())).map((n) => n.id), [id]);

      // Too large for the host (Figma's createImage limit): refused, nothing placed.
      const refused = await standin<{ type: string; message: string }>(ui, 'placeBlank', id, 4097, 8);
      assert.equal(refused.type, 'request-failed');
      assert.match(refused.message, /^Image is too large: 4097×8/);
      const fits = await standin<{ type: string }>(ui, 'placeBlank', id, 64, 4096);
      assert.equal(fits.type, 'placed');
      assert.equal((await page.evaluate(() => window.playground.nodes())).length, 2);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  test('click and drag on the canvas select a node and a region; read-image returns the crop', TIMEOUT, async () => {
    const { page, ui } = await openPlayground();
    try {
      const id = await page.evaluate(() => window.playground.openSample('astronaut.png'));
      await page.evaluate(() => window.playground.select([]));
      const box = (await page.locator(`.node[data-node-id="${id}"]`).boundingBox())!;
      await page.mouse.click(box.x + 20, box.y + 20);
      assert.deepEqual(await page.evaluate(() => window.playground.selection().nodes), [id]);

      // Drag across 50%-zoomed pixels: 60×40 screen px = 120×80 image px.
      await page.mouse.move(box.x + 10, box.y + 10);
      await page.mouse.down();
      await page.mouse.move(box.x + 40, box.y + 30, { steps: 4 });
      await page.mouse.move(box.x + 70, box.y + 50, { steps: 4 });
      await page.mouse.up();
      const region = await page.evaluate(() => window.playground.selection().region);
      assert.ok(region);
      assert.deepEqual([region.x, region.y, region.width, region.height], [20, 20, 120, 80]);
      await ui.waitForFunction(() => (window as unknown as { standin: { selection(): { items: { kind: string }[] } } }).standin.selection().items[0]?.kind === 'region');

      const crop = await standin<{ type: string; width: number; height: number }>(ui, 'readImage', region.id);
      assert.deepEqual([crop.type, crop.width, crop.height], ['image', 120, 80]);

      // A result placed from a region lands beside the region's image.
      const placed = await standin<{ type: string; nodeId: string }>(ui, 'invertAndPlace', region.id);
      const result = (await page.evaluate(() => window.playground.nodes())).find((n) => n.id === placed.nodeId)!;
      assert.deepEqual([result.x, result.width, result.height], [512 + PLACE_GAP, 120, 80]);

      // Clicking empty canvas clears the selection, and the UI is told why nothing is usable.
      await page.mouse.click(1000 - 340, 760);
      await ui.waitForFunction(() => /Nothing selected/.test((window as unknown as { standin: { selection(): { problem?: string } } }).standin.selection().problem ?? ''));
    } finally {
      await page.close();
    }
  });

  test('replace-fill shows the result on the source and undo restores the original', TIMEOUT, async () => {
    const { page, ui } = await openPlayground();
    try {
      const id = await page.evaluate(() => window.playground.openSample('chelsea.png'));
      const patch = { x: 0, y: 0, width: 8, height: 8 };
      const pixelsOf = () => page.evaluate(([n, r]) => window.playground.pixels(n, r), [id, patch] as const);
      const original = await pixelsOf();
      const placed = await standin<{ type: string; nodeId: string }>(ui, 'invertAndPlace', id, 'replace-fill');
      assert.deepEqual([placed.type, placed.nodeId], ['placed', id]);
      const nodes = await page.evaluate(() => window.playground.nodes());
      assert.equal(nodes.length, 1);
      assert.equal(JSON.parse(nodes[0].pluginData.frontier).task, 'invert');
      const replaced = await pixelsOf();
      assert.deepEqual(replaced.data.slice(0, 3), original.data.slice(0, 3).map((v) => 255 - v));
      await page.click('text=Restore original image');
      assert.deepEqual((await pixelsOf()).data, original.data);
      await page.evaluate(() => window.playground.undo()); // undo the restore
      await page.evaluate(() => window.playground.undo()); // undo the replace
      assert.deepEqual((await pixelsOf()).data, original.data);
      assert.deepEqual((await page.evaluate(() => window.playground.nodes()))[0].pluginData, {});
    } finally {
      await page.close();
    }
  });

  test('theme, notify, settings and invalid messages', TIMEOUT, async () => {
    const { page, ui } = await openPlayground();
    try {
      const themeBefore = await page.evaluate(() => document.documentElement.dataset.theme);
      await page.click('#theme');
      const expected = themeBefore === 'dark' ? 'light' : 'dark';
      await ui.waitForFunction((mode) => (window as unknown as { standin: { received: { type: string; mode?: string }[] } }).standin.received.some((m) => m.type === 'theme' && m.mode === mode), expected);

      await standin(ui, 'notify', 'Hello from the UI', false);
      await page.waitForSelector('.toast:has-text("Hello from the UI")');

      await standin(ui, 'sendRaw', { type: 'save-settings', settings: { target: 'wasm', serverUrl: 'http://127.0.0.1:1234', token: '', placeMode: 'replace-fill' } });
      await page.waitForFunction(() => localStorage.getItem('frontier.playground.settings')?.includes('1234'));
      await page.reload();
      await page.waitForFunction(() => window.playground !== undefined);
      await page.evaluate(() => window.playground.ready);
      const ui2 = page.frames().find((f) => f !== page.mainFrame())!;
      await ui2.waitForFunction(() => (window as unknown as { standin?: unknown }).standin !== undefined);
      const init = (await received(ui2)).find((m) => m.type === 'init') as { settings: { serverUrl: string; placeMode: string } };
      assert.deepEqual([init.settings.serverUrl, init.settings.placeMode], ['http://127.0.0.1:1234', 'replace-fill']);

      await standin(ui2, 'sendRaw', { type: 'place-result', requestId: 'bad-1', sourceNodeId: 'n1' });
      await ui2.waitForFunction(() => (window as unknown as { standin: { received: { type: string; requestId?: string }[] } }).standin.received.some((m) => m.type === 'request-failed' && m.requestId === 'bad-1'));
      const failed = (await received(ui2)).find((m) => m.requestId === 'bad-1') as { message: string };
      assert.match(failed.message, /place-result\.png must be bytes/);
    } finally {
      await page.evaluate(() => localStorage.clear()).catch(() => {});
      await page.close();
    }
  });

  test('?coi=1 makes the page and the UI iframe cross-origin isolated (multi-threaded wasm)', TIMEOUT, async () => {
    const { page, ui } = await openPlayground(true);
    try {
      assert.equal(await page.evaluate(() => crossOriginIsolated), true);
      assert.equal(await ui.evaluate(() => crossOriginIsolated), true);
    } finally {
      await page.close();
    }
  });
});
