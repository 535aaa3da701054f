// `npm run bench:generation`: full-size StyleSwin-256 and GRAM-256 (random weights, exported at bench time into a
// temp folder, never committed) on every runtime, side by side in one run, the SAME model files everywhere:
// onnxruntime-node CPU (2 and 1 threads, a child process each), onnxruntime-web WASM in Chromium (1 thread; 2 threads
// on a COOP/COEP page) and WebGPU on Chromium's SwiftShader (software: one small correctness run, no speed claim).
// Per image ms (GRAM: per 64×64 tile, ×16 per 256² frame), peak memory, GMAC from the graph, output differences to
// onnxruntime-node. Written to bench/results/generation.{json,md}.
// Env: BENCH_GEN_MODELS=DIR exports into DIR and reuses what is there (kept; for reruns while debugging),
// BENCH_GEN_ONLY=styleswin|gram, BENCH_GEN_TARGETS=node-2,node-1,wasm-1,wasm-2,webgpu,
// BENCH_GEN_WEBGPU_MIN=<minutes> caps each WebGPU run (default 6), BENCH_GEN_WEBGPU_STYLESWIN=<minutes> also tries
// StyleSwin on WebGPU with that cap (skipped by default: one 256² image on SwiftShader did not finish in 25 min).
// BENCH_GEN_REPORT_FROM=FILE.json only rewrites generation.md from an earlier run's JSON (after a report change).
// BENCH_RESULTS_DIR=DIR writes the results into DIR instead of bench/results (every bench; smoke runs).
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { exportModel, type ExportedModel } from './generation/export-models.ts';
import { countMacs, type MacCount } from './common/export.ts';
import type { Family, GramFrame, RunSpec } from './generation/cases.ts';
import { benchServer } from './generation/serve.ts';
import { READY, runBrowser, runNode, type TargetRun } from './generation/targets.ts';
import { writeReport, type ModelSummary, type Report, type Row } from './generation/report.ts';
import { environment } from './common/report.ts';
import { resultsDir, resultsJson, runMain, writeResults } from './common/results.ts';
import { benchSeconds, log } from './common/log.ts';
import { benchFolders, withBenchPage } from './common/session.ts';
import { maxAbsDiff, median } from './common/stats.ts';
import { ALL_TARGETS as TARGETS, runtimeLabel, type TargetId } from './common/targets.ts';
import { parseCli } from '../server/cli-args.ts';

// Arguments are checked first: this bench takes none (its settings come from the environment).
parseCli('npm run bench:generation (no options; by environment: BENCH_GEN_MODELS=DIR, BENCH_GEN_ONLY=styleswin|gram, BENCH_GEN_TARGETS=…, BENCH_GEN_WEBGPU_MIN, BENCH_GEN_WEBGPU_STYLESWIN, BENCH_GEN_REPORT_FROM=FILE.json, BENCH_RESULTS_DIR=DIR)', {});

const FRAME_SIZE = 256;
/** GRAM's correctness input: an 8×8 patch at the frame's centre (64 rays): SwiftShader takes ≈0.3–0.5 s per ray. */
const CHECK_TILE = { x: 124, y: 124, width: 8, height: 8 };

/** Why StyleSwin's WebGPU row is skipped unless BENCH_GEN_WEBGPU_STYLESWIN asks for it (the trial that decided it). */
const STYLESWIN_WEBGPU_SKIPPED =
  'one 256² image (the graph has no smaller input) did not finish within 25 min on SwiftShader in a trial run on this machine ' +
  '(2026-11-28, 95.6 GMAC; renderer 860 MiB and GPU process 3.3 GiB peak RSS when stopped). Set BENCH_GEN_WEBGPU_STYLESWIN=<minutes> to try';

/** Timed runs per target after one warm-up (these models take seconds to a minute per run on 2 cores). */
const TIMED_RUNS: Record<Family, Record<TargetId, number>> = {
  styleswin: { 'node-2': 3, 'node-1': 2, 'wasm-1': 2, 'wasm-2': 2, webgpu: 0 },
  gram: { 'node-2': 4, 'node-1': 3, 'wasm-1': 2, 'wasm-2': 3, webgpu: 0 },
};

function specFor(model: ExportedModel, target: TargetId, modelRef: string): RunSpec {
  const webgpu = target === 'webgpu';
  const spec: RunSpec = { family: model.family, card: model.card, model: modelRef, timedRuns: TIMED_RUNS[model.family][target], checkRuns: 0 };
  if (model.family === 'styleswin') {
    spec.checkRuns = webgpu ? 1 : 0; // node/WASM compare the image of their last timed run
  } else {
    const camera = model.card.io.camera!;
    const frame: GramFrame = { size: FRAME_SIZE, tile: model.card.io.tile.size, fovDeg: camera.fovDeg, yaw: camera.default.yaw, pitch: camera.default.pitch };
    Object.assign(spec, { frame, checkTile: CHECK_TILE, checkRuns: webgpu ? 2 : 1 });
  }
  return spec;
}

function toRow(model: ExportedModel, macs: MacCount, run: TargetRun, reference: TargetRun | undefined, tilesPerImage: number): Row {
  const r = run.result;
  const medianMs = r && r.runMs.length ? median(r.runMs) : undefined;
  const diffs: Record<string, number> = {};
  if (r && reference?.result && run !== reference) {
    for (const [name, ref] of Object.entries(reference.result.check)) if (r.check[name]) diffs[name] = maxAbsDiff(r.check[name], ref);
  }
  return {
    model: model.card.id,
    family: model.family,
    target: run.target,
    runtime: run.runtime,
    threads: run.threads,
    adapter: run.adapter,
    sessionMs: r?.sessionMs,
    downloadMs: run.downloadMs,
    warmupMs: r?.warmupMs,
    runMs: r?.runMs ?? [],
    medianMs,
    cpuMs: r?.cpuMs ?? [],
    medianCpuMs: r?.cpuMs?.length && r.cpuMs.every(Number.isFinite) ? median(r.cpuMs) : undefined,
    msPerImage: medianMs !== undefined ? medianMs * tilesPerImage : undefined,
    imageEstimated: tilesPerImage > 1,
    checkMs: r?.checkMs ?? [],
    gmacPerSecond: medianMs !== undefined ? macs.macs / 1e9 / (medianMs / 1000) : undefined,
    memory: run.memory,
    maxAbsDiffToNode2: run === reference ? undefined : diffs,
    failed: run.failed,
  };
}

/** Rewrites generation.md from a results JSON, measuring nothing. */
async function reportOnly(path: string) {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Omit<Report, 'webgpuMinutes'> & { webgpuMinutes?: number };
  const md = writeReport({ ...json, webgpuMinutes: json.webgpuMinutes ?? 6 });
  await writeFile(join(resultsDir(), 'generation.md'), md);
  console.log(md);
}

async function main() {
  if (process.env.BENCH_GEN_REPORT_FROM) return reportOnly(process.env.BENCH_GEN_REPORT_FROM);
  const only = process.env.BENCH_GEN_ONLY?.split(',') as Family[] | undefined;
  const families = (['styleswin', 'gram'] as Family[]).filter((f) => !only || only.includes(f));
  const targets = process.env.BENCH_GEN_TARGETS ? (process.env.BENCH_GEN_TARGETS.split(',') as TargetId[]) : TARGETS;
  const webgpuMinutes = Number(process.env.BENCH_GEN_WEBGPU_MIN ?? 6);
  const styleswinWebgpuMinutes = Number(process.env.BENCH_GEN_WEBGPU_STYLESWIN ?? 0);
  const folders = benchFolders(process.env.BENCH_GEN_MODELS, 'frontier-genbench');
  const modelDir = folders.models;

  await folders.use(async () => {
    const models: ExportedModel[] = [];
    for (const family of families) models.push(await exportModel(family, modelDir, log));

    const rows: Row[] = [];
    const summaries: ModelSummary[] = [];
    await withBenchPage(() => benchServer(modelDir), targets, READY, async ({ url, chromium: chromiumVersion, baselines }) => {
      for (const model of models) {
        const isGram = model.family === 'gram';
        const tileRays = model.card.io.tile.size ** 2;
        const shapes: Record<string, number[]> = isGram ? { z: [1, 256], ray_origins: [1, tileRays, 3], ray_directions: [1, tileRays, 3] } : { z: [1, 512] };
        const macs = await countMacs(model.onnxPath, shapes);
        const tilesPerImage = isGram ? (FRAME_SIZE / model.card.io.tile.size) ** 2 : 1;
        log(`${model.card.id}: ${(macs.macs / 1e9).toFixed(1)} GMAC per ${isGram ? `${tileRays}-ray tile` : 'image'}${macs.uncounted.length ? ` (${macs.uncounted.length} nodes uncounted)` : ''}`);
        const runs: TargetRun[] = [];
        for (const target of targets) {
          const t0 = performance.now();
          const load0 = loadavg()[0];
          log(`${model.card.id} on ${runtimeLabel(target)}…`);
          let run: TargetRun;
          if (target === 'webgpu' && model.family === 'styleswin' && !styleswinWebgpuMinutes) {
            run = { target, runtime: runtimeLabel(target), failed: `skipped: ${STYLESWIN_WEBGPU_SKIPPED}` };
          } else if (target === 'node-1' || target === 'node-2') {
            run = await runNode(specFor(model, target, model.onnxPath), target === 'node-1' ? 1 : 2, folders.work);
          } else {
            const minutes = target !== 'webgpu' ? 15 : model.family === 'styleswin' ? styleswinWebgpuMinutes : webgpuMinutes;
            run = await runBrowser(specFor(model, target, `/models/${model.card.files[0].name}`), target, url, minutes * 60_000, log);
          }
          runs.push(run);
          const reference = runs.find((r) => r.target === 'node-2');
          const row = toRow(model, macs, run, reference, tilesPerImage);
          row.wallSeconds = (performance.now() - t0) / 1000;
          row.loadAverage = [load0, loadavg()[0]];
          rows.push(row);
          const diff = row.maxAbsDiffToNode2 && Object.keys(row.maxAbsDiffToNode2).length ? `, max |Δ| vs node-2 ${Object.entries(row.maxAbsDiffToNode2).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}` : '';
          log(run.failed
            ? `${model.card.id} ${target}: ${run.failed}`
            : `${model.card.id} ${target}: median ${row.medianMs?.toFixed(0) ?? '-'} ms per run (CPU ${row.medianCpuMs?.toFixed(0) ?? '-'} ms)${row.checkMs.length ? `, check runs ${row.checkMs.map((m) => m.toFixed(0)).join('/')} ms` : ''}, peak ${((row.memory?.peakBytes ?? 0) / 2 ** 20).toFixed(0)} MiB${diff} (${row.wallSeconds.toFixed(0)} s)`);
        }
        summaries.push({
          id: model.card.id,
          family: model.family,
          file: model.card.files[0].name,
          bytes: statSync(model.onnxPath).size,
          checkpoint: model.checkpoint,
          exportSeconds: model.exportSeconds,
          macsPerRun: macs.macs,
          macsByOp: macs.byOp,
          macsUncounted: macs.uncounted,
          runUnit: isGram ? `${model.card.io.tile.size}×${model.card.io.tile.size} tile (${tileRays} rays)` : `${FRAME_SIZE}×${FRAME_SIZE} image`,
          runsPerImage: tilesPerImage,
          checkInput: isGram ? `${CHECK_TILE.width}×${CHECK_TILE.height} rays at (${CHECK_TILE.x}, ${CHECK_TILE.y}) of the 256² front view` : 'the timed image (seed 1, ψ 0.7)',
        });
      }
      const env = environment(chromiumVersion, folders.loadStart, baselines);
      const durationSeconds = benchSeconds();
      const partial = families.length < 2 || targets.length < TARGETS.length;
      const when = new Date().toISOString();
      const json = { when, durationSeconds, partial, environment: env, seed: 1, truncation: 0.7, webgpuMinutes, models: summaries, rows };
      await writeResults('generation', resultsJson(json), writeReport({ when, durationSeconds, partial, environment: env, models: summaries, rows, webgpuMinutes }), durationSeconds);
    });
  });
}

runMain(main);
