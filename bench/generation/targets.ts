// Runs one RunSpec on one target and measures its peak memory: onnxruntime-node in a child process (maxRSS), or
// onnxruntime-web in a fresh headless Chromium (renderer/GPU process VmHWM, plus Chromium's own page estimate where
// the page is cross-origin isolated).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserProcessMemory, launchBenchBrowser, rendererPids, sampleCpu, type ProcessMemory } from './chromium.ts';
import type { RunResult, RunSpec } from './cases.ts';
import type { BrowserResult } from './browser-entry.ts';

export type TargetId = 'node-2' | 'node-1' | 'wasm-1' | 'wasm-2' | 'webgpu';

export interface Memory {
  /** What was measured, in words. */
  measure: string;
  peakBytes: number;
  /** Browser: every process of the run's browser with its peak RSS; Chromium's page estimate where available. */
  processes?: ProcessMemory[];
  pageEstimateBytes?: number | null;
}

export interface TargetRun {
  target: TargetId;
  runtime: string;
  result?: RunResult;
  memory?: Memory;
  /** Why there is no result (a timeout, an error). */
  failed?: string;
  threads?: number;
  adapter?: string;
  downloadMs?: number;
}

const CHILD = fileURLToPath(new URL('node-child.ts', import.meta.url));

export function runtimeLabel(target: TargetId): string {
  switch (target) {
    case 'node-1': return 'onnxruntime-node CPU, 1 thread';
    case 'node-2': return 'onnxruntime-node CPU, 2 threads';
    case 'wasm-1': return 'onnxruntime-web WASM, 1 thread';
    case 'wasm-2': return 'onnxruntime-web WASM, 2 threads (COOP/COEP)';
    case 'webgpu': return 'onnxruntime-web WebGPU (SwiftShader, software)';
  }
}

/** onnxruntime-node in a child process (`tsx` as the loader), so its maxRSS is this run's peak. */
export async function runNode(spec: RunSpec, threads: number, workDir: string): Promise<TargetRun> {
  const target: TargetId = threads === 1 ? 'node-1' : 'node-2';
  const dir = join(workDir, `${spec.family}-${target}`);
  mkdirSync(dir, { recursive: true });
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, specPath, String(threads), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`node child for ${spec.family} ${target} exited ${code}`))));
  });
  const parsed = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<RunResult, 'check'> & { check: string[]; maxRssBytes: number };
  const check = Object.fromEntries(parsed.check.map((name) => {
    const bytes = readFileSync(join(dir, `check.${name}.f32`));
    return [name, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];
  }));
  return {
    target,
    runtime: runtimeLabel(target),
    threads,
    result: { ...parsed, check },
    memory: { measure: 'process maxRSS (process.resourceUsage(), child process per run)', peakBytes: parsed.maxRssBytes },
  };
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

type BenchGlobal = {
  frontierGenerationBench(spec: RunSpec, ep: 'wasm' | 'webgpu', threads: number): Promise<Omit<BrowserResult, 'check'> & { check: Record<string, number[]> }>;
  frontierMeasureMemory(): Promise<number | null>;
};

/** The largest peak RSS among the browser's renderer processes (the page and its worker live in one). */
function rendererPeak(processes: ProcessMemory[]): number {
  return Math.max(0, ...processes.filter((p) => p.type === 'renderer').map((p) => p.peakRssBytes));
}

/** One spec in a fresh Chromium; gives up (closing the browser) after `timeoutMs`. */
export async function runBrowser(spec: RunSpec, target: Exclude<TargetId, 'node-1' | 'node-2'>, url: string, timeoutMs: number, log: (line: string) => void): Promise<TargetRun> {
  const browser = await launchBenchBrowser();
  const base: TargetRun = { target, runtime: runtimeLabel(target) };
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
    await page.waitForFunction(() => 'frontierGenerationBench' in globalThis, undefined, { timeout: 30_000 });
    const ep = target === 'webgpu' ? 'webgpu' : 'wasm';
    const threads = target === 'wasm-2' ? 2 : 1;
    // The page and its worker (wasm threads included) run in a renderer process: its CPU time per timed run.
    const cpu = sampleCpu(await rendererPids(browser));
    const run = page.evaluate(([s, e, t]) => (globalThis as unknown as BenchGlobal).frontierGenerationBench(s, e, t), [spec, ep, threads] as const);
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const r = await Promise.race([run, timeout]);
    const cpuOver = cpu.stop();
    if (r === 'timeout') {
      run.catch(() => {}); // rejected when the browser closes below
      const processes = await browserProcessMemory(browser);
      return { ...base, failed: `did not finish within ${(timeoutMs / 60_000).toFixed(1)} min (stopped)`, memory: { measure: 'renderer process peak RSS (VmHWM) until stopped', peakBytes: rendererPeak(processes), processes } };
    }
    if (target === 'wasm-2' && (!r.isolated || r.threads !== 2)) throw new Error('the COOP/COEP bench page is not cross-origin isolated');
    const m0 = performance.now();
    const pageEstimateBytes = await page.evaluate(() => (globalThis as unknown as BenchGlobal).frontierMeasureMemory());
    if (pageEstimateBytes !== null) log(`  [${target}] measureUserAgentSpecificMemory: ${(pageEstimateBytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - m0) / 1000).toFixed(1)} s`);
    const processes = await browserProcessMemory(browser);
    const check = Object.fromEntries(Object.entries(r.check).map(([k, v]) => [k, Float32Array.from(v)]));
    return {
      ...base,
      threads: r.threads,
      adapter: r.adapter,
      downloadMs: r.downloadMs,
      result: { ...r, check, cpuMs: r.runSpans.map((span) => cpuOver(span) ?? Number.NaN) },
      memory: { measure: 'renderer process peak RSS (VmHWM from /proc; page + its worker)', peakBytes: rendererPeak(processes), processes, pageEstimateBytes },
    };
  } catch (err) {
    return { ...base, failed: (err as Error).message.split('\n')[0] };
  } finally {
    clearTimeout(timer);
    await browser.close();
  }
}

/** Renderer peak RSS of the bench page before any model loads: the floor under every browser row. */
export async function browserBaselineBytes(url: string): Promise<number> {
  const browser = await launchBenchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.waitForFunction(() => 'frontierGenerationBench' in globalThis, undefined, { timeout: 30_000 });
    return rendererPeak(await browserProcessMemory(browser));
  } finally {
    await browser.close();
  }
}
