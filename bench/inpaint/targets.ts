// Runs one BenchSpec on one target and measures its peak memory: onnxruntime-node in a child process (maxRSS), or
// onnxruntime-web in a fresh headless Chromium (renderer/GPU process VmHWM from bench/generation/chromium.ts, plus
// Chromium's own page estimate where the page is cross-origin isolated). Outputs are read back as Float32Arrays.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserProcessMemory, launchBenchBrowser, rendererPids, sampleCpu, type ProcessMemory } from '../generation/chromium.ts';
import type { BenchSpec, RunResult } from './spec.ts';
import type { BrowserResult } from './browser-entry.ts';

export type TargetId = 'node-2' | 'node-1' | 'wasm-1' | 'wasm-2' | 'webgpu';
export const ALL_TARGETS: TargetId[] = ['node-2', 'node-1', 'wasm-1', 'wasm-2', 'webgpu'];

export interface Memory {
  /** What was measured, in words. */
  measure: string;
  peakBytes: number;
  processes?: ProcessMemory[];
  pageEstimateBytes?: number | null;
}

export interface TargetRun {
  target: TargetId;
  runtime: string;
  result?: RunResult;
  outputs?: Record<string, Float32Array>;
  memory?: Memory;
  /** Why there is no result (skipped, a timeout, an error). */
  failed?: string;
  threads?: number;
  adapter?: string;
  downloadMs?: number;
}

export interface BenchDirs {
  models: string;
  feeds: string;
  /** Per-target scratch: specs, Node outputs, browser uploads. */
  work: string;
}

const CHILD = fileURLToPath(new URL('node-child.ts', import.meta.url));

/** A row id as a file and URL name (ids may say "(2 of 36 blocks)"). */
const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

export function runtimeLabel(target: TargetId): string {
  switch (target) {
    case 'node-1': return 'onnxruntime-node CPU, 1 thread';
    case 'node-2': return 'onnxruntime-node CPU, 2 threads';
    case 'wasm-1': return 'onnxruntime-web WASM, 1 thread';
    case 'wasm-2': return 'onnxruntime-web WASM, 2 threads (COOP/COEP)';
    case 'webgpu': return 'onnxruntime-web WebGPU (SwiftShader, software)';
  }
}

function readOutputs(dir: string, names: string[]): Record<string, Float32Array> {
  return Object.fromEntries(names.filter((n) => existsSync(join(dir, `${n}.f32`))).map((name) => {
    const bytes = readFileSync(join(dir, `${name}.f32`));
    return [name, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];
  }));
}

/** onnxruntime-node in a child process (`tsx` as the loader), so its maxRSS is this run's peak. */
export async function runNode(spec: BenchSpec, threads: 1 | 2, dirs: BenchDirs, timeoutMs: number): Promise<TargetRun> {
  const target: TargetId = threads === 1 ? 'node-1' : 'node-2';
  const base: TargetRun = { target, runtime: runtimeLabel(target), threads };
  const dir = join(dirs.work, safeName(`${spec.id}-${target}`));
  mkdirSync(dir, { recursive: true });
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, specPath, String(threads), dirs.models, dirs.feeds, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`did not finish within ${(timeoutMs / 60_000).toFixed(1)} min (stopped)`));
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`the onnxruntime-node child exited ${signal ?? code}${signal === 'SIGKILL' ? ' (killed: out of memory?)' : ''}; see the output above`));
      });
    });
    const parsed = JSON.parse(stdout.trim().split('\n').pop()!) as RunResult & { outputs: string[]; maxRssBytes: number };
    return {
      ...base,
      result: parsed,
      outputs: readOutputs(dir, parsed.outputs),
      memory: { measure: 'process maxRSS (process.resourceUsage(), child process per run)', peakBytes: parsed.maxRssBytes },
    };
  } catch (err) {
    return { ...base, failed: (err as Error).message };
  }
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
  frontierOnnxBench(spec: BenchSpec, ep: 'wasm' | 'webgpu', threads: number, outputsUrl: string): Promise<BrowserResult>;
  frontierMeasureMemory(): Promise<number | null>;
};

/** The largest peak RSS among the browser's renderer processes (the page and its worker live in one). */
function rendererPeak(processes: ProcessMemory[]): number {
  return Math.max(0, ...processes.filter((p) => p.type === 'renderer').map((p) => p.peakRssBytes));
}

/** One spec in a fresh Chromium; gives up (closing the browser) after `timeoutMs`. */
export async function runBrowser(spec: BenchSpec, target: Exclude<TargetId, 'node-1' | 'node-2'>, url: string, dirs: BenchDirs, timeoutMs: number, log: (line: string) => void): Promise<TargetRun> {
  const browser = await launchBenchBrowser();
  const base: TargetRun = { target, runtime: runtimeLabel(target) };
  const uploadName = safeName(`${spec.id}-${target}`);
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
    await page.waitForFunction(() => 'frontierOnnxBench' in globalThis, undefined, { timeout: 30_000 });
    const ep = target === 'webgpu' ? 'webgpu' : 'wasm';
    const threads = target === 'wasm-2' ? 2 : 1;
    const cpu = sampleCpu(await rendererPids(browser));
    const run = page.evaluate(([s, e, t, u]) => (globalThis as unknown as BenchGlobal).frontierOnnxBench(s, e, t, u), [spec, ep, threads, `${url}/outputs/${uploadName}`] as const);
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const r = await Promise.race([run, timeout]);
    const cpuOver = cpu.stop();
    if (r === 'timeout') {
      run.catch(() => {}); // rejected when the browser closes below
      const processes = await browserProcessMemory(browser);
      return { ...base, failed: `did not finish within ${(timeoutMs / 60_000).toFixed(1)} min (stopped)`, memory: { measure: 'renderer process peak RSS (VmHWM) until stopped', peakBytes: rendererPeak(processes), processes } };
    }
    if (target === 'wasm-2' && (!r.isolated || r.threads !== 2)) throw new Error('the COOP/COEP bench page is not cross-origin isolated');
    const pageEstimateBytes = await page.evaluate(() => (globalThis as unknown as BenchGlobal).frontierMeasureMemory());
    const processes = await browserProcessMemory(browser);
    return {
      ...base,
      threads: r.threads,
      adapter: r.adapter,
      downloadMs: r.downloadMs,
      result: { ...r, cpuMs: r.runSpans.map((span) => cpuOver(span) ?? Number.NaN) },
      outputs: readOutputs(join(dirs.work, 'uploads', uploadName), r.outputs),
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
    await page.waitForFunction(() => 'frontierOnnxBench' in globalThis, undefined, { timeout: 30_000 });
    return rendererPeak(await browserProcessMemory(browser));
  } finally {
    await browser.close();
  }
}
