// bench/results/generation.md from the measured rows: one table, the notes that say what was measured, estimated
// or skipped, and what the numbers mean for a designer waiting on an image.
import { duration, firstUseSection, loadText, type Environment } from '../common/report.ts';
import type { Memory, TargetId } from '../common/targets.ts';
import type { Family } from './cases.ts';

export interface Row {
  model: string;
  family: Family;
  target: TargetId;
  runtime: string;
  threads?: number;
  adapter?: string;
  sessionMs?: number;
  downloadMs?: number;
  warmupMs?: number;
  runMs: number[];
  medianMs?: number;
  /** CPU time of the process (all threads) per timed run: Node from process.cpuUsage(), Chromium from the renderer's /proc stat. */
  cpuMs: number[];
  medianCpuMs?: number;
  /** Per 256² image: StyleSwin = one run; GRAM = one tile × 16 (estimated). */
  msPerImage?: number;
  imageEstimated: boolean;
  checkMs: number[];
  gmacPerSecond?: number;
  memory?: Memory;
  /** Max |output − onnxruntime-node 2 threads| on the check input, per output. */
  maxAbsDiffToNode2?: Record<string, number>;
  failed?: string;
  wallSeconds?: number;
  /** 1-minute load average at the start and end of the row (the machine may be shared). */
  loadAverage?: [number, number];
}

export interface ModelSummary {
  id: string;
  family: Family;
  file: string;
  bytes: number;
  checkpoint: string;
  exportSeconds: number | null;
  macsPerRun: number;
  macsByOp: Record<string, number>;
  macsUncounted: string[];
  runUnit: string;
  runsPerImage: number;
  checkInput: string;
}

export interface Report {
  when: string;
  durationSeconds: number;
  partial: boolean;
  environment: Environment;
  models: ModelSummary[];
  rows: Row[];
  webgpuMinutes: number;
}

const mib = (b?: number | null) => (b ? `${(b / 2 ** 20).toFixed(0)} MiB` : '–');
const ms = (v?: number) => (v === undefined ? '–' : v.toFixed(0));

function diffText(r: Row): string {
  if (r.target === 'node-2') return 'reference';
  const d = r.maxAbsDiffToNode2 ?? {};
  const parts = Object.entries(d).map(([k, v]) => `${k} ${Number.isNaN(v) ? 'NaN' : v.toExponential(1)}`);
  return parts.length ? parts.join(', ') : '–';
}

function ratio(r: Row, ref?: Row): string {
  return r.medianMs !== undefined && ref?.medianMs ? `${(r.medianMs / ref.medianMs).toFixed(1)}` : '–';
}

function memoryText(r: Row): string {
  if (!r.memory) return '–';
  const gpu = r.memory.processes?.find((p) => p.type === 'GPU');
  const extra = r.target === 'webgpu' && gpu ? ` (+ GPU process ${mib(gpu.peakRssBytes)})` : '';
  const page = r.memory.pageEstimateBytes ? `; page estimate ${mib(r.memory.pageEstimateBytes)}` : '';
  return `${mib(r.memory.peakBytes)}${extra}${page}`;
}

/** How a wait of `msValue` feels to someone at the canvas. */
function verdict(msValue: number): string {
  if (msValue < 3_000) return 'interactive';
  if (msValue < 20_000) return 'a short wait';
  if (msValue < 120_000) return 'a long wait';
  return 'minutes: a background job';
}

export function writeReport(rep: Report): string {
  const env = rep.environment;
  const lines: string[] = [
    `# Generation benchmark: StyleSwin-256 and GRAM-256, full size, random weights (${rep.when.slice(0, 10)})`,
    '',
    `Machine: ${env.machine}, ${env.memoryGiB} GiB, no GPU; Node ${env.node}, onnxruntime-node ${env.onnxruntimeNode}, onnxruntime-web ${env.onnxruntimeWeb}, Chromium ${env.chromium}. ` +
      `The whole bench (exports included) took ${(rep.durationSeconds / 60).toFixed(1)} min. 1-min load average ${env.loadAverageStart[0].toFixed(1)} at the start, ${env.loadAverageEnd[0].toFixed(1)} at the end` +
      ' (the machine is shared: other jobs can slow single rows; each row\'s load is in the JSON).',
    rep.partial ? '\n**Partial run** (BENCH_GEN_ONLY / BENCH_GEN_TARGETS): some models or targets were skipped.' : '',
    '',
    '| model | target | timed runs | ms per run: median / best | CPU ms per run | ms per 256² image | × node 2 thr | GMAC/s | peak memory | max abs diff vs node 2 thr | load |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const m of rep.models) {
    const rows = rep.rows.filter((r) => r.model === m.id);
    const ref = rows.find((r) => r.target === 'node-2');
    for (const r of rows) {
      if (r.failed) {
        lines.push(`| ${m.id} | ${r.runtime} | – | ${r.failed} | – | – | – | – | ${memoryText(r)} | – | ${loadText(r.loadAverage)} |`);
        continue;
      }
      if (r.target === 'webgpu') {
        const runs = r.checkMs.map((v) => duration(v)).join(', then ');
        lines.push(`| ${m.id} | ${r.runtime} — correctness only | ${r.checkMs.length} check run${r.checkMs.length > 1 ? 's' : ''} | ${runs} for ${m.family === 'gram' ? 'the check patch' : 'one image'} | – | not measured | – | – | ${memoryText(r)} | ${diffText(r)} | ${loadText(r.loadAverage)} |`);
        continue;
      }
      const perImage = r.msPerImage !== undefined ? `${r.imageEstimated ? '≈' : ''}${ms(r.msPerImage)}` : '–';
      const best = r.runMs.length ? Math.min(...r.runMs) : undefined;
      lines.push(`| ${m.id} | ${r.runtime} | ${r.runMs.length} | ${ms(r.medianMs)} / ${ms(best)} | ${ms(r.medianCpuMs)} | ${perImage} | ${ratio(r, ref)} | ${r.gmacPerSecond?.toFixed(1) ?? '–'} | ${memoryText(r)} | ${diffText(r)} | ${loadText(r.loadAverage)} |`);
    }
  }

  lines.push(...firstUseSection(rep.rows, 'What a designer waits for before the first image (not in the medians above): fetching the model over loopback HTTP (browser), creating the onnxruntime session (graph optimisation, weight packing; WebGPU: upload), and the first run.'));

  lines.push('', '## Models', '');
  for (const m of rep.models) {
    const per = m.runsPerImage > 1 ? `; ${(m.macsPerRun * m.runsPerImage / 1e9).toFixed(0)} GMAC per 256² frame (${m.runsPerImage} tiles)` : '';
    lines.push(`- **${m.id}**: \`${m.file}\`, ${mib(m.bytes)}; weights: ${m.checkpoint}; export ${m.exportSeconds === null ? 'reused (BENCH_GEN_MODELS)' : `${m.exportSeconds.toFixed(0)} s`} ` +
      `(export.py, including its own PyTorch vs onnxruntime-node check). One run = one ${m.runUnit}: ${(m.macsPerRun / 1e9).toFixed(1)} GMAC${per}. Check input: ${m.checkInput}.`);
  }

  const styleswin = rep.rows.filter((r) => r.family === 'styleswin');
  const gram = rep.rows.filter((r) => r.family === 'gram');
  const at = (rows: Row[], t: TargetId) => rows.find((r) => r.target === t && !r.failed);
  const ssMacs = rep.models.find((m) => m.family === 'styleswin')?.macsPerRun;
  lines.push(
    '',
    '## How it was measured',
    '',
    '- Same ONNX files on every target, exported at bench time from random checkpoints with the official key layout (never committed). ' +
      'Inputs as the tasks make them: z = latentFromSeed(1, size), truncation 0.7; GRAM rays from worker/render/camera.ts `cameraRays` at the card\'s front pose and fov, tiles of the card\'s size (64×64 = 4096 rays) as rotate-view renders a 256 frame.',
    '- Sessions through the product runtimes (worker/runtime/ort-node.ts with intraOpNumThreads 1 or 2; ort-web.ts in a Web Worker, as the plugin runs). ' +
      'One untimed warm-up run (it also pays first-run allocations), then the median of the timed runs; "ms per run" times `session.run` including tensor wrapping. ' +
      'GRAM runs render different tiles of one frame (the work per ray is fixed: 64 samples, 24 manifolds, whatever the content).',
    '- "CPU ms per run" = CPU time of the whole process (all threads) over each timed run, median: Node from `process.cpuUsage()` in the child, Chromium from the renderer\'s /proc/PID/stat sampled every 200 ms. ' +
      '"load" = the 1-minute load average at the row\'s start → end: this machine has 2 cores and is shared, so above ≈2 other processes competed and wall times grew. ' +
      'For 1-thread rows the CPU time is close to what the run takes on an idle machine; for 2-thread rows CPU ≈ 2 × wall means both threads were busy, CPU ≈ wall means the second thread idled (or got no core). ' +
      'Where 1 thread beats 2 threads, the second thread found no free core: compare the 1-thread rows (node 1 thread vs WASM 1 thread) for a like-for-like ratio.',
    '- **Estimated**: GRAM "ms per 256² image" = median tile × 16 (a full frame on WASM would take minutes per run; the tiles cost the same by construction). StyleSwin is measured per whole image.',
    '- GMAC counted from the exported graph (MatMul/Gemm/Conv/ConvTranspose output shapes × reduction size; bench/generation/macs.py), elementwise ops not counted. ' +
      (ssMacs ? `StyleSwin-256 counts ${(ssMacs / 1e9).toFixed(1)} GMAC per image, above the ≈81.6 in facts/models.md; a hand count agrees with the graph (per block 12·L·C² for qkv/proj/MLP + 2·L·64·C for window attention, plus the upsampling reductions: ≈95.5 GMAC), so the facts figure likely leaves out part of the MLP or the upsampling. ` : '') +
      'GRAM ≈61 GMAC per 4096-ray tile ≈ 0.98 TMAC per 256² frame, as the facts say (≈1 TMAC).',
    `- Peak memory: Node = the child process's maxRSS (\`process.resourceUsage()\`, one child per model and thread count; a child that only loads onnxruntime-node peaks at ${mib(env.baselinePeakRss.nodeBytes)}). ` +
      `Chromium = VmHWM (peak RSS from /proc) of the renderer process that holds the page and its worker, in a fresh browser per model and target, found with CDP SystemInfo.getProcessInfo (the bench page before loading a model: ${mib(env.baselinePeakRss.rendererBytes)}). ` +
      'It includes the fetched model bytes and onnxruntime-web\'s wasm heap (which never shrinks). For WebGPU the GPU process (SwiftShader) peak is given too. ' +
      '"page estimate" = `performance.measureUserAgentSpecificMemory()` after the run, only available on the cross-origin-isolated page (WASM 2 threads): JS heaps + wasm memories of the page and worker ' +
      '(it answers only after Chromium\'s 60 s timeout there, apparently because onnxruntime\'s idle pthread workers do not respond; that minute is not in any timing).',
    `- WebGPU is Chromium's SwiftShader (a CPU implementation of Vulkan): one small correctness run per model (${rep.webgpuMinutes} min cap each), compared with onnxruntime-node; its time says nothing about a real GPU. ` +
      'The first WebGPU run includes shader compilation; a second run of the same input is shown when it was made. ' +
      'StyleSwin-256 on WebGPU is skipped by default (see its row): its graph only takes a whole 256² image, which SwiftShader did not finish in 25 min; ' +
      'the tiny StyleSwin (same architecture) is checked against onnxruntime-node on WebGPU by test/e2e/generate.test.ts instead.',
    '- Output differences are max |target − onnxruntime-node 2 threads| on the check input: StyleSwin in its ImageNet-normalised output units (one 8-bit level ≈ 0.017 of them: pixel = value·std + mean, std ≈ 0.23), GRAM rgb in [-1, 1] (one 8-bit level = 0.0078) and depth in world units.',
    '',
    '## What it means for the product',
    '',
  );
  const ss1 = at(styleswin, 'wasm-1');
  const ssNode1 = at(styleswin, 'node-1');
  const ss2 = at(styleswin, 'wasm-2');
  const ssn = at(styleswin, 'node-2');
  if (ss1?.msPerImage && ssn?.msPerImage) {
    lines.push(`- **StyleSwin-256, one image**: ${duration(ss1.msPerImage)} in the plugin's single-threaded WASM (${verdict(ss1.msPerImage)})` +
      `${ss2?.msPerImage ? `, ${duration(ss2.msPerImage)} with 2 wasm threads` : ''}, ${duration(ssn.msPerImage)} on the local companion server (onnxruntime-node, 2 threads: ${verdict(ssn.msPerImage)}), ` +
      `${(ss1.msPerImage / ssn.msPerImage).toFixed(1)}× faster than WASM-1${ssNode1?.medianMs && ss1.medianMs ? `; with 1 thread each, WASM is ${(ss1.medianMs / ssNode1.medianMs).toFixed(1)}× slower than native` : ''}. ` +
      'Generating in the plugin works without a server but each image is a wait; Count = 9 multiplies it by 9.');
  }
  const g1 = at(gram, 'wasm-1');
  const gn = at(gram, 'node-2');
  if (g1?.medianMs && gn?.medianMs && g1.msPerImage && gn.msPerImage) {
    const gNode1 = at(gram, 'node-1');
    lines.push(`- **GRAM-256**: a 64-px preview is one tile: ${duration(g1.medianMs)} on WASM-1 (${verdict(g1.medianMs)}), ${duration(gn.medianMs)} on node 2 threads (${verdict(gn.medianMs)})` +
      `${gNode1?.medianMs ? `; with 1 thread each, WASM is ${(g1.medianMs / gNode1.medianMs).toFixed(1)}× slower than native` : ''}. ` +
      `A 256² frame is 16 tiles: ≈${duration(g1.msPerImage)} on WASM-1 and ≈${duration(gn.msPerImage)} on node (${verdict(gn.msPerImage)}); a 36-frame turntable ≈${duration(gn.msPerImage * 36)} even on node. ` +
      `So in the plugin alone (WASM) even the 64-px preview that rotate-view renders while a slider moves is ${verdict(g1.medianMs)}; with the companion server it is ${verdict(gn.medianMs)} and a full frame ${verdict(gn.msPerImage)}. ` +
      'Smooth rotation or turntables at 256 px need a real GPU (WebGPU on hardware, or a GPU server); on a CPU, full frames want progress per tile and cancellation.');
  }
  for (const m of rep.models) {
    const rows = rep.rows.filter((r) => r.model === m.id);
    const n1 = at(rows, 'node-1');
    const n2 = at(rows, 'node-2');
    if (!n1?.medianMs || !n2?.medianMs || n1.medianMs >= n2.medianMs) continue;
    const busy = n2.medianCpuMs !== undefined && n2.medianCpuMs < 1.3 * n2.medianMs;
    const loaded = (n2.loadAverage?.[0] ?? 0) > 2.5;
    lines.push(`- **${m.id} on onnxruntime-node: 1 intra-op thread beat 2** (${duration(n1.medianMs)} vs ${duration(n2.medianMs)} per run)` +
      `${busy ? `; with 2 threads the CPU time per run (${duration(n2.medianCpuMs)}) is about the wall time, so the second thread added no parallel work` : ''}` +
      `${loaded ? ` (load ${n2.loadAverage![0].toFixed(1)} on 2 cores during that row: contention may explain part of it)` : ''}. ` +
      'The companion server runs onnxruntime-node on all cores by default (worker/runtime/ort-node.ts, intraOpNumThreads 0): the thread count is worth choosing per model.');
  }
  lines.push('- WebGPU on SwiftShader is only a correctness check here (outputs match onnxruntime-node within the tolerances above); its speed on a real GPU is not measured by this bench.');
  lines.push('');
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}
