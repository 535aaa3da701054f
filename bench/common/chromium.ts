// Chromium for the speed benches: a fresh browser per model and target (so a process's peak memory belongs to one
// run), its processes from CDP SystemInfo.getProcessInfo, and their peak resident memory from /proc.
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from '../../test/browser.ts';

/**
 * A bench page at `url`, once its script has put `global` on globalThis (the bench's API); its console and errors
 * are kept to say why when it does not start. No default timeout: a bench's calls take as long as they take.
 */
export async function openBenchPage(browser: Browser, url: string, global: string): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(0);
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  await page.goto(`${url}/`);
  await page.waitForFunction((g) => g in globalThis, global, { timeout: 60_000 }).catch(() => {
    throw new Error(`the bench page did not start:\n${logs.join('\n')}`);
  });
  return page;
}

/** test/browser.ts's launch (WebGPU on SwiftShader) plus immediate memory measurement (no 20 s wait for a GC). */
export function launchBenchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--enable-blink-features=ForceEagerMeasureMemory'],
  });
}

export interface ProcessMemory {
  type: string;
  pid: number;
  /** VmHWM: the process's peak resident set size. */
  peakRssBytes: number;
  rssBytes: number;
}

function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // exited, or not visible from here
  }
}

/** Every process of the browser that /proc shows, with its peak and current RSS. */
export async function browserProcessMemory(browser: Browser): Promise<ProcessMemory[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
    const out: ProcessMemory[] = [];
    for (const p of processInfo) {
      const peak = procStatusBytes(p.id, 'VmHWM');
      if (peak !== undefined) out.push({ type: p.type, pid: p.id, peakRssBytes: peak, rssBytes: procStatusBytes(p.id, 'VmRSS') ?? 0 });
    }
    return out;
  } finally {
    await cdp.detach();
  }
}

/** utime + stime of a process and all its threads, in ms (/proc/PID/stat counts clock ticks: 100 per second). */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from `state` on (the name may hold spaces)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export async function rendererPids(browser: Browser): Promise<number[]> {
  return (await browserProcessMemory(browser)).filter((p) => p.type === 'renderer').map((p) => p.pid);
}

/** Samples the summed CPU time of `pids` every `everyMs`, to read the CPU time spent over any span afterwards. */
export function sampleCpu(pids: number[], everyMs = 200): { stop(): (span: [number, number]) => number | undefined } {
  const samples: [number, number][] = [];
  const take = () => samples.push([Date.now(), pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0)]);
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const at = (t: number): number | undefined => {
        const i = samples.findIndex(([time]) => time >= t);
        if (i <= 0) return undefined; // outside the sampled time
        const [t0, c0] = samples[i - 1];
        const [t1, c1] = samples[i];
        return t1 === t0 ? c1 : c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
      };
      return ([start, end]) => {
        const a = at(start);
        const b = at(end);
        return a === undefined || b === undefined ? undefined : b - a;
      };
    },
  };
}
