// `npm run bench:video-flicker`: does Restore video flicker? Restore video restores every frame on its own (the image
// task `restore`: on the server the mode's 256-px build where it is installed, else 128-px tiles with overlap and, for
// the haze modes, tone harmonisation; local mean colour for denoise), so nothing ties one frame's result to the next. This bench measures it (issue 15): short real clips are made with
// ffmpeg from a real photo (test/fixtures/images/chelsea.png) seen through a window that pans a few pixels per frame
// (and through a still one), degraded per frame (seeded Gaussian noise that differs from frame to frame for
// denoise, a uniform haze for dehaze-outdoor), sent through a real Frontier server as restore-video jobs by the
// plugin's own jobs client (upload, server-sent progress, download), and decoded again. Per case:
//   flicker = mean over t of mean |frame[t+1] − frame[t]| (RGB levels, 0–255) of the output, of the input, and of the
//   clean frames the clip was made from (where the camera moves, the clean clip changes too: that part is motion, not
//   flicker; the still camera leaves only flicker), their ratios, and how far input and output are from the clean
//   frames (mean |frame − clean|). Written to bench/results/video-flicker.{json,md} (BENCH_RESULTS_DIR elsewhere).
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../server/server.ts';
import { createJobServer } from '../worker/runtime/jobs-client.ts';
import { decodeFrames, encodeFrames, makePhotoClip, meanAbsDiff, motionCompensatedDiff, type PhotoClipOptions } from '../test/server/photo-clip.ts';
import { requireFfmpeg } from '../test/server/jobs-util.ts';
import { log } from './common/log.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { parseCli } from '../server/cli-args.ts';
import { existsSync } from 'node:fs';
import type { ModelCard, Registry } from '../worker/models/card.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH } from '../worker/platform-node.ts';

// Arguments are checked first: this bench takes none (its settings come from the environment).
parseCli('npm run bench:video-flicker (no options; by environment: BENCH_FRAMES, BENCH_RESULTS_DIR=DIR)', {});

const WIDTH = 192; // one 256-px call on the server (the larger-tile build); two 128-px tiles across without it
const HEIGHT = 128;
const FRAMES = Number(process.env.BENCH_FRAMES ?? 12);
const FPS = 12;

interface Case {
  name: string;
  mode: string;
  model: string;
  camera: string;
  clip: Omit<PhotoClipOptions, 'frames' | 'width' | 'height' | 'fps' | 'photo'>;
  degradation: string;
}

const CASES: Case[] = [
  { name: 'denoise, panning', mode: 'denoise', model: 'maxim-denoise', camera: 'pans 2 px right, 1 px down per frame', clip: { panPx: 2, x0: 120, y0: 40, noiseSigma: 20, seed: 11 }, degradation: 'Gaussian noise σ = 20 levels, new each frame' },
  { name: 'denoise, still', mode: 'denoise', model: 'maxim-denoise', camera: 'still', clip: { panPx: 0, x0: 140, y0: 60, noiseSigma: 20, seed: 12 }, degradation: 'Gaussian noise σ = 20 levels, new each frame' },
  { name: 'dehaze-outdoor, panning', mode: 'dehaze-outdoor', model: 'maxim-dehaze-outdoor', camera: 'pans 2 px right, 1 px down per frame', clip: { panPx: 2, x0: 120, y0: 40, haze: { t: 0.6, airlight: 215 }, seed: 13 }, degradation: 'uniform haze: clean × 0.6 + 215 × 0.4' },
  { name: 'dehaze-outdoor, still', mode: 'dehaze-outdoor', model: 'maxim-dehaze-outdoor', camera: 'still', clip: { panPx: 0, x0: 140, y0: 60, haze: { t: 0.6, airlight: 215 }, seed: 14 }, degradation: 'uniform haze: clean × 0.6 + 215 × 0.4' },
];

/** Mean over t of the mean |frames[t+1] − frames[t]|. */
function flicker(frames: Uint8Array[]): number {
  let sum = 0;
  for (let t = 0; t + 1 < frames.length; t++) sum += meanAbsDiff(frames[t + 1], frames[t]);
  return sum / (frames.length - 1);
}

/** The same with frame t+1 moved back by the camera's known move: only what motion does not explain. */
function compensatedFlicker(frames: Uint8Array[], offsets: { x: number; y: number }[]): number {
  let sum = 0;
  for (let t = 0; t + 1 < frames.length; t++) {
    sum += motionCompensatedDiff(frames[t], frames[t + 1], WIDTH, HEIGHT, offsets[t + 1].x - offsets[t].x, offsets[t + 1].y - offsets[t].y);
  }
  return sum / (frames.length - 1);
}

/** Mean over t of the mean |a[t] − b[t]|. */
function distance(a: Uint8Array[], b: Uint8Array[]): number {
  return a.reduce((sum, frame, t) => sum + meanAbsDiff(frame, b[t]), 0) / a.length;
}

/**
 * How the server's restore task runs a WIDTH×HEIGHT frame of `model`, as worker/tasks/restore.ts chooses (buildFor):
 * the larger-tile build when the frame does not fit one of the card's own tiles and that build is built here; then
 * one call when the frame fits one tile, else tiles with overlap (and a whole-picture pass for io.tile.harmonize).
 */
async function serverBuild(model: string): Promise<string> {
  const registry = JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
  const card = registry.models.find((m) => m.id === model);
  if (!card) throw new Error(`No model ${model} in the registry.`);
  const fitsOwn = WIDTH <= card.io.tile.size && HEIGHT <= card.io.tile.size;
  const large: ModelCard | undefined = card.largeTiles ? registry.models.find((m) => m.id === card.largeTiles) : undefined;
  const used = !fitsOwn && large?.targets.includes('server') && existsSync(join(MODEL_FILES_DIR, large.files[0].name)) ? large : card;
  const { size, overlap, harmonize } = used.io.tile;
  if (WIDTH <= size && HEIGHT <= size) return `${used.id}: one ${size}-px call per frame (mirrored out to ${size}×${size}, cropped back): no tiles, no seams, no whole-picture pass`;
  return `${used.id}: ${size}-px tiles with ${overlap} px overlap${harmonize ? ', and a whole-picture pass for its tones' : ''}`;
}

interface Row {
  /** How the server ran each frame (serverBuild). */
  build: string;
  case: string;
  mode: string;
  model: string;
  camera: string;
  degradation: string;
  frames: number;
  width: number;
  height: number;
  flicker: { input: number; output: number; clean: number };
  /** output / input, output / clean. */
  ratio: { outputToInput: number; outputToClean: number };
  /** Flicker with the camera's move taken out (frame t+1 shifted back onto frame t): 0 for the clean clip; `codec`:
   *  the clean clip encoded as the server encodes results (crf 18), the floor the encoding alone leaves. */
  compensated: { input: number; output: number; clean: number; codec: number; outputToInput: number };
  /** Mean |frame − clean|: how far from the clean frames the input and the output are. */
  fromClean: { input: number; output: number };
  /** Job time from create to downloaded result, and per frame. */
  seconds: number;
  secondsPerFrame: number;
}

async function main(): Promise<void> {
  requireFfmpeg();
  const loadStart = loadavg();
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'frontier-bench-video-flicker-'));
  const server = await startServer({ port: 0, jobs: { dir: join(work, 'jobs'), windowFrames: 4 } });
  const client = createJobServer({ baseUrl: server.url, token: server.token });
  const rows: Row[] = [];
  try {
    for (const [i, c] of CASES.entries()) {
      const input = join(work, `input-${i}.mp4`);
      const made = await makePhotoClip(input, { photo: 'chelsea.png', width: WIDTH, height: HEIGHT, frames: FRAMES, fps: FPS, ...c.clip });
      const bytes = new Uint8Array(await readFile(input));
      log(`${c.name}: ${FRAMES} frames of ${WIDTH}×${HEIGHT} → restore-video ${c.mode}`);
      const t0 = Date.now();
      let lastLogged = -1;
      const result = await client.runVideo({
        id: `bench-flicker-${i}-${Date.now().toString(36)}`,
        task: 'restore-video',
        model: c.model,
        params: { mode: c.mode },
        video: { bytes, mime: 'video/mp4' },
        signal: new AbortController().signal,
        progress: (p) => {
          if (p.stage === 'run' && p.done !== lastLogged && p.total > 1) {
            lastLogged = p.done;
            log(`  ${p.message ?? `${p.done} / ${p.total}`}`);
          }
        },
      });
      const seconds = (Date.now() - t0) / 1000;
      const output = join(work, `output-${i}.mp4`);
      await writeFile(output, result.bytes);
      const [inFrames, outFrames] = await Promise.all([decodeFrames(input, WIDTH, HEIGHT), decodeFrames(output, WIDTH, HEIGHT)]);
      if (inFrames.length !== FRAMES || outFrames.length !== FRAMES) throw new Error(`${c.name}: ${inFrames.length} input and ${outFrames.length} output frames, expected ${FRAMES}`);
      const f = { input: flicker(inFrames), output: flicker(outFrames), clean: flicker(made.clean) };
      const cleanEncoded = join(work, `clean-${i}.mp4`);
      await encodeFrames(cleanEncoded, made.clean, WIDTH, HEIGHT, FPS, 18);
      const codecFrames = await decodeFrames(cleanEncoded, WIDTH, HEIGHT);
      const m = {
        input: compensatedFlicker(inFrames, made.offsets),
        output: compensatedFlicker(outFrames, made.offsets),
        clean: compensatedFlicker(made.clean, made.offsets),
        codec: compensatedFlicker(codecFrames, made.offsets),
      };
      const row: Row = {
        build: await serverBuild(c.model),
        case: c.name,
        mode: c.mode,
        model: c.model,
        camera: c.camera,
        degradation: c.degradation,
        frames: FRAMES,
        width: WIDTH,
        height: HEIGHT,
        flicker: f,
        ratio: { outputToInput: f.output / f.input, outputToClean: f.clean > 0 ? f.output / f.clean : Number.POSITIVE_INFINITY },
        compensated: { ...m, outputToInput: m.output / m.input },
        fromClean: { input: distance(inFrames, made.clean), output: distance(outFrames, made.clean) },
        seconds,
        secondsPerFrame: seconds / FRAMES,
      };
      rows.push(row);
      log(`  flicker: output ${f.output.toFixed(2)}, input ${f.input.toFixed(2)}, clean ${f.clean.toFixed(2)} levels; motion taken out: output ${m.output.toFixed(2)}, input ${m.input.toFixed(2)}, clean ${m.clean.toFixed(2)}; from clean: input ${row.fromClean.input.toFixed(2)}, output ${row.fromClean.output.toFixed(2)} (${seconds.toFixed(0)} s)`);
    }
  } finally {
    await server.close();
    await rm(work, { recursive: true, force: true });
  }

  const machine = { cpus: `${cpus().length}× ${cpus()[0]?.model}`, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverageStart: loadStart, loadAverageEnd: loadavg() };
  const date = new Date().toISOString().slice(0, 10);
  const json = resultsJson({ bench: 'video-flicker', date, machine, photo: 'test/fixtures/images/chelsea.png', fps: FPS, encoding: 'input and output H.264 (input crf 12, output as the server encodes: crf 18), yuv420p', rows });
  const n = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
  // A ratio of two near-zero changes says nothing.
  const ratio = (x: number, of = 1) => (!Number.isFinite(x) ? '– (clean is still)' : of < 0.01 ? '–' : `${x.toFixed(2)}×`);
  const md = [
    `# Restore video: flicker between frames (${date})`,
    '',
    `Machine: ${machine.cpus}, ${machine.memoryGiB} GiB, no GPU; Node ${machine.node}. 1-minute load average ${loadStart[0].toFixed(1)} at the start, ${machine.loadAverageEnd[0].toFixed(1)} at the end (the machine is shared: times are wall clock under that load). The bench took ${((Date.now() - started) / 60_000).toFixed(1)} min.`,
    '',
    `Each clip: ${FRAMES} frames of ${WIDTH}×${HEIGHT} at ${FPS} fps cut from test/fixtures/images/chelsea.png (a real photo), degraded per frame, encoded with ffmpeg (H.264 crf 12), sent as a restore-video job to a real Frontier server by the plugin's jobs client; every frame restored by the restore task on the server (${[...new Set(rows.map((r) => r.build))].join('; ')}; denoise keeps the input's local mean colour), encoded there (crf 18) and decoded here.`,
    '',
    '**Flicker** = mean over t of mean |frame[t+1] − frame[t]| over RGB, in levels (0–255): the issue\'s measure. Where the camera moves, the clean clip changes from frame to frame too (motion, not flicker), and a restoration that adds contrast (dehaze) or takes out fine detail (denoise) changes that motion term as well. So the second table takes the motion out: frame t+1 is shifted back by the camera\'s known move onto frame t and only the part both show is compared (0 for the clean clip). **From clean** = mean |frame − clean frame|: what the restoration gained.',
    '',
    '| case | degradation | flicker: input | flicker: output | flicker: clean | output / input | output / clean |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.case} (${r.camera}) | ${r.degradation} | ${n(r.flicker.input)} | ${n(r.flicker.output)} | ${n(r.flicker.clean)} | ${ratio(r.ratio.outputToInput, r.flicker.input)} | ${ratio(r.ratio.outputToClean)} |`),
    '',
    '| case | motion taken out: input | motion taken out: output | output / input | clean clip through the encoder (floor) | from clean: input | from clean: output | s per frame |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.case} | ${n(r.compensated.input)} | ${n(r.compensated.output)} | ${ratio(r.compensated.outputToInput, r.compensated.input)} | ${n(r.compensated.codec)} | ${n(r.fromClean.input)} | ${n(r.fromClean.output)} | ${r.secondsPerFrame.toFixed(1)} |`),
    '',
    '## Reading it',
    '',
    ...rows.map((r) =>
      r.flicker.input < 0.01 ?
        `- **${r.case}**: the input frames are all the same (a still camera over a still haze), and so are the output frames (${n(r.flicker.output)} levels from one to the next): the restoration gives the same frame for the same input. Distance from the clean frames: ${n(r.fromClean.input)} → ${n(r.fromClean.output)} levels.`
      : `- **${r.case}**: frame to frame the output changes ${n(r.flicker.output)} levels against the input\'s ${n(r.flicker.input)} (${ratio(r.ratio.outputToInput, r.flicker.input)})` +
        `${r.flicker.clean === 0 ? ' with a still camera, so all of it is flicker' : ` and the clean clip\'s ${n(r.flicker.clean)} (${ratio(r.ratio.outputToClean)}); with the motion taken out, ${n(r.compensated.output)} against the input\'s ${n(r.compensated.input)} (${ratio(r.compensated.outputToInput, r.compensated.input)})`}; the encoding alone leaves ${n(r.compensated.codec)}. ` +
        `Distance from the clean frames: ${n(r.fromClean.input)} → ${n(r.fromClean.output)} levels.`,
    ),
    '',
    "Frames are restored independently (no temporal model): what is left of the frame-to-frame change once motion is taken out is the restoration's own variation from frame to frame (it sees new noise, or the same scene at another place in the picture it is given) plus the H.264 encoding of the result (crf 18). The still haze clip shows the restoration itself is steady: the same frame in gives the same frame out, so what the panning haze clip adds comes from the picture moving within what the model sees, not from noise. A temporal model (TTVSR for upscaling) would take neighbouring frames as context through the runner's frame windows.",
    '',
  ].join('\n');
  await writeResults('video-flicker', json, md, (Date.now() - started) / 1000);
}

runMain(main);
