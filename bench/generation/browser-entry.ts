// The generation bench page's script. It also runs as the page's Web Worker, where the model runs (as the plugin
// runs its engine in one), through the product's onnxruntime-web runtime (worker/runtime/ort-web.ts).
import * as Comlink from 'comlink';
import { configureOrtWeb, createOrtWebRuntime, probeWebGpu } from '../../worker/runtime/ort-web.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import { runSpec, type RunResult, type RunSpec } from './cases.ts';

export interface BrowserResult extends RunResult {
  downloadMs: number;
  threads: number;
  isolated: boolean;
  adapter?: string;
}

/** Kept open after the run so the page's memory is measured with the model still loaded. */
let session: Session | undefined;

async function bench(spec: RunSpec, ep: 'wasm' | 'webgpu', threads: number): Promise<BrowserResult> {
  configureOrtWeb({ wasmBaseUrl: `${location.origin}/ort`, threads });
  const adapter = ep === 'webgpu' ? (await probeWebGpu()).detail : undefined;
  const t0 = performance.now();
  const response = await fetch(spec.model);
  if (!response.ok) throw new Error(`${spec.model}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const downloadMs = performance.now() - t0;
  const t1 = performance.now();
  session = await createOrtWebRuntime(ep).createSession(spec.card, async () => bytes);
  const sessionMs = performance.now() - t1;
  console.log(`model ${(bytes.length / 2 ** 20).toFixed(0)} MiB fetched in ${downloadMs.toFixed(0)} ms; session ${sessionMs.toFixed(0)} ms`);
  const result = await runSpec(spec, session, (line) => console.log(line));
  return { ...result, sessionMs, downloadMs, threads, isolated: crossOriginIsolated, adapter };
}

if (typeof document === 'undefined') {
  Comlink.expose({ bench });
} else {
  const remote = Comlink.wrap<{ bench: typeof bench }>(new Worker('bench.js', { type: 'module' }));
  Object.assign(globalThis, {
    // Typed arrays become plain arrays: what page.evaluate returns to Node must be JSON-like.
    frontierGenerationBench: async (spec: RunSpec, ep: 'wasm' | 'webgpu', threads: number) => {
      const r = await remote.bench(spec, ep, threads);
      return { ...r, check: Object.fromEntries(Object.entries(r.check).map(([k, v]) => [k, Array.from(v)])) };
    },
    // Chromium's own estimate of the page's memory (JS heaps and wasm memories of the page and its workers);
    // only in cross-origin isolated pages.
    frontierMeasureMemory: async () => {
      const measure = (performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
      if (!crossOriginIsolated || !measure) return null;
      return (await measure.call(performance)).bytes;
    },
  });
}
