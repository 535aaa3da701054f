// One model on both sides, interleaved: onnxruntime-web WASM with one thread in a Chromium page's Web Worker, and
// onnxruntime-node with one thread in a child process. Same ONNX file, same input bytes. Each round runs both, the
// side that goes first alternating, so load bursts from the other jobs on this shared machine fall on both.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { processCpuMs, rendererPids } from '../common/chromium.ts';
import { maxAbsDiff, median } from '../common/stats.ts';
import type { OpProfile } from '../restore-profile.ts';
import type { GapApi, GapOpen, GapRuns } from './entry.ts';
import type { GapModel } from './models.ts';
import { NodeGapTarget } from './node-child.ts';
import { fileSafe } from './names.ts';

export interface Side {
  runMs: number[];
  cpuMs: number[];
  sessionMs: number;
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

async function wasmRuns(side: BrowserSide, count: number): Promise<{ runMs: number[]; cpuMs: number }> {
  const cpu = () => side.pids.reduce((s, pid) => s + (processCpuMs(pid) ?? 0), 0);
  const c0 = cpu();
  const r = await call<GapRuns>(side.page, 'runs', count);
  return { runMs: r.runMs, cpuMs: cpu() - c0 };
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
    const wasm: Side = { runMs: [], cpuMs: [], sessionMs: browser.sessionMs };
    const native: Side = { runMs: [], cpuMs: [], sessionMs: node.sessionMs };
    b.log(`${m.id}${tag}: sessions open (node ${(node.sessionMs / 1000).toFixed(1)} s, wasm ${(browser.sessionMs / 1000).toFixed(1)} s); warm-up`);
    await node.target.runs(warmup);
    await wasmRuns(browser, warmup);
    for (let r = 0; r < rounds; r++) {
      const sides = [
        async () => {
          const x = await wasmRuns(browser!, 1);
          wasm.runMs.push(x.runMs[0]);
          wasm.cpuMs.push(x.cpuMs);
        },
        async () => {
          const x = await node.target.runs(1);
          native.runMs.push(x.runMs[0]);
          native.cpuMs.push(x.cpuMs[0]);
        },
      ];
      if (r % 2) sides.reverse();
      for (const s of sides) await s();
      b.log(`${m.id}${tag}: round ${r + 1}/${rounds}: wasm ${wasm.runMs.at(-1)!.toFixed(0)} ms (cpu ${wasm.cpuMs.at(-1)!.toFixed(0)}), node ${native.runMs.at(-1)!.toFixed(0)} ms (cpu ${native.cpuMs.at(-1)!.toFixed(0)})`);
    }
    const prefix = `${m.id}${tag.replace(/[^A-Za-z0-9-]/g, '')}`;
    const { sent } = await node.target.outputs(join(b.dirs.outputs, `${prefix}-node-`));
    await call<string[]>(browser.page, 'upload', `/outputs/${prefix}-wasm-`);
    const outputs = sent.map((name) => compare(name, join(b.dirs.outputs, `${prefix}-node-${fileSafe(name)}.f32`), join(b.dirs.outputs, `${prefix}-wasm-${fileSafe(name)}.f32`)));
    return { wasm, node: native, outputs, load: [load0, loadAverage()], warmup };
  } finally {
    node.target.close();
    if (browser) {
      await call(browser.page, 'close').catch(() => {});
      await browser.page.close();
    }
  }
}

/** onnxruntime's profiler on both sides: `warmup` + 1 profiled runs each (the warm-up ones left out of the sums), interleaved. */
export async function profile(b: Bench, m: GapModel, workDir: string, warmup = 1): Promise<Profiled> {
  const runs = warmup + 1;
  const prefix = join(workDir, `profile-${m.id}`);
  const node = await NodeGapTarget.open({ model: m.modelPath, feedsDir: b.dirs.feeds, feeds: m.feeds, options: { enableProfiling: true, profileFilePrefix: prefix } });
  let browser: BrowserSide | undefined;
  try {
    browser = await openPage(b, m, { enableProfiling: true });
    for (let r = 0; r < runs; r++) {
      await node.target.runs(1);
      await wasmRuns(browser, 1);
    }
    const nodeProfile = await node.target.profile(warmup);
    const wasmProfile = await call<OpProfile>(browser.page, 'profile', warmup, `/outputs/${m.id}-wasm-profile.jsonl`);
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
