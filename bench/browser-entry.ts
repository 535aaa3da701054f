// The bench page's script. It also runs as the page's Web Worker (as the plugin runs its engine in one: multi-threaded
// wasm must not block the page's main thread), with the same Engine and browser platform as the plugin's worker.
import * as Comlink from 'comlink';
import { Engine } from '../worker/engine.ts';
import { createBrowserPlatform } from '../worker/platform-browser.ts';
import type { RgbaImage, Target } from '../worker/job.ts';

interface BenchCase {
  model: string;
  scale: number;
  target: Target;
  image: { width: number; height: number; data: number[] };
  runs: number;
}

async function bench(c: BenchCase, threads: number): Promise<{ loadMs: number; runMs: number[]; target: string; threads: number; isolated: boolean }> {
  const engine = new Engine(createBrowserPlatform({ modelBaseUrl: location.origin, wasmThreads: threads }));
  const image: RgbaImage = { width: c.image.width, height: c.image.height, data: Uint8Array.from(c.image.data) };
  const job = { task: 'upscale', model: c.model, params: { scale: c.scale }, image, target: c.target };
  const t0 = performance.now();
  const first = await engine.run({ ...job, id: 'warm' }); // includes download + session creation
  const loadMs = performance.now() - t0;
  const runMs: number[] = [];
  for (let i = 0; i < c.runs; i++) {
    const t = performance.now();
    await engine.run({ ...job, id: `run${i}` });
    runMs.push(performance.now() - t);
  }
  return { loadMs, runMs, target: first.meta.target, threads, isolated: crossOriginIsolated };
}

if (typeof document === 'undefined') {
  Comlink.expose({ bench });
} else {
  const remote = Comlink.wrap<{ bench: typeof bench }>(new Worker('bench.js', { type: 'module' }));
  (globalThis as unknown as { frontierBench: typeof bench }).frontierBench = (c, threads) => remote.bench(c, threads);
}
