// `npm run bench:inpaint-quality [-- --model <id>] [--methods mean,telea,ns,frontier] [--keep DIR]`: inpainting
// quality on real photos (Debian's python3-skimage: astronaut, chelsea, the brick texture; extracted at bench time,
// never stored in git) with three kinds of holes, measured against the original over the hole's pixels and over the
// whole image (PSNR, SSIM, mean absolute error). Methods: a mean-colour fill, OpenCV's Telea and Navier-Stokes
// inpainting (Debian python3-opencv), and Frontier's own through its CLI:
//   frontier inpaint holed.png out.png --mask mask.png [--model <id>]     (mask: white = fill)
// Without --model the CLI picks its default inpaint model; a converted real checkpoint
// (`npm run convert -- simmim-swin-base-192 --checkpoint FILE`) is measured with --model simmim-swin-base-192.
// Every method gets the same holed image (hole pixels set to grey 128), so none can read what it fills.
// Written to bench/results/inpaint-quality.{json,md}. --keep DIR keeps the holed inputs and every result PNG.
// BENCH_RESULTS_DIR=DIR writes the results into DIR instead of bench/results (every bench; smoke runs).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RgbaImage } from '../worker/job.ts';
import { parseResultMeta, type ResultMeta } from '../worker/job.ts';
import { readPngText } from '../worker/image/png-meta.ts';
import { REPO_ROOT } from '../worker/platform-node.ts';
import { PYTHON } from '../test/export/export-util.ts';
import { holesFor, type Hole } from './inpaint/quality/holes.ts';
import { meanFill, score, type Scores } from './inpaint/quality/metrics.ts';
import { loadPhotos, readPng, skimageData, writePngBytes, type Photo } from './inpaint/quality/photos.ts';
import { resultsDir, resultsJson } from './common/results.ts';
import { parseCli, usageError } from '../server/cli-args.ts';
import { listOption } from './common/args.ts';

type Method = 'mean' | 'telea' | 'ns' | 'frontier';
const METHODS: Method[] = ['mean', 'telea', 'ns', 'frontier'];
const LABELS: Record<Method, string> = {
  mean: 'mean-colour fill (8-px ring around each hole)',
  telea: 'OpenCV Telea (radius 3)',
  ns: 'OpenCV Navier-Stokes (radius 3)',
  frontier: 'Frontier inpaint (CLI)',
};
const OUT = resultsDir();
const OPENCV_PY = fileURLToPath(new URL('inpaint/quality/opencv_inpaint.py', import.meta.url));
const FRONTIER_CLI = join(REPO_ROOT, 'server', 'bin', 'frontier.js');
const HOLE_GREY = 128;

interface Case {
  photo: Photo;
  hole: Hole;
  dir: string;
  holedPath: string;
  maskPath: string;
}

interface Result {
  photo: string;
  hole: string;
  method: Method;
  scores: Scores;
  /** Wall time of the method (Frontier: the whole CLI process, start-up and model load included). */
  ms: number;
  /** Frontier: the run stage as the result's metadata reports it. */
  runMs?: number;
}

const USAGE = `npm run bench:inpaint-quality -- [--model <id>] [--methods ${METHODS.join(',')}] [--keep DIR]`;

function parseArgs(argv: string[]): { model?: string; methods: Method[]; keep?: string } {
  const values = parseCli(USAGE, { model: { type: 'string' }, methods: { type: 'string' }, keep: { type: 'string' } }, argv);
  let methods: Method[] = METHODS;
  try {
    if (values.methods !== undefined) methods = listOption(values.methods, METHODS, 'method');
  } catch (err) {
    usageError(USAGE, (err as Error).message);
  }
  return { methods, ...(values.model !== undefined ? { model: values.model } : {}), ...(values.keep !== undefined ? { keep: values.keep } : {}) };
}

function requireOpenCv(): string {
  const probe = spawnSync(PYTHON, ['-c', 'import cv2; print(cv2.__version__)'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`OpenCV for ${PYTHON} is missing (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}): apt-get install -y python3-opencv`);
  }
  return probe.stdout.trim();
}

function holed(image: RgbaImage, mask: Uint8Array): RgbaImage {
  const data = image.data.slice();
  for (let p = 0; p < mask.length; p++) if (mask[p]) data.fill(HOLE_GREY, p * 4, p * 4 + 3);
  return { width: image.width, height: image.height, data };
}

function maskImage(width: number, height: number, mask: Uint8Array): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < mask.length; p++) {
    data.fill(mask[p] ? 255 : 0, p * 4, p * 4 + 3);
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}

function runOpenCv(cases: Case[]): { version: string; ms: Record<'telea' | 'ns', number[]> } {
  const job = { radius: 3, cases: cases.map((c) => ({ image: c.holedPath, mask: c.maskPath, telea: join(c.dir, 'telea.png'), ns: join(c.dir, 'ns.png') })) };
  const jobPath = join(cases[0].dir, '..', 'opencv-job.json');
  writeFileSync(jobPath, JSON.stringify(job));
  const r = spawnSync(PYTHON, [OPENCV_PY, jobPath], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`OpenCV baselines failed: ${r.error?.message ?? r.stderr.trim()}`);
  const parsed = JSON.parse(r.stdout.trim().split('\n').pop()!) as { opencv: string; ms: Record<'telea' | 'ns', number[]> };
  return { version: parsed.opencv, ms: parsed.ms };
}

/** Frontier's CLI on one case; fails loudly with its output when it exits non-zero. */
function runFrontier(c: Case, model: string | undefined): Promise<{ ms: number; meta?: ResultMeta; out: string }> {
  const out = join(c.dir, 'frontier.png');
  const args = [FRONTIER_CLI, 'inpaint', c.holedPath, out, '--mask', c.maskPath, ...(model ? ['--model', model] : [])];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.stderr.on('data', (b: Buffer) => (text += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`frontier inpaint failed (exit ${code}) on ${c.photo.id}/${c.hole.id}:\n  node ${args.map((a) => a.replace(REPO_ROOT, '')).join(' ')}\n${text.trim()}`));
      const meta = readPngText(new Uint8Array(readFileSync(out)), 'frontier');
      resolve({ ms, meta: meta ? parseResultMeta(meta) : undefined, out });
    });
  });
}

const f = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : v > 0 ? '∞' : '–');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function report(results: Result[], methods: Method[], info: { when: string; seconds: number; photos: Photo[]; cases: Case[]; frontierModel?: string; frontierVariant?: string; opencv?: string; load: [number, number]; machine: string }): string {
  const frontierLabel = info.frontierModel ? `Frontier ${info.frontierModel}${info.frontierVariant === 'tiny' ? ' (random-weight test model)' : ''}` : LABELS.frontier;
  const label = (m: Method) => (m === 'frontier' ? frontierLabel : LABELS[m]);
  const lines = [
    `# Inpainting quality: Frontier vs classical baselines on real photos (${info.when.slice(0, 10)})`,
    '',
    `${info.photos.length} photos × ${info.cases.length / info.photos.length} holes, ${methods.length} methods; ${info.machine}; ${info.seconds.toFixed(0)} s in all; 1-min load average ${info.load[0].toFixed(1)} → ${info.load[1].toFixed(1)}.` +
      (info.frontierVariant === 'tiny' ? ` **${info.frontierModel} is a random-weight test model** (the real SimMIM architecture at tiny width with seeded random weights): it fills holes with noise, so it is expected to lose to every baseline; its row checks the pipeline (mask handling, tiling, paste-back), not SimMIM's quality. Measure a converted real checkpoint with \`--model simmim-swin-base-192\`.` : ''),
    '',
    '## Mean over all photos and holes',
    '',
    '| method | hole PSNR dB ↑ | hole SSIM ↑ | hole L1 (8-bit levels) ↓ | whole-image PSNR dB ↑ | whole-image SSIM ↑ | pixels changed outside the holes | median time |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const m of methods) {
    const rs = results.filter((r) => r.method === m);
    if (!rs.length) continue;
    const t = medianOf(rs.map((r) => r.ms));
    lines.push(`| ${label(m)} | ${f(mean(rs.map((r) => r.scores.holePsnr)))} | ${f(mean(rs.map((r) => r.scores.holeSsim)), 3)} | ${f(mean(rs.map((r) => r.scores.holeL1)), 1)} | ${f(mean(rs.map((r) => r.scores.wholePsnr)))} | ${f(mean(rs.map((r) => r.scores.wholeSsim)), 4)} | ${rs.reduce((a, r) => a + r.scores.changedOutside, 0)} | ${t < 1000 ? `${t.toFixed(0)} ms` : `${(t / 1000).toFixed(1)} s`} |`);
  }
  lines.push('', '## Every photo and hole', '', '| photo | hole (pixels) | method | hole PSNR | hole SSIM | hole L1 | whole PSNR | whole SSIM | changed outside | time |', '|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of info.cases) {
    for (const m of methods) {
      const r = results.find((x) => x.photo === c.photo.id && x.hole === c.hole.id && x.method === m);
      if (!r) continue;
      lines.push(`| ${c.photo.id} | ${c.hole.id} (${c.hole.pixels}) | ${m === 'frontier' ? 'frontier' : m} | ${f(r.scores.holePsnr)} | ${f(r.scores.holeSsim, 3)} | ${f(r.scores.holeL1, 1)} | ${f(r.scores.wholePsnr)} | ${f(r.scores.wholeSsim, 4)} | ${r.scores.changedOutside} | ${r.ms < 1000 ? `${r.ms.toFixed(0)} ms` : `${(r.ms / 1000).toFixed(1)} s`}${r.runMs !== undefined ? ` (run ${r.runMs.toFixed(0)} ms)` : ''} |`);
    }
  }
  lines.push(
    '',
    '## What was measured',
    '',
    `- Photos (Debian python3-skimage's data folder, extracted at bench time): ${info.photos.map((p) => `**${p.id}**: ${p.about}`).join('; ')}.`,
    `- Holes, per photo: ${[...new Set(info.cases.map((c) => c.hole.id))].join(', ')}; exact positions: ${info.cases.map((c) => `${c.photo.id} ${c.hole.id}: ${c.hole.about}`).join('; ')}.`,
    `- Every method gets the same input: the photo with the hole's pixels set to grey ${HOLE_GREY}, and the hole as a mask (white = fill). Methods: ${methods.map((m) => `**${m}** = ${label(m)}`).join('; ')}.${info.opencv ? ` OpenCV ${info.opencv} (Debian python3-opencv).` : ''}`,
    '- Scores against the original photo. Hole: PSNR and mean absolute error over the hole\'s pixels (RGB, 8-bit), SSIM = mean of the SSIM map (BT.601 luma, 11×11 Gaussian window σ 1.5) over the hole\'s pixels (windows of pixels near the hole\'s edge also cover known pixels, so it rewards fills that continue the surround). Whole image: PSNR and mean SSIM over every pixel; they also catch a method that changes pixels outside the hole (counted in "changed outside").',
    '- Frontier\'s time is the whole CLI process (Node start-up, model load, tiling, run); "run" is the run stage from the result\'s own metadata. The baselines\' times are the inpainting calls alone.',
    '',
  );
  return lines.join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const load0 = loadavg()[0];
  const opencv = args.methods.some((m) => m === 'telea' || m === 'ns') ? requireOpenCv() : undefined;
  const work = args.keep ?? mkdtempSync(join(tmpdir(), 'frontier-inpaint-quality-'));
  mkdirSync(work, { recursive: true });
  const debDir = mkdtempSync(join(tmpdir(), 'frontier-skimage-'));
  try {
    const photos = loadPhotos(skimageData(debDir));
    const cases: Case[] = [];
    for (const photo of photos) {
      for (const hole of holesFor(photo.id, photo.image.width, photo.image.height)) {
        const dir = join(work, `${photo.id}-${hole.id}`);
        mkdirSync(dir, { recursive: true });
        const c: Case = { photo, hole, dir, holedPath: join(dir, 'holed.png'), maskPath: join(dir, 'mask.png') };
        writeFileSync(c.holedPath, writePngBytes(holed(photo.image, hole.mask)));
        writeFileSync(c.maskPath, writePngBytes(maskImage(photo.image.width, photo.image.height, hole.mask)));
        cases.push(c);
      }
    }
    const results: Result[] = [];
    const add = (c: Case, method: Method, image: RgbaImage, ms: number, runMs?: number) =>
      results.push({ photo: c.photo.id, hole: c.hole.id, method, scores: score(c.photo.image, image, c.hole.mask), ms, runMs });
    if (args.methods.includes('mean')) {
      for (const c of cases) {
        const t0 = performance.now();
        const filled = meanFill(readPng(c.holedPath), c.hole.mask);
        const ms = performance.now() - t0;
        writeFileSync(join(c.dir, 'mean.png'), writePngBytes(filled));
        add(c, 'mean', filled, ms);
      }
    }
    if (opencv) {
      const cv = runOpenCv(cases);
      cases.forEach((c, i) => {
        for (const m of ['telea', 'ns'] as const) if (args.methods.includes(m)) add(c, m, readPng(join(c.dir, `${m}.png`)), cv.ms[m][i]);
      });
    }
    let frontierModel: string | undefined;
    let frontierVariant: string | undefined;
    if (args.methods.includes('frontier')) {
      for (const c of cases) {
        const r = await runFrontier(c, args.model);
        frontierModel = r.meta?.model ?? args.model;
        frontierVariant = r.meta?.modelVariant;
        add(c, 'frontier', readPng(r.out), r.ms, r.meta?.runMs);
        console.log(`frontier ${c.photo.id}/${c.hole.id}: ${(r.ms / 1000).toFixed(1)} s (${frontierModel ?? 'default model'}${frontierVariant === 'tiny' ? ', random-weight test model' : ''})`);
      }
    }
    const when = new Date().toISOString();
    const seconds = (performance.now() - started) / 1000;
    const machine = `${cpus().length}× ${cpus()[0]?.model}`;
    const load: [number, number] = [load0, loadavg()[0]];
    const md = report(results, args.methods, { when, seconds, photos, cases, frontierModel, frontierVariant, opencv, load, machine });
    mkdirSync(OUT, { recursive: true });
    const json = {
      when,
      durationSeconds: seconds,
      machine,
      loadAverage: load,
      opencv,
      frontier: args.methods.includes('frontier') ? { model: frontierModel, variant: frontierVariant, randomWeights: frontierVariant === 'tiny' } : undefined,
      holeGrey: HOLE_GREY,
      photos: photos.map((p) => ({ id: p.id, about: p.about, width: p.image.width, height: p.image.height })),
      holes: cases.map((c) => ({ photo: c.photo.id, hole: c.hole.id, about: c.hole.about, pixels: c.hole.pixels })),
      methods: Object.fromEntries(args.methods.map((m) => [m, m === 'frontier' ? `Frontier inpaint CLI${frontierModel ? ` (${frontierModel})` : ''}` : LABELS[m]])),
      results,
    };
    await writeFile(join(OUT, 'inpaint-quality.json'), resultsJson(json));
    await writeFile(join(OUT, 'inpaint-quality.md'), md);
    console.log(md);
    if (args.keep) console.log(`inputs and results kept in ${work}`);
  } finally {
    rmSync(debDir, { recursive: true, force: true });
    if (!args.keep) rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
