// The restore bench's browser side, driven from Node: the bench page (bench/common/serve.ts with bench/restore-entry.ts)
// serving the bench's model files, inputs and output uploads, and one open onnxruntime-web session in a fresh headless
// Chromium that the bench calls run by run (so the targets can take turns: bench/restore.ts interleaves them).
// Memory: the renderer's peak RSS (VmHWM, bench/common/chromium.ts) and onnxruntime's wasm heap (restore-entry.ts).
import type { Server } from 'node:http';
import { createWriteStream, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { serveBenchPage } from './common/serve.ts';
import { browserProcessMemory, launchBenchBrowser, processCpuMs } from './common/chromium.ts';
import type { OpenResult, OpenSpec, RunsResult } from './restore-entry.ts';
import type { OpProfile } from './restore-profile.ts';

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

/** The page at `url` (`/coi/` for the cross-origin isolated one); models and feeds by file name, outputs by POST. */
export function restoreBenchServer(dirs: { models: string; feeds: string; outputs: string }): Promise<{ url: string; server: Server }> {
  mkdirSync(dirs.outputs, { recursive: true });
  return serveBenchPage({
    entry: fileURLToPath(new URL('restore-entry.ts', import.meta.url)),
    handle(req, res, rel, headers) {
      if (req.method !== 'POST' || !rel.startsWith('/outputs/')) return false;
      const name = rel.slice('/outputs/'.length);
      if (!SAFE_NAME.test(name)) {
        res.writeHead(400).end();
        return true;
      }
      const out = createWriteStream(join(dirs.outputs, name));
      req.pipe(out);
      out.on('finish', () => res.writeHead(204, headers).end());
      out.on('error', () => res.writeHead(500).end());
      return true;
    },
    file(rel) {
      const name = basename(rel);
      if (!SAFE_NAME.test(name)) return null;
      if (rel === `/models/${name}`) return join(dirs.models, name);
      if (rel === `/feeds/${name}`) return join(dirs.feeds, name);
      return null;
    },
  });
}

export interface BrowserTargetState {
  browser: Browser;
  page: Page;
  /** Renderer processes (the page and its worker, wasm threads included), and the GPU process for WebGPU. */
  pids: number[];
  opened: OpenResult;
}

type Api = Record<'open' | 'runs' | 'upload' | 'profile' | 'close' | 'heap', (...a: unknown[]) => Promise<unknown>>;

async function call<T>(page: Page, method: keyof Api, ...args: unknown[]): Promise<T> {
  return page.evaluate(([m, a]) => (globalThis as unknown as { frontierRestore: Api }).frontierRestore[m as keyof Api](...(a as unknown[])), [method, args] as const) as Promise<T>;
}

/** A fresh Chromium with one session open on `spec` (wasm-2: the COOP/COEP page). Throws with the page's reason. */
export async function openBrowserTarget(url: string, spec: OpenSpec, feed: { file: string; dims: number[] }, log: (line: string) => void, label: string): Promise<BrowserTargetState> {
  const browser = await launchBenchBrowser();
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    page.on('console', (m) => {
      const text = m.text();
      if (text.includes('Rerunning with verbose output')) return;
      log(`  [${label}] ${text.includes('VerifyEachNodeIsAssignedToAnEp') ? 'onnxruntime: some nodes (shape ops) run on the CPU EP' : text.slice(0, 300)}`);
    });
    page.on('pageerror', (e) => log(`  [${label}] page error: ${e.message}`));
    await page.goto(`${url}${spec.threads > 1 ? '/coi/' : '/'}`);
    await page.waitForFunction(() => 'frontierRestore' in globalThis, undefined, { timeout: 30_000 });
    const opened = await call<OpenResult>(page, 'open', spec, `/feeds/${feed.file}`, feed.dims);
    if (spec.threads > 1 && (!opened.isolated || opened.threads !== spec.threads)) throw new Error(`the COOP/COEP page is not cross-origin isolated (threads ${opened.threads})`);
    // CPU is read over the renderers (page, worker, wasm threads) and, for WebGPU, the GPU process (SwiftShader).
    const pids = (await browserProcessMemory(browser)).filter((p) => p.type === 'renderer' || (spec.ep === 'webgpu' && p.type.toLowerCase() === 'gpu')).map((p) => p.pid);
    return { browser, page, pids, opened };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/** `count` runs; wall ms from the worker, CPU ms of the renderer processes over the call (read from /proc). */
export async function browserRuns(t: BrowserTargetState, count: number): Promise<RunsResult & { cpuMs: number }> {
  const cpu0 = t.pids.reduce((s, pid) => s + (processCpuMs(pid) ?? 0), 0);
  const r = await call<RunsResult>(t.page, 'runs', count);
  const cpuMs = t.pids.reduce((s, pid) => s + (processCpuMs(pid) ?? 0), 0) - cpu0;
  return { ...r, cpuMs };
}

export const browserUpload = (t: BrowserTargetState, url: string) => call<void>(t.page, 'upload', url);
export const browserProfile = (t: BrowserTargetState, skipRuns: number) => call<OpProfile>(t.page, 'profile', skipRuns);
export const browserHeap = (t: BrowserTargetState) => call<number>(t.page, 'heap');

/** The renderer's and the GPU process's peak RSS (VmHWM) so far. */
export async function browserPeaks(t: BrowserTargetState): Promise<{ rendererBytes: number; gpuBytes: number }> {
  const processes = await browserProcessMemory(t.browser);
  // CDP calls it "GPU" (upper case) and the renderers "renderer".
  const peak = (type: string) => Math.max(0, ...processes.filter((p) => p.type.toLowerCase() === type).map((p) => p.peakRssBytes));
  return { rendererBytes: peak('renderer'), gpuBytes: peak('gpu') };
}

export async function closeBrowserTarget(t: BrowserTargetState): Promise<void> {
  await t.browser.close().catch(() => {});
}
