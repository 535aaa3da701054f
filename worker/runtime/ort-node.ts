// Runtime `ort-node`: onnxruntime-node for the CLI and server (CPU; CUDA when its libraries are installed).
import * as ort from 'onnxruntime-node';
import { FrontierError } from '../job.ts';
import type { Runtime } from './runtime.ts';
import { wrapOrtSession } from './ort-common.ts';

export function createOrtNodeRuntime(opts: { threads?: number } = {}): Runtime {
  return {
    name: 'ort-node/cpu',
    async createSession(card, loadBytes, more) {
      // A graph with external weights loads from its path: onnxruntime-node finds the weight files beside it.
      const external = card.files.some((f) => f.kind === 'onnx-external-data');
      if (external && !more?.localPath) {
        throw new FrontierError('model-load-failed', `${card.label} keeps its weights in separate files: onnxruntime-node loads it only from a folder of model files (the server's models/build/files).`);
      }
      const model = external ? await more!.localPath!() : await loadBytes();
      const options = { executionProviders: ['cpu'], intraOpNumThreads: opts.threads ?? 0, graphOptimizationLevel: 'all' } as const;
      try {
        const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
        return wrapOrtSession(session, ort.Tensor as never);
      } catch (err) {
        throw new FrontierError('model-load-failed', `onnxruntime-node could not load the model: ${(err as Error).message}`);
      }
    },
  };
}
