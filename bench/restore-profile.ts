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
  /** The costliest (op type, input shapes) pairs: µs summed over the profiled runs, kernels per run. */
  byShape: { op: string; shapes: string; us: number; count: number }[];
  /** A few raw lines when nothing could be parsed (to see the format). */
  sample?: string[];
}


/**
 * onnxruntime's profiler events (chrome trace JSON objects, one per line or a JSON array) → per op type. Runs are
 * told apart by the model_run events between them.
 */
export function aggregateProfile(lines: string[], skipRuns: number): OpProfile {
  const out: OpProfile = { runs: 0, kernelUs: {}, nodes: {}, runUs: [], events: 0, unparsed: 0, byShape: [] };
  type Event = { cat?: string; name?: string; dur?: number; args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] } };
  const shapes = new Map<string, { op: string; shapes: string; us: number; count: number }>();
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
    const inputs = (e.args?.input_type_shape ?? []).map((s) => `[${Object.values(s)[0]?.join(',') ?? ''}]`).join(' ');
    const key = `${op} ${inputs}`;
    const entry = shapes.get(key) ?? { op, shapes: inputs, us: 0, count: 0 };
    entry.us += e.dur ?? 0;
    entry.count++;
    shapes.set(key, entry);
    (nodesPerRun[run] ??= {})[op] = (nodesPerRun[run]?.[op] ?? 0) + 1;
  }
  out.runs = out.runUs.length;
  out.byShape = [...shapes.values()].sort((a, b) => b.us - a.us).slice(0, 40).map((v) => ({ ...v, count: v.count / Math.max(1, out.runs) }));
  out.nodes = nodesPerRun.find(Boolean) ?? {};
  return out;
}
