// The speed bench page's script (bench/inpaint/serve.ts). It also runs as the page's Web Worker, where the model
// runs (as the plugin runs its engine in one), through the product's onnxruntime-web runtime. Outputs go back to
// the bench server by POST (a VQ-Diffusion step's log-probs are 32 MB: too much for page.evaluate's JSON).
import * as Comlink from 'comlink';
import { configureOrtWeb, createOrtWebRuntime, probeWebGpu } from '../../worker/runtime/ort-web.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import { feedTensor, outputBytes, runBench, type BenchSpec, type RunResult } from './spec.ts';

export interface BrowserResult extends RunResult {
  downloadMs: number;
  threads: number;
  isolated: boolean;
  adapter?: string;
  outputs: string[];
}

/** Kept open after the run so the page's memory is measured with the model still loaded. */
let session: Session | undefined;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function bench(spec: BenchSpec, ep: 'wasm' | 'webgpu', threads: number, outputsUrl: string): Promise<BrowserResult> {
  configureOrtWeb({ wasmBaseUrl: `${location.origin}/ort`, threads });
  const adapter = ep === 'webgpu' ? (await probeWebGpu()).detail : undefined;
  const t0 = performance.now();
  const bytes = await fetchBytes(`/models/${spec.modelFile}`);
  const downloadMs = performance.now() - t0;
  const feeds = Object.fromEntries(await Promise.all(spec.feeds.map(async (f) => [f.name, feedTensor(f, await fetchBytes(`/feeds/${f.file}`))] as const)));
  const t1 = performance.now();
  session = await createOrtWebRuntime(ep).createSession(spec.card, async () => bytes);
  const sessionMs = performance.now() - t1;
  console.log(`model ${(bytes.length / 2 ** 20).toFixed(0)} MiB fetched in ${downloadMs.toFixed(0)} ms; session ${sessionMs.toFixed(0)} ms`);
  const { outputs, ...result } = await runBench(spec, session, feeds, (line) => console.log(line));
  for (const [name, t] of Object.entries(outputs)) {
    const body = outputBytes(t);
    const response = await fetch(`${outputsUrl}/${name}`, { method: 'POST', body: body.slice() });
    if (!response.ok) throw new Error(`upload of output ${name}: HTTP ${response.status}`);
  }
  return { ...result, sessionMs, downloadMs, threads, isolated: crossOriginIsolated, adapter, outputs: Object.keys(outputs) };
}

if (typeof document === 'undefined') {
  Comlink.expose({ bench });
} else {
  const remote = Comlink.wrap<{ bench: typeof bench }>(new Worker('bench.js', { type: 'module' }));
  Object.assign(globalThis, {
    frontierOnnxBench: (spec: BenchSpec, ep: 'wasm' | 'webgpu', threads: number, outputsUrl: string) => remote.bench(spec, ep, threads, outputsUrl),
    // Chromium's own estimate of the page's memory (JS heaps and wasm memories of the page and its workers);
    // only in cross-origin isolated pages.
    frontierMeasureMemory: async () => {
      const measure = (performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
      if (!crossOriginIsolated || !measure) return null;
      return (await measure.call(performance)).bytes;
    },
  });
}
