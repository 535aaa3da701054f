// The engine's browser platform: onnxruntime-web (WebGPU or WASM), model files over HTTP with the Cache API,
// codecs on OffscreenCanvas.
import { FrontierError, type ResolvedTarget, type Target } from './job.ts';
import type { Capabilities, EngineConfig, TargetChoice } from './engine-api.ts';
import type { EnginePlatform } from './engine.ts';
import type { ModelCard, Registry } from './models/card.ts';
import { HttpModelSource, cachedFiles, openModelCache } from './models/http-source.ts';
import { browserCodec } from './image/codec-browser.ts';
import { configureOrtWeb, createOrtWebRuntime, probeWebGpu } from './runtime/ort-web.ts';
import type { Runtime } from './runtime/runtime.ts';

export function createBrowserPlatform(config: EngineConfig): EnginePlatform {
  const base = config.modelBaseUrl.replace(/\/+$/, '');
  const source = new HttpModelSource(base, config.token);
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = config.wasmThreads ?? (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  configureOrtWeb({ wasmBaseUrl: `${base}/ort`, threads });
  const runtimes = new Map<string, Runtime>();
  let webgpu: Promise<{ available: boolean; detail: string }> | null = null;
  const probe = () => (webgpu ??= probeWebGpu());

  const platform: EnginePlatform = {
    codec: browserCodec,
    source,

    async loadRegistry(): Promise<Registry> {
      let response: Response;
      try {
        response = await fetch(`${base}/models/registry.json`, { headers: config.token ? { Authorization: `Bearer ${config.token}` } : {} });
      } catch {
        throw new FrontierError('download-failed', `Cannot reach the model host at ${base}. Start the local server with "npm start", or fix the server URL in Settings.`);
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
        wasm: {
          available: typeof WebAssembly === 'object',
          threads,
          crossOriginIsolated: isolated,
          detail: isolated ? `${threads} threads` : '1 thread (the page is not cross-origin isolated)',
        },
        cache: cache
          ? { available: true, detail: 'models are kept in the Cache API' }
          : { available: false, detail: 'no Cache API here: the browser HTTP cache keeps models (content-addressed, immutable URLs)' },
      };
    },

    async chooseTarget(card: ModelCard, requested: Target): Promise<TargetChoice> {
      const gpu = await probe();
      const gpuOk = gpu.available && card.targets.includes('webgpu');
      const why = !gpu.available ? gpu.detail : !card.targets.includes('webgpu') ? `${card.label} does not run on WebGPU` : gpu.detail;
      switch (requested) {
        case 'auto':
          if (gpuOk && !/software adapter/.test(gpu.detail)) return { target: 'webgpu', reason: `auto → WebGPU: ${gpu.detail}` };
          return { target: 'wasm', reason: `auto → WASM (${threads} thread${threads === 1 ? '' : 's'}): ${gpuOk ? `WebGPU has only a ${gpu.detail}` : why}` };
        case 'webgpu':
          if (!gpuOk) throw new FrontierError('target-unavailable', `WebGPU is unavailable: ${why}. Choose auto or WASM.`);
          return { target: 'webgpu', reason: `WebGPU: ${gpu.detail}` };
        case 'wasm':
          return { target: 'wasm', reason: `WASM: ${threads} thread${threads === 1 ? '' : 's'}` };
        case 'server':
        case 'node':
          throw new FrontierError('target-unavailable', 'Running on the server (Open Inference Protocol) is not available in this version yet. Choose auto, WebGPU or WASM.');
      }
    },

    runtime(target: ResolvedTarget): Runtime {
      if (target !== 'webgpu' && target !== 'wasm') throw new FrontierError('target-unavailable', `The browser engine cannot run on ${target}.`);
      let runtime = runtimes.get(target);
      if (!runtime) runtimes.set(target, (runtime = createOrtWebRuntime(target)));
      return runtime;
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
