// The browser side of the speed benches: the bench page's script also runs as the page's Web Worker, where the
// model runs (as the plugin runs its engine in one), through the product's onnxruntime-web runtime.
import * as Comlink from 'comlink';
import { configureOrtWeb, createOrtWebRuntime, probeWebGpu } from '../../worker/runtime/ort-web.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import type { ModelCard } from '../../worker/models/card.ts';

export async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Kept open after the run so the page's memory is measured with the model still loaded. */
let session: Session | undefined;

/** In the worker: fetches the model and opens its session on `ep` with `threads` wasm threads. */
export async function openSession(card: ModelCard, modelUrl: string, ep: 'wasm' | 'webgpu', threads: number): Promise<{ session: Session; downloadMs: number; sessionMs: number; adapter?: string }> {
  configureOrtWeb({ wasmBaseUrl: `${location.origin}/ort`, threads });
  const adapter = ep === 'webgpu' ? (await probeWebGpu()).detail : undefined;
  const t0 = performance.now();
  const bytes = await fetchBytes(modelUrl);
  const downloadMs = performance.now() - t0;
  const t1 = performance.now();
  session = await createOrtWebRuntime(ep).createSession(card, async () => bytes);
  const sessionMs = performance.now() - t1;
  console.log(`model ${(bytes.length / 2 ** 20).toFixed(0)} MiB fetched in ${downloadMs.toFixed(0)} ms; session ${sessionMs.toFixed(0)} ms`);
  return { session, downloadMs, sessionMs, adapter };
}

/**
 * In the worker: exposes `bench`. On the page: starts the worker and puts `globalName` (calling `bench` there,
 * its result passed through `toPage`) and `frontierMeasureMemory` on globalThis for the bench to evaluate.
 */
export function exposeBench<A extends unknown[], R>(globalName: string, bench: (...args: A) => Promise<R>, toPage: (r: R) => unknown = (r) => r): void {
  if (typeof document === 'undefined') {
    Comlink.expose({ bench });
    return;
  }
  const remote = Comlink.wrap<{ bench: (...args: A) => Promise<R> }>(new Worker('bench.js', { type: 'module' }));
  Object.assign(globalThis, {
    [globalName]: async (...args: A) => toPage(await (remote.bench as (...a: A) => Promise<R>)(...args)),
    // Chromium's own estimate of the page's memory (JS heaps and wasm memories of the page and its workers);
    // only in cross-origin isolated pages.
    frontierMeasureMemory: async () => {
      const measure = (performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
      if (!crossOriginIsolated || !measure) return null;
      return (await measure.call(performance)).bytes;
    },
  });
}
