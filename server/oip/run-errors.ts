// Why a model run failed, and whose fault it is. The request was already checked against the model (names, types,
// shapes, the card's bounds and integer ranges), so what onnxruntime still rejects is this input's doing (an index
// out of range, dimensions a node cannot combine): 400, in words without onnxruntime's source paths. Running out of
// memory is the server's state, not the client's fault: 503, retry. A process that died, or a fault of our own: 500.
import { HttpError } from '../http-util.ts';

export type RunFailureKind = 'input' | 'memory' | 'crashed' | 'internal';

export class RunFailure extends Error {
  constructor(
    readonly kind: RunFailureKind,
    message: string,
  ) {
    super(message);
  }
}

const OUT_OF_MEMORY = /bad_alloc|failed to allocate|out of memory|cudaErrorMemoryAllocation|CUDA_ERROR_OUT_OF_MEMORY/i;

/** onnxruntime's error text without its build paths, C++ signatures and failed internal conditions. */
export function cleanOrtMessage(text: string): string {
  const node = /running (\w+) node\. Name:'([^']*)'/.exec(text);
  const status = /Status Message:\s*([\s\S]*)$/.exec(text);
  let message = (status ? status[1] : text)
    // "/onnxruntime_src/…/element_wise_ops.h:563 void onnxruntime::BroadcastIterator::Init(ptrdiff_t, ptrdiff_t) "
    .replace(/\S*\.(?:cc|cpp|cu|cuh|h|hpp):\d+\s+(?:[^\n(]*\([^)]*\)\s*(?:const\s+)?|\w+\s+)?/g, '')
    // "axis == 1 || axis == largest was false. " (ORT_ENFORCE's condition)
    .replace(/^[^.]*? was false\.\s*/, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\.$/, '');
  if (!message) message = 'onnxruntime gave no reason';
  return node ? `${message} (in its ${node[1]} node ${node[2]})` : message;
}

/** A failure onnxruntime reported for a run (the process is fine). */
export function ortRunFailure(text: string): RunFailure {
  return new RunFailure(OUT_OF_MEMORY.test(text) ? 'memory' : 'input', cleanOrtMessage(text));
}

/** The answer for a failed run of `modelId`. */
export function runFailureResponse(modelId: string, failure: RunFailure): HttpError {
  switch (failure.kind) {
    case 'input':
      return new HttpError(
        400,
        `${modelId} cannot run on this input: ${failure.message}. Check the input's values and shapes against the model's metadata (GET /v2/models/${modelId}).`,
      );
    case 'memory':
      return new HttpError(
        503,
        `The server ran out of memory running ${modelId} (${failure.message}). Retry in a moment; if it keeps happening, send smaller tiles or fewer requests at once.`,
        { 'Retry-After': '1' },
      );
    case 'crashed':
      return new HttpError(
        500,
        `The inference process running ${modelId} stopped unexpectedly (${failure.message}); the next request starts a fresh one. Retry; if it happens again, report it with the server log.`,
      );
    case 'internal':
      return new HttpError(500, `Internal error while running ${modelId}: ${failure.message}. The server keeps serving; report it with the server log if it happens again.`);
  }
}
