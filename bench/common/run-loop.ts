// The measuring loop every speed bench runs on an open session, in the Node child and in the browser worker alike:
// one untimed warm-up, the timed runs, then the check runs.
import type { Tensor } from '../../worker/runtime/runtime.ts';

export interface RunTimes {
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

export interface BenchSession {
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

export interface RunPlan {
  /** Timed runs after one untimed warm-up; 0 = no warm-up, only check runs (WebGPU correctness). */
  timedRuns: number;
  checkRuns: number;
  /** The inputs of the warm-up, of timed run i, of the check runs. */
  warmup(): Record<string, Tensor>;
  timed(i: number): Record<string, Tensor>;
  check(): Record<string, Tensor>;
  /** What one run is called in the log ("tile"); plain "run" when absent. */
  unit?: string;
}

export type LoopResult = Omit<RunTimes, 'sessionMs'> & {
  /** Outputs of the last timed run and of the last check run (undefined when there was none). */
  lastTimed?: Record<string, Tensor>;
  lastCheck?: Record<string, Tensor>;
};

/** Runs `plan` on `session`; `cpuNow` = the process's CPU time in ms, where the runner can read it. */
export async function runLoop(session: BenchSession, plan: RunPlan, log: (line: string) => void = () => {}, cpuNow?: () => number): Promise<LoopResult> {
  const runSpans: [number, number][] = [];
  const cpuMs: number[] = [];
  const runMs: number[] = [];
  const checkMs: number[] = [];
  const run = async (feeds: Record<string, Tensor>) => {
    const cpu = cpuNow?.();
    const t = performance.now();
    const out = await session.run(feeds);
    const end = performance.now();
    return { ms: end - t, out, span: [performance.timeOrigin + t, performance.timeOrigin + end] as [number, number], cpu: cpu === undefined ? undefined : cpuNow!() - cpu };
  };
  const unit = plan.unit ? ` ${plan.unit}` : '';
  let warmupMs: number | undefined;
  let lastTimed: Record<string, Tensor> | undefined;
  let lastCheck: Record<string, Tensor> | undefined;
  if (plan.timedRuns > 0) {
    warmupMs = (await run(plan.warmup())).ms;
    log(`warm-up${unit} ${warmupMs.toFixed(0)} ms`);
  }
  for (let i = 0; i < plan.timedRuns; i++) {
    const r = await run(plan.timed(i));
    runMs.push(r.ms);
    runSpans.push(r.span);
    if (r.cpu !== undefined) cpuMs.push(r.cpu);
    lastTimed = r.out;
    log(`${plan.unit ?? 'run'} ${i + 1}/${plan.timedRuns}: ${r.ms.toFixed(0)} ms`);
  }
  for (let i = 0; i < plan.checkRuns; i++) {
    const r = await run(plan.check());
    checkMs.push(r.ms);
    lastCheck = r.out;
    log(`check${unit} run ${i + 1}/${plan.checkRuns}: ${r.ms.toFixed(0)} ms`);
  }
  return { warmupMs, runMs, runSpans, cpuMs: cpuNow ? cpuMs : undefined, checkMs, lastTimed, lastCheck };
}
