// A Chromium with a profile folder of its own that outlives the browser (launchPersistentContext), so a second launch
// on the same folder finds the first one's HTTP cache and code cache; and its renderers' pids, read from /proc
// (a persistent context has no Browser object to ask over CDP).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from '../../test/browser.ts';

export interface ProfileBrowser {
  context: BrowserContext;
  page: Page;
  /** Where the bench API lives: the page, or (BENCH_FRAME=sandboxed) its sandboxed iframe. */
  target: Page | Frame;
  /** The renderer processes of this browser (its page's, where the engine worker and the pool's members run). */
  rendererPids(): number[];
}

/**
 * Opens `url` + `path` in a Chromium on `profileDir` and waits for the bench API (`global`): in the page, or in its
 * only iframe when `inFrame`.
 */
export async function openProfileBrowser(profileDir: string, url: string, global: string, path = '/', inFrame = false): Promise<ProfileBrowser> {
  const context = await chromium.launchPersistentContext(profileDir, { executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(0);
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  await page.goto(`${url}${path}`);
  if (inFrame) await page.waitForFunction(() => document.querySelector('iframe') !== null, undefined, { timeout: 60_000 });
  const target = inFrame ? page.frames().find((f) => f !== page.mainFrame())! : page;
  await target.waitForFunction((g) => g in globalThis, global, { timeout: 60_000 }).catch(() => {
    throw new Error(`the bench page did not start:\n${logs.join('\n')}`);
  });
  return { context, page, target, rendererPids: () => renderersOf(profileDir) };
}

function procLines(): { pid: number; ppid: number; cmdline: string }[] {
  const out: { pid: number; ppid: number; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid: Number(name), ppid, cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      /* ended */
    }
  }
  return out;
}

/** Renderers below the browser process started with --user-data-dir=`profileDir`. */
function renderersOf(profileDir: string): number[] {
  const procs = procLines();
  const root = procs.find((p) => p.cmdline.includes(`--user-data-dir=${profileDir}`) && !p.cmdline.includes('--type='));
  if (!root) throw new Error(`no Chromium runs on ${profileDir}`);
  const below = new Set([root.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (below.has(p.ppid) && !below.has(p.pid)) {
        below.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => below.has(p.pid) && p.cmdline.includes('--type=renderer')).map((p) => p.pid);
}

/** Bytes of every file under `dir` (0 when it does not exist). */
export function folderBytes(dir: string): number {
  let sum = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    const p = join(dir, n);
    const s = statSync(p);
    sum += s.isDirectory() ? folderBytes(p) : s.size;
  }
  return sum;
}

/**
 * Records Chromium's trace over a page load's runs and counts its wasm events by name: Blink marks where a streamed
 * module's code came from the code cache (v8.wasm.moduleCacheHit, …Invalid) and where it stored code
 * (v8.wasm.cachedModule), in the devtools.timeline category.
 */
export async function traceWasmEvents(b: ProfileBrowser): Promise<{ stop(): Promise<Record<string, number>> }> {
  const cdp = await b.context.newCDPSession(b.page);
  const counts: Record<string, number> = {};
  cdp.on('Tracing.dataCollected', ({ value }: { value: { name?: string; cat?: string }[] }) => {
    for (const e of value) if (e.name && /wasm/i.test(e.name)) counts[e.name] = (counts[e.name] ?? 0) + 1;
  });
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['disabled-by-default-devtools.timeline', 'devtools.timeline', 'v8.wasm'] } });
  return {
    async stop() {
      const done = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
      await cdp.send('Tracing.end');
      await done;
      await cdp.detach();
      return counts;
    },
  };
}
