// Markdown for the speed benches (bench/results/inpaint.md, text-to-image.md): one table of measured rows, one of
// first-use costs, the models, then the bench's own notes on what was measured, estimated or skipped.
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import type { Row } from './driver.ts';

export interface Environment {
  machine: string;
  memoryGiB: number;
  node: string;
  chromium: string;
  onnxruntimeNode: string;
  onnxruntimeWeb: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  baselinePeakRss: { nodeBytes?: number; rendererBytes?: number };
}

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

export function environment(chromium: string, loadAverageStart: number[], baselinePeakRss: Environment['baselinePeakRss']): Environment {
  const version = (pkg: string) => (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    machine: `${cpus().length}× ${cpus()[0]?.model}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    chromium,
    onnxruntimeNode: version('onnxruntime-node'),
    onnxruntimeWeb: version('onnxruntime-web'),
    loadAverageStart,
    loadAverageEnd: loadavg(),
    baselinePeakRss,
  };
}

export const mib = (b?: number | null) => (b ? (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`) : '–');

/** 950 ms, 12.3 s, 4.1 min. */
export function duration(ms?: number): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

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
  const load = (l?: [number, number]) => (l ? `${l[0].toFixed(1)}→${l[1].toFixed(1)}` : '–');
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
      lines.push(`| ${row.model} | ${row.runtime} | – | ${cell(row.failed)} | – | – | – | ${memoryCell(row)} | – | ${load(row.loadAverage)} |`);
      continue;
    }
    const timed = row.runMs.length ? String(row.runMs.length) : `${row.checkMs.length} check run${row.checkMs.length === 1 ? '' : 's'}`;
    const time = row.runMs.length ? `${row.medianMs!.toFixed(0)} / ${Math.min(...row.runMs).toFixed(0)}` : `${row.checkMs.map((m) => duration(m)).join(', then ')} (correctness only)`;
    lines.push(`| ${row.model} | ${row.runtime} | ${timed} | ${time} | ${row.medianCpuMs?.toFixed(0) ?? '–'} | ${row.timesNode2?.toFixed(1) ?? '–'} | ${row.gmacPerSecond?.toFixed(1) ?? '–'} | ${memoryCell(row)} | ${diffCell(row)} | ${load(row.loadAverage)} |`);
  }
  lines.push(
    '',
    '## First use: fetch, session creation, first run',
    '',
    'Not in the medians above: fetching the model over loopback HTTP (browser), creating the onnxruntime session (graph optimisation, weight packing; WebGPU: upload) and the first run.',
    '',
    '| model | target | fetch | session | first run |',
    '|---|---|---:|---:|---:|',
  );
  for (const row of r.rows.filter((x) => !x.failed)) {
    const first = row.warmupMs ?? row.checkMs[0];
    lines.push(`| ${row.model} | ${row.runtime} | ${duration(row.downloadMs)} | ${duration(row.sessionMs)} | ${duration(first)}${row.warmupMs === undefined && first !== undefined ? ' (check input)' : ''} |`);
  }
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

/** Numbers in the JSON rounded to 6 significant digits. */
export function resultsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v), 2) + '\n';
}
