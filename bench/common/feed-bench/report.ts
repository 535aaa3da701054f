// Markdown for the speed benches (bench/results/inpaint.md, text-to-image.md): one table of measured rows, one of
// first-use costs, the models, then the bench's own notes on what was measured, estimated or skipped.
import { duration, firstUseSection, loadText, type Environment } from '../report.ts';
import type { Row } from './driver.ts';

export interface ModelInfo {
  id: string;
  files: { name: string; bytes: number }[];
  checkpoint: string;
  exportSeconds: number | null;
  macsPerRun: number;
  macsByOp: Record<string, number>;
  macsUncounted: number;
  /** What one run is, in words (e.g. "one 192×192 tile, batch 1"). */
  runUnit: string;
  input: string;
}

export interface SpeedReport {
  title: string;
  when: string;
  durationSeconds: number;
  partial: boolean;
  environment: Environment;
  models: ModelInfo[];
  rows: Row[];
  /** "How it was measured" bullets particular to the bench. */
  notes: string[];
  /** "What it means for the product" bullets. */
  meaning: string[];
}

export const mib = (b?: number | null) => (b ? (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`) : '–');

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function memoryCell(row: Row): string {
  const m = row.memory;
  if (!m) return '–';
  let s = mib(m.peakBytes);
  const gpu = m.processes?.filter((p) => p.type === 'gpu').map((p) => p.peakRssBytes);
  if (row.target === 'webgpu' && gpu?.length) s += ` (+ GPU process ${mib(Math.max(...gpu))})`;
  if (m.pageEstimateBytes) s += `; page estimate ${mib(m.pageEstimateBytes)}`;
  return s;
}

function diffCell(row: Row): string {
  if (row.target === 'node-2' && !row.failed) return 'reference';
  if (!row.maxAbsDiffToNode2) return '–';
  return Object.entries(row.maxAbsDiffToNode2).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ');
}

export function writeSpeedReport(r: SpeedReport): string {
  const env = r.environment;
  const lines = [
    `# ${r.title} (${r.when.slice(0, 10)})`,
    '',
    `Machine: ${env.machine}, ${env.memoryGiB} GiB, no GPU; Node ${env.node}, onnxruntime-node ${env.onnxruntimeNode}, onnxruntime-web ${env.onnxruntimeWeb}, Chromium ${env.chromium || '–'}. ` +
      `The whole bench (exports included) took ${(r.durationSeconds / 60).toFixed(1)} min. 1-min load average ${env.loadAverageStart[0].toFixed(1)} at the start, ${env.loadAverageEnd[0].toFixed(1)} at the end ` +
      `(the machine is shared: other jobs can slow single rows; each row's load is in the last column).${r.partial ? ' **Partial run** (some models or targets were left out by the environment).' : ''}`,
    '',
    '| model | target | timed runs | ms per run: median / best | CPU ms per run | × node 2 thr | GMAC/s | peak memory | max abs diff vs node 2 thr | load |',
    '|---|---|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const row of r.rows) {
    if (row.failed) {
      lines.push(`| ${row.model} | ${row.runtime} | – | ${cell(row.failed)} | – | – | – | ${memoryCell(row)} | – | ${loadText(row.loadAverage)} |`);
      continue;
    }
    const timed = row.runMs.length ? String(row.runMs.length) : `${row.checkMs.length} check run${row.checkMs.length === 1 ? '' : 's'}`;
    const time = row.runMs.length ? `${row.medianMs!.toFixed(0)} / ${Math.min(...row.runMs).toFixed(0)}` : `${row.checkMs.map((m) => duration(m)).join(', then ')} (correctness only)`;
    lines.push(`| ${row.model} | ${row.runtime} | ${timed} | ${time} | ${row.medianCpuMs?.toFixed(0) ?? '–'} | ${row.timesNode2?.toFixed(1) ?? '–'} | ${row.gmacPerSecond?.toFixed(1) ?? '–'} | ${memoryCell(row)} | ${diffCell(row)} | ${loadText(row.loadAverage)} |`);
  }
  lines.push(...firstUseSection(r.rows, 'Not in the medians above: fetching the model over loopback HTTP (browser), creating the onnxruntime session (graph optimisation, weight packing; WebGPU: upload) and the first run.'));
  lines.push('', '## Models', '');
  for (const m of r.models) {
    const bytes = m.files.reduce((a, f) => a + f.bytes, 0);
    const files = m.files.map((f) => `\`${f.name}\` ${mib(f.bytes)}`).join(' + ');
    lines.push(`- **${m.id}**: ${files}${m.files.length > 1 ? ` (${mib(bytes)} in all)` : ''}; weights: ${m.checkpoint}; ` +
      `${m.exportSeconds === null ? 'export reused from an earlier run' : `export ${m.exportSeconds.toFixed(0)} s (export.py, including its own PyTorch vs onnxruntime-node check)`}. ` +
      `One run = ${m.runUnit}: ${(m.macsPerRun / 1e9).toFixed(1)} GMAC counted from the graph${m.macsUncounted ? ` (${m.macsUncounted} MatMul/Conv nodes without static shapes left uncounted)` : ''}. Input: ${m.input}.`);
  }
  lines.push('', '## How it was measured', '', ...r.notes.map((n) => `- ${n}`), '', '## What it means for the product', '', ...r.meaning.map((n) => `- ${n}`), '');
  return lines.join('\n');
}
