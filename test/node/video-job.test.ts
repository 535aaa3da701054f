// The `upscale-video` task end to end from the client side: the Engine (Node platform) sends a real clip to a real
// server (token, real ffmpeg, real ESRGAN weights) through worker/runtime/jobs-client.ts, follows progress, downloads
// the MP4; chunked upload, the polling fallback, cancel mid-job, and the errors a user can meet. `restore-video` the
// same way with the real MAXIM weights, and its progress words.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import { Engine } from '../../worker/engine.ts';
import type { Progress } from '../../worker/job.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { createJobServer } from '../../worker/runtime/jobs-client.ts';
import { startFakeOipServer } from '../fakes/oip-server.ts';
import { makeClip, probe, requireFfmpeg } from '../server/jobs-util.ts';
import { makePhotoClip } from '../server/photo-clip.ts';

const TOKEN = 'video-test-token-5f1c';

describe('upscale-video through the job API', () => {
  let server: RunningServer;
  let work: string;
  let clip: Uint8Array; // 8 frames, 32×24
  let slowClip: Uint8Array; // 24 frames, 64×48: seconds of work on thick ×4

  before(async () => {
    requireFfmpeg();
    work = await mkdtemp(join(tmpdir(), 'frontier-video-client-'));
    await makeClip(join(work, 'clip.mp4'), { width: 32, height: 24, fps: 8, seconds: 1 });
    await makeClip(join(work, 'slow.mp4'), { width: 64, height: 48, fps: 8, seconds: 3 });
    clip = new Uint8Array(await readFile(join(work, 'clip.mp4')));
    slowClip = new Uint8Array(await readFile(join(work, 'slow.mp4')));
    server = await startServer({ port: 0, token: TOKEN, jobs: { dir: join(work, 'jobs'), windowFrames: 2, heartbeatMs: 100 } });
  });
  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const engineFor = (serverUrl?: string, token = TOKEN) => new Engine(createNodePlatform({ serverUrl, token }));
  const jobId = (name: string) => `${name}-${Date.now().toString(36)}`;

  test('the engine upscales a clip ×2 on the server: a 64×48, 8-frame MP4 comes back, with progress per stage', async () => {
    const events: Progress[] = [];
    const result = await engineFor(server.url).run(
      { id: jobId('engine-video'), task: 'upscale-video', params: { scale: 2, quality: 'fast' }, video: { bytes: clip, mime: 'video/mp4' } },
      (p) => events.push(p),
    );
    assert.equal(result.meta.target, 'server');
    assert.equal(result.meta.model, 'esrgan-slim-x2');
    assert.deepEqual(result.images, []);
    assert.ok(result.video, 'a video result');
    assert.equal(result.video.mime, 'video/mp4');
    assert.equal(result.video.width, 64);
    assert.equal(result.video.height, 48);
    const file = join(work, 'engine-out.mp4');
    await writeFile(file, result.video.bytes);
    const probed = await probe(file);
    assert.deepEqual([probed.width, probed.height, probed.frames], [64, 48, 8]);
    const stages = new Set(events.map((e) => e.stage));
    for (const stage of ['upload', 'run', 'download'] as const) assert.ok(stages.has(stage), `saw a ${stage} event (${[...stages].join(', ')})`);
    const runs = events.filter((e) => e.stage === 'run' && e.total === 8);
    assert.ok(runs.length >= 2, 'frame progress was reported window by window');
    assert.ok(runs.every((e, i) => i === 0 || e.done >= runs[i - 1].done), 'frame progress never goes backwards');
  });

  test('a video task without a clip, or with one over 100 MB, says what to do and sends nothing', async () => {
    const engine = engineFor(server.url);
    for (const task of ['upscale-video', 'restore-video']) {
      await assert.rejects(engine.run({ id: jobId(`${task}-none`), task, params: {}, video: { bytes: new Uint8Array(0), mime: 'video/mp4' } }),
        (err: Error & { code?: string }) => err.code === 'bad-input' && /needs a clip: choose one with Choose a clip…/.test(err.message));
      await assert.rejects(engine.run({ id: jobId(`${task}-huge`), task, params: {}, video: { bytes: new Uint8Array(100 * 2 ** 20 + 1), mime: 'video/mp4' } }),
        (err: Error & { code?: string }) => err.code === 'too-large' && /at most 100 MB/.test(err.message));
    }
  });

  test('the engine restores a clip on the server (restore-video, Fix: Remove rain): progress names the frame and, for frames of several tiles, the tile', { timeout: 300_000 }, async () => {
    // 320 wide: two tiles of the 256-px build the server uses for frames larger than one 128-px tile.
    await makePhotoClip(join(work, 'rain.mp4'), { photo: 'chelsea.png', width: 320, height: 48, frames: 2, fps: 2, panPx: 2, x0: 100, y0: 80 });
    const events: Progress[] = [];
    const result = await engineFor(server.url).run(
      { id: jobId('engine-restore-video'), task: 'restore-video', params: { mode: 'derain' }, video: { bytes: new Uint8Array(await readFile(join(work, 'rain.mp4'))), mime: 'video/mp4' } },
      (p) => events.push(p),
    );
    assert.deepEqual([result.meta.task, result.meta.model, result.meta.params.mode, result.meta.target], ['restore-video', 'maxim-derain', 'derain', 'server']);
    assert.deepEqual([result.video?.width, result.video?.height, result.video?.frames], [320, 48, 2]);
    const runs = events.filter((e) => e.stage === 'run' && e.total === 2).map((e) => e.message);
    // The first tile of the first frames is always reported (later tiles at most once a second), then each frame done.
    assert.match(runs.find((m) => /tile/.test(m ?? '')) ?? '', /^Restoring frame [12] \/ 2: tile 1 \/ 2 on the server$/, runs.join('\n'));
    assert.ok(runs.includes('Restoring frame 2 / 2 on the server'), runs.join('\n'));
  });

  test('small chunks and a gateway that cannot stream events: the upload resumes chunk by chunk and progress is polled', async () => {
    const eventRequests: string[] = [];
    // A fetch that answers the events URL like a buffering proxy (a plain JSON 200), everything else normally.
    const noStreams: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.endsWith('/events')) {
        eventRequests.push(url);
        return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });
      }
      return fetch(input, init);
    };
    const client = createJobServer({ baseUrl: server.url, token: TOKEN, fetch: noStreams, chunkBytes: 1024, pollMs: 100, maxReconnects: 1 });
    const uploads: number[] = [];
    const polled: Progress['stage'][] = [];
    const out = await client.runVideo({
      id: jobId('polling-video'),
      task: 'upscale-video',
      model: 'esrgan-slim-x2',
      params: { scale: 2 },
      video: { bytes: clip, mime: 'video/mp4' },
      signal: new AbortController().signal,
      progress: (p) => (p.stage === 'upload' ? uploads.push(p.done) : polled.push(p.stage)),
    });
    assert.ok(uploads.length >= Math.ceil(clip.length / 1024), `one progress event per 1 KiB chunk (${uploads.length} for ${clip.length} bytes)`);
    assert.equal(uploads.at(-1), clip.length);
    assert.ok(eventRequests.length >= 1, 'it tried to stream first');
    assert.ok(polled.includes('download'));
    const file = join(work, 'polled-out.mp4');
    await writeFile(file, out.bytes);
    assert.deepEqual([(await probe(file)).width, (await probe(file)).frames], [64, 8]);
  });

  test('cancel mid-job stops the server job and says nothing was placed', async () => {
    const id = jobId('cancel-video');
    const engine = engineFor(server.url);
    let cancelled = false;
    const run = engine.run({ id, task: 'upscale-video', params: { scale: 4, quality: 'best' }, video: { bytes: slowClip, mime: 'video/mp4' } }, (p) => {
      if (p.stage === 'run' && p.total > 1 && p.done >= 1 && !cancelled) {
        cancelled = true;
        engine.cancel(id);
      }
    });
    await assert.rejects(run, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'cancelled');
      assert.match(err.message, /nothing was placed/);
      return true;
    });
    assert.ok(cancelled, 'the job reached the run stage before the cancel');
    const snapshot = await fetch(`${server.url}/jobs/${id}`, { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.json() as Promise<{ state: string }>);
    assert.equal(snapshot.state, 'cancelled');
  });

  test('errors say what to do: wrong token, no server, a forced local target, a server without a job API, an empty clip', async () => {
    const video = { bytes: clip, mime: 'video/mp4' };
    await assert.rejects(engineFor(server.url, 'wrong-token').run({ id: jobId('bad-token'), task: 'upscale-video', params: { scale: 2 }, video }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'target-unavailable');
      assert.match(err.message, /token/);
      assert.doesNotMatch(err.message, /wrong-token/);
      return true;
    });
    await assert.rejects(engineFor(undefined).run({ id: jobId('no-server'), task: 'upscale-video', params: { scale: 2 }, video }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'target-unavailable');
      assert.match(err.message, /runs on a server.*--server/);
      return true;
    });
    await assert.rejects(engineFor(server.url).run({ id: jobId('forced-node'), task: 'upscale-video', params: { scale: 2 }, video, target: 'node' }), /runs only on server: choose Auto or Server/);
    await assert.rejects(engineFor(server.url).run({ id: jobId('empty-clip'), task: 'upscale-video', params: { scale: 2 }, video: { bytes: new Uint8Array(0), mime: 'video/mp4' } }), /needs a clip: choose one with Choose a clip…/);

    const triton = await startFakeOipServer();
    try {
      await assert.rejects(engineFor(triton.url, '').run({ id: jobId('triton-video'), task: 'upscale-video', params: { scale: 2 }, video }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'target-unavailable');
        assert.match(err.message, /has no job API.*npm start/);
        return true;
      });
    } finally {
      await triton.close();
    }
  });
});
