// Shared by the UI render tests: the harness page in real Chromium, the fake engine's holds (a run waits at a point
// until the test releases it), a recorder of every progress state the UI shows, and "is it in view, uncovered".
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Frame, FrameLocator, Page, Worker } from 'playwright-core';
import { buildHarness } from './build-harness.ts';
import type { HarnessOptions } from './build-harness.ts';

export interface Placed { sourceNodeId: string; name: string; width: number; height: number; mode: string; pngOk: boolean; meta: { model: string; params: Record<string, unknown> } }
export interface PlacedVideo { sourceNodeId: string; name: string; width: number; height: number; mime: string; bytes: number }
export interface HostLog { received: string[]; placed: Placed[]; placedVideos: PlacedVideo[]; settings: unknown[]; shown: string[]; notices: { message: string; error: boolean }[] }

/** Opens the harness; `height` is the plugin iframe's (Figma opens Frontier at 320×560). */
export async function withHarness(options: HarnessOptions & { height?: number }, body: (page: Page, ui: FrameLocator) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'frontier-ui-'));
  const profile = await mkdtemp(join(tmpdir(), 'frontier-chromium-'));
  let browser: BrowserContext | undefined;
  try {
    const hostPath = await buildHarness(dir, options);
    const height = options.height ?? 900;
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 320, height },
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(pathToFileURL(hostPath).href);
    await page.addStyleTag({ content: `iframe#plugin { height: ${height}px !important; }` });
    await body(page, page.frameLocator('#plugin'));
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
  } finally {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  }
}

export const hostLog = (page: Page) => page.evaluate(() => (window as unknown as { hostLog: HostLog }).hostLog);
export const selectItems = (page: Page, ids: string[]) => page.evaluate((list) => (window as unknown as { selectItems(ids: string[]): void }).selectItems(list), ids);

/** The fake engine's worker now running (a crash or a hard cancel starts a new one). */
async function engineWorker(page: Page): Promise<Worker> {
  for (let i = 0; i < 100; i++) {
    for (const w of [...page.workers()].reverse()) {
      if (await w.evaluate(() => 'fakeEngine' in self).catch(() => false)) return w;
    }
    await page.waitForTimeout(50);
  }
  throw new Error('the fake engine worker is not running');
}

/** The next batch job waits after reporting `point` ('download:2', 'run:4') until release(). */
export async function holdAt(page: Page, ...points: string[]): Promise<void> {
  const w = await engineWorker(page);
  await w.evaluate((list) => (self as unknown as { fakeEngine: { hold(...p: string[]): void } }).fakeEngine.hold(...list), points);
}

/** Waits until a job is held (at `point`, when given), so what the UI shows then is a state, not a moment. */
export async function waitHeld(page: Page, point?: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const w = await engineWorker(page);
    const held = await w.evaluate(() => (self as unknown as { fakeEngine: { held: string | null } }).fakeEngine.held).catch(() => null);
    if (point ? held === point : held !== null) return;
    if (Date.now() > deadline) throw new Error(`no job held${point ? ` at ${point}` : ''} (held: ${held})`);
    await page.waitForTimeout(25);
  }
}

/** Every job the fake engine was asked to run so far (id, task, size param). */
export interface EngineRun { id: string; task: string; size?: unknown; video?: { mime: string; bytes: number; head: number[]; width?: number; height?: number } }
export async function engineRuns(page: Page): Promise<EngineRun[]> {
  const w = await engineWorker(page);
  return w.evaluate(() => (self as unknown as { fakeEngine: { runs: EngineRun[] } }).fakeEngine.runs);
}

/** Every warm-up the UI asked the fake engine for, in order, and whether a job ran in the engine when it came. */
export interface EngineWarmUp { task: string; model?: string; params: Record<string, unknown>; target?: string; duringJob: boolean }
export async function engineWarmUps(page: Page): Promise<EngineWarmUp[]> {
  const w = await engineWorker(page);
  return w.evaluate(() => (self as unknown as { fakeEngine: { warmUps: EngineWarmUp[] } }).fakeEngine.warmUps);
}

/** The next batch job fails with this error, as the engine sends one (its code and message). */
export async function failNext(page: Page, error: { code: string; message: string }): Promise<void> {
  const w = await engineWorker(page);
  await w.evaluate((e) => (self as unknown as { fakeEngine: { fail(e: { code: string; message: string }): void } }).fakeEngine.fail(e), error);
}

export async function release(page: Page): Promise<void> {
  const w = await engineWorker(page);
  await w.evaluate(() => (self as unknown as { fakeEngine: { release(): void } }).fakeEngine.release());
}

export function uiFrame(page: Page): Frame {
  const frame = page.frames().find((f) => f !== page.mainFrame());
  if (!frame) throw new Error('the UI iframe is missing');
  return frame;
}

export interface ShownProgress { text: string; now: number; eta: string | null }

/** Records, in the UI, every state the progress bar shows (text, %, time left) as it changes. */
export async function recordProgress(page: Page): Promise<() => Promise<ShownProgress[]>> {
  const frame = uiFrame(page);
  // A string, not a function: tsx would wrap the named inner function in a helper the page does not have.
  await frame.evaluate(`(() => {
    window.progressSeen = [];
    new MutationObserver(() => {
      const bar = document.querySelector('[data-testid="progress"]');
      if (!bar) return;
      const eta = bar.querySelector('[data-testid="progress-eta"]');
      const shown = { text: bar.getAttribute('aria-valuetext') || '', now: Number(bar.getAttribute('aria-valuenow')), eta: eta ? eta.textContent : null };
      const last = window.progressSeen[window.progressSeen.length - 1];
      if (!last || last.text !== shown.text || last.now !== shown.now || last.eta !== shown.eta) window.progressSeen.push(shown);
    }).observe(document.body, { childList: true, subtree: true, attributes: true, characterData: true });
  })()`);
  return () => frame.evaluate(() => (window as unknown as { progressSeen: ShownProgress[] }).progressSeen);
}

/** Whether the element is inside the window without scrolling, and nothing covers its centre. */
export async function inView(ui: FrameLocator, testId: string): Promise<{ ok: boolean; why: string }> {
  return ui.getByTestId(testId).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return { ok: false, why: `${el.getAttribute('data-testid')} has no size` };
    if (r.top < 0 || r.bottom > window.innerHeight + 0.5 || r.left < 0 || r.right > window.innerWidth + 0.5) {
      return { ok: false, why: `${el.getAttribute('data-testid')} at ${Math.round(r.top)}–${Math.round(r.bottom)} px, the window is ${window.innerHeight} px` };
    }
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !(el === hit || el.contains(hit))) return { ok: false, why: `${el.getAttribute('data-testid')} is covered by ${hit?.outerHTML.slice(0, 80)}` };
    return { ok: true, why: '' };
  });
}

export async function assertInView(ui: FrameLocator, ...testIds: string[]): Promise<void> {
  for (const id of testIds) {
    const { ok, why } = await inView(ui, id);
    assert.ok(ok, why);
  }
}
