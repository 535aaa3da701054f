// Runs one BenchSpec on one target (bench/common/targets.ts measures it): onnxruntime-node in a child process,
// onnxruntime-web in a fresh headless Chromium. Outputs are read back as Float32Arrays.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_MEMORY, runInChromium, runNodeChild, runtimeLabel, type BrowserTarget, type Memory, type TargetId } from '../targets.ts';
import type { BenchSpec, RunResult } from './spec.ts';
import type { BrowserResult } from './browser-entry.ts';

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
export const READY = 'frontierOnnxBench';

/** A row id as a file and URL name (ids may say "(2 of 36 blocks)"). */
const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

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
    const parsed = JSON.parse(await runNodeChild(CHILD, [specPath, String(threads), dirs.models, dirs.feeds, dir], timeoutMs)) as RunResult & { outputs: string[]; maxRssBytes: number };
    return {
      ...base,
      result: parsed,
      outputs: readOutputs(dir, parsed.outputs),
      memory: { measure: NODE_MEMORY, peakBytes: parsed.maxRssBytes },
    };
  } catch (err) {
    return { ...base, failed: (err as Error).message };
  }
}

/** One spec in a fresh Chromium; gives up (closing the browser) after `timeoutMs`. */
export async function runBrowser(spec: BenchSpec, target: BrowserTarget, url: string, dirs: BenchDirs, timeoutMs: number, log: (line: string) => void): Promise<TargetRun> {
  const base: TargetRun = { target, runtime: runtimeLabel(target) };
  const uploadName = safeName(`${spec.id}-${target}`);
  const outcome = await runInChromium(target, url, READY, timeoutMs, log, (page, ep, threads) =>
    page.evaluate(([s, e, t, u]) => (globalThis as unknown as Record<typeof READY, (...a: unknown[]) => Promise<BrowserResult>>).frontierOnnxBench(s, e, t, u), [spec, ep, threads, `${url}/outputs/${uploadName}`] as const));
  if (outcome.failed !== undefined) return { ...base, failed: outcome.failed, memory: outcome.memory };
  const r = outcome.result;
  return {
    ...base,
    threads: r.threads,
    adapter: r.adapter,
    downloadMs: r.downloadMs,
    result: { ...r, cpuMs: outcome.cpuMs },
    outputs: readOutputs(join(dirs.work, 'uploads', uploadName), r.outputs),
    memory: outcome.memory,
  };
}
