// The engine's Node platform (CLI, server, tests): onnxruntime-node, model files from models/build/files.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ResolvedTarget, Target } from './job.ts';
import type { Capabilities, TargetChoice } from './engine-api.ts';
import type { EnginePlatform } from './engine.ts';
import type { ModelCard, Registry } from './models/card.ts';
import { FileModelSource } from './models/file-source.ts';
import { mergeRegistries, readLocalRegistry } from '../models/local-models.ts';
import { nodeCodec } from './image/codec-node.ts';
import { ortNodeEntry } from './runtime/ort-node.ts';
import { configuredServerEntry } from './runtime/oip-entry.ts';
import { RuntimeRegistry, type MachineCaps } from './runtime/registry.ts';
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

/** The Node platform: the engine's platform plus its runtime registry (a test or a new runtime registers there). */
export type NodePlatform = EnginePlatform & { readonly runtimes: RuntimeRegistry };

export function createNodePlatform(opts: NodePlatformOptions = {}): NodePlatform {
  const caps: MachineCaps = {
    webgpu: { available: false, detail: 'onnxruntime-node runs on the CPU here' },
    wasm: { available: false, threads: 0, crossOriginIsolated: false, detail: 'not used in Node' },
  };
  // Asked in this order under auto: onnxruntime-node on this machine, then the server named with --server.
  const runtimes = new RuntimeRegistry({
    caps: async () => caps,
    notHere: (target) => `Target "${target}" exists only in the browser; here jobs run on onnxruntime-node (--target node or auto) or on a server (--target server --server URL).`,
  });
  runtimes.register(ortNodeEntry({ threads: opts.threads, cuda: opts.cuda }), 200);
  runtimes.register(configuredServerEntry({ serverUrl: opts.serverUrl, token: opts.token }), 100);
  let jobs: JobServer | undefined;
  return {
    runtimes,
    codec: nodeCodec,
    source: new FileModelSource(opts.modelDir ?? MODEL_FILES_DIR),
    async loadRegistry(): Promise<Registry> {
      const shipped = JSON.parse(await readFile(opts.registryPath ?? REGISTRY_PATH, 'utf8')) as Registry;
      // Models converted on this machine (npm run convert) join the shipped ones, unless a test names its registry.
      return opts.registryPath ? shipped : mergeRegistries(shipped, readLocalRegistry());
    },
    async capabilities(): Promise<Capabilities> {
      return { ...caps, cache: { available: true, detail: `model files are read from ${opts.modelDir ?? MODEL_FILES_DIR}` } };
    },
    chooseTarget: (card: ModelCard, requested: Target): Promise<TargetChoice> => runtimes.choose(card, requested),
    jobServer(): JobServer | undefined {
      if (!opts.serverUrl) return undefined;
      return (jobs ??= createJobServer({ baseUrl: opts.serverUrl, token: opts.token }));
    },
    runtime: (target: ResolvedTarget): Runtime => runtimes.runtime(target),
  };
}
