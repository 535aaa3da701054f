// What a speed bench runs on one target, shared by the Node child (onnxruntime-node) and the browser worker
// (onnxruntime-web). Generic over models: the inputs are raw little-endian files written once by the bench (so
// every target runs the very same bytes), the loop is one untimed warm-up, timed runs, then check runs.
// Used by bench/inpaint.ts (SimMIM) and bench/text-to-image.ts (VQ-Diffusion).
import type { ModelCard } from '../../worker/models/card.ts';
import type { Tensor } from '../../worker/runtime/runtime.ts';

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

export interface RunResult {
  sessionMs: number;
  /** The first run (first-run allocations; WebGPU: shader compilation). */
  warmupMs?: number;
  runMs: number[];
  /** Wall-clock span of each timed run (epoch ms), to read a process's CPU time over it afterwards. */
  runSpans: [number, number][];
  /** CPU time of each timed run (all threads), where the runner reads it itself (Node). */
  cpuMs?: number[];
  checkMs: number[];
}

interface BenchSession {
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

export function feedTensor(feed: FeedFile, bytes: Uint8Array): Tensor {
  const copy = bytes.slice(); // own, aligned buffer
  const data = feed.dtype === 'int64' ? new BigInt64Array(copy.buffer) : new Float32Array(copy.buffer);
  const count = feed.dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`feed ${feed.name}: ${data.length} values in ${feed.file}, dims ${feed.dims.join('×')} need ${count}`);
  return { dtype: feed.dtype, dims: feed.dims, data };
}

/**
 * Warm-up, timed runs and check runs on an open session; `cpuNow` = the process's CPU time in ms. Returns the
 * outputs of the last run (every run has the same input, so any run's output is the output).
 */
export async function runBench(spec: BenchSpec, session: BenchSession, feeds: Record<string, Tensor>, log: (line: string) => void = () => {}, cpuNow?: () => number): Promise<Omit<RunResult, 'sessionMs'> & { outputs: Record<string, Tensor> }> {
  const runSpans: [number, number][] = [];
  const cpuMs: number[] = [];
  const runMs: number[] = [];
  const checkMs: number[] = [];
  let outputs: Record<string, Tensor> = {};
  const run = async () => {
    const cpu = cpuNow?.();
    const t = performance.now();
    outputs = await session.run(feeds);
    const end = performance.now();
    return { ms: end - t, span: [performance.timeOrigin + t, performance.timeOrigin + end] as [number, number], cpu: cpu === undefined ? undefined : cpuNow!() - cpu };
  };
  let warmupMs: number | undefined;
  if (spec.timedRuns > 0) {
    warmupMs = (await run()).ms;
    log(`warm-up ${warmupMs.toFixed(0)} ms`);
  }
  for (let i = 0; i < spec.timedRuns; i++) {
    const r = await run();
    runMs.push(r.ms);
    runSpans.push(r.span);
    if (r.cpu !== undefined) cpuMs.push(r.cpu);
    log(`run ${i + 1}/${spec.timedRuns}: ${r.ms.toFixed(0)} ms`);
  }
  for (let i = 0; i < spec.checkRuns; i++) {
    const r = await run();
    checkMs.push(r.ms);
    log(`check run ${i + 1}/${spec.checkRuns}: ${r.ms.toFixed(0)} ms`);
  }
  return { warmupMs, runMs, runSpans, cpuMs: cpuNow ? cpuMs : undefined, checkMs, outputs };
}

/** A float32 output's bytes (what the targets hand back for the comparison with onnxruntime-node). */
export function outputBytes(t: Tensor): Uint8Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`output of dtype ${t.dtype}: only float32 outputs are compared`);
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}
