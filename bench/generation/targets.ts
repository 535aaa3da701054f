// Runs one generation RunSpec on one target (bench/common/targets.ts measures it): onnxruntime-node in a child
// process, onnxruntime-web in a fresh headless Chromium; the check outputs come back as Float32Arrays.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_MEMORY, runInChromium, runNodeChild, runtimeLabel, type BrowserTarget, type Memory, type TargetId } from '../common/targets.ts';
import type { RunResult, RunSpec } from './cases.ts';
import type { BrowserResult } from './browser-entry.ts';

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
export const READY = 'frontierGenerationBench';

/** onnxruntime-node in a child process (`tsx` as the loader), so its maxRSS is this run's peak. */
export async function runNode(spec: RunSpec, threads: number, workDir: string): Promise<TargetRun> {
  const target: TargetId = threads === 1 ? 'node-1' : 'node-2';
  const dir = join(workDir, `${spec.family}-${target}`);
  mkdirSync(dir, { recursive: true });
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  const parsed = JSON.parse(await runNodeChild(CHILD, [specPath, String(threads), dir])) as Omit<RunResult, 'check'> & { check: string[]; maxRssBytes: number };
  const check = Object.fromEntries(parsed.check.map((name) => {
    const bytes = readFileSync(join(dir, `check.${name}.f32`));
    return [name, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];
  }));
  return {
    target,
    runtime: runtimeLabel(target),
    threads,
    result: { ...parsed, check },
    memory: { measure: NODE_MEMORY, peakBytes: parsed.maxRssBytes },
  };
}

type PageResult = Omit<BrowserResult, 'check'> & { check: Record<string, number[]> };

/** One spec in a fresh Chromium; gives up (closing the browser) after `timeoutMs`. */
export async function runBrowser(spec: RunSpec, target: BrowserTarget, url: string, timeoutMs: number, log: (line: string) => void): Promise<TargetRun> {
  const base: TargetRun = { target, runtime: runtimeLabel(target) };
  const outcome = await runInChromium(target, url, READY, timeoutMs, log, (page, ep, threads) =>
    page.evaluate(([s, e, t]) => (globalThis as unknown as Record<typeof READY, (...a: unknown[]) => Promise<PageResult>>).frontierGenerationBench(s, e, t), [spec, ep, threads] as const));
  if (outcome.failed !== undefined) return { ...base, failed: outcome.failed, memory: outcome.memory };
  const r = outcome.result;
  const check = Object.fromEntries(Object.entries(r.check).map(([k, v]) => [k, Float32Array.from(v)]));
  return { ...base, threads: r.threads, adapter: r.adapter, downloadMs: r.downloadMs, result: { ...r, check, cpuMs: outcome.cpuMs }, memory: outcome.memory };
}
