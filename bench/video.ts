// `npm run bench:video`: frames per second of Upscale video at 180p → 720p (×4) through a real Frontier server, per
// model (issue 15; its goal on a GPU server is ≥ 10 fps). A 24-frame 320×180 clip is cut from a real photo
// (test/fixtures/images/chelsea.png) seen through a window that pans 3 px a frame, encoded with ffmpeg, and sent as an
// upscale-video job by the plugin's own jobs client (upload, server-sent progress, download):
//   - ESRGAN frame by frame (each frame one run of the upscale task over the server's OIP path, 2 frames at once):
//     esrgan-slim-x4 and the default ×4 model (Quality: Best → esrgan-thick-x4);
//   - TTVSR tiny (the real recurrence at tiny width, seeded random weights; windows of 8 with 4 frames of context,
//     each window's recurrence in the server's engine process).
// Measured wall clock from the job's creation to its result (upload, decode, inference, encode), and the run stage
// alone (first to last frame).
// TTVSR at full width cannot be measured here end to end in reasonable time on a CPU, and its official weights are
// not bundled, so its compute is ESTIMATED: the five parts are exported at full width (mid 64 channels, as the
// official checkpoint) with random weights in the official layout (Python, export.py --checkpoint of a made-up
// file), each part is timed on onnxruntime-node at 320×180 (align at 1, 3 and 6 keyframes; linear in between), and
// the times are multiplied by the exact call schedule of this clip (counted by running the driver over the clip with
// the tiny parts: how many calls of each part, and at how many keyframes each align call is). Written to
// bench/results/video.{json,md} (BENCH_RESULTS_DIR elsewhere). CPU only here; the table has a column for the device
// so a GPU row can be added (BENCH_DEVICE names it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../server/server.ts';
import type { ModelCard, Registry } from '../worker/models/card.ts';
import { REPO_ROOT } from '../worker/platform-node.ts';
import { createJobServer } from '../worker/runtime/jobs-client.ts';
import { createOrtNodeRuntime } from '../worker/runtime/ort-node.ts';
import type { Session, Tensor } from '../worker/runtime/runtime.ts';
import { DEFAULT_CONTEXT, DEFAULT_WINDOW, fromRgb24, TTVSR_PARTS, upscaleClipInWindows, type RunPart, type TtvsrPart, type VideoFrame } from '../worker/video/ttvsr.ts';
import { requireFfmpeg } from '../test/server/jobs-util.ts';
import { decodeFrames, makePhotoClip } from '../test/server/photo-clip.ts';
import { log } from './common/log.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { parseCli } from '../server/cli-args.ts';

// Arguments are checked first: this bench takes none (its settings come from the environment).
parseCli('npm run bench:video (no options; by environment: BENCH_FRAMES, BENCH_DEVICE, BENCH_RESULTS_DIR=DIR)', {});

const WIDTH = 320;
const HEIGHT = 180;
const FRAMES = Number(process.env.BENCH_FRAMES ?? 24);
const FPS = 24;
const PYTHON = '/usr/bin/python3';
const EXPORT_DIR = join(REPO_ROOT, 'models', 'export');
const DEVICE = process.env.BENCH_DEVICE ?? 'CPU (onnxruntime-node)';

// A checkpoint in the official layout (ttvsr.official_keys) with random weights scaled like PyTorch's default init:
// the full-width graphs and their compute, nothing learnt.
const FAKE_CHECKPOINT = `
import math, sys, torch
sys.path.insert(0, '.')
import ttvsr
torch.manual_seed(0)
state = {}
for name, shape in ttvsr.official_keys('ttvsr-reds-align'):
    if name.endswith('spynet.mean'): state[name] = torch.tensor([0.485, 0.456, 0.406]).view(shape)
    elif name.endswith('spynet.std'): state[name] = torch.tensor([0.229, 0.224, 0.225]).view(shape)
    elif name == 'step_counter': state[name] = torch.zeros(shape)
    else:
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else shape[0]
        state[name] = (torch.rand(shape) * 2 - 1) / math.sqrt(fan_in)
torch.save({'meta': {}, 'state_dict': state}, sys.argv[1])
`;

function python(args: string[]): void {
  execFileSync(PYTHON, args, { cwd: EXPORT_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Exports the five TTVSR parts into `dir` (tiny, or full width from `checkpoint`) and returns their cards. */
function exportParts(dir: string, how: string[], suffix: string): Record<TtvsrPart, { card: ModelCard; file: string }> {
  const out: Partial<Record<TtvsrPart, { card: ModelCard; file: string }>> = {};
  for (const part of TTVSR_PARTS) {
    python(['export.py', `ttvsr-reds-${part}`, ...how, '--out', dir]);
    const card = JSON.parse(readFileSync(join(dir, `ttvsr-reds-${part}${suffix}.card.json`), 'utf8')) as ModelCard;
    out[part] = { card, file: join(dir, card.files[0].name) };
  }
  return out as Record<TtvsrPart, { card: ModelCard; file: string }>;
}

interface Row {
  model: string;
  what: string;
  device: string;
  measured: boolean;
  frames: number;
  seconds: number;
  runSeconds: number;
  fps: number;
  runFps: number;
}

async function main(): Promise<void> {
  requireFfmpeg();
  const loadStart = loadavg();
  const uptimeStart = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'frontier-bench-video-'));
  const rows: Row[] = [];
  try {
    // A server root with the shipped ESRGAN ×4 models and the tiny TTVSR parts.
    log('exporting the tiny TTVSR parts (Python)');
    const tiny = exportParts(join(work, 'tiny'), ['--tiny', '--seed', '0'], '-tiny');
    const root = join(work, 'root');
    const files = join(root, 'models', 'build', 'files');
    await mkdir(files, { recursive: true });
    const shipped = JSON.parse(await readFile(join(REPO_ROOT, 'models', 'registry.json'), 'utf8')) as Registry;
    const esrgan = ['esrgan-slim-x4', 'esrgan-thick-x4'].map((id) => shipped.models.find((m) => m.id === id)!);
    for (const card of esrgan) await copyFile(join(REPO_ROOT, 'models', 'build', 'files', card.files[0].name), join(files, card.files[0].name));
    for (const { card, file } of Object.values(tiny)) await copyFile(file, join(files, card.files[0].name));
    await writeFile(join(root, 'models', 'registry.json'), JSON.stringify({ version: 1, models: [...esrgan, ...Object.values(tiny).map((t) => t.card)] }));

    const clipPath = join(work, 'clip.mp4');
    await makePhotoClip(clipPath, { photo: 'chelsea.png', width: WIDTH, height: HEIGHT, frames: FRAMES, fps: FPS, panPx: 3, x0: 20, y0: 20 });
    const bytes = new Uint8Array(await readFile(clipPath));

    const server = await startServer({ port: 0, root, jobs: { dir: join(work, 'jobs') } });
    const client = createJobServer({ baseUrl: server.url, token: server.token });
    try {
      const jobs: [string, string, string][] = [
        ['esrgan-slim-x4', 'esrgan-slim-x4', 'ESRGAN slim ×4, frame by frame (OIP path, 2 frames at once)'],
        ['esrgan-thick-x4', 'esrgan-thick-x4', 'ESRGAN thick ×4 (the default ×4: Quality Best), frame by frame'],
        ['ttvsr-reds-tiny', 'ttvsr-reds-tiny', `TTVSR tiny (random-weight test model; windows of ${DEFAULT_WINDOW} + ${DEFAULT_CONTEXT} context, in the engine process)`],
      ];
      for (const [name, model, what] of jobs) {
        log(`${name}: ${FRAMES} frames of ${WIDTH}×${HEIGHT} → ×4`);
        const t0 = performance.now();
        let firstRun = 0;
        let lastRun = 0;
        const result = await client.runVideo({
          id: `bench-video-${name}-${Date.now().toString(36)}`,
          task: 'upscale-video',
          model,
          params: { scale: 4 },
          video: { bytes, mime: 'video/mp4' },
          signal: new AbortController().signal,
          progress: (p) => {
            if (p.stage !== 'run') return;
            if (!firstRun) firstRun = performance.now();
            if (p.done >= 1) lastRun = performance.now();
          },
        });
        const seconds = (performance.now() - t0) / 1000;
        const runSeconds = (lastRun - firstRun) / 1000;
        if (result.width !== 4 * WIDTH || result.height !== 4 * HEIGHT) throw new Error(`${name}: a ${result.width}×${result.height} result`);
        rows.push({ model: name, what, device: DEVICE, measured: true, frames: FRAMES, seconds, runSeconds, fps: FRAMES / seconds, runFps: FRAMES / runSeconds });
        log(`  ${seconds.toFixed(1)} s (${(FRAMES / seconds).toFixed(2)} fps; run stage ${(FRAMES / runSeconds).toFixed(2)} fps)`);
      }
    } finally {
      await server.close();
    }

    // The call schedule of this clip: the driver over the decoded frames with the tiny parts, counting calls.
    log('counting the TTVSR call schedule of the clip (tiny parts, in process)');
    const runtime = createOrtNodeRuntime();
    const load = async (parts: Record<TtvsrPart, { card: ModelCard; file: string }>) =>
      Object.fromEntries(await Promise.all(TTVSR_PARTS.map(async (p) => [p, await runtime.createSession(parts[p].card, async () => new Uint8Array(await readFile(parts[p].file)))] as const))) as Record<TtvsrPart, Session>;
    const tinySessions = await load(tiny);
    const calls: Record<string, number> = {};
    const alignK: number[] = [];
    const counting: RunPart = (part, feeds) => {
      calls[part] = (calls[part] ?? 0) + 1;
      if (part === 'align') alignK.push(feeds.location.dims[1]);
      return tinySessions[part].run(feeds);
    };
    const decoded = await decodeFrames(clipPath, WIDTH, HEIGHT);
    async function* stream(): AsyncGenerator<VideoFrame> {
      for (const f of decoded) yield fromRgb24(f, WIDTH, HEIGHT);
    }
    let made = 0;
    for await (const frame of upscaleClipInWindows(stream(), { window: DEFAULT_WINDOW, context: DEFAULT_CONTEXT }, counting)) made += frame.width === 4 * WIDTH ? 1 : 0;
    if (made !== FRAMES) throw new Error(`the driver made ${made} frames of ${FRAMES}`);
    await Promise.all(Object.values(tinySessions).map((s) => s.dispose()));

    // Full width: per-part times at 320×180.
    log('exporting the TTVSR parts at full width with random weights (Python)');
    const checkpoint = join(work, 'random-full.pth');
    python(['-c', FAKE_CHECKPOINT, checkpoint]);
    const full = exportParts(join(work, 'full'), ['--checkpoint', checkpoint], '');
    const sessions = await load(full);
    const c = (full.features.card.io as unknown as { video: { channels: number; tokenChannels: number } }).video;
    const [h, w, th, tw] = [HEIGHT, WIDTH, HEIGHT / 4, WIDTH / 4];
    const rand = (dims: number[], scale = 1): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.random() * scale) });
    const frame = rand([1, 3, h, w]);
    const feature = rand([1, c.channels, h, w]);
    const grid = (k: number): Tensor => {
      const data = new Float32Array(k * 2 * th * tw);
      for (let i = 0; i < k; i++) for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) { data[((i * 2) * th + y) * tw + x] = x; data[((i * 2 + 1) * th + y) * tw + x] = y; }
      return { dtype: 'float32', dims: [1, k, 2, th, tw], data };
    };
    const feeds: Record<string, (k: number) => Record<string, Tensor>> = {
      features: () => ({ frame }),
      flow: () => ({ reference: frame, supporting: rand([1, 3, h, w]) }),
      refine: () => ({ feature, aligned: feature }),
      reconstruct: () => ({ frame, backward: feature, feature, forward: feature }),
      align: (k) => {
        const tokens = rand([1, k, c.tokenChannels, th, tw]);
        return { feature, propagated: feature, flow: rand([1, 2, h, w], 0.5), location: grid(k), tokens_s1: tokens, tokens_s2: tokens, tokens_s3: tokens, tokens_index: tokens };
      },
    };
    const time = async (part: TtvsrPart, k = 1, runs = 2): Promise<number> => {
      await sessions[part].run(feeds[part](k)); // warm-up
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) await sessions[part].run(feeds[part](k));
      return (performance.now() - t0) / runs / 1000;
    };
    const perCall: Record<string, number> = {};
    for (const part of ['features', 'flow', 'refine', 'reconstruct'] as const) {
      perCall[part] = await time(part);
      log(`  ${part}: ${(perCall[part] * 1000).toFixed(0)} ms per call at ${WIDTH}×${HEIGHT}`);
    }
    const alignAt: Record<number, number> = {};
    for (const k of [1, 3, 6]) {
      alignAt[k] = await time('align', k);
      log(`  align at ${k} keyframe(s): ${(alignAt[k] * 1000).toFixed(0)} ms`);
    }
    const alignTime = (k: number) => (k <= 3 ? alignAt[1] + ((alignAt[3] - alignAt[1]) * (k - 1)) / 2 : alignAt[3] + ((alignAt[6] - alignAt[3]) * (k - 3)) / 3);
    await Promise.all(Object.values(sessions).map((s) => s.dispose()));
    const estimate =
      ['features', 'flow', 'refine', 'reconstruct'].reduce((sum, p) => sum + (calls[p] ?? 0) * perCall[p], 0) + alignK.reduce((sum, k) => sum + alignTime(k), 0);
    rows.push({ model: 'ttvsr-reds (full width)', what: 'TTVSR at full width (64 channels), random weights: ESTIMATED = per-part times at 320×180 × the clip\'s call schedule (inference only)', device: DEVICE, measured: false, frames: FRAMES, seconds: estimate, runSeconds: estimate, fps: FRAMES / estimate, runFps: FRAMES / estimate });
    log(`  estimate: ${estimate.toFixed(0)} s for ${FRAMES} frames (${(FRAMES / estimate).toFixed(3)} fps)`);

    const uptimeEnd = execFileSync('uptime', { encoding: 'utf8' }).trim();
    const machine = { cpus: `${cpus().length}× ${cpus()[0]?.model}`, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverageStart: loadStart, loadAverageEnd: loadavg(), uptimeStart, uptimeEnd };
    const date = new Date().toISOString().slice(0, 10);
    const schedule = { window: DEFAULT_WINDOW, context: DEFAULT_CONTEXT, calls, alignKeyframes: alignK, perCallSeconds: perCall, alignSecondsByKeyframes: alignAt };
    const json = resultsJson({ bench: 'video', date, machine, clip: { photo: 'test/fixtures/images/chelsea.png', width: WIDTH, height: HEIGHT, frames: FRAMES, fps: FPS, pan: '3 px right, 1.5 px down per frame' }, rows, ttvsrFullEstimate: schedule });
    const kMean = alignK.reduce((a, b) => a + b, 0) / alignK.length;
    const perFrame = estimate / FRAMES;
    const md = [
      `# Upscale video: frames per second at 180p → 720p (${date})`,
      '',
      `Machine: ${machine.cpus}, ${machine.memoryGiB} GiB, no GPU; Node ${machine.node}. Load (uptime) at the start: \`${uptimeStart}\`; at the end: \`${uptimeEnd}\` (the machine is shared: times are wall clock under that load). The bench took ${((Date.now() - started) / 60_000).toFixed(1)} min.`,
      '',
      `Clip: ${FRAMES} frames of ${WIDTH}×${HEIGHT} at ${FPS} fps cut from test/fixtures/images/chelsea.png (a real photo), panning 3 px a frame, H.264; each job ×4 to ${4 * WIDTH}×${4 * HEIGHT} through a real Frontier server with the plugin's jobs client. **fps (job)** = frames / wall clock from creating the job to having the result (upload, ffmpeg decode, inference, encode); **fps (run)** = frames / time from the first to the last frame done.`,
      '',
      '| model | what | device | measured? | fps (job) | fps (run) | s per frame (run) |',
      '|---|---|---|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.model} | ${r.what} | ${r.device} | ${r.measured ? 'measured' : '**estimated**'} | ${r.fps.toFixed(3)} | ${r.runFps.toFixed(3)} | ${(r.runSeconds / r.frames).toFixed(2)} |`),
      '',
      `**How TTVSR at full width was estimated.** The five parts were exported at full width (64 feature channels, ${c.tokenChannels} token channels, as the official checkpoints) from a made-up checkpoint in the official layout with random weights (the same graphs and compute as the real model; nothing learnt), and each part was timed on onnxruntime-node in this process at ${WIDTH}×${HEIGHT} (one warm-up, mean of 2 runs): features ${(perCall.features * 1000).toFixed(0)} ms, flow ${(perCall.flow * 1000).toFixed(0)} ms, refine ${(perCall.refine * 1000).toFixed(0)} ms, reconstruct ${(perCall.reconstruct * 1000).toFixed(0)} ms, align ${(alignAt[1] * 1000).toFixed(0)} / ${(alignAt[3] * 1000).toFixed(0)} / ${(alignAt[6] * 1000).toFixed(0)} ms at 1 / 3 / 6 keyframes (linear in between). The clip's call schedule was counted by running the driver (windows of ${DEFAULT_WINDOW}, ${DEFAULT_CONTEXT} frames of context either side) over the same decoded frames with the tiny parts: ${TTVSR_PARTS.map((p) => `${calls[p] ?? 0} ${p}`).join(', ')} calls (align at ${kMean.toFixed(1)} keyframes on average, at most ${Math.max(...alignK)}). Estimate = Σ calls × time per call = ${estimate.toFixed(0)} s, **${perFrame.toFixed(1)} s per frame** — inference only (no decode/encode, no IPC), so the job would take a little longer.`,
      '',
      `**Against the goal (≥ 10 fps at 180p → 720p on a GPU server).** This CPU does ESRGAN slim ×4 at ${rows[0].runFps.toFixed(2)} fps, ESRGAN thick ×4 at ${rows[1].runFps.toFixed(2)} fps, and full-width TTVSR at about ${(1 / perFrame).toFixed(3)} fps: ${Math.round(10 * perFrame)}× short of 10 fps. The windows cost ${(((calls.refine ?? 0) / FRAMES) / 2).toFixed(2)}× a single bidirectional pass (refine calls per frame / 2): with context 4 each kept frame is also seen as context. The paper's code does about 9 fps on a V100 for one pass over 320×180 clips (catalogue: 11 s per 100 frames); to reach ≥ 10 fps a GPU run needs: onnxruntime-node's CUDA provider (npm install --onnxruntime-node-install=cuda12; the engine process asks for CUDA already), FP16 or TensorRT for the parts, larger windows (fewer context frames per kept frame: the overhead above shrinks as the window grows and memory allows), and the token buffers kept on the GPU between align calls (IO binding) instead of copied to the host at every step. A GPU row is added by running this bench there (BENCH_DEVICE="H100 (CUDA)").`,
      '',
    ].join('\n');
    await writeResults('video', json, md, (Date.now() - started) / 1000);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

runMain(main);
