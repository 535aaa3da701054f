// Preview frames of video jobs on a real server (real ffmpeg, real ESRGAN slim ×2 weights): a 160×90 clip of a real
// photo, 8 frames in windows of 2, upscaled to 320×180. Its progress stream carries the latest finished frame as a
// JPEG of at most 256 px with the output's aspect ratio (256×144), which equals the result's frame at the same point,
// shrunk, within what JPEG and H.264 lose; one per window with jobs.previewEveryMs 0, only the first window's with a
// long interval (decided per window, never by a clock a test must race); the replay log keeps only the newest; the
// job client hands the decoded frame to the task's progress; a finished job shows no preview.
//
//   node --import tsx --test --test-reporter=spec test/server/jobs-preview.test.ts
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { shrinkRgb } from '../../server/jobs/preview.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import type { Progress, RgbaImage } from '../../worker/job.ts';
import { createJobServer } from '../../worker/runtime/jobs-client.ts';
import { readEvents, requireFfmpeg, submit, type SseEvent } from './jobs-util.ts';
import { decodeFrames, makePhotoClip } from './photo-clip.ts';

const W = 160;
const H = 90;
const FRAMES = 8;
const WINDOW = 2;

function body(bytes: number): string {
  return JSON.stringify({ task: 'upscale-video', model: 'esrgan-slim-x2', params: { scale: 2 }, upload: { bytes, mime: 'video/mp4' } });
}

const previewsOf = (events: SseEvent[]) => events.flatMap((e) => (e.job.progress.preview ? [{ event: e, preview: e.job.progress.preview }] : []));

/** Mean |a − b| over the RGB channels of two RGBA images of one size, in levels. */
function meanDiff(a: RgbaImage, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4) for (let c = 0; c < 3; c++) sum += Math.abs(a.data[i + c] - b[i + c]);
  return sum / ((a.data.length / 4) * 3);
}

describe('video job previews', { timeout: 300_000 }, () => {
  let work: string;
  let clip: Uint8Array;
  let everyWindow: RunningServer;
  let sparse: RunningServer;

  before(async () => {
    requireFfmpeg();
    work = await mkdtemp(join(tmpdir(), 'frontier-jobs-preview-'));
    await makePhotoClip(join(work, 'clip.mp4'), { photo: 'chelsea.png', width: W, height: H, frames: FRAMES, fps: 8, panPx: 4, x0: 60, y0: 40 });
    clip = new Uint8Array(await readFile(join(work, 'clip.mp4')));
    everyWindow = await startServer({ port: 0, jobs: { dir: join(work, 'jobs-a'), windowFrames: WINDOW, previewEveryMs: 0, heartbeatMs: 100 } });
    sparse = await startServer({ port: 0, jobs: { dir: join(work, 'jobs-b'), windowFrames: WINDOW, previewEveryMs: 3_600_000, heartbeatMs: 100 } });
  });
  after(async () => {
    await everyWindow?.close();
    await sparse?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the progress stream carries the latest frame as a ≤ 256 px JPEG of the output’s aspect ratio, one per window', async () => {
    const id = 'preview-every-0001';
    await submit(everyWindow, id, clip, body(clip.length));
    const live = await readEvents(everyWindow, id, { timeoutMs: 240_000 });
    const end = live.events.at(-1)!.job;
    assert.equal(end.state, 'succeeded', end.error);
    assert.equal(end.progress.preview, undefined, 'a finished job shows its result, not a preview');

    const previews = previewsOf(live.events);
    assert.equal(previews.length, FRAMES / WINDOW, 'one preview per window with previewEveryMs 0');
    const result = join(work, 'every.mp4');
    await writeFile(result, Buffer.from(await (await fetch(`${everyWindow.url}/jobs/${id}/result`, { headers: { Authorization: `Bearer ${everyWindow.token}` } })).arrayBuffer()));
    const made = await decodeFrames(result, 2 * W, 2 * H);
    for (const { event, preview } of previews) {
      assert.equal(event.job.progress.stage, 'run');
      assert.deepEqual([preview.width, preview.height], [256, 144], 'the longer side is 256 px, the aspect ratio the output’s (320×180)');
      assert.ok(preview.jpeg.length < 40_000, `a small event (${preview.jpeg.length} characters of JPEG)`);
      const image = await nodeCodec.decode(Buffer.from(preview.jpeg, 'base64'));
      assert.deepEqual([image.width, image.height], [preview.width, preview.height], 'it decodes to the size it states');
      // The latest finished frame: the last frame of the windows done so far, as the result has it, shrunk alike.
      const frame = event.job.progress.done - 1;
      assert.equal(frame % WINDOW, WINDOW - 1, `a window's last frame (${frame})`);
      const expected = shrinkRgb(made[frame], 2 * W, 2 * H, image);
      const diff = meanDiff(image, expected);
      assert.ok(diff < 4, `preview of frame ${frame} vs the result's frame ${frame}: mean ${diff.toFixed(2)} levels`);
      const other = meanDiff(image, shrinkRgb(made[frame === 1 ? FRAMES - 1 : 1], 2 * W, 2 * H, image));
      assert.ok(other > 2 * diff, `it is that frame, not another (${other.toFixed(2)} vs ${diff.toFixed(2)})`);
    }

    const replayed = previewsOf((await readEvents(everyWindow, id, { lastEventId: 0 })).events);
    assert.equal(replayed.length, 1, 'the replay log keeps only the newest preview');
    assert.equal(replayed[0].event.id, previews.at(-1)!.event.id);
  });

  test('previews are decided per window: with a long interval only the first window sends one', async () => {
    const id = 'preview-sparse-0001';
    await submit(sparse, id, clip, body(clip.length));
    const live = await readEvents(sparse, id, { timeoutMs: 240_000 });
    assert.equal(live.events.at(-1)!.job.state, 'succeeded', live.events.at(-1)!.job.error);
    const previews = previewsOf(live.events);
    assert.equal(previews.length, 1);
    assert.equal(previews[0].event.job.progress.done, WINDOW, 'after the first window');
  });

  test('the job client hands the decoded frame to the task’s progress', async () => {
    const client = createJobServer({ baseUrl: everyWindow.url, token: everyWindow.token, decodeImage: (bytes) => nodeCodec.decode(bytes) });
    const seen: Omit<Progress, 'jobId'>[] = [];
    const out = await client.runVideo({
      id: 'preview-client-0001', task: 'upscale-video', model: 'esrgan-slim-x2', params: { scale: 2 },
      video: { bytes: clip, mime: 'video/mp4' }, signal: new AbortController().signal, progress: (p) => seen.push(p),
    });
    assert.equal(out.width, 2 * W);
    const withPreview = seen.filter((p) => p.preview);
    assert.ok(withPreview.length >= 1, `progress with a preview (${seen.map((p) => p.message).join(' | ')})`);
    for (const p of withPreview) {
      assert.equal(p.stage, 'run');
      assert.match(p.message ?? '', /^Upscaling frame \d+ \/ 8 on the server$/);
      assert.deepEqual([p.preview!.width, p.preview!.height, p.preview!.data.length], [256, 144, 256 * 144 * 4]);
    }
    // Without a decoder (Node, as the CLI runs it) the job runs the same and shows no preview.
    const bare = createJobServer({ baseUrl: everyWindow.url, token: everyWindow.token });
    const plain: Omit<Progress, 'jobId'>[] = [];
    await bare.runVideo({ id: 'preview-client-0002', task: 'upscale-video', model: 'esrgan-slim-x2', params: { scale: 2 }, video: { bytes: clip, mime: 'video/mp4' }, signal: new AbortController().signal, progress: (p) => plain.push(p) });
    assert.equal(plain.filter((p) => p.preview).length, 0);
  });
});
