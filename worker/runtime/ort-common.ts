// Conversions between our runtime-neutral Tensor and onnxruntime's (same shape in -web and -node).
import type { Session, Tensor } from './runtime.ts';

interface OrtTensorLike {
  type: string;
  dims: readonly number[];
  data: unknown;
}
interface OrtSessionLike {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}
type OrtTensorCtor = new (type: string, data: Tensor['data'], dims: readonly number[]) => unknown;

export function wrapOrtSession(session: OrtSessionLike, TensorCtor: OrtTensorCtor): Session {
  // onnxruntime-web refuses a second run while one is in flight on the same session ("Session already started"):
  // runs of overlapping jobs (a live preview and a Run) queue here, in order.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const ortFeeds: Record<string, unknown> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new TensorCtor(t.dtype, t.data, t.dims);
      const results = await exclusive(() => session.run(ortFeeds));
      const out: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(results)) {
        out[name] = { dtype: t.type as Tensor['dtype'], dims: [...t.dims], data: t.data as Tensor['data'] };
      }
      return out;
    },
    dispose: () => session.release(),
  };
}
