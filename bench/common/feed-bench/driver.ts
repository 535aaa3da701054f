// Runs several models on several targets, one row per (model, target): the loop shared by bench/inpaint.ts and
// bench/text-to-image.ts. Each model says per target how many runs to time, its time cap, or why it is skipped.
import { loadavg } from 'node:os';
import type { BenchSpec } from './spec.ts';
import { median, maxAbsDiff } from '../stats.ts';
import { runtimeLabel, type Memory, type TargetId } from '../targets.ts';
import { runBrowser, runNode, type BenchDirs, type TargetRun } from './targets.ts';

export interface TargetPlan {
  /** A reason not to run (stated in the report instead of a number). */
  skip?: string;
  timedRuns: number;
  checkRuns: number;
  timeoutMs: number;
}

export interface BenchModel {
  spec: Omit<BenchSpec, 'timedRuns' | 'checkRuns'>;
  /** MACs of one run, counted from the graph. */
  macs: number;
  plan(target: TargetId): TargetPlan;
}

export interface Row {
  model: string;
  target: TargetId;
  runtime: string;
  threads?: number;
  adapter?: string;
  downloadMs?: number;
  sessionMs?: number;
  warmupMs?: number;
  runMs: number[];
  medianMs?: number;
  /** CPU time of the process (all threads) per timed run: Node process.cpuUsage(), Chromium the renderer's /proc stat. */
  cpuMs: number[];
  medianCpuMs?: number;
  checkMs: number[];
  /** median ms / node-2's median ms of the same model. */
  timesNode2?: number;
  gmacPerSecond?: number;
  memory?: Memory;
  /** Max |output − onnxruntime-node 2 threads| per output, on the same input. */
  maxAbsDiffToNode2?: Record<string, number>;
  failed?: string;
  skipped?: boolean;
  wallSeconds?: number;
  /** 1-minute load average at the row's start and end (the machine may be shared). */
  loadAverage?: [number, number];
}

function toRow(model: BenchModel, run: TargetRun, reference: TargetRun | undefined, skipped: boolean): Row {
  const r = run.result;
  const medianMs = r && r.runMs.length ? median(r.runMs) : undefined;
  const refMs = reference?.result?.runMs.length ? median(reference.result.runMs) : undefined;
  const diffs: Record<string, number> = {};
  if (run.outputs && reference?.outputs && run !== reference) {
    for (const [name, ref] of Object.entries(reference.outputs)) if (run.outputs[name]) diffs[name] = maxAbsDiff(run.outputs[name], ref);
  }
  return {
    model: model.spec.id,
    target: run.target,
    runtime: run.runtime,
    threads: run.threads,
    adapter: run.adapter,
    downloadMs: run.downloadMs,
    sessionMs: r?.sessionMs,
    warmupMs: r?.warmupMs,
    runMs: r?.runMs ?? [],
    medianMs,
    cpuMs: r?.cpuMs ?? [],
    medianCpuMs: r?.cpuMs?.length && r.cpuMs.every(Number.isFinite) ? median(r.cpuMs) : undefined,
    checkMs: r?.checkMs ?? [],
    timesNode2: medianMs !== undefined && refMs !== undefined ? medianMs / refMs : undefined,
    gmacPerSecond: medianMs !== undefined ? model.macs / 1e9 / (medianMs / 1000) : undefined,
    memory: run.memory,
    maxAbsDiffToNode2: run === reference || !Object.keys(diffs).length ? undefined : diffs,
    failed: run.failed,
    skipped: skipped || undefined,
  };
}

/** Every model on every target, node-2 first per model (the reference for ratios and output differences). */
export async function benchAll(models: BenchModel[], targets: TargetId[], dirs: BenchDirs, url: string, log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const ordered = [...targets].sort((a, b) => Number(b === 'node-2') - Number(a === 'node-2'));
  for (const model of models) {
    const runs: TargetRun[] = [];
    for (const target of ordered) {
      const plan = model.plan(target);
      const t0 = performance.now();
      const load0 = loadavg()[0];
      let run: TargetRun;
      if (plan.skip) {
        run = { target, runtime: runtimeLabel(target), failed: `skipped: ${plan.skip}` };
      } else {
        log(`${model.spec.id} on ${runtimeLabel(target)}…`);
        const spec: BenchSpec = { ...model.spec, timedRuns: plan.timedRuns, checkRuns: plan.checkRuns };
        run = target === 'node-1' || target === 'node-2'
          ? await runNode(spec, target === 'node-1' ? 1 : 2, dirs, plan.timeoutMs)
          : await runBrowser(spec, target, url, dirs, plan.timeoutMs, log);
      }
      runs.push(run);
      const row = toRow(model, run, runs.find((r) => r.target === 'node-2'), Boolean(plan.skip));
      row.wallSeconds = (performance.now() - t0) / 1000;
      row.loadAverage = [load0, loadavg()[0]];
      rows.push(row);
      const diff = row.maxAbsDiffToNode2 ? `, max |Δ| vs node-2 ${Object.entries(row.maxAbsDiffToNode2).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}` : '';
      log(run.failed
        ? `${model.spec.id} ${target}: ${run.failed}`
        : `${model.spec.id} ${target}: median ${row.medianMs?.toFixed(0) ?? '-'} ms (CPU ${row.medianCpuMs?.toFixed(0) ?? '-'} ms)${row.checkMs.length ? `, check runs ${row.checkMs.map((m) => m.toFixed(0)).join('/')} ms` : ''}, peak ${((row.memory?.peakBytes ?? 0) / 2 ** 20).toFixed(0)} MiB${diff} (${row.wallSeconds.toFixed(0)} s)`);
    }
  }
  return rows;
}
