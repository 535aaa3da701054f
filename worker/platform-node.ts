// The engine's Node platform (CLI, server, tests): onnxruntime-node, model files from models/build/files.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FrontierError, type ResolvedTarget, type Target } from './job.ts';
import type { Capabilities, TargetChoice } from './engine-api.ts';
import type { EnginePlatform } from './engine.ts';
import type { ModelCard, Registry } from './models/card.ts';
import { FileModelSource } from './models/file-source.ts';
import { mergeRegistries, readLocalRegistry } from '../models/local-models.ts';
import { nodeCodec } from './image/codec-node.ts';
import { createOrtNodeRuntime } from './runtime/ort-node.ts';
import { createOipRuntime } from './runtime/oip.ts';
import type { Runtime } from './runtime/runtime.ts';
import { createJobServer, type JobServer } from './runtime/jobs-client.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const REGISTRY_PATH = fileURLToPath(new URL('../models/registry.json', import.meta.url));
export const MODEL_FILES_DIR = fileURLToPath(new URL('../models/build/files', import.meta.url));

export interface NodePlatformOptions {
  modelDir?: string;
  registryPath?: string;
  threads?: number;
  /** Run models on CUDA when onnxruntime-node's CUDA files are installed (the server's engine jobs). */
  cuda?: boolean;
  /** An Open Inference Protocol server (ours, Triton, KServe) for the `server` target. */
  serverUrl?: string;
  token?: string;
}

export function createNodePlatform(opts: NodePlatformOptions = {}): EnginePlatform {
  let runtime: Runtime | null = null;
  let remote: Runtime | null = null;
  let jobs: JobServer | undefined;
  return {
    codec: nodeCodec,
    source: new FileModelSource(opts.modelDir ?? MODEL_FILES_DIR),
    async loadRegistry(): Promise<Registry> {
      const shipped = JSON.parse(await readFile(opts.registryPath ?? REGISTRY_PATH, 'utf8')) as Registry;
      // Models converted on this machine (npm run convert) join the shipped ones, unless a test names its registry.
      return opts.registryPath ? shipped : mergeRegistries(shipped, readLocalRegistry());
    },
    async capabilities(): Promise<Capabilities> {
      return {
        webgpu: { available: false, detail: 'onnxruntime-node runs on the CPU here' },
        wasm: { available: false, threads: 0, crossOriginIsolated: false, detail: 'not used in Node' },
        cache: { available: true, detail: `model files are read from ${opts.modelDir ?? MODEL_FILES_DIR}` },
      };
    },
    async chooseTarget(card: ModelCard, requested: Target): Promise<TargetChoice> {
      if (requested === 'server') {
        if (!opts.serverUrl) throw new FrontierError('target-unavailable', 'No server configured: pass --server URL (and --token if it needs one).');
        if (!card.targets.includes('server')) throw new FrontierError('target-unavailable', `${card.label} does not run on a server.`);
        return { target: 'server', reason: `server at ${opts.serverUrl}` };
      }
      if (!card.targets.includes('node')) throw new FrontierError('target-unavailable', `${card.label} does not run on onnxruntime-node.`);
      if (requested === 'auto' || requested === 'node') return { target: 'node', reason: `${requested === 'auto' ? 'auto → ' : ''}onnxruntime-node (CPU)` };
      throw new FrontierError('target-unavailable', `Target "${requested}" exists only in the browser; here jobs run on onnxruntime-node (--target node or auto) or on a server (--target server --server URL).`);
    },
    jobServer(): JobServer | undefined {
      if (!opts.serverUrl) return undefined;
      return (jobs ??= createJobServer({ baseUrl: opts.serverUrl, token: opts.token }));
    },
    runtime(target: ResolvedTarget): Runtime {
      if (target === 'server' && opts.serverUrl) return (remote ??= createOipRuntime({ baseUrl: opts.serverUrl, token: opts.token }));
      if (target !== 'node') throw new FrontierError('target-unavailable', `The Node engine cannot run on ${target}.`);
      return (runtime ??= createOrtNodeRuntime({ threads: opts.threads, cuda: opts.cuda }));
    },
  };
}
