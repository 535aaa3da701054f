// The results of `npm run bench:peer` (bench/peer.ts): their shape and bench/results/peer.md.
import type { PeerInfo } from './peer-entry.ts';

export type EngineId = 'peer' | 'peer-tiled' | 'single' | 'pool' | 'peer-webgl';

export interface TimedRun {
  engine: EngineId;
  wallMs: number;
  /** CPU of the thread(s) that compute: the peer's page main thread (WebGL: and the GPU process), single-worker
   *  WASM's engine worker, the pool's workers (engine worker included) together. */
  computeCpuMs: number;
  /** The busiest of those threads (the pool: its busiest worker). */
  busiestThreadMs: number;
  /** Every thread of the engine's browser's renderers (WebGL: and its GPU process). */
  browserCpuMs: number;
  /** Threads that used ≥ 5 % of the wall time, busiest first. */
  threads: { thread: string; cpuMs: number }[];
  /** The run as Node saw it, and the machine over it: CPU used by everything but this browser, and idle (ms). */
  windowMs: number;
  othersMs: number;
  idleMs: number;
  load: [number, number];
  hash: string;
}

interface EngineSummary {
  wallMs: number;
  computeCpuMs: number;
  busiestThreadMs: number;
  browserCpuMs: number;
}

export interface CaseResult {
  id: string;
  model: string;
  scale: number;
  size: number;
  region: [number, number, number, number];
  output: string;
  frontierTiles: { count: number; size: number; overlap: number; inputPixels: number };
  /** The pool's tiles: more than one worker's where the image has fewer tiles than the pool has workers. */
  poolTiles: { count: number; width: number; height: number; inputPixels: number };
  /** The pool ran the same tiles as one worker (then its bytes are one worker's). */
  samePlan: boolean;
  peerPatches: { count: number; size: number; padding: number; inputPixels: number } | null;
  single: { runtime: string; reason: string; warmMs: number };
  pool: { runtime: string; reason: string; warmMs: number; workers: number; tilesPerWorker: number[] };
  peer: { loadMs: number; warmMs: number };
  webgl?: { warmMs: number };
  checks: { what: string; psnrDb: number; maxDiff: number; differing: number; size: string }[];
  identical: boolean;
  runs: TimedRun[];
  summary: Partial<Record<EngineId, EngineSummary>> & Record<'peer' | 'single' | 'pool', EngineSummary>;
  /** Cores' worth of CPU other work on the machine used during the timed runs, on average. */
  othersCores: number;
}

export interface PeerReportInput {
  when: string;
  machine: string;
  load: [number, number];
  minutes: number;
  runs: number;
  photo: string;
  peer: PeerInfo;
  webglNote: string;
  cases: CaseResult[];
}

const s2 = (ms: number) => (ms / 1000).toFixed(2);
const x2 = (r: number) => `${r.toFixed(2)}×`;
const LABEL: Record<EngineId, string> = {
  peer: 'peer: UpscalerJS, TF.js WASM, whole image',
  'peer-tiled': 'peer: UpscalerJS, TF.js WASM, patches like Frontier\'s tiles',
  single: 'Frontier, 1 worker (WASM)',
  pool: 'Frontier, worker pool (WASM)',
  'peer-webgl': 'peer: UpscalerJS, TF.js WebGL (software renderer here)',
};

/** The peer run Frontier is held against: the same tiling (UpscalerJS's patches where Frontier tiles). */
export const samePixelsPeer = (c: CaseResult): EngineId => (c.summary['peer-tiled'] ? 'peer-tiled' : 'peer');

function caseTable(c: CaseResult): string[] {
  const ref = c.summary[samePixelsPeer(c)]!;
  const rows = (Object.keys(c.summary) as EngineId[]).map((e) => {
    const s = c.summary[e]!;
    const frontierSide = e === 'single' || e === 'pool';
    const vs = frontierSide ? `${x2(ref.wallMs / s.wallMs)} | ${x2(ref.computeCpuMs / s.computeCpuMs)}` : '— | —';
    const busiest = e === 'pool' ? `${s2(s.busiestThreadMs)} (${x2(ref.computeCpuMs / s.busiestThreadMs)})` : '';
    return `| ${LABEL[e]} | ${s2(s.wallMs)} | ${s2(s.computeCpuMs)} | ${s2(s.browserCpuMs)} | ${vs} | ${busiest} |`;
  });
  const tiles = `Frontier: ${c.frontierTiles.count} tile${c.frontierTiles.count > 1 ? 's' : ''} (registry: ${c.frontierTiles.size} px, overlap ${c.frontierTiles.overlap}; ${c.frontierTiles.inputPixels} input pixels computed)`;
  const poolCut = c.samePlan ? '' : `; the pool (${c.pool.workers} workers): ${c.poolTiles.count} tiles of ${c.poolTiles.width} × ${c.poolTiles.height} px (${c.poolTiles.inputPixels} input pixels computed)`;
  const patches = c.peerPatches
    ? `; peer tiled: ${c.peerPatches.count} patches of ${c.peerPatches.size} px, padding ${c.peerPatches.padding} (${c.peerPatches.inputPixels} input pixels); peer whole image: ${c.size * c.size} pixels`
    : '; peer: the whole image (the same single tile)';
  return [
    `### ${c.id}: ${c.model}, ${c.size}×${c.size} → ${c.output}`,
    '',
    `${tiles}${poolCut}${patches}. Crop at (${c.region[0]}, ${c.region[1]}).`,
    '',
    `| engine | wall s | computing CPU s | browser CPU s | ${samePixelsPeer(c)} ÷ this, wall | ${samePixelsPeer(c)} ÷ this, computing CPU | pool: busiest worker CPU s (peer CPU ÷ it) |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Outputs: ${c.checks.map((k) => `${k.what} PSNR ${Number.isFinite(k.psnrDb) ? k.psnrDb.toFixed(1) : '∞'} dB (max ${k.maxDiff} levels, ${(k.differing * 100).toFixed(1)} % of values differ)`).join('; ')}; pool = 1 worker byte for byte: ${c.samePlan ? (c.identical ? 'yes' : '**NO**') : `not the same tiles (the pool cut the image for its workers); each repeated its own bytes: ${c.identical ? 'yes' : '**NO**'}`}. Pool: ${c.pool.workers} workers, tiles per worker so far ${c.pool.tilesPerWorker.join(' + ') || '—'}. Warm-ups: peer ${s2(c.peer.warmMs)} s (model load ${s2(c.peer.loadMs)} s), 1 worker ${s2(c.single.warmMs)} s, pool ${s2(c.pool.warmMs)} s${c.webgl ? `, WebGL ${s2(c.webgl.warmMs)} s` : ''}. Other work on the machine during the runs: ${c.othersCores.toFixed(2)} cores.`,
    '',
  ];
}

export function peerReport(r: PeerReportInput): string {
  const summaryRows = r.cases.map((c) => {
    const ref = c.summary[samePixelsPeer(c)]!;
    const whole = c.summary.peer;
    const { single, pool } = c.summary;
    const psnr = Math.min(...c.checks.filter((k) => k.what.startsWith('peer') && k.what !== 'peer-webgl vs Frontier').map((k) => k.psnrDb));
    return `| ${c.id} | ${c.frontierTiles.count}${c.samePlan ? '' : ` (pool ${c.poolTiles.count})`} | ${s2(whole.wallMs)} | ${c.summary['peer-tiled'] ? s2(c.summary['peer-tiled'].wallMs) : '='} | ${s2(single.wallMs)} | ${s2(pool.wallMs)} | ${x2(ref.wallMs / single.wallMs)} | ${x2(ref.computeCpuMs / single.computeCpuMs)} | ${x2(whole.wallMs / single.wallMs)} | ${x2(ref.wallMs / pool.wallMs)} | ${x2(ref.computeCpuMs / pool.busiestThreadMs)} | ${psnr.toFixed(1)} | ${c.othersCores.toFixed(2)} |`;
  });
  const ref = (c: CaseResult) => c.summary[samePixelsPeer(c)]!;
  const oneCoreWall = r.cases.map((c) => ref(c).wallMs / c.summary.single.wallMs);
  const oneCoreCpu = r.cases.map((c) => ref(c).computeCpuMs / c.summary.single.computeCpuMs);
  const poolWall = r.cases.map((c) => ref(c).wallMs / c.summary.pool.wallMs);
  const freeCore = r.cases.filter((c) => c.poolTiles.count > 1).map((c) => ({ id: c.id, r: ref(c).computeCpuMs / c.summary.pool.busiestThreadMs, workers: c.pool.workers }));
  const othersRange = `${Math.min(...r.cases.map((c) => c.othersCores)).toFixed(1)}–${Math.max(...r.cases.map((c) => c.othersCores)).toFixed(1)} cores`;
  const range = (xs: number[]) => (xs.length ? `${x2(Math.min(...xs))}–${x2(Math.max(...xs))}` : 'n/a');
  const each = (xs: number[]) => r.cases.map((c, i) => `${c.id} ${x2(xs[i])}`).join(', ');
  const verdict = (xs: number[]) => {
    const behind = r.cases.filter((_, i) => xs[i] < 0.95).map((c) => c.id);
    const ahead = r.cases.filter((_, i) => xs[i] > 1.05).map((c) => c.id);
    return `${behind.length ? `**behind the peer by more than 5 % in ${behind.join(', ')}**` : 'nowhere behind the peer by more than 5 %'}; ahead by more than 5 % in ${ahead.length ? ahead.join(', ') : 'no case'}`;
  };
  return [
    `# Frontier vs the peer (UpscalerJS) on the same ESRGAN weights (${r.when.slice(0, 10)})`,
    '',
    `Machine: ${r.machine}, **2 cores shared with other people's work** (load average ${r.load[0].toFixed(1)} at the start, ${r.load[1].toFixed(1)} at the end; the column "others" is how many cores' worth of CPU that work took during the timed runs). Chromium headless (bench/common/chromium.ts); no page is cross-origin isolated (as Figma's iframe), so every WASM engine computes on one thread. The bench took ${r.minutes.toFixed(1)} min; ${r.runs} timed runs per engine and case, taking turns (order reversed every round), after one warm-up each.`,
    '',
    `Peer: \`upscaler\` 1.0.0 (UpscalerJS) on TF.js ${r.peer.tfjsVersion}, backend ${r.peer.backend} (XNNPACK; SIMD ${r.peer.wasmSimd ? 'yes' : 'no'}, threads ${r.peer.wasmThreads ? 'yes' : 'no'}), on the page's main thread, with the \`@upscalerjs/esrgan-slim\` / \`-thick\` packages' own models. Frontier: the product's upscale task (engine, tiling, blending) on the ONNX files converted from those same weights (models/convert/), onnxruntime-web WASM, in the engine worker (1 worker) or on the worker pool (\`ort-web/wasm-pool\`). The same crop of ${r.photo} goes to both; wall time runs from the image's pixels to the result's RGBA bytes (the peer: \`tf.browser.fromPixels\` → \`execute(…, {output: 'tensor'})\` → bytes, no PNG encoding).`,
    '',
    'Tiling: Frontier tiles as its registry says (ESRGAN slim 128 px, thick 96 px, 16 px overlap, blended). Where that means one tile (the image fits), both sides compute the whole image once: an equal comparison. Where Frontier tiles, the peer runs twice: with UpscalerJS patches as many and as large as Frontier\'s tiles (patch = tile, padding = overlap ÷ 2: the same pixels computed; the ratios use this one) and on the whole image at once (UpscalerJS\'s default, fewer pixels computed: shown for honesty, as "vs peer whole").',
    '',
    '## Summary',
    '',
    '| case | Frontier tiles | peer whole wall s | peer same tiles wall s | Frontier 1 worker wall s | Frontier pool wall s | 1 worker vs peer, wall | 1 worker vs peer, CPU | 1 worker vs peer whole, wall | pool vs peer, wall | pool vs peer with a free core per worker | PSNR Frontier–peer dB (min) | others (cores) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...summaryRows,
    '',
    'Ratios are peer ÷ Frontier (above 1× Frontier is faster), medians of the timed runs, against the peer at the same tiling. CPU = the computing thread(s): the peer\'s page main thread; Frontier 1 worker: its engine worker. "Pool vs peer with a free core per worker" = the peer\'s computing CPU ÷ the busiest pool worker\'s CPU: the wall-clock ratio the pool would reach if each of its workers had a core to itself (as bench/results/pool.md does); where the pool cut an image that fits one tile, it is held against the peer\'s whole image, with more pixels computed.',
    '',
    '## Where Frontier stands against the goal',
    '',
    `The goal (issue 16): at least 1.5× faster than the peer in wall time through the worker pool on a machine with 4 or more cores, and never slower on one core.`,
    '',
    `- **One core** (Frontier's single worker against the peer at the same tiling). By the computing thread's CPU time, which other work on the machine disturbs least: ${range(oneCoreCpu)} (${each(oneCoreCpu)}): ${verdict(oneCoreCpu)}. By wall time: ${range(oneCoreWall)} (${each(oneCoreWall)}): ${verdict(oneCoreWall)}; wall times on this loaded machine move by tens of per cent from run to run (see Runs), so the CPU figure is the one to read.`,
    `- **Pool, wall, measured here** (2 cores, other work taking the "others" column of them): ${range(poolWall)} (${each(poolWall)}).`,
    `- **Pool with a free core per worker** (the cases the pool tiles; peer CPU ÷ the busiest worker's CPU): ${freeCore.map((f) => `${f.id} ${x2(f.r)} on ${f.workers} workers`).join(', ') || 'no case here is tiled'}.${freeCore.length ? ` ${freeCore.every((f) => f.r >= 1.5) ? 'At or above the goal\'s 1.5× already with two workers, if each had its core.' : 'Below the goal\'s 1.5× for some case even if each of the two workers had its core.'}` : ''}`,
    `- **The goal's own condition (4 or more cores) was not measured**: no such machine was available to this bench. The pool's lead over the peer can come only from its workers, since on one core the two are as the first line says: with n idle cores and at least n tiles, about n × the one-worker CPU ratio, less the tile overlap and the engine worker's blending. The peer in a page like Figma's has no threads (TF.js WASM needs cross-origin isolation for them) and UpscalerJS computes its patches one after another on one thread, so it cannot use the other cores at all.`,
    '',
    '## What limits the pool here',
    '',
    ...r.cases.filter((c) => c.poolTiles.count > 1).map((c) => {
      const { single, pool } = c.summary;
      return `- ${c.id}: ${c.poolTiles.count} tiles on ${c.pool.workers} workers; the busiest worker used ${s2(pool.busiestThreadMs)} s of CPU against 1 worker's ${s2(single.computeCpuMs)} s (${((pool.busiestThreadMs / single.computeCpuMs) * 100).toFixed(0)} %): ${x2(single.computeCpuMs / pool.busiestThreadMs)} with a free core per worker, ${x2(single.wallMs / pool.wallMs)} measured in wall time, while other work took ${c.othersCores.toFixed(2)} cores of the 2.`;
    }),
    `- The machine has 2 cores and other people's jobs used ${othersRange} of the 2 during the runs (the "others" column): no core was free, so two workers compete for the share of the machine one worker gets and the pool cannot show its speed-up in wall time here (where it does look faster, the scheduler gave its two threads two shares among many waiting ones). Its workers split the tiles as evenly as the tile count allows and its total CPU equals one worker's (bench/results/pool.md), so the per-core figure above is what an idle core per worker would give.`,
    '- An image that fits one tile is cut by the pool into one tile per worker where each stays at least 2.5 overlaps (40 px) wide (worker/image/tiling.ts laneGrid; "Frontier tiles" shows the pool\'s count in brackets): the workers share it at the cost of the overlap (more pixels computed: see each case), and its result is then one worker\'s uncut result blended from tiles, checked by PSNR in each case\'s Outputs, not the same bytes.',
    '',
    '## Per case',
    '',
    ...r.cases.flatMap(caseTable),
    `WebGL: ${r.webglNote}`,
    '',
    '## Runs',
    '',
    'Threads as /proc names them: `chromium <id>` is a renderer process\'s main thread (the peer\'s page runs there), `DedicatedWorker <id>` a Web Worker (Frontier\'s engine worker and the pool\'s workers), `GPU process: …` the GPU process\'s threads (SwiftShader computes WebGL there), `ThreadPoolForeg…` V8\'s and Chromium\'s helpers.',
    '',
    '| case | engine | wall s | computing CPU s | browser CPU s | threads that computed (CPU s) | others CPU s | idle CPU s | load |',
    '|---|---|---:|---:|---:|---|---:|---:|---|',
    ...r.cases.flatMap((c) => c.runs.map((u) => `| ${c.id} | ${u.engine} | ${s2(u.wallMs)} | ${s2(u.computeCpuMs)} | ${s2(u.browserCpuMs)} | ${u.threads.map((t) => `${t.thread}: ${s2(t.cpuMs)}`).join(', ')} | ${s2(u.othersMs)} | ${s2(u.idleMs)} | ${u.load[0].toFixed(1)}→${u.load[1].toFixed(1)} |`)),
    '',
  ].join('\n');
}
