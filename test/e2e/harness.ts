// e2e harness: a real server on an ephemeral port, a real Chromium on the playground, and helpers that drive
// the very same UI the Figma plugin shows (inside the playground's sandboxed, null-origin iframe).
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Frame, FrameLocator, Page } from 'playwright-core';
import { startServer, type RunningServer, type ServerOptions } from '../../server/server.ts';
import { launchBrowser } from '../browser.ts';
import type { DocNode, Sized } from '../../server/playground/document.ts';
import { REPO, tempRoot, type TempRoot } from '../server/helpers.ts';

export interface Playground {
  server: RunningServer;
  browser: Browser;
  page: Page;
  ui: FrameLocator;
  logs: string[];
  close(): Promise<void>;
}

/** `pair: false` opens the playground without the pairing code in its link, as a user who typed the address would. */
export async function openPlayground(opts: { webgpu?: boolean; root?: string; query?: string; server?: Partial<ServerOptions>; pair?: boolean } = {}): Promise<Playground> {
  const server = await startServer({ ...opts.server, port: 0, root: opts.root });
  const browser = await launchBrowser({ webgpu: opts.webgpu });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  page.setDefaultTimeout(60_000);
  // Opened as npm start prints it: the link pairs the playground with the server.
  await page.goto(`${server.url}/${opts.query ?? ''}${opts.pair === false ? '' : `#pair=${server.token}`}`);
  await page.waitForFunction(() => (window as unknown as { playground?: unknown }).playground !== undefined);
  await page.evaluate(() => (window as unknown as { playground: { ready: Promise<void> } }).playground.ready);
  const ui = page.frameLocator('iframe');
  await ui.locator('[data-testid="run"]').waitFor();
  return {
    server,
    browser,
    page,
    ui,
    logs,
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}

/**
 * A temporary server root for openPlayground({ root }): this checkout's built UI and playground with `files` (e.g. a
 * test's models/registry.json and models/build/files/…) and the sample photos.
 */
export async function tempPlaygroundRoot(files: Record<string, string | Uint8Array>): Promise<TempRoot> {
  const tmp = await tempRoot(files);
  for (const file of [join('dist', 'figma', 'ui.html'), join('dist', 'playground', 'playground.js')]) {
    await mkdir(join(tmp.root, file, '..'), { recursive: true });
    await copyFile(join(REPO, file), join(tmp.root, file));
  }
  return tmp;
}

/** What the playground's test hook reports per node (its document nodes without the bitmaps). */
export type NodeInfo = Omit<DocNode<Sized>, 'bitmap' | 'original' | 'originalPluginData'>;

export function nodes(page: Page): Promise<NodeInfo[]> {
  return page.evaluate(() => (window as unknown as { playground: { nodes(): NodeInfo[] } }).playground.nodes());
}

export async function openSampleRegion(page: Page, sample: string, region: { x: number; y: number; width: number; height: number }): Promise<string> {
  return page.evaluate(
    async ({ sample, region }) => {
      const pg = (window as unknown as { playground: { openSample(n: string): Promise<string>; selectRegion(id: string, x: number, y: number, w: number, h: number): void } }).playground;
      const id = await pg.openSample(sample);
      pg.selectRegion(id, region.x, region.y, region.width, region.height);
      return id;
    },
    { sample, region },
  );
}

type Rect = { x: number; y: number; width: number; height: number };

export async function pixels(page: Page, nodeId: string, rect?: Rect): Promise<{ width: number; height: number; data: Uint8Array }> {
  const p = await page.evaluate(
    async ([id, rect]) => {
      const r = await (window as unknown as { playground: { pixels(id: string, rect?: Rect): Promise<{ width: number; height: number; data: ArrayLike<number> }> } }).playground.pixels(id, rect);
      return { width: r.width, height: r.height, data: Array.from(r.data) };
    },
    [nodeId, rect] as const,
  );
  return { width: p.width, height: p.height, data: Uint8Array.from(p.data) };
}

export function uiFrame(page: Page): Frame {
  const frame = page.frames().find((f) => f !== page.mainFrame());
  if (!frame) throw new Error('the UI iframe is missing');
  return frame;
}

/** Clicks Run and waits until one new node is placed (failing at once with the UI's error, if it shows one). */
export async function runAndWaitForNode(pg: Playground, tries = 960): Promise<NodeInfo> {
  const before = await nodes(pg.page);
  await pg.ui.locator('[data-testid="run"]').click();
  for (let i = 0; i < tries; i++) {
    const list = await nodes(pg.page);
    if (list.length > before.length) return list.find((n) => !before.some((b) => b.id === n.id))!;
    const error = await pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
    if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
    await pg.page.waitForTimeout(250);
  }
  throw new Error(`nothing placed\n${pg.logs.join('\n')}`);
}

/** Largest and mean absolute difference over the RGB channels of two images of the same size (0..255). */
export function compareImages(a: { width: number; height: number; data: Uint8Array }, b: { width: number; height: number; data: Uint8Array }): { max: number; mean: number } {
  assert.deepEqual([a.width, a.height], [b.width, b.height], 'same size');
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(a.data[i] - b.data[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / ((a.data.length / 4) * 3) };
}

/** The part of the document the playground's canvas shows (document units) and its zoom. */
export type Viewport = Rect & { zoom: number };

export function viewport(page: Page): Promise<Viewport> {
  return page.evaluate(() => (window as unknown as { playground: { viewport(): Viewport } }).playground.viewport());
}

/** True when `node` lies wholly inside the canvas's visible part. */
export function inView(node: Rect, view: Rect): boolean {
  return node.x >= view.x && node.y >= view.y && node.x + node.width <= view.x + view.width && node.y + node.height <= view.y + view.height;
}

/**
 * Waits for the "Run on" line to read `text`; on timeout the error says what it read instead and why (its details),
 * so a failure tells a stale or wrong target apart from a slow one.
 */
export async function waitForTargetLine(pg: Playground, text: RegExp, timeoutMs = 30_000): Promise<void> {
  const line = pg.ui.locator('[data-testid="target-reason"]');
  try {
    await line.filter({ hasText: text }).waitFor({ timeout: timeoutMs });
  } catch (err) {
    const shown = await line.textContent().catch(() => '(no line)');
    const detail = await pg.ui.locator('[data-testid="target-detail"]').textContent().catch(() => '(no details)');
    const chosen = await pg.ui.locator('[data-testid="target-select"]').inputValue().catch(() => '(no menu)');
    throw new Error(`"Run on" line did not read ${text} within ${timeoutMs} ms: it reads ${JSON.stringify(shown)} (menu: ${chosen}; details: ${JSON.stringify(detail)}). ${(err as Error).message.split('\n')[0]}`);
  }
}
