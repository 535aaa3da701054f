// Runtime `ort-node`: onnxruntime-node for the CLI and server (CPU; CUDA when its libraries are installed).
import './no-telemetry.mjs'; // first: before onnxruntime-node initialises
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FrontierError } from '../job.ts';
import type { Runtime } from './runtime.ts';
import { wrapOrtSession } from './ort-common.ts';
import { NOT_THIS_MODEL, no, yes, type RuntimeEntry } from './registry.ts';

/** The CUDA provider library onnxruntime-node would load (absent unless its CUDA files were installed). */
export function cudaLibraryPath(): string | null {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node'); // …/onnxruntime-node/dist/index.js
    return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  } catch {
    return null;
  }
}

/**
 * `cuda`: use the GPU when onnxruntime-node's CUDA files are installed and the provider loads (a GPU server's engine
 * jobs); a session that cannot get CUDA runs on the CPU instead, as the OIP pool does.
 */
export function createOrtNodeRuntime(opts: { threads?: number; cuda?: boolean } = {}): Runtime {
  const library = opts.cuda ? cudaLibraryPath() : null;
  const tryCuda = !!library && existsSync(library);
  return {
    name: tryCuda ? 'ort-node/cuda' : 'ort-node/cpu',
    async createSession(card, loadBytes, more) {
      // A graph with external weights loads from its path: onnxruntime-node finds the weight files beside it.
      const external = card.files.some((f) => f.kind === 'onnx-external-data');
      if (external && !more?.localPath) {
        throw new FrontierError('model-load-failed', `${card.label} keeps its weights in separate files: onnxruntime-node loads it only from a folder of model files (the server's models/build/files).`);
      }
      const model = external ? await more!.localPath!() : await loadBytes();
      const create = (providers: string[]) => {
        // Quiet while trying CUDA: its failure is expected on machines without a GPU and handled by the CPU retry.
        const quiet = providers.includes('cuda') ? { logSeverityLevel: 3 as const } : {};
        const options = { executionProviders: providers, intraOpNumThreads: opts.threads ?? 0, graphOptimizationLevel: 'all' as const, ...quiet };
        return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
      };
      try {
        const session = tryCuda ? await create(['cuda']).catch(() => create(['cpu'])) : await create(['cpu']);
        return wrapOrtSession(session, ort.Tensor as never);
      } catch (err) {
        throw new FrontierError('model-load-failed', `onnxruntime-node could not load the model: ${(err as Error).message}`);
      }
    },
  };
}

/** `ort-node` on this machine (the CLI, the server's engine jobs, tests): wherever the card lists node. */
export function ortNodeEntry(opts: { threads?: number; cuda?: boolean } = {}): RuntimeEntry {
  return {
    name: 'ort-node',
    target: 'node',
    resolve(card) {
      const notListed = `${card.label} does not run on onnxruntime-node`;
      return card.targets.includes('node') ? yes('onnxruntime-node (CPU)') : no(NOT_THIS_MODEL, notListed, `${notListed}.`);
    },
    create: () => createOrtNodeRuntime(opts),
  };
}
