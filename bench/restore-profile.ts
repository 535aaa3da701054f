// onnxruntime's profiler output (chrome-trace events: onnxruntime-node writes them to a JSON file, onnxruntime-web
// prints them through the wasm's stdout) summed by op type, for bench/restore.ts's profile table.

/** Kernel time by op type from onnxruntime's profiler (µs summed over the profiled runs), and node counts per run. */
export interface OpProfile {
  runs: number;
  kernelUs: Record<string, number>;
  nodes: Record<string, number>;
  /** model_run events (µs), one per profiled run. */
  runUs: number[];
  /** Profiler lines seen, and how many could not be parsed. */
  events: number;
  unparsed: number;
  /** A few raw lines when nothing could be parsed (to see the format). */
  sample?: string[];
}


/**
 * onnxruntime's profiler events (chrome trace JSON objects, one per line or a JSON array) → per op type. Runs are
 * told apart by the model_run events between them.
 */
export function aggregateProfile(lines: string[], skipRuns: number): OpProfile {
  const out: OpProfile = { runs: 0, kernelUs: {}, nodes: {}, runUs: [], events: 0, unparsed: 0 };
  type Event = { cat?: string; name?: string; dur?: number; args?: { op_name?: string } };
  const events: Event[] = [];
  for (const raw of lines) {
    const line = raw.trim().replace(/^\[/, '').replace(/,?\]?$/, '');
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as Event);
    } catch {
      out.unparsed++;
    }
  }
  out.events = events.length;
  if (!events.length) out.sample = lines.slice(0, 5).map((l) => l.slice(0, 300));
  let run = 0;
  const nodesPerRun: Record<string, number>[] = [];
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') {
      if (run >= skipRuns) out.runUs.push(e.dur ?? 0);
      run++;
      continue;
    }
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || run < skipRuns) continue;
    const op = e.args?.op_name ?? '?';
    out.kernelUs[op] = (out.kernelUs[op] ?? 0) + (e.dur ?? 0);
    (nodesPerRun[run] ??= {})[op] = (nodesPerRun[run]?.[op] ?? 0) + 1;
  }
  out.runs = out.runUs.length;
  out.nodes = nodesPerRun.find(Boolean) ?? {};
  return out;
}
