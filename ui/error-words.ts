// What a failure says to a designer. The engine's messages are written to say what happened and what to do, and most
// are shown as they are; but some carry an engineer's words: a runtime's own error (an onnxruntime "failed to call
// OrtRun()… tensor…"), a system error code (ENOENT), the name of a runtime (WASM), a file hash. Those get a headline and
// advice in plain words for their error code, and the engine's message goes behind "Details" with the code, for
// whoever is asked to help.
import type { ErrorCode } from '../worker/job.ts';

export interface ProblemWords {
  /** The sentence the panel leads with. */
  headline: string;
  /** What to do, when the headline is ours rather than the engine's message. */
  advice?: string;
  /** For "Details", when the headline replaced the engine's own message: that message and the error code. */
  details?: { code?: ErrorCode; raw: string };
}

/**
 * Words a designer should not have to read: runtimes and their internals, stack traces, file hashes, wire protocols.
 * Matched as whole words, case-insensitively.
 */
const ENGINE_WORDS = [
  'onnxruntime\\S*', 'ort(?:run|[-_ ]?web|[-_ ]?node)?(?:\\(\\))?', 'ERROR_CODE', 'ERROR_MESSAGE', 'non-zero status', 'WASM', 'WebAssembly', 'wasm32',
  'tensors?', 'dims?', 'dtype', 'float(?:16|32)', 'FP(?:16|32)', 'u?int(?:8|16|32|64)', 'opset', 'kernel', 'execution provider',
  'errno', 'syscall', '(?:Type|Range|Reference|Syntax)Error', 'undefined', 'null', 'NaN', 'sha-?256', 'Open Inference Protocol', 'OIP',
  'Comlink', 'postMessage', 'worker', 'heap', 'malloc', 'SharedArrayBuffer', 'node:\\S+',
];
const ENGINE_WORD = new RegExp(`(?:^|[^\\p{L}\\p{N}_])(?:${ENGINE_WORDS.join('|')})(?![\\p{L}\\p{N}_])`, 'iu');
/** System error codes (ENOENT, EACCES, ECONNREFUSED…): named, upper case only, so "ESRGAN" is not taken for one. */
const SYSTEM_CODE = /(?:^|[^\p{L}\p{N}_])E(?:NO[A-Z]+|ACCES|PERM|EXIST|ISDIR|CONN[A-Z]+|TIMEDOUT|PIPE|MFILE|ADDR[A-Z]+|AI_[A-Z]+|BUSY|HOSTUNREACH|NETUNREACH)(?![\p{L}\p{N}_])/u;
/** A stack trace's frames. */
const STACK_FRAME = /\n\s*at \S/;

/** Whether a message carries words only an engineer reads. */
export function hasEngineWords(message: string): boolean {
  return ENGINE_WORD.test(message) || SYSTEM_CODE.test(message) || STACK_FRAME.test(message);
}

/** A headline and what to do for each code, in a designer's words. */
const PLAIN: Record<ErrorCode | 'unknown', { headline: string; advice: string }> = {
  'run-failed': { headline: 'Frontier could not finish this run.', advice: 'Run it again. If it fails again, try a smaller selection, or choose another place in “Run on”.' },
  unknown: { headline: 'Frontier could not finish this run.', advice: 'Run it again. If it fails again, try a smaller selection, or choose another place in “Run on”.' },
  'model-load-failed': { headline: 'The model could not be opened.', advice: 'Clear the model cache and run again: the model is downloaded afresh.' },
  'download-failed': { headline: 'The model could not be downloaded.', advice: 'Check that the Frontier server is running and its address in Settings, then Retry.' },
  'hash-mismatch': { headline: 'The downloaded model is damaged.', advice: 'Clear the model cache, then Retry. If it happens again, the server’s copy is damaged: rebuild the models there.' },
  'worker-crashed': { headline: 'Frontier’s engine stopped.', advice: 'Click Restart engine. If it happens again, try a smaller image.' },
  'target-unavailable': { headline: 'This can’t run where “Run on” says.', advice: 'Choose Automatic in “Run on”.' },
  'too-large': { headline: 'The image is too large for this.', advice: 'Select a smaller image, or choose a smaller scale.' },
  'bad-input': { headline: 'Frontier can’t use what is selected for this task.', advice: 'Check the selection and the settings above, then run again.' },
  'model-not-found': { headline: 'The model for this is not installed.', advice: 'Open Models to install it, or choose another model.' },
  cancelled: { headline: 'Cancelled.', advice: '' },
};

/** The engine failed to start (the status line): what it could not do; what to do is said there already. */
const STARTING = (code: ErrorCode | undefined) => ({
  headline: code === 'download-failed' ? 'Frontier could not get its list of models from the server.' : 'Frontier’s engine could not start.',
  advice: '',
});

/**
 * The words for a failure: the engine's message when it is plain (it says what to do), else a plain headline and
 * advice for its code with the message in the details. A batch names its item first (“Astronaut”: …): kept.
 * `starting`: the engine failed to start (the status line says what to do).
 */
export function problemWords(code: ErrorCode | undefined, message: string, opts: { starting?: boolean } = {}): ProblemWords {
  const text = message.trim() || 'Something went wrong.';
  if (code === 'cancelled') return { headline: text };
  if (!hasEngineWords(text)) return { headline: text };
  const item = /^(“[^”]*”): ([\s\S]*)$/u.exec(text);
  const plain = opts.starting ? STARTING(code) : (PLAIN[code ?? 'unknown'] ?? PLAIN.unknown);
  return {
    headline: item ? `${item[1]}: ${plain.headline}` : plain.headline,
    advice: plain.advice || undefined,
    details: { code, raw: item ? item[2] : text },
  };
}
