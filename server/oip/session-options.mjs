// The onnxruntime session options of the server's inference processes (ort-process.mjs), in a module of their own so
// that bench:server can time onnxruntime-node called directly with exactly the same settings.
// Plain JavaScript: a child process has no TypeScript loader.

/** @param {number} threads intra-op threads (0: onnxruntime decides) */
export function sessionOptions(threads) {
  return {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
    // Several processes share the cores: idle threads must sleep, not spin.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}
