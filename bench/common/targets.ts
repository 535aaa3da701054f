// The five targets every speed bench compares, and how one run on each is measured: onnxruntime-node in a child
// process (its maxRSS is the run's peak), onnxruntime-web in a fresh headless Chromium (renderer/GPU process VmHWM,
// plus Chromium's own page estimate where the page is cross-origin isolated).
import '../../worker/runtime/no-telemetry.mjs'; // first: before onnxruntime-node initialises
import { spawn } from 'node:child_process';
import type { Page } from 'playwright-core';
import { browserProcessMemory, launchBenchBrowser, rendererPids, sampleCpu, type ProcessMemory } from './chromium.ts';

export type TargetId = 'node-2' | 'node-1' | 'wasm-1' | 'wasm-2' | 'webgpu';
export type BrowserTarget = Exclude<TargetId, 'node-1' | 'node-2'>;
export const ALL_TARGETS: TargetId[] = ['node-2', 'node-1', 'wasm-1', 'wasm-2', 'webgpu'];

export interface Memory {
  /** What was measured, in words. */
  measure: string;
  peakBytes: number;
  /** Browser: every process of the run's browser with its peak RSS; Chromium's page estimate where available. */
  processes?: ProcessMemory[];
  pageEstimateBytes?: number | null;
}

export const NODE_MEMORY = 'process maxRSS (process.resourceUsage(), child process per run)';

export function runtimeLabel(target: TargetId): string {
  switch (target) {
    case 'node-1': return 'onnxruntime-node CPU, 1 thread';
    case 'node-2': return 'onnxruntime-node CPU, 2 threads';
    case 'wasm-1': return 'onnxruntime-web WASM, 1 thread';
    case 'wasm-2': return 'onnxruntime-web WASM, 2 threads (COOP/COEP)';
    case 'webgpu': return 'onnxruntime-web WebGPU (SwiftShader, software)';
  }
}

/**
 * Runs a bench child script with `tsx` as the loader and resolves to its last stdout line (its JSON result); kills
 * it after `timeoutMs`. Its stderr (progress) goes to ours.
 */
export function runNodeChild(script: string, args: string[], timeoutMs = Infinity): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`did not finish within ${(timeoutMs / 60_000).toFixed(1)} min (stopped)`));
      }, timeoutMs)
      : undefined;
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim().split('\n').pop()!);
      else reject(new Error(`the onnxruntime-node child exited ${signal ?? code}${signal === 'SIGKILL' ? ' (killed: out of memory?)' : ''}; see the output above`));
    });
  });
}

/** Peak RSS of a Node child that loads onnxruntime-node and runs nothing: the floor under every Node row. */
export async function nodeBaselineBytes(): Promise<number> {
  const code = "await import('onnxruntime-node'); console.log(process.resourceUsage().maxRSS * 1024)";
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    child.stdout.on('data', (chunk: Buffer) => (s += chunk.toString()));
    child.on('error', reject);
    child.on('close', (c) => (c === 0 ? resolve(s) : reject(new Error(`node baseline exited ${c}`))));
  });
  return Number(out.trim());
}

/** The largest peak RSS among the browser's renderer processes (the page and its worker live in one). */
function rendererPeak(processes: ProcessMemory[]): number {
  return Math.max(0, ...processes.filter((p) => p.type === 'renderer').map((p) => p.peakRssBytes));
}

/** Renderer peak RSS of the bench page before any model loads: the floor under every browser row. */
export async function browserBaselineBytes(url: string, readyGlobal: string): Promise<number> {
  const browser = await launchBenchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.waitForFunction((name) => name in globalThis, readyGlobal, { timeout: 30_000 });
    return rendererPeak(await browserProcessMemory(browser));
  } finally {
    await browser.close();
  }
}

/** What every bench page's run reports besides its own results. */
export interface PageRun {
  threads: number;
  isolated: boolean;
  runSpans: [number, number][];
}

export type BrowserOutcome<R> =
  | { result: R; cpuMs: number[]; memory: Memory; failed?: undefined }
  | { failed: string; memory?: Memory; result?: undefined };

/**
 * One run in a fresh Chromium on the bench page at `url` (the COOP/COEP page for wasm-2): waits for `readyGlobal`,
 * calls `run(page, ep, threads)`, and gives up (closing the browser) after `timeoutMs`. Measures the renderer's CPU
 * time per timed run and the browser's peak memory.
 */
export async function runInChromium<R extends PageRun>(
  target: BrowserTarget,
  url: string,
  readyGlobal: string,
  timeoutMs: number,
  log: (line: string) => void,
  run: (page: Page, ep: 'wasm' | 'webgpu', threads: number) => Promise<R>,
): Promise<BrowserOutcome<R>> {
  const browser = await launchBenchBrowser();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    page.on('console', (m) => {
      const text = m.text();
      if (text.includes('Rerunning with verbose output')) return; // the second half of onnxruntime's EP note
      log(`  [${target}] ${text.includes('VerifyEachNodeIsAssignedToAnEp') ? 'onnxruntime: some nodes (shape ops) run on the CPU EP' : text}`);
    });
    page.on('pageerror', (e) => log(`  [${target}] page error: ${e.message}`));
    await page.goto(`${url}${target === 'wasm-2' ? '/coi/' : '/'}`);
    await page.waitForFunction((name) => name in globalThis, readyGlobal, { timeout: 30_000 });
    const ep = target === 'webgpu' ? 'webgpu' : 'wasm';
    const threads = target === 'wasm-2' ? 2 : 1;
    // The page and its worker (wasm threads included) run in a renderer process: its CPU time per timed run.
    const cpu = sampleCpu(await rendererPids(browser));
    const running = run(page, ep, threads);
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const r = await Promise.race([running, timeout]);
    const cpuOver = cpu.stop();
    if (r === 'timeout') {
      running.catch(() => {}); // rejected when the browser closes below
      const processes = await browserProcessMemory(browser);
      return { failed: `did not finish within ${(timeoutMs / 60_000).toFixed(1)} min (stopped)`, memory: { measure: 'renderer process peak RSS (VmHWM) until stopped', peakBytes: rendererPeak(processes), processes } };
    }
    if (target === 'wasm-2' && (!r.isolated || r.threads !== 2)) throw new Error('the COOP/COEP bench page is not cross-origin isolated');
    const m0 = performance.now();
    const pageEstimateBytes = await page.evaluate(() => (globalThis as unknown as { frontierMeasureMemory(): Promise<number | null> }).frontierMeasureMemory());
    if (pageEstimateBytes !== null) log(`  [${target}] measureUserAgentSpecificMemory: ${(pageEstimateBytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - m0) / 1000).toFixed(1)} s`);
    const processes = await browserProcessMemory(browser);
    return {
      result: r,
      cpuMs: r.runSpans.map((span) => cpuOver(span) ?? Number.NaN),
      memory: { measure: 'renderer process peak RSS (VmHWM from /proc; page + its worker)', peakBytes: rendererPeak(processes), processes, pageEstimateBytes },
    };
  } catch (err) {
    return { failed: (err as Error).message.split('\n')[0] };
  } finally {
    clearTimeout(timer);
    await browser.close();
  }
}
