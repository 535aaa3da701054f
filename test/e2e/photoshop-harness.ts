// The Photoshop panel in real Chromium for the e2e tests: the built webview page opened from file:// (as UXP's
// plugin:/ local content is), a simulated `window.uxpHost` that carries JSON text only, the real panel bridge
// (plugin/photoshop/bridge.ts) in Node against the fake Photoshop with the test's document open, and our server for
// model files. Not a *.test.ts file: test/run.ts runs those.
import { rmSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { buildPhotoshop } from '../../plugin/build-photoshop.ts';
import type { PsBounds } from '../../plugin/photoshop/api.ts';
import { startPhotoshopBridge, type PhotoshopBridge } from '../../plugin/photoshop/bridge.ts';
import { SETTINGS_KEY, TOKEN_KEY } from '../../plugin/photoshop/settings.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { RgbaImage } from '../../worker/job.ts';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import { launchBrowser } from '../browser.ts';
import { FakePhotoshop, type DocumentInit, type FakeDocument } from '../fakes/photoshop.ts';

let built: Promise<string> | null = null;
/** Builds the panel once per run into a temporary folder (a few seconds), so the tests check this checkout's code. */
function webviewPage(): Promise<string> {
  built ??= (async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'frontier-photoshop-'));
    await buildPhotoshop({ outDir, minify: false });
    process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
    return join(outDir, 'webview', 'index.html');
  })();
  return built;
}

/** test/fixtures/images/chelsea.png (451×300). */
export async function chelsea(): Promise<RgbaImage> {
  const png = PNG.sync.read(await readFile(join(REPO_ROOT, 'test', 'fixtures', 'images', 'chelsea.png')));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

/** A layer's pixels as an RgbaImage filling function (document coordinates) for the fake; the image's top-left at (left, top). */
export function fillFrom(image: RgbaImage, left: number, top: number): (x: number, y: number) => [number, number, number, number] {
  return (x, y) => {
    const i = ((y - top) * image.width + (x - left)) * 4;
    return [image.data[i], image.data[i + 1], image.data[i + 2], image.data[i + 3]];
  };
}

export interface PanelSession {
  fake: FakePhotoshop;
  doc: FakeDocument;
  bridge: PhotoshopBridge;
  server: RunningServer;
  browser: Browser;
  page: Page;
  logs: string[];
  close(): Promise<void>;
}

export interface PanelOptions {
  /** The saved setting “read merged” (read the visible layers merged instead of the active layer). */
  readMerged?: boolean;
}

/**
 * Photoshop (fake) with `init` open (its bit depth, mode, layers), the panel bridge, our server, and the webview page
 * in Chromium, ready when the page shows Run.
 */
export async function openPanel(init: DocumentInit, opts: PanelOptions = {}): Promise<PanelSession> {
  const [pagePath, server, browser] = await Promise.all([webviewPage(), startServer({ port: 0 }), launchBrowser()]);
  const fake = new FakePhotoshop();
  const doc = fake.openDocument(init);
  // The user's saved settings point the panel at our server.
  fake.localStorage.setItem(SETTINGS_KEY, JSON.stringify({ target: 'wasm', serverUrl: server.url, placeMode: 'beside', readMerged: opts.readMerged === true }));
  // …and the panel is paired with it (the code kept in secureStorage, as the panel saves it).
  await fake.uxp.storage.secureStorage.setItem(TOKEN_KEY, server.token);
  const logs: string[] = [];
  const bridge = startPhotoshopBridge({
    photoshop: fake.photoshop, uxp: fake.uxp, storage: fake.localStorage, webview: fake.webview,
    log: { info: (m) => logs.push(`[panel] ${m}`), warn: (m) => logs.push(`[panel warn] ${m}`), error: (m) => logs.push(`[panel error] ${m}`) },
    theme: { current: () => 'dark' },
  });

  const page = await browser.newPage({ viewport: { width: 340, height: 900 } });
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  page.setDefaultTimeout(60_000);
  // window.uxpHost.postMessage → JSON text → the fake webview's page side (which checks it is JSON) → the panel.
  await page.exposeBinding('__frontierToPanel', (_source, json: string) => fake.webview.page.uxpHost.postMessage(JSON.parse(json)));
  // As text: tsx-compiled functions can reference helpers (__name) that do not exist in the page.
  await page.addInitScript({ content: 'window.uxpHost = { postMessage(message) { window.__frontierToPanel(JSON.stringify(message)); } };' });
  // The panel's webview.postMessage → JSON text → a `message` event in the page.
  fake.webview.page.onMessage((event) => {
    const json = JSON.stringify((event as { data: unknown }).data);
    void page.evaluate((text) => window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(text) })), json).catch(() => undefined);
  });
  await page.goto(pathToFileURL(pagePath).href);
  await page.locator('[data-testid="run"]').waitFor();
  return {
    fake, doc, bridge, server, browser, page, logs,
    async close() {
      await browser.close().catch(() => undefined);
      await bridge.dispose();
      await server.close();
    },
  };
}

/** Waits until the panel shows the item cut to `shown` (it prints the size). */
async function waitForSelectionSize(s: PanelSession, shown: PsBounds): Promise<void> {
  const size = `${shown.right - shown.left} × ${shown.bottom - shown.top}`;
  await s.page.locator('[data-testid="selection"]', { hasText: size }).waitFor({ timeout: 10_000 });
}

/** Sets a rectangular marquee and waits until the panel shows the item cut to it. */
export async function selectRegion(s: PanelSession, region: PsBounds): Promise<void> {
  s.doc.setMarquee(region);
  await waitForSelectionSize(s, region);
}

/**
 * Sets a selection (`level` per document pixel inside `bounds`, 255 = selected) and waits until the panel shows the
 * item cut to it, `shown` being the part over the layer, marked as the marquee (as tasks with a mask show it).
 */
export async function selectAsMask(s: PanelSession, bounds: PsBounds, shown: PsBounds, level: (x: number, y: number) => number = () => 255): Promise<void> {
  s.doc.setSelection(bounds, level);
  await waitForSelectionSize(s, shown);
  await s.page.locator('[data-testid="selection-mask"]', { hasText: 'Marquee selection' }).waitFor({ timeout: 10_000 });
}

/** Waits until the document has `count` layers, failing with the UI's error and the logs if the UI reports one or time runs out. */
export async function waitForLayerCount(s: PanelSession, count: number, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (s.doc.allLayers().length < count) {
    const error = await s.page.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
    if (error) throw new Error(`the UI reported: ${error}\n${s.logs.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`no layer placed\n${s.logs.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Clicks Run (once enabled), waits until one more layer exists and the progress bar is gone. */
export async function runAndWaitForLayer(s: PanelSession): Promise<void> {
  const count = s.doc.allLayers().length;
  await s.page.locator('[data-testid="run"]:not([disabled])').click();
  await waitForLayerCount(s, count + 1, 300_000);
  await s.page.locator('[data-testid="progress"]').waitFor({ state: 'detached', timeout: 30_000 });
}
