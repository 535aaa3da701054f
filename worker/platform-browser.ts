// The engine's browser platform: onnxruntime-web (WebGPU or WASM), model files over HTTP with the Cache API,
// codecs on OffscreenCanvas.
import { FrontierError, type ResolvedTarget, type Target } from './job.ts';
import type { Capabilities, EngineConfig, TargetChoice } from './engine-api.ts';
import type { EnginePlatform } from './engine.ts';
import type { ModelCard, Registry } from './models/card.ts';
import builtInRegistry from '../models/registry.json' with { type: 'json' };

/** The model cards this build was made with (models/registry.json). */
const BUILT_IN_REGISTRY = builtInRegistry as Registry;
import { HttpModelSource, cachedFiles, openModelCache } from './models/http-source.ts';
import { browserCodec } from './image/codec-browser.ts';
import { configureOrtWeb, probeWebGpu, wasmEntry, webGpuEntry } from './runtime/ort-web.ts';
import { browserMachine, wasmPoolEntry } from './runtime/ort-web-pool.ts';
import { modelHostServerEntry } from './runtime/oip-entry.ts';
import { RuntimeRegistry, type MachineCaps } from './runtime/registry.ts';
import type { Runtime } from './runtime/runtime.ts';
import { createJobServer, type JobServer } from './runtime/jobs-client.ts';

/** The browser platform: the engine's platform plus its runtime registry (a test or a new runtime registers there). */
export type BrowserPlatform = EnginePlatform & { readonly runtimes: RuntimeRegistry };

export function createBrowserPlatform(config: EngineConfig): BrowserPlatform {
  const base = config.modelBaseUrl.replace(/\/+$/, '');
  const source = new HttpModelSource(base, config.token);
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = config.wasmThreads ?? (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  configureOrtWeb({ wasmBaseUrl: `${base}/ort`, threads });
  let jobs: JobServer | undefined;
  let webgpu: Promise<{ available: boolean; detail: string }> | null = null;
  const probe = () => (webgpu ??= probeWebGpu());
  const wasm: MachineCaps['wasm'] = {
    available: typeof WebAssembly === 'object',
    threads,
    crossOriginIsolated: isolated,
    detail: isolated ? `${threads} threads` : '1 thread (the page is not cross-origin isolated)',
  };

  const machine = browserMachine();

  // Asked in this order under auto: a hardware GPU, then the model host when it runs models (native onnxruntime is
  // 2–10× single-threaded WASM), then WASM on several single-threaded workers where the page gets one WASM thread and
  // the machine has cores (and memory for a copy of the model in each), then WASM in this worker; a software GPU
  // adapter only for a card nothing else here runs.
  const runtimes = new RuntimeRegistry({
    caps: async () => ({ webgpu: await probe(), wasm, ...(machine ? { machine } : {}) }),
    notHere: (target) => (target === 'node' ? 'onnxruntime-node runs only in the CLI and on the server: choose Server.' : `The browser engine cannot run on ${target}.`),
    nowhere: (card, refusals) => {
      const server = refusals.find((r) => r.entry.target === 'server');
      // Too large for the browser (e.g. StyleSwin 1024: one attention tensor is over WebGPU's buffer limits).
      return `${card.label} runs only on a server, and none answers at ${base}: start it with "npm start" (or set a server in Settings).${server ? ` ${server.error ?? server.detail}` : ''}`;
    },
  });
  runtimes.register(webGpuEntry, 300);
  runtimes.register(modelHostServerEntry({ baseUrl: base, token: config.token }), 200);
  runtimes.register(wasmPoolEntry({ workers: config.wasmWorkers }), 150);
  runtimes.register(wasmEntry, 100);

  const platform: BrowserPlatform = {
    runtimes,
    codec: browserCodec,
    source,

    async loadRegistry(): Promise<Registry> {
      let response: Response;
      try {
        response = await fetch(`${base}/models/registry.json`, { headers: config.token ? { Authorization: `Bearer ${config.token}` } : {} });
      } catch {
        throw new FrontierError('download-failed', `Cannot reach the model host at ${base}. Start the local server with "npm start", or fix the server URL in Settings.`);
      }
      // An inference server that is not ours (Triton, KServe, a gateway) has no model list: use the cards this
      // plugin was built with; jobs then run on that server (the Server target), and its models are checked there.
      if (response.status === 404) return BUILT_IN_REGISTRY;
      if (response.status === 401 || response.status === 403) {
        throw new FrontierError('download-failed', `The server at ${base} refused access (${response.status}). Check the token in Settings.`);
      }
      if (!response.ok) throw new FrontierError('download-failed', `The model host at ${base} answered ${response.status} for its model list. Check the server URL in Settings.`);
      const registry = (await response.json()) as Registry;
      if (registry?.version !== 1 || !Array.isArray(registry.models)) throw new FrontierError('download-failed', `${base}/models/registry.json is not a Frontier model registry.`);
      return registry;
    },

    async capabilities(): Promise<Capabilities> {
      const cache = await openModelCache();
      return {
        webgpu: await probe(),
        wasm,
        cache: cache
          ? { available: true, detail: 'models are kept in the Cache API' }
          : { available: false, detail: 'no Cache API here: the browser HTTP cache keeps models (content-addressed, immutable URLs)' },
      };
    },

    chooseTarget: (card: ModelCard, requested: Target): Promise<TargetChoice> => runtimes.choose(card, requested),
    runtime: (target: ResolvedTarget): Runtime => runtimes.runtime(target),

    jobServer(): JobServer {
      return (jobs ??= createJobServer({ baseUrl: base, token: config.token }));
    },

    async cachedBytes(card: ModelCard): Promise<number> {
      const sizes = await cachedFiles(card.files.map((f) => source.url(f)));
      return [...sizes.values()].reduce((a, b) => a + b, 0);
    },

    async clearCache(card: ModelCard): Promise<void> {
      for (const file of card.files) await source.evict(file);
    },
  };
  return platform;
}
