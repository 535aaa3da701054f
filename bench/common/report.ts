// Pieces of the speed benches' markdown and JSON: the machine they ran on, durations, load, the first-use table.
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../worker/platform-node.ts';

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

/** The machine and versions now; `loadAverageStart` from when the bench began. */
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

/** 950 ms, 12.3 s, 4.1 min. */
export function duration(ms?: number): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** The machine's 1-minute load average at a row's start → end (2 cores: above 2 means contention). */
export function loadText(load?: [number, number]): string {
  return load ? `${load[0].toFixed(1)}→${load[1].toFixed(1)}` : '–';
}

/** What a row needs for the first-use table. */
export interface FirstUse {
  model: string;
  runtime: string;
  failed?: string;
  downloadMs?: number;
  sessionMs?: number;
  warmupMs?: number;
  checkMs: number[];
}

/** "## First use": fetch, session creation and first run of every row that ran, after `intro`. */
export function firstUseSection(rows: FirstUse[], intro: string): string[] {
  const lines = ['', '## First use: fetch, session creation, first run', '', intro, '', '| model | target | fetch | session | first run |', '|---|---|---:|---:|---:|'];
  for (const r of rows.filter((row) => !row.failed)) {
    const first = r.warmupMs ?? r.checkMs[0];
    lines.push(`| ${r.model} | ${r.runtime} | ${duration(r.downloadMs)} | ${duration(r.sessionMs)} | ${duration(first)}${r.warmupMs === undefined && first !== undefined ? ' (check input)' : ''} |`);
  }
  return lines;
}
