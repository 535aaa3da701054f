// Restore video jobs end to end on a real server with the real ffmpeg and the real MAXIM weights: a 64×48 clip cut
// from a real photo (panned 2 px a frame, with seeded noise that differs per frame) is restored frame by frame by the
// image task `restore` through the server's own /v2, encoded to an MP4 whose frames are what `restore` makes of the
// input frames on this machine; bodies the server cannot run are refused saying what is allowed; cancel mid-run
// leaves nothing but the journal; a journalled restore-video job survives a restart.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import { Engine } from '../../worker/engine.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { authHeaders, call, editJournal, filesUnder, patch, poll, probe, readEvents, readJournal, requireFfmpeg, submit } from './jobs-util.ts';
import { decodeFrames, makePhotoClip, meanAbsDiff, rgbOf, rgbToRgba } from './photo-clip.ts';

const W = 64;
const H = 48;
const LONG = 240_000;

function restoreBody(bytes: number, params: Record<string, unknown> = { mode: 'denoise' }, model: string | null = 'maxim-denoise'): string {
  return JSON.stringify({ task: 'restore-video', ...(model ? { model } : {}), params, upload: { bytes, mime: 'video/mp4' } });
}

/** Mean over t of the mean |frame[t+1] − frame[t]|: how much the picture changes from one frame to the next. */
function temporalDiff(frames: Uint8Array[]): number {
  let sum = 0;
  for (let t = 0; t + 1 < frames.length; t++) sum += meanAbsDiff(frames[t + 1], frames[t]);
  return sum / (frames.length - 1);
}

describe('restore-video jobs', { timeout: 900_000 }, () => {
  let server: RunningServer;
  let work: string;
  let jobsDir: string;
  let clip: Uint8Array; // 4 frames, 64×48, 4 fps, noisy
  let longClip: Uint8Array; // 16 frames of 160×48 (two tiles each): seconds of work to cancel

  before(async () => {
    requireFfmpeg();
    work = await mkdtemp(join(tmpdir(), 'frontier-restore-video-'));
    jobsDir = join(work, 'jobs');
    const photo = { photo: 'chelsea.png', width: W, height: H, fps: 4, panPx: 2, x0: 180, y0: 80, noiseSigma: 20 };
    await makePhotoClip(join(work, 'clip.mp4'), { ...photo, frames: 4, seed: 7 });
    // 320 wide: two tiles of the 256-px build the server uses for frames larger than one 128-px tile.
    await makePhotoClip(join(work, 'long.mp4'), { ...photo, width: 320, x0: 60, frames: 16, seed: 8 });
    clip = new Uint8Array(await readFile(join(work, 'clip.mp4')));
    longClip = new Uint8Array(await readFile(join(work, 'long.mp4')));
    server = await startServer({ port: 0, jobs: { dir: jobsDir, windowFrames: 2, heartbeatMs: 100 } });
  });
  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a noisy clip is denoised frame by frame by the restore task: progress per frame, an MP4 of the same size whose frames are what restore makes of each input frame', async () => {
    const id = 'restore-video-e2e-1';
    const created = await call(server, 'PUT', `/jobs/${id}`, { body: restoreBody(clip.length) });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json?.task, 'restore-video');
    assert.equal(created.json?.model, 'maxim-denoise');
    assert.deepEqual(created.json?.params, { mode: 'denoise' });
    assert.equal(created.json?.state, 'uploading');
    assert.equal((await patch(server, id, 0, clip)).status, 204);

    const stream = await readEvents(server, id, { lastEventId: 0, timeoutMs: LONG });
    assert.ok(stream.ended);
    assert.deepEqual([...new Set(stream.events.map((e) => e.job.state))], ['uploading', 'queued', 'running', 'succeeded']);
    const run = stream.events.filter((e) => e.job.progress.stage === 'run').map((e) => e.job.progress);
    assert.deepEqual(run.map((p) => p.done), [0, 1, 2, 3, 4], 'one progress event per restored frame');
    assert.ok(run.every((p) => p.total === 4));
    const end = stream.events.at(-1)!.job;
    assert.deepEqual({ ...end.result, bytes: 0 }, { url: `/jobs/${id}/result`, bytes: 0, width: W, height: H, frames: 4, fps: 4 });

    const res = await fetch(`${server.url}/jobs/${id}/result`, { headers: authHeaders(server) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    await writeFile(join(work, 'restored.mp4'), new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(await probe(join(work, 'restored.mp4')), { width: W, height: H, frames: 4, codec: 'h264', audio: false });

    // Each output frame is the restore task's own result for that input frame (here on onnxruntime-node, the same
    // weights), up to the result's H.264 encoding: far closer to it than the noisy input is.
    const input = await decodeFrames(join(work, 'clip.mp4'), W, H);
    const output = await decodeFrames(join(work, 'restored.mp4'), W, H);
    const engine = new Engine(createNodePlatform());
    for (const t of [0, 3]) {
      const here = await engine.run({ id: `restore-reference-${t}`, task: 'restore', params: { mode: 'denoise' }, image: rgbToRgba(input[t], W, H), target: 'node' });
      const reference = rgbOf(here.images[0]);
      const outError = meanAbsDiff(output[t], reference);
      const inError = meanAbsDiff(input[t], reference);
      assert.ok(outError < 3 && outError < inError / 3, `frame ${t}: output ${outError.toFixed(2)} levels from restore's result, input ${inError.toFixed(2)}`);
    }
    // Denoising takes out the noise that changes from frame to frame.
    const [inFlicker, outFlicker] = [temporalDiff(input), temporalDiff(output)];
    assert.ok(outFlicker < inFlicker * 0.7, `frame-to-frame change: output ${outFlicker.toFixed(2)}, input ${inFlicker.toFixed(2)} levels`);
    // Its folder keeps its journal and its result only.
    const kept = (await filesUnder(jobsDir)).filter((f) => f.startsWith(`${id}/`)).sort();
    assert.deepEqual(kept, [`${id}/job.json`, `${id}/result.mp4`]);
  });

  test('bodies a restore-video job cannot run are refused saying what is allowed; the mode or the model alone names the other', async () => {
    const put = (id: string, body: string) => call(server, 'PUT', `/jobs/${id}`, { body });
    const upload = { bytes: 10, mime: 'video/mp4' };
    const cases: [string, string, number, RegExp][] = [
      ['bad-mode-0001', restoreBody(10, { mode: 'sharpen' }, null), 400, /^params\.mode must be one of denoise, deblur, derain, dehaze-outdoor, dehaze-indoor, low-light, retouch \(got "sharpen"\)\.$/],
      ['bad-param-001', restoreBody(10, { mode: 'denoise', scale: 2 }), 400, /^Unknown parameter scale for restore-video; known: mode\.$/],
      ['wrong-mode-01', restoreBody(10, { mode: 'denoise' }, 'maxim-derain'), 400, /Remove rain.*set Fix to Remove rain, or pick a model for Denoise/],
      ['not-maxim-001', restoreBody(10, { mode: 'denoise' }, 'esrgan-slim-x2'), 400, /^Model esrgan-slim-x2 is not a restoration model this server can run; available: maxim-denoise, maxim-deblur, maxim-derain/],
      ['params-list-1', JSON.stringify({ task: 'restore-video', params: ['denoise'], upload }), 400, /^params must be an object such as \{"mode":"denoise"\}\.$/],
      ['model-num-001', JSON.stringify({ task: 'restore-video', model: 7, upload }), 400, /^model must be a model id; for restore-video: maxim-denoise/],
      ['image-mime-01', JSON.stringify({ task: 'restore-video', params: { mode: 'denoise' }, upload: { bytes: 10, mime: 'image/png' } }), 415, /must be a video type/],
      ['no-upload-001', JSON.stringify({ task: 'restore-video', params: { mode: 'denoise' } }), 400, /^upload must say what will be uploaded/],
      // The image task itself is no job: it names the video tasks.
      ['image-task-01', JSON.stringify({ task: 'restore', params: { mode: 'denoise' }, upload }), 400, /^Unknown task "restore" \(restore takes inputs, which engine jobs cannot upload\): this server runs "upscale-video" and "restore-video" jobs/],
      ['typo-task-001', JSON.stringify({ task: 'restore-vidoe', upload }), 400, /this server runs "upscale-video" and "restore-video" jobs/],
    ];
    for (const [id, body, status, message] of cases) {
      const res = await put(id, body);
      assert.equal(res.status, status, `${id}: ${res.text}`);
      assert.match(res.json?.error ?? '', message, id);
    }

    const byMode = await put('by-mode-only1', restoreBody(10, { mode: 'derain' }, null));
    assert.equal(byMode.status, 201, byMode.text);
    assert.equal(byMode.json?.model, 'maxim-derain');
    const byModel = await put('by-model-only', restoreBody(10, {}, 'maxim-dehaze-indoor'));
    assert.equal(byModel.status, 201, byModel.text);
    assert.deepEqual(byModel.json?.params, { mode: 'dehaze-indoor' });
    const neither = await put('by-neither-01', JSON.stringify({ task: 'restore-video', upload }));
    assert.equal(neither.status, 201, neither.text);
    assert.deepEqual([neither.json?.model, neither.json?.params], ['maxim-denoise', { mode: 'denoise' }], 'Fix starts at Denoise, as in Restore');

    // Idempotent for the same job (defaults filled in), a conflict for another mode under the same id.
    assert.equal((await put('by-mode-only1', restoreBody(10, { mode: 'derain' }, 'maxim-derain'))).status, 200);
    const other = await put('by-mode-only1', restoreBody(10, { mode: 'deblur' }, null));
    assert.equal(other.status, 409);
    assert.match(other.json?.error ?? '', /already exists with a different body \(restore-video, maxim-derain, \{"mode":"derain"\}, 10 bytes\)/);
    for (const id of ['by-mode-only1', 'by-model-only', 'by-neither-01']) assert.equal((await call(server, 'DELETE', `/jobs/${id}`)).status, 204);
  });

  test('frames of several tiles say which tile they are at; cancel mid-run: state cancelled, no result, nothing left but the journal, and nothing moves after', async () => {
    const id = 'restore-cancel-01';
    await submit(server, id, longClip, restoreBody(longClip.length));
    const running = await readEvents(server, id, { stopAfter: (e) => e.job.progress.stage === 'run' && e.job.progress.done >= 1, timeoutMs: LONG });
    assert.equal(running.ended, false);
    // The first tile of the first frames is reported at once (later ones at most once a second); done stays in frames.
    const tiles = running.events.map((e) => e.job.progress as { done: number; message?: string }).filter((p) => p.message);
    assert.match(tiles[0]?.message ?? '', /^frame [12] \/ 16: tile 1 \/ 2$/, JSON.stringify(tiles));
    assert.equal(tiles[0].done, 0);

    const cancelled = await call(server, 'POST', `/jobs/${id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.json?.state, 'cancelled');
    const doneAtCancel = cancelled.json!.progress.done;
    assert.ok(doneAtCancel < 16, `stopped early (${doneAtCancel} of 16 frames)`);
    assert.deepEqual((await filesUnder(jobsDir)).filter((f) => f.startsWith(`${id}/`)), [`${id}/job.json`], 'the clip and the partial result are gone');
    const result = await call(server, 'GET', `/jobs/${id}/result`);
    assert.equal(result.status, 409);
    assert.match(result.json?.error ?? '', /was cancelled/);

    // The server runs the next job (it runs one at a time: the cancelled run has let go); the cancelled one is as it was.
    const next = 'restore-after-cancel';
    await submit(server, next, clip, restoreBody(clip.length, { mode: 'deblur' }, null));
    const end = (await poll(server, next, undefined, LONG)).at(-1)!;
    assert.equal(end.state, 'succeeded', end.error);
    assert.equal(end.model, 'maxim-deblur');
    const later = (await call(server, 'GET', `/jobs/${id}`)).json!;
    assert.deepEqual([later.state, later.progress.done, later.result], ['cancelled', doneAtCancel, undefined]);
    assert.deepEqual((await filesUnder(jobsDir)).filter((f) => f.startsWith(`${id}/`)), [`${id}/job.json`]);
  });

  test('a restart: a restore-video job cut short is queued again and runs; a journal with a mode no server knows is not taken for a job', async () => {
    const dir = join(work, 'restart');
    const serve = () => startServer({ port: 0, jobs: { dir, windowFrames: 2, heartbeatMs: 100 } });
    const id = 'restore-restart-1';
    const bad = 'restore-bad-mode';
    const first = await serve();
    try {
      for (const job of [id, bad]) {
        assert.equal((await call(first, 'PUT', `/jobs/${job}`, { body: restoreBody(clip.length, { mode: 'low-light' }, null) })).status, 201);
        assert.equal((await patch(first, job, 0, clip.subarray(0, 100))).status, 204);
      }
    } finally {
      await first.close();
    }
    // What a server killed mid-run leaves: the whole clip, the journal saying "running".
    await writeFile(join(dir, id, 'input'), clip);
    await editJournal(dir, id, { state: 'running', attempts: 1, interrupted: 0, uploadOffset: clip.length, progress: { done: 2, total: 4, stage: 'run' } });
    const record = await readJournal(dir, bad);
    await editJournal(dir, bad, { spec: { ...(record.spec as object), params: { mode: 'sharpen' } } });

    const second = await serve();
    try {
      const end = (await poll(second, id, undefined, LONG)).at(-1)!;
      assert.equal(end.state, 'succeeded', end.error);
      assert.deepEqual([end.task, end.model, end.params], ['restore-video', 'maxim-low-light', { mode: 'low-light' }]);
      assert.equal(end.result?.frames, 4);
      assert.equal((await readJournal(dir, id)).interrupted, 1, 'counted as one interrupted run');
      assert.equal((await call(second, 'GET', `/jobs/${bad}`)).status, 404);
      assert.ok(!(await filesUnder(dir)).some((f) => f.startsWith(bad)), 'its folder is gone');
    } finally {
      await second.close();
    }
  });
});
