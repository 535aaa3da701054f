// TTVSR through the video-job path, end to end on a real server with the real ffmpeg: the five tiny TTVSR parts
// (models/export/ttvsr.py at tiny width, seeded random weights, exported by Python into a temporary server root) upscale
// a 10-frame clip cut from a real photo (test/fixtures/images/chelsea.png, panned 3 px a frame) ×4 as an upscale-video
// job. The frames of the MP4 are the driver's (worker/video/ttvsr.ts, windows of 8 with 4 frames of context) run
// directly on the decoded input frames; the windows ran inside the server's engine process (no /v2 inference at all:
// the recurrent state never crossed HTTP); progress per frame, a window's last frame as a preview; a cancel mid-run kills that process and leaves only the
// journal, and the server keeps serving; bodies the server cannot run (×2 with TTVSR, a pipeline it does not have)
// are refused saying what to do; a gateway (jobs.inferUrl) runs the same parts one OIP call each and gives the same
// frames. Needs Debian's python3-torch + python3-onnx and ffmpeg; fails (never skips) without them.
//
//   node --import tsx --test --test-reporter=spec test/server/jobs-ttvsr.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { createOrtNodeRuntime } from '../../worker/runtime/ort-node.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import { DEFAULT_CONTEXT, DEFAULT_WINDOW, fromRgb24, toRgb24, TTVSR_PARTS, upscaleClipInWindows, type RunPart, type TtvsrPart, type VideoFrame } from '../../worker/video/ttvsr.ts';
import { assertOk, readCheckedCard, requireTorch, runExport } from '../export/export-util.ts';
import { tempRoot, type TempRoot } from './helpers.ts';
import { authHeaders, call, filesUnder, patch, poll, probe, readEvents, requireFfmpeg, submit } from './jobs-util.ts';
import { decodeFrames, encodeFrames, makePhotoClip } from './photo-clip.ts';

// Not multiples of 4, and under 64 high: the driver pads to 80×64 and crops the ×4 output back to 312×248.
const W = 78;
const H = 62;
const FRAMES = 10;
const LONG = 300_000;

function ttvsrBody(bytes: number, model: string | null = 'ttvsr-reds-tiny', params: Record<string, unknown> = { scale: 4 }): string {
  return JSON.stringify({ task: 'upscale-video', ...(model ? { model } : {}), params, upload: { bytes, mime: 'video/mp4' } });
}

/** Max and mean |a − b| over frames of packed RGB24, in levels. */
function diff(a: Uint8Array[], b: Uint8Array[]): { max: number; mean: number } {
  assert.equal(a.length, b.length, 'frame counts');
  let max = 0;
  let sum = 0;
  let count = 0;
  for (let t = 0; t < a.length; t++) {
    assert.equal(a[t].length, b[t].length, `frame ${t} sizes`);
    for (let i = 0; i < a[t].length; i++) {
      const d = Math.abs(a[t][i] - b[t][i]);
      if (d > max) max = d;
      sum += d;
    }
    count += a[t].length;
  }
  return { max, mean: sum / count };
}

/** The engine processes that are children of this test's process (the server runs in it). */
function engineProcesses(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return out ? out.split('\n').filter((l) => l.includes('engine-process.mjs')).map((l) => Number(l.trim().split(/\s+/)[0])) : [];
}

describe('upscale-video with TTVSR', { timeout: 1_200_000 }, () => {
  let root: TempRoot;
  let work: string;
  let jobsDir: string;
  let server: RunningServer;
  let clip: Uint8Array;
  let longClip: Uint8Array;
  let sessions: Record<TtvsrPart, Session>;

  before(async () => {
    requireFfmpeg();
    requireTorch();
    work = await mkdtemp(join(tmpdir(), 'frontier-jobs-ttvsr-'));
    jobsDir = join(work, 'jobs');
    // One export per part: each builds the whole tiny model from seed 0, so the parts' weights agree.
    root = await tempRoot();
    const files = join(root.root, 'models', 'build', 'files');
    await mkdir(files, { recursive: true });
    const out = join(work, 'tiny');
    const list: [TtvsrPart, ModelCard][] = [];
    for (const part of TTVSR_PARTS) {
      assertOk(await runExport([`ttvsr-reds-${part}`, '--tiny', '--seed', '0', '--out', out], 300_000), `tiny export of ${part}`);
      const { card, onnxPath } = readCheckedCard(out, `ttvsr-reds-${part}-tiny`);
      await copyFile(onnxPath, join(files, card.files[0].name));
      list.push([part, card as ModelCard]);
    }
    await writeFile(join(root.root, 'models', 'registry.json'), JSON.stringify({ version: 1, models: list.map(([, c]) => c) }));
    const runtime = createOrtNodeRuntime();
    sessions = Object.fromEntries(
      await Promise.all(list.map(async ([part, card]) => [part, await runtime.createSession(card, () => readFile(join(files, card.files[0].name)).then((b) => new Uint8Array(b)))] as const)),
    ) as Record<TtvsrPart, Session>;

    const photo = { photo: 'chelsea.png', width: W, height: H, fps: 10, panPx: 3, x0: 100, y0: 60 };
    await makePhotoClip(join(work, 'clip.mp4'), { ...photo, frames: FRAMES });
    await makePhotoClip(join(work, 'long.mp4'), { ...photo, x0: 20, y0: 20, width: 192, height: 128, frames: 48 });
    clip = new Uint8Array(await readFile(join(work, 'clip.mp4')));
    longClip = new Uint8Array(await readFile(join(work, 'long.mp4')));
    server = await startServer({ port: 0, root: root.root, jobs: { dir: jobsDir, heartbeatMs: 100 } });
  });
  after(async () => {
    await server?.close();
    if (sessions) await Promise.all(Object.values(sessions).map((s) => s.dispose()));
    await root?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  let expectedMp4: Promise<{ raw: Uint8Array[]; encoded: Uint8Array[] }> | undefined;
  /** The driver run directly on the frames the server decodes from the clip, raw and encoded as the server encodes
   *  its results (H.264 crf 18, yuv420p), then decoded. */
  function expected(): Promise<{ raw: Uint8Array[]; encoded: Uint8Array[] }> {
    expectedMp4 ??= (async () => {
      const raw = await reference(await decodeFrames(join(work, 'clip.mp4'), W, H));
      await encodeFrames(join(work, 'expected.mp4'), raw, 4 * W, 4 * H, 10, 18);
      return { raw, encoded: await decodeFrames(join(work, 'expected.mp4'), 4 * W, 4 * H) };
    })();
    return expectedMp4;
  }

  /** The driver run directly on `frames` (packed RGB24 W×H) with the product's window and context. */
  async function reference(frames: Uint8Array[]): Promise<Uint8Array[]> {
    const runPart: RunPart = (part, feeds) => sessions[part].run(feeds);
    async function* stream(): AsyncGenerator<VideoFrame> {
      for (const f of frames) yield fromRgb24(f, W, H);
    }
    const made: Uint8Array[] = [];
    for await (const f of upscaleClipInWindows(stream(), { window: DEFAULT_WINDOW, context: DEFAULT_CONTEXT }, runPart)) made.push(toRgb24(f));
    return made;
  }

  test('a clip of a real photo is upscaled ×4 by TTVSR in the engine process: progress per frame, an MP4 whose frames are the driver run on the decoded frames', async () => {
    const id = 'ttvsr-video-e2e-1';
    const inferBefore = server.inferStats().started;
    const created = await call(server, 'PUT', `/jobs/${id}`, { body: ttvsrBody(clip.length) });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.json?.task, created.json?.model, created.json?.params], ['upscale-video', 'ttvsr-reds-tiny', { scale: 4 }]);
    assert.equal((await patch(server, id, 0, clip)).status, 204);

    const stream = await readEvents(server, id, { lastEventId: 0, timeoutMs: LONG });
    assert.ok(stream.ended);
    const end = stream.events.at(-1)!.job;
    assert.equal(end.state, 'succeeded', end.error);
    assert.deepEqual([...new Set(stream.events.map((e) => e.job.state))], ['uploading', 'queued', 'running', 'succeeded']);
    const run = stream.events.filter((e) => e.job.progress.stage === 'run').map((e) => e.job.progress);
    assert.deepEqual(run.map((p) => p.done), Array.from({ length: FRAMES + 1 }, (_, i) => i), 'one progress event per upscaled frame');
    assert.ok(run.every((p) => p.total === FRAMES));
    // A window's last ×4 frame rides on its own progress event as a preview (the first window's always; the replay
    // keeps only the newest): ≤ 256 px, the output's aspect ratio.
    const previews = run.filter((p) => p.preview);
    assert.ok(previews.length >= 1, 'a preview frame');
    for (const p of previews) {
      assert.ok([DEFAULT_WINDOW, FRAMES].includes(p.done), `at a window's end (${p.done})`);
      assert.deepEqual([p.preview!.width, p.preview!.height], [256, Math.round((256 * H) / W)]);
    }
    assert.deepEqual({ ...end.result, bytes: 0 }, { url: `/jobs/${id}/result`, bytes: 0, width: 4 * W, height: 4 * H, frames: FRAMES, fps: 10 });
    assert.equal(server.inferStats().started, inferBefore, 'no part ran through /v2: the windows ran in the engine process');

    const res = await fetch(`${server.url}/jobs/${id}/result`, { headers: authHeaders(server) });
    assert.equal(res.status, 200);
    await writeFile(join(work, 'ttvsr.mp4'), new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(await probe(join(work, 'ttvsr.mp4')), { width: 4 * W, height: 4 * H, frames: FRAMES, codec: 'h264', audio: false });

    // The server's frames are the driver's on the frames the server decoded (the same ffmpeg decode here), encoded as
    // the server encodes them (H.264 crf 18, yuv420p): the same frames in gives the same MP4 frames out.
    const { raw, encoded } = await expected();
    const output = await decodeFrames(join(work, 'ttvsr.mp4'), 4 * W, 4 * H);
    const sameEncode = diff(output, encoded);
    const toRaw = diff(output, raw);
    console.log(`TTVSR job vs driver: same encode max ${sameEncode.max} mean ${sameEncode.mean.toFixed(4)} levels; vs raw driver frames max ${toRaw.max} mean ${toRaw.mean.toFixed(3)} levels`);
    assert.ok(sameEncode.max <= 2 && sameEncode.mean < 0.05, `the job's MP4 frames and the driver's frames encoded alike differ by max ${sameEncode.max}, mean ${sameEncode.mean.toFixed(4)} levels`);
    // Measured: max 35, mean 3.68 levels (the tiny random model makes high-frequency noise, which H.264 smooths).
    assert.ok(toRaw.mean < 6, `H.264 moves the frames by ${toRaw.mean.toFixed(2)} levels on average`);
    // It is a picture made from the input, not a constant: the ×4 frames follow the pan.
    assert.ok(diff(output.slice(1), output.slice(0, -1)).mean > 1, 'consecutive output frames differ (the camera pans)');
    assert.deepEqual((await filesUnder(jobsDir)).filter((f) => f.startsWith(`${id}/`)).sort(), [`${id}/job.json`, `${id}/result.mp4`]);
  });

  test('bodies a TTVSR job cannot run are refused saying what to do; a part or the pipeline names the same job', async () => {
    const put = (id: string, body: string) => call(server, 'PUT', `/jobs/${id}`, { body });
    const cases: [string, string, RegExp][] = [
      ['ttvsr-x2-0001', ttvsrBody(10, 'ttvsr-reds-tiny', { scale: 2 }), /^TTVSR \(tiny\) upscales ×4 only \(it is trained for ×4 and uses neighbouring frames\): set Scale to ×4, or pick an ESRGAN model for ×2\.$/],
      ['ttvsr-x3-0001', ttvsrBody(10, 'ttvsr-reds-align-tiny', { scale: 3 }), /^TTVSR \(tiny\) upscales ×4 only .*pick an ESRGAN model for ×3\.$/],
      ['ttvsr-vimeo-1', ttvsrBody(10, 'ttvsr-vimeo90k', { scale: 4 }), /^Model ttvsr-vimeo90k is not an upscaling model this server can run; available: ttvsr-reds-tiny \(TTVSR \(tiny\), ×4 only\)\.$/],
    ];
    for (const [id, body, message] of cases) {
      const res = await put(id, body);
      assert.equal(res.status, 400, `${id}: ${res.text}`);
      assert.match(res.json?.error ?? '', message, id);
    }
    // A part's id names its pipeline; ×4 is the default; the same job again is the same job.
    const byPart = await put('ttvsr-by-part1', ttvsrBody(10, 'ttvsr-reds-refine-tiny', {}));
    assert.equal(byPart.status, 201, byPart.text);
    assert.deepEqual([byPart.json?.model, byPart.json?.params], ['ttvsr-reds-tiny', { scale: 4 }]);
    assert.equal((await put('ttvsr-by-part1', ttvsrBody(10))).status, 200);
    assert.equal((await call(server, 'DELETE', '/jobs/ttvsr-by-part1')).status, 204);
  });

  test('cancel mid-run kills the engine process, leaves nothing but the journal, and the server runs the next job', async () => {
    const id = 'ttvsr-cancel-01';
    await submit(server, id, longClip, ttvsrBody(longClip.length));
    const running = await readEvents(server, id, { stopAfter: (e) => e.job.progress.stage === 'run' && e.job.progress.done >= 1, timeoutMs: LONG });
    assert.equal(running.ended, false);
    const engines = engineProcesses();
    assert.ok(engines.length >= 1, 'an engine process runs the windows');

    const cancelled = await call(server, 'POST', `/jobs/${id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.json?.state, 'cancelled');
    const doneAtCancel = cancelled.json!.progress.done;
    assert.ok(doneAtCancel >= 1 && doneAtCancel < 48, `stopped early (${doneAtCancel} of 48 frames)`);
    // The cancel returns once the run has stopped: the process that ran it is gone.
    for (const pid of engines) assert.ok(!engineProcesses().includes(pid), `engine process ${pid} was killed`);
    assert.deepEqual((await filesUnder(jobsDir)).filter((f) => f.startsWith(`${id}/`)), [`${id}/job.json`], 'the clip and the partial result are gone');

    const next = 'ttvsr-after-cancel';
    await submit(server, next, clip, ttvsrBody(clip.length));
    const end = (await poll(server, next, undefined, LONG)).at(-1)!;
    assert.equal(end.state, 'succeeded', end.error);
    assert.equal(end.result?.frames, FRAMES);
    const later = (await call(server, 'GET', `/jobs/${id}`)).json!;
    assert.deepEqual([later.state, later.progress.done, later.result], ['cancelled', doneAtCancel, undefined]);
  });

  test('with a gateway (jobs.inferUrl) the parts run there one OIP call each, and give the driver\'s frames too', async () => {
    const gateway = await startServer({ port: 0, root: root.root, jobs: { dir: join(work, 'gateway-jobs'), heartbeatMs: 100, inferUrl: server.url, inferToken: server.token } });
    try {
      const id = 'ttvsr-gateway-1';
      const before = server.inferStats().started;
      await submit(gateway, id, clip, ttvsrBody(clip.length));
      const end = (await poll(gateway, id, undefined, LONG)).at(-1)!;
      assert.equal(end.state, 'succeeded', end.error);
      // 10 frames in windows [0,8)+4 and [8,10) with 4 before: features, flow, align, refine and reconstruct calls.
      assert.ok(server.inferStats().started - before > 50, `the parts ran on the other server (${server.inferStats().started - before} runs)`);
      const res = await fetch(`${gateway.url}/jobs/${id}/result`, { headers: authHeaders(gateway) });
      await writeFile(join(work, 'gateway.mp4'), new Uint8Array(await res.arrayBuffer()));
      const viaGateway = await decodeFrames(join(work, 'gateway.mp4'), 4 * W, 4 * H);
      const d = diff(viaGateway, (await expected()).encoded);
      console.log(`TTVSR over OIP vs the driver's frames encoded alike: max ${d.max}, mean ${d.mean.toFixed(4)} levels`);
      assert.ok(d.max <= 2 && d.mean < 0.05, `max ${d.max}, mean ${d.mean.toFixed(4)} levels`);
    } finally {
      await gateway.close();
    }
  });
});
