// The WebGPU bench page (bench/gpu/webgpu-entry.ts) in a Chromium with WebGPU (SwiftShader here), for the tests that
// run models on it: model files are served from `modelFilesDir`; `call` runs one of the page's `webgpuBench` methods.
import { basename, join } from 'node:path';
import type { WebGpuBenchApi } from '../../bench/gpu/webgpu-entry.ts';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import { openServedPage } from './served-page.ts';

export interface WebGpuBenchPage {
  /** Where the page is served: model files are at `${url}/models/files/<name>`. */
  url: string;
  call<K extends keyof WebGpuBenchApi>(method: K, ...args: Parameters<WebGpuBenchApi[K]>): Promise<Awaited<ReturnType<WebGpuBenchApi[K]>>>;
  close(): Promise<void>;
}

export async function openWebGpuBenchPage(modelFilesDir: string): Promise<WebGpuBenchPage> {
  const { page, url, close } = await openServedPage({
    entry: join(REPO_ROOT, 'bench', 'gpu', 'webgpu-entry.ts'),
    file: (rel) => (rel.startsWith('/models/files/') ? join(modelFilesDir, basename(rel)) : null),
    ready: 'webgpuBench',
    webgpu: true,
  });
  return {
    url,
    call: (method, ...args) =>
      page.evaluate(([m, a]) => (globalThis as unknown as { webgpuBench: Record<string, (...x: unknown[]) => Promise<unknown>> }).webgpuBench[m](...a), [method, args] as const) as never,
    close,
  };
}
