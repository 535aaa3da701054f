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
import { configureOrtWeb, createOrtWebRuntime, probeWebGpu } from './runtime/ort-web.ts';
import { createOipRuntime, probeServer, type ProbeResult } from './runtime/oip.ts';
import type { Runtime } from './runtime/runtime.ts';
import { createJobServer, type JobServer } from './runtime/jobs-client.ts';

export function createBrowserPlatform(config: EngineConfig): EnginePlatform {
  const base = config.modelBaseUrl.replace(/\/+$/, '');
  const source = new HttpModelSource(base, config.token);
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = config.wasmThreads ?? (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  configureOrtWeb({ wasmBaseUrl: `${base}/ort`, threads });
  const runtimes = new Map<string, Runtime>();
  let jobs: JobServer | undefined;
  let webgpu: Promise<{ available: boolean; detail: string }> | null = null;
  const probe = () => (webgpu ??= probeWebGpu());
  // The model host may also run models (our companion server speaks the Open Inference Protocol). Probed once;
  // a failed probe is retried on the next choice, so starting the server later is noticed.
  let server: Promise<ProbeResult> | null = null;
  const probeOip = () => {
    const p = (server ??= probeServer({ baseUrl: base, token: config.token, timeoutMs: 3000 }));
    void p.then((r) => {
      if (!r.ok && server === p) server = null;
    });
    return p;
  };

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
      const hardwareGpu = gpuOk && !/software adapter/.test(gpu.detail);
      const why = !gpu.available ? gpu.detail : !card.targets.includes('webgpu') ? `${card.label} does not run on WebGPU` : gpu.detail;
      const wasmReason = `WASM (${threads} thread${threads === 1 ? '' : 's'})`;
      switch (requested) {
        case 'auto': {
          if (hardwareGpu) return { target: 'webgpu', reason: `auto → WebGPU: ${gpu.detail}` };
          // Native onnxruntime on the companion server is 2–10× single-threaded WASM (bench/results/upscale.md).
          const oip = card.targets.includes('server') ? await probeOip() : null;
          if (oip?.ok) return { target: 'server', reason: `auto → local server (${oip.name ?? 'OIP'} at ${base}): native onnxruntime, faster than ${wasmReason}` };
          if (!card.targets.includes('wasm')) {
            // Too large for the browser (e.g. StyleSwin 1024: one attention tensor is over WebGPU's buffer limits).
            if (gpuOk) return { target: 'webgpu', reason: `auto → WebGPU: ${gpu.detail}` };
            throw new FrontierError('target-unavailable', `${card.label} runs only on a server, and none answers at ${base}: start it with "npm start" (or set a server in Settings).${oip?.error ? ` ${oip.error}` : ''}`);
          }
          return { target: 'wasm', reason: `auto → ${wasmReason}: ${gpuOk ? `WebGPU has only a ${gpu.detail}` : why}${oip ? '; no inference server reachable' : ''}` };
        }
        case 'webgpu':
          if (!gpuOk) throw new FrontierError('target-unavailable', `WebGPU is unavailable: ${why}. Choose auto or WASM.`);
          return { target: 'webgpu', reason: `WebGPU: ${gpu.detail}` };
        case 'wasm':
          if (!card.targets.includes('wasm')) throw new FrontierError('target-unavailable', `${card.label} does not run in the browser (WASM): choose Server or Auto.`);
          return { target: 'wasm', reason: wasmReason };
        case 'server': {
          if (!card.targets.includes('server')) throw new FrontierError('target-unavailable', `${card.label} does not run on a server.`);
          const oip = await probeOip();
          if (!oip.ok) throw new FrontierError('target-unavailable', oip.error ?? `The server at ${base} is not ready.`);
          return { target: 'server', reason: `Server: ${oip.name ?? 'OIP'} at ${base} (${oip.latencyMs} ms round trip)` };
        }
        case 'node':
          throw new FrontierError('target-unavailable', 'onnxruntime-node runs only in the CLI and on the server: choose Server.');
      }
    },

    runtime(target: ResolvedTarget): Runtime {
      let runtime = runtimes.get(target);
      if (runtime) return runtime;
      if (target === 'server') runtime = createOipRuntime({ baseUrl: base, token: config.token });
      else if (target === 'webgpu' || target === 'wasm') runtime = createOrtWebRuntime(target);
      else throw new FrontierError('target-unavailable', `The browser engine cannot run on ${target}.`);
      runtimes.set(target, runtime);
      return runtime;
    },

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
