// The Photoshop panel in real Chromium, as test/e2e/photoshop.test.ts drives it: the built webview page opened from
// file://, a simulated `window.uxpHost` that carries JSON text only, the real panel bridge in Node against the fake
// Photoshop, and our server for model files. Here the document is given by the test (a layer offset in a larger
// canvas), and the helpers speak inpainting's UI (task, model, target, the marquee).
import { rmSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { buildPhotoshop } from '../../../plugin/build-photoshop.ts';
import type { PsBounds } from '../../../plugin/photoshop/api.ts';
import { startPhotoshopBridge, type PhotoshopBridge } from '../../../plugin/photoshop/bridge.ts';
import { SETTINGS_KEY } from '../../../plugin/photoshop/settings.ts';
import { startServer, type RunningServer } from '../../../server/server.ts';
import type { RgbaImage } from '../../../worker/job.ts';
import { REPO_ROOT } from '../../../worker/platform-node.ts';
import { launchBrowser } from '../../browser.ts';
import { FakePhotoshop, type DocumentInit, type FakeDocument } from '../../fakes/photoshop.ts';

export const TINY = 'simmim-swin-base-192-tiny';

let built: Promise<string> | null = null;
/** Builds the panel once per run into a temporary folder, so the test checks this checkout's code. */
function webviewPage(): Promise<string> {
  built ??= (async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'frontier-photoshop-inpaint-'));
    await buildPhotoshop({ outDir, minify: false });
    process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
    return join(outDir, 'webview', 'index.html');
  })();
  return built;
}

export async function chelsea(): Promise<RgbaImage> {
  const png = PNG.sync.read(await readFile(join(REPO_ROOT, 'test', 'fixtures', 'images', 'chelsea.png')));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

/** A layer's pixels as an RgbaImage filling function (document coordinates) for the fake. */
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

/** Photoshop (fake) with `init` open, the panel bridge, our server, and the webview page in Chromium. */
export async function openPanel(init: DocumentInit): Promise<PanelSession> {
  const [pagePath, server, browser] = await Promise.all([webviewPage(), startServer({ port: 0 }), launchBrowser()]);
  const fake = new FakePhotoshop();
  const doc = fake.openDocument(init);
  // The user's saved settings point the panel at our server.
  fake.localStorage.setItem(SETTINGS_KEY, JSON.stringify({ target: 'wasm', serverUrl: server.url, placeMode: 'beside', readMerged: false }));
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

/** Chooses Inpaint with the tiny model on WASM. */
export async function chooseInpaint(s: PanelSession): Promise<void> {
  await s.page.locator('[data-testid="task-select"]').selectOption('inpaint');
  await s.page.locator('[data-testid="model-select"]').selectOption(TINY);
  await s.page.locator('[data-testid="target-select"]').selectOption('wasm');
}

/**
 * Sets a selection (`level` per document pixel inside `bounds`, 255 = selected) and waits until the panel shows the
 * item cut to it, `shown` being the part over the layer, marked as the marquee.
 */
export async function select(s: PanelSession, bounds: PsBounds, shown: PsBounds, level: (x: number, y: number) => number = () => 255): Promise<void> {
  s.doc.setSelection(bounds, level);
  const size = `${shown.right - shown.left} × ${shown.bottom - shown.top}`;
  await s.page.locator('[data-testid="selection"]', { hasText: size }).waitFor({ timeout: 10_000 });
  await s.page.locator('[data-testid="selection-mask"]', { hasText: 'Marquee selection' }).waitFor({ timeout: 10_000 });
}

/** Clicks Run and waits until one more layer exists, failing with the UI's error and the logs if none comes. */
export async function runAndWaitForLayer(s: PanelSession): Promise<void> {
  const count = s.doc.allLayers().length;
  await s.page.locator('[data-testid="run"]:not([disabled])').click();
  const deadline = Date.now() + 300_000;
  while (s.doc.allLayers().length <= count) {
    const error = await s.page.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
    if (error) throw new Error(`the UI reported: ${error}\n${s.logs.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`no layer placed\n${s.logs.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await s.page.locator('[data-testid="progress"]').waitFor({ state: 'detached', timeout: 30_000 });
}
