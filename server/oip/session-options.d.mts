// Types of session-options.mjs (plain JavaScript for the inference processes).
import type { InferenceSession } from 'onnxruntime-node';

/** The session options of the server's inference processes; `threads` intra-op threads (0: onnxruntime decides). */
export function sessionOptions(threads: number): InferenceSession.SessionOptions;
