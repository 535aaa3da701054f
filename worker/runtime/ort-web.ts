// Runtime `ort-web`: onnxruntime-web in the worker, on WebGPU when an adapter exists, else WASM.
// wasmPaths is always explicit: Figma's iframe has no base URL and esbuild leaves import.meta.url empty.
import * as ort from 'onnxruntime-web';
import { FrontierError } from '../job.ts';
import type { Runtime } from './runtime.ts';
import { wrapOrtSession } from './ort-common.ts';
import { NOT_THIS_MODEL, no, yes, type RuntimeEntry } from './registry.ts';
import { ResidentFeeds, type ResidentStats } from './ort-web-resident.ts';

export const ORT_WASM_FILE = 'ort-wasm-simd-threaded.jsep.wasm';
/**
 * onnxruntime-web's wasm glue module. We bundle the build that imports it by URL (export condition
 * `onnxruntime-web-use-extern-wasm`): multi-threaded wasm starts its pthread workers from the glue's own URL,
 * which a glue bundled into our worker (started from a data:/blob: URL) does not have.
 */
export const ORT_MJS_FILE = 'ort-wasm-simd-threaded.jsep.mjs';

let configured = false;

/** Must run before the first session: numThreads and the wasm location are fixed once the wasm loads. */
export function configureOrtWeb(opts: { wasmBaseUrl: string; threads: number }): void {
  if (configured) return;
  ort.env.wasm.wasmPaths = { wasm: `${opts.wasmBaseUrl}/${ORT_WASM_FILE}`, mjs: `${opts.wasmBaseUrl}/${ORT_MJS_FILE}` };
  ort.env.wasm.numThreads = opts.threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  configured = true;
}

/** Looks for a WebGPU adapter; returns a reason when there is none. */
export async function probeWebGpu(): Promise<{ available: boolean; detail: string }> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }) | undefined)?.gpu;
  if (!gpu) return { available: false, detail: 'this browser exposes no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = (await gpu.requestAdapter()) as { info?: { vendor?: string; architecture?: string }; isFallbackAdapter?: boolean } | null;
    if (!adapter) return { available: false, detail: 'WebGPU found no adapter (no GPU, or blocked)' };
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown GPU';
    const fallback = adapter.isFallbackAdapter || /swiftshader/i.test(name);
    return { available: true, detail: fallback ? `software adapter (${name}): correct but slow` : `adapter ${name}` };
  } catch (err) {
    return { available: false, detail: `WebGPU adapter request failed: ${(err as Error).message}` };
  }
}

export interface OrtWebOptions {
  /** WebGPU: keep feeds that repeat unchanged run after run on the GPU (ort-web-resident.ts). Default on; off only
   *  to compare (the residency test and bench:webgpu). */
  residentFeeds?: boolean;
  /** Called with each WebGPU session's residency counts when it is released (tests and benches). */
  onResidentStats?(stats: ResidentStats): void;
}

type OrtSession = Awaited<ReturnType<typeof ort.InferenceSession.create>>;

/** The session as wrapOrtSession sees it, its repeated feeds taken from the GPU. */
async function withResidentFeeds(session: OrtSession, options: OrtWebOptions) {
  const resident = new ResidentFeeds(await ort.env.webgpu.device);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run(feeds: Record<string, ort.Tensor>) {
      const fed: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        fed[name] = resident.feed(name, { dtype: t.type as never, dims: [...t.dims], data: t.data as never }) ?? t;
      }
      return session.run(fed);
    },
    async release() {
      options.onResidentStats?.({ ...resident.stats });
      resident.dispose();
      await session.release();
    },
  };
}

export function createOrtWebRuntime(ep: 'webgpu' | 'wasm', options: OrtWebOptions = {}): Runtime {
  const resident = ep === 'webgpu' && options.residentFeeds !== false;
  return {
    name: `ort-web/${ep}`,
    async createSession(_card, loadBytes, more) {
      const modelBytes = await loadBytes();
      const externalData = (await more?.externalData?.()) ?? [];
      try {
        const session = await ort.InferenceSession.create(modelBytes, {
          executionProviders: [ep],
          graphOptimizationLevel: 'all',
          ...(externalData.length ? { externalData } : {}),
        });
        return wrapOrtSession(resident ? await withResidentFeeds(session, options) : session, ort.Tensor as never);
      } catch (err) {
        const msg = (err as Error).message ?? String(err);
        throw new FrontierError(
          'model-load-failed',
          ep === 'webgpu'
            ? `WebGPU could not load the model (${msg}). Choose WASM as the target and retry.`
            : `onnxruntime-web could not load the model (${msg}). Check that the server serves /ort/${ORT_WASM_FILE} and /ort/${ORT_MJS_FILE}.`,
        );
      }
    },
  };
}

/** `ort-web` on WebGPU: wherever the browser has an adapter and the card lists webgpu; a software adapter only when
 *  nothing else can run the card. */
export const webGpuEntry: RuntimeEntry = {
  name: 'ort-web/webgpu',
  target: 'webgpu',
  resolve(card, { webgpu }) {
    const unavailable = (why: string) => `WebGPU is unavailable: ${why}. Choose auto or WASM.`;
    if (!webgpu.available) return no('this browser can’t use it', webgpu.detail, unavailable(webgpu.detail));
    const notListed = `${card.label} does not run on WebGPU`;
    if (!card.targets.includes('webgpu')) return no(NOT_THIS_MODEL, notListed, unavailable(notListed));
    const detail = `WebGPU: ${webgpu.detail}`;
    if (!/software adapter/.test(webgpu.detail)) return yes(detail);
    return yes(detail, { why: 'this browser only imitates one in software, slower than the processor', detail: `WebGPU has only a ${webgpu.detail}` });
  },
  create: () => createOrtWebRuntime('webgpu'),
};

/** `ort-web` on WASM: the processor, wherever the card lists wasm. */
export const wasmEntry: RuntimeEntry = {
  name: 'ort-web/wasm',
  target: 'wasm',
  resolve(card, { wasm }) {
    const notListed = `${card.label} does not run in the browser (WASM)`;
    if (!card.targets.includes('wasm')) return no(NOT_THIS_MODEL, notListed, `${notListed}: choose Server or Auto.`);
    if (!wasm.available) return no('this browser can’t run it', 'this browser has no WebAssembly');
    return yes(`WASM (${wasm.threads} thread${wasm.threads === 1 ? '' : 's'})`);
  },
  create: () => createOrtWebRuntime('wasm'),
};
