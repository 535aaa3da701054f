// One model on both sides, interleaved: onnxruntime-web WASM with one thread in a Chromium page's Web Worker, and
// onnxruntime-node with one thread in a child process. Same ONNX file, same input bytes. Each round runs both, the
// side that goes first alternating, so load bursts from the other jobs on this shared machine fall on both.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { rendererPids } from '../common/chromium.ts';
import { cpuBetween, threadCpu } from '../common/proc.ts';
import { maxAbsDiff, median } from '../common/stats.ts';
import type { OpProfile } from '../restore-profile.ts';
import type { GapApi, GapOpen, GapRuns } from './entry.ts';
import type { GapModel } from './models.ts';
import { NodeGapTarget } from './node-child.ts';
import { fileSafe } from './names.ts';

export interface Side {
  runMs: number[];
  /** CPU time per run: for WASM, all of Chromium's renderer threads (as before the worker/background split). */
  cpuMs: number[];
  sessionMs: number;
  /** WASM only: the CPU of the Web Worker's thread (where onnxruntime-web runs) per run… */
  workerCpuMs?: number[];
  /** …and the rest of the renderer's (V8's background compiler and GC threads, the page's main thread). */
  backgroundCpuMs?: number[];
}

/** How the WASM side was warmed up: the fixed runs, then more until V8 stopped compiling in the background. */
export interface WasmWarmup {
  runs: number;
  /** false: the cap was reached with V8 still compiling. */
  settled: boolean;
  /** Background CPU (ms) of each warm-up run: V8 tiering the wasm code up to TurboFan on other threads. */
  backgroundCpuMs: number[];
}

export interface OutputCheck {
  name: string;
  values: number;
  maxAbsDiff: number;
  /** Largest |value| in node's output (to read the difference against). */
  maxAbs: number;
  nonFinite: number;
}

export interface Measured {
  wasm: Side;
  node: Side;
  outputs: OutputCheck[];
  load: [number, number];
  warmup?: number;
  /** Absent in results written before the settled warm-up (one fixed warm-up run then). */
  wasmWarmup?: WasmWarmup;
}

export interface Profiled {
  wasm: OpProfile;
  node: OpProfile;
}

type Api = Record<keyof GapApi, (...a: unknown[]) => Promise<unknown>>;

async function call<T>(page: Page, method: keyof GapApi, ...args: unknown[]): Promise<T> {
  return page.evaluate(([m, a]) => (globalThis as unknown as { frontierGap: Api }).frontierGap[m as keyof Api](...(a as unknown[])), [method, args] as const) as Promise<T>;
}

export interface Bench {
  browser: Browser;
  url: string;
  dirs: { feeds: string; outputs: string };
  /** Makes a model file servable under /models/<name>. */
  serve(path: string): string;
  log(line: string): void;
}

interface BrowserSide {
  page: Page;
  pids: number[];
  sessionMs: number;
}

async function openPage(b: Bench, m: GapModel, options: Record<string, unknown>): Promise<BrowserSide> {
  const page = await b.browser.newPage();
  page.setDefaultTimeout(0);
  page.on('console', (msg) => {
    const text = msg.text();
    if (!text.includes('VerifyEachNodeIsAssignedToAnEp') && !text.includes('Rerunning with verbose')) b.log(`  [wasm ${m.id}] ${text.slice(0, 300)}`);
  });
  page.on('pageerror', (e) => b.log(`  [wasm ${m.id}] page error: ${e.message}`));
  await page.goto(`${b.url}/`);
  await page.waitForFunction(() => 'frontierGap' in globalThis, undefined, { timeout: 30_000 });
  const spec: GapOpen = {
    modelUrl: `/models/${b.serve(m.modelPath)}`,
    externalData: m.externalData.map((e) => ({ path: e.path, url: `/models/${b.serve(e.file)}` })),
    feeds: m.feeds,
    threads: 1,
    options,
  };
  try {
    const opened = await call<{ sessionMs: number; threads: number }>(page, 'open', spec);
    if (opened.threads !== 1) throw new Error(`onnxruntime-web runs ${opened.threads} threads, not 1`);
    return { page, pids: await rendererPids(b.browser), sessionMs: opened.sessionMs };
  } catch (err) {
    await page.close();
    throw err;
  }
}

interface WasmRun {
  runMs: number;
  /** The whole renderer, the worker thread, and the rest. */
  cpuMs: number;
  workerCpuMs: number;
  backgroundCpuMs: number;
}

/** One run in the worker, with the renderer's CPU split by thread (the busiest DedicatedWorker thread is onnxruntime-web's). */
async function wasmRun(side: BrowserSide): Promise<WasmRun> {
  const before = threadCpu(side.pids);
  const r = await call<GapRuns>(side.page, 'runs', 1);
  const used = cpuBetween(before, threadCpu(side.pids));
  const cpuMs = used.reduce((s, t) => s + t.cpuMs, 0);
  const workerCpuMs = used.find((t) => t.thread.startsWith('DedicatedWorker'))?.cpuMs ?? 0;
  return { runMs: r.runMs[0], cpuMs, workerCpuMs, backgroundCpuMs: cpuMs - workerCpuMs };
}

// V8 runs onnxruntime-web's wasm in its baseline compiler (Liftoff) first and compiles each function again with
// TurboFan, on background threads, once it has run enough. The wasm has some very large functions (one took 3.5 s
// to compile here), so on a graph with many op types that costs seconds of CPU spread over the first 5–10 runs: a
// graph that runs in 100 ms is still being compiled in every run a fixed warm-up of one or three runs leaves to be
// timed (TTVSR's flow and align parts). So the warm-up goes on until a run in which the renderer's other threads
// used at most QUIET_SHARE of the worker's CPU (or QUIET_MS: /proc's tick is 10 ms). A designer's plugin pays this
// compilation once per worker, not per tile.
const QUIET_SHARE = 0.1;
const QUIET_MS = 20;
const SETTLE_MAX_RUNS = 40;
const SETTLE_MAX_MS = 120_000;

const quiet = (r: WasmRun) => r.backgroundCpuMs <= Math.max(QUIET_MS, QUIET_SHARE * r.workerCpuMs);

/** `warmup` runs, then more (up to the caps) until one is quiet. */
async function warmWasm(side: BrowserSide, warmup: number): Promise<WasmWarmup> {
  const start = performance.now();
  const background: number[] = [];
  let last: WasmRun | undefined;
  for (let i = 0; i < warmup || (last && !quiet(last) && i < SETTLE_MAX_RUNS && performance.now() - start < SETTLE_MAX_MS); i++) {
    last = await wasmRun(side);
    background.push(last.backgroundCpuMs);
  }
  return { runs: background.length, settled: !last || quiet(last), backgroundCpuMs: background };
}

const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

function compare(name: string, nodeFile: string, wasmFile: string): OutputCheck {
  const read = (f: string) => {
    const b = readFileSync(f);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  const a = read(nodeFile);
  const w = read(wasmFile);
  let maxAbs = 0;
  let nonFinite = 0;
  for (const v of a) {
    if (!Number.isFinite(v)) nonFinite++;
    else if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
  }
  return { name, values: a.length, maxAbsDiff: maxAbsDiff(a, w), maxAbs, nonFinite };
}

/** `warmup` runs a side (V8 tiers wasm code up over the first runs), then `rounds` rounds of one run each side (alternating who goes first), then the outputs compared. */
export async function measure(b: Bench, m: GapModel, rounds: number, warmup = 1, tag = ''): Promise<Measured> {
  const load0 = loadAverage();
  const node = await NodeGapTarget.open({ model: m.modelPath, feedsDir: b.dirs.feeds, feeds: m.feeds, options: {} });
  let browser: BrowserSide | undefined;
  try {
    browser = await openPage(b, m, wasmOptions());
    const wasm: Side = { runMs: [], cpuMs: [], sessionMs: browser.sessionMs, workerCpuMs: [], backgroundCpuMs: [] };
    const native: Side = { runMs: [], cpuMs: [], sessionMs: node.sessionMs };
    b.log(`${m.id}${tag}: sessions open (node ${(node.sessionMs / 1000).toFixed(1)} s, wasm ${(browser.sessionMs / 1000).toFixed(1)} s); warm-up`);
    await node.target.runs(warmup);
    const wasmWarmup = await warmWasm(browser, warmup);
    b.log(`${m.id}${tag}: wasm warm-up ${wasmWarmup.runs} run(s)${wasmWarmup.settled ? '' : ' (V8 still compiling at the cap)'}; background CPU per run ${wasmWarmup.backgroundCpuMs.join(', ')} ms`);
    for (let r = 0; r < rounds; r++) {
      const sides = [
        async () => {
          const x = await wasmRun(browser!);
          wasm.runMs.push(x.runMs);
          wasm.cpuMs.push(x.cpuMs);
          wasm.workerCpuMs!.push(x.workerCpuMs);
          wasm.backgroundCpuMs!.push(x.backgroundCpuMs);
        },
        async () => {
          const x = await node.target.runs(1);
          native.runMs.push(x.runMs[0]);
          native.cpuMs.push(x.cpuMs[0]);
        },
      ];
      if (r % 2) sides.reverse();
      for (const s of sides) await s();
      b.log(`${m.id}${tag}: round ${r + 1}/${rounds}: wasm ${wasm.runMs.at(-1)!.toFixed(0)} ms (cpu ${wasm.cpuMs.at(-1)!.toFixed(0)}: worker ${wasm.workerCpuMs!.at(-1)!.toFixed(0)}), node ${native.runMs.at(-1)!.toFixed(0)} ms (cpu ${native.cpuMs.at(-1)!.toFixed(0)})`);
    }
    const prefix = `${m.id}${tag.replace(/[^A-Za-z0-9-]/g, '')}`;
    const { sent } = await node.target.outputs(join(b.dirs.outputs, `${prefix}-node-`));
    await call<string[]>(browser.page, 'upload', `/outputs/${prefix}-wasm-`);
    const outputs = sent.map((name) => compare(name, join(b.dirs.outputs, `${prefix}-node-${fileSafe(name)}.f32`), join(b.dirs.outputs, `${prefix}-wasm-${fileSafe(name)}.f32`)));
    return { wasm, node: native, outputs, load: [load0, loadAverage()], warmup, wasmWarmup };
  } finally {
    node.target.close();
    if (browser) {
      await call(browser.page, 'close').catch(() => {});
      await browser.page.close();
    }
  }
}

/** onnxruntime's profiler on both sides: the warm-up (WASM's until V8 is done compiling), then 1 profiled run each. */
export async function profile(b: Bench, m: GapModel, workDir: string, warmup = 1): Promise<Profiled> {
  const runs = warmup + 1;
  const prefix = join(workDir, `profile-${m.id}`);
  const node = await NodeGapTarget.open({ model: m.modelPath, feedsDir: b.dirs.feeds, feeds: m.feeds, options: { enableProfiling: true, profileFilePrefix: prefix } });
  let browser: BrowserSide | undefined;
  try {
    browser = await openPage(b, m, { enableProfiling: true });
    await node.target.runs(runs);
    const wasmWarmup = await warmWasm(browser, warmup);
    await wasmRun(browser);
    const nodeProfile = await node.target.profile(warmup);
    const wasmProfile = await call<OpProfile>(browser.page, 'profile', wasmWarmup.runs, `/outputs/${m.id}-wasm-profile.jsonl`);
    b.log(`${m.id}: profiled (node ${nodeProfile.events} events, wasm ${wasmProfile.events})`);
    return { node: nodeProfile, wasm: wasmProfile };
  } finally {
    node.target.close();
    if (browser) {
      await call(browser.page, 'close').catch(() => {});
      await browser.page.close();
    }
  }
}

export const medianOf = (s: Side) => ({ wallMs: median(s.runMs), cpuMs: median(s.cpuMs) });
export const servedName = (path: string) => basename(path);

/** Extra onnxruntime-web session options for experiments (GAP_WASM_OPTIONS, JSON); none by default. */
function wasmOptions(): Record<string, unknown> {
  return process.env.GAP_WASM_OPTIONS ? (JSON.parse(process.env.GAP_WASM_OPTIONS) as Record<string, unknown>) : {};
}
