// What a speed bench runs on one target, shared by the Node child (onnxruntime-node) and the browser worker
// (onnxruntime-web). Generic over models: the inputs are raw little-endian files written once by the bench (so
// every target runs the very same bytes), the loop is one untimed warm-up, timed runs, then check runs.
// Used by bench/inpaint.ts (SimMIM) and bench/text-to-image.ts (VQ-Diffusion).
import type { ModelCard } from '../../../worker/models/card.ts';
import type { Tensor } from '../../../worker/runtime/runtime.ts';
import { runLoop, type BenchSession, type RunTimes } from '../run-loop.ts';

/** One input tensor, stored as `file` (raw little-endian) in the bench's feeds folder. */
export interface FeedFile {
  name: string;
  dtype: 'float32' | 'int64';
  dims: number[];
  file: string;
}

/** One model on one target. Serialisable: it travels to the Node child as JSON and into the page. */
export interface BenchSpec {
  /** Row label, e.g. the model id. */
  id: string;
  card: ModelCard;
  /** The ONNX file's name in the models folder (Node) or under /models/ (browser). */
  modelFile: string;
  feeds: FeedFile[];
  /** Timed runs after one untimed warm-up; 0 = no warm-up, only check runs (WebGPU correctness). */
  timedRuns: number;
  checkRuns: number;
}

export type RunResult = RunTimes;

export function feedTensor(feed: FeedFile, bytes: Uint8Array): Tensor {
  const copy = bytes.slice(); // own, aligned buffer
  const data = feed.dtype === 'int64' ? new BigInt64Array(copy.buffer) : new Float32Array(copy.buffer);
  const count = feed.dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`feed ${feed.name}: ${data.length} values in ${feed.file}, dims ${feed.dims.join('×')} need ${count}`);
  return { dtype: feed.dtype, dims: feed.dims, data };
}

/**
 * Warm-up, timed runs and check runs on an open session (every run gets `feeds`); `cpuNow` = the process's CPU time
 * in ms. Returns the outputs of the last run (every run has the same input, so any run's output is the output).
 */
export async function runBench(spec: BenchSpec, session: BenchSession, feeds: Record<string, Tensor>, log: (line: string) => void = () => {}, cpuNow?: () => number): Promise<Omit<RunResult, 'sessionMs'> & { outputs: Record<string, Tensor> }> {
  const same = () => feeds;
  const { lastTimed, lastCheck, ...times } = await runLoop(session, { timedRuns: spec.timedRuns, checkRuns: spec.checkRuns, warmup: same, timed: same, check: same }, log, cpuNow);
  return { ...times, outputs: lastCheck ?? lastTimed ?? {} };
}

/** A float32 output's bytes (what the targets hand back for the comparison with onnxruntime-node). */
export function outputBytes(t: Tensor): Uint8Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`output of dtype ${t.dtype}: only float32 outputs are compared`);
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}
