// Runtime `ort-node`: onnxruntime-node for the CLI and server (CPU; CUDA when its libraries are installed).
import * as ort from 'onnxruntime-node';
import { FrontierError } from '../job.ts';
import type { Runtime } from './runtime.ts';
import { wrapOrtSession } from './ort-common.ts';

export function createOrtNodeRuntime(opts: { threads?: number } = {}): Runtime {
  return {
    name: 'ort-node/cpu',
    async createSession(_card, loadBytes) {
      const modelBytes = await loadBytes();
      try {
        const session = await ort.InferenceSession.create(modelBytes, {
          executionProviders: ['cpu'],
          intraOpNumThreads: opts.threads ?? 0,
          graphOptimizationLevel: 'all',
        });
        return wrapOrtSession(session, ort.Tensor as never);
      } catch (err) {
        throw new FrontierError('model-load-failed', `onnxruntime-node could not load the model: ${(err as Error).message}`);
      }
    },
  };
}
