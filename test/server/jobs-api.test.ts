// The job API's edges on a real server: bad ids and bodies (4xx, the server keeps serving), an upload cut off mid-chunk
// and resumed, ffmpeg missing (a clear 501 saying how to install it), the token on /jobs (and the runner using it for
// its own /v2 calls), retention, close() as a clean stop that keeps the journal, and the frame windows. Restarts,
// disk and crash cases have files of their own (jobs-restart, jobs-upload, jobs-crash).
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { frameWindows } from '../../worker/video/windows.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { authHeaders, call, clipWorkspace, filesUnder, jobBody, openPatch, patch, poll, readEvents, submit } from './jobs-util.ts';

let work: string;
let clip: Uint8Array;

before(async () => {
  ({ work, clip } = await clipWorkspace('frontier-jobs-api-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('requests the API refuses', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ port: 0, jobs: { dir: join(work, 'refuse'), maxUploadBytes: 1_000_000, maxChunkBytes: 4096 } });
  });
  after(() => server?.close());

  test('bad ids, bodies, models and sizes → 4xx with a message; the server keeps serving', async () => {
    const put = (id: string, body: string) => call(server, 'PUT', `/jobs/${id}`, { body });
    const cases: [string, string, number, RegExp][] = [
      ['short', jobBody(100), 400, /not a job id: use 8 to 64 characters/],
      ['has.dots.in.it', jobBody(100), 400, /not a job id/],
      ['x'.repeat(65), jobBody(100), 400, /not a job id/],
      ['valid-id-01', '{not json', 400, /not valid JSON/],
      ['valid-id-02', '[1,2]', 400, /must be a JSON object/],
      ['valid-id-03', JSON.stringify({ task: 'upscale', model: 'esrgan-slim-x2', upload: { bytes: 1, mime: 'video/mp4' } }), 400, /Unknown task "upscale"/],
      ['valid-id-04', jobBody(100, 'esrgan-nope-x9'), 400, /not an upscaling model.*available: esrgan-slim-x2/],
      ['valid-id-05', jobBody(100, 'esrgan-slim-x2', 4), 400, /upscales ×2; set Scale to ×2/],
      ['valid-id-06', jobBody(2_000_000), 413, /larger than this server accepts \(1 MB\)/],
      ['valid-id-07', jobBody(0), 400, /upload\.bytes must be/],
      ['valid-id-08', JSON.stringify({ task: 'upscale-video', model: 'esrgan-slim-x2', upload: { bytes: 10, mime: 'image/png' } }), 415, /must be a video type/],
      ['valid-id-09', JSON.stringify({ task: 'upscale-video', model: 'esrgan-slim-x2', upload: { bytes: 10, mime: 'video/mp4' }, extra: 1 }), 400, /Unknown field extra/],
      ['valid-id-10', JSON.stringify({ task: 'upscale-video', model: 'esrgan-slim-x2', params: { scale: 2, tile: 3 }, upload: { bytes: 10, mime: 'video/mp4' } }), 400, /Unknown parameter tile/],
      // The job's description is small; the clip goes to PATCH. The 413 says so (it once cited the /infer limit and its flag).
      ['valid-id-11', JSON.stringify({ task: 'generate', params: { prompt: 'x'.repeat(70_000) } }), 413, /^A job's description may be at most 64 KB of JSON: .*PATCH \/jobs\/\{id\}\/upload\)\.$/],
    ];
    for (const [id, body, status, message] of cases) {
      const res = await put(id, body);
      assert.equal(res.status, status, `${id} ${body}: ${res.text}`);
      assert.match(res.json?.error ?? '', message, id);
    }
    // The model can be left out when the scale says which (the best ×N model).
    const byScale = await put('by-scale-only', JSON.stringify({ task: 'upscale-video', params: { scale: 3 }, upload: { bytes: 10, mime: 'video/mp4' } }));
    assert.equal(byScale.status, 201, byScale.text);
    assert.equal(byScale.json?.model, 'esrgan-thick-x3');
    assert.deepEqual(byScale.json?.params, { scale: 3 });

    // Concurrent identical PUTs (a client retrying on a flaky network) make one job.
    const racing = await Promise.all(Array.from({ length: 5 }, () => put('raced-put-0001', jobBody(500))));
    assert.deepEqual(racing.map((r) => r.status).sort(), [200, 200, 200, 200, 201]);
    assert.ok(racing.every((r) => r.json?.id === 'raced-put-0001' && r.json.seq === 1));

    for (const [method, path, status] of [
      ['GET', '/jobs/unknown-job-1', 404],
      ['GET', '/jobs/unknown-job-1/events', 404],
      ['POST', '/jobs/unknown-job-1/cancel', 404],
      ['GET', '/jobs/unknown-job-1/result', 404],
      ['HEAD', '/jobs/unknown-job-1/upload', 404],
      ['POST', '/jobs/by-scale-only', 405],
      ['GET', '/jobs/by-scale-only/cancel', 405],
    ] as const) {
      const res = await call(server, method, path);
      assert.equal(res.status, status, `${method} ${path}`);
    }
    assert.equal((await call(server, 'GET', '/jobs/unknown-job-1')).json?.error?.includes('create it with PUT /jobs/unknown-job-1'), true);

    // Upload refusals.
    const id = 'upload-errors-1';
    assert.equal((await put(id, jobBody(10_000))).status, 201);
    const noOffset = await call(server, 'PATCH', `/jobs/${id}/upload`, { headers: { 'Content-Type': 'application/offset+octet-stream' }, body: new Uint8Array(10) });
    assert.equal(noOffset.status, 400);
    assert.match(noOffset.json?.error ?? '', /needs an Upload-Offset header/);
    const bigChunk = await patch(server, id, 0, new Uint8Array(5000));
    assert.equal(bigChunk.status, 413);
    assert.match(bigChunk.json?.error ?? '', /Chunks may be at most/);
    const early = await call(server, 'GET', `/jobs/${id}/result`);
    assert.equal(early.status, 409);
    assert.match(early.json?.error ?? '', /is uploading/);

    // DELETE forgets a job and its files at once.
    assert.equal((await call(server, 'DELETE', `/jobs/${id}`)).status, 204);
    assert.equal((await call(server, 'GET', `/jobs/${id}`)).status, 404);
    assert.deepEqual((await filesUnder(join(work, 'refuse'))).filter((f) => f.includes(id)), []);

    assert.equal((await call(server, 'GET', '/v2/health/ready')).status, 200, 'still serving');
  });

  test('a chunk cut off by a dropped connection counts up to where it stopped; the client resumes from HEAD', async () => {
    const id = 'cut-off-upload-1';
    assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: jobBody(3000) })).status, 201);
    const { req } = openPatch(server, id, 0, 3000);
    req.write(new Uint8Array(1200).fill(7));
    const partial = await poll(server, id, (j) => j.upload.offset === 1200, 5000);
    assert.equal(partial.at(-1)?.state, 'uploading');
    req.destroy();

    const head = await call(server, 'HEAD', `/jobs/${id}/upload`);
    assert.equal(head.headers.get('upload-offset'), '1200');
    const rest = await patch(server, id, 1200, new Uint8Array(1800).fill(7));
    assert.equal(rest.status, 204, rest.text);
    // 3000 bytes of 7s are no video: the job is queued, then fails at the probe, which proves the upload completed.
    const end = (await poll(server, id)).at(-1)!;
    assert.equal(end.state, 'failed');
    assert.match(end.error ?? '', /not a video/);
  });
});

test('ffmpeg missing → 501 saying how to install it; nothing is created and the server keeps serving', async () => {
  const server = await startServer({ port: 0, jobs: { dir: join(work, 'no-ffmpeg'), ffmpegPath: join(work, 'no-such-dir', 'ffmpeg') } });
  try {
    const res = await call(server, 'PUT', '/jobs/needs-ffmpeg-1', { body: jobBody(clip.length) });
    assert.equal(res.status, 501);
    assert.match(res.json?.error ?? '', /Video jobs need ffmpeg and ffprobe, but …\/ffmpeg was not found/);
    assert.doesNotMatch(res.json?.error ?? '', /no-such-dir/, 'no server path');
    assert.match(res.json?.error ?? '', /Debian\/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg/);
    assert.equal((await call(server, 'GET', '/jobs/needs-ffmpeg-1')).status, 404);
    assert.equal((await call(server, 'GET', '/v2/health/ready')).status, 200);
  } finally {
    await server.close();
  }
});

test('without the token every job route answers 401 before any work; with it the runner uses the token for its own /v2 calls', async () => {
  const token = 'jobs-token-for-tests-123';
  const dir = join(work, 'token');
  const server = await startServer({ port: 0, token, jobs: { dir } });
  const stranger = server.url; // a bare URL: requests without the token
  try {
    const id = 'with-token-0001';
    for (const [method, path] of [['PUT', `/jobs/${id}`], ['GET', `/jobs/${id}`], ['HEAD', `/jobs/${id}/upload`], ['GET', `/jobs/${id}/events`], ['POST', `/jobs/${id}/cancel`], ['GET', `/jobs/${id}/result`], ['DELETE', `/jobs/${id}`]] as const) {
      const res = await call(stranger, method, path, { body: method === 'PUT' ? jobBody(clip.length) : undefined });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    const noToken = await patch(stranger, id, 0, clip);
    assert.equal(noToken.status, 401);
    const wrong = await call(stranger, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length), headers: { Authorization: 'Bearer wrong' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual((await filesUnder(dir)).filter((f) => f !== 'server.lock'), [], 'no job folder was made');
    assert.equal((await call(server, 'GET', `/jobs/${id}`)).status, 404, 'no job was created');

    await submit(server, id, clip);
    const events = await readEvents(server, id);
    const end = events.events.at(-1)!.job;
    assert.equal(end.state, 'succeeded', end.error);
    const result = await fetch(`${server.url}/jobs/${id}/result`, { headers: authHeaders(server) });
    assert.equal(result.status, 200);
    assert.equal((await result.arrayBuffer()).byteLength, end.result?.bytes);
  } finally {
    await server.close();
  }
});

test('retention: a finished job and its folder are deleted after the retention time; a stalled upload is cancelled first', async () => {
  const retentionMs = 800;
  const dir = join(work, 'retention');
  const server = await startServer({ port: 0, jobs: { dir, retentionMs } });
  try {
    const abandoned = 'abandoned-upload';
    assert.equal((await call(server, 'PUT', `/jobs/${abandoned}`, { body: jobBody(clip.length) })).status, 201);
    assert.equal((await patch(server, abandoned, 0, clip.subarray(0, 10))).status, 204);
    const stalledEvents = readEvents(server, abandoned); // ends when the job ends

    const id = 'retained-job-01';
    await submit(server, id, clip);
    const [finished, stalled] = await Promise.all([readEvents(server, id), stalledEvents]);
    const done = finished.events.at(-1)!.job as { state: string; finished_at?: string };
    assert.equal(done.state, 'succeeded');
    const cancelled = stalled.events.at(-1)!.job;
    assert.equal(cancelled.state, 'cancelled');
    assert.match(cancelled.error ?? '', /upload stopped at 10 of \d+ bytes and was not resumed within 1 s/);

    const deadline = Date.now() + 15_000;
    let goneAt = 0;
    for (;;) {
      const [a, b] = await Promise.all([id, abandoned].map((j) => call(server, 'GET', `/jobs/${j}`)));
      if (a.status === 404 && !goneAt) goneAt = Date.now();
      if (a.status === 404 && b.status === 404) break;
      assert.ok(Date.now() < deadline, `jobs still there: ${a.status} ${b.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(goneAt - Date.parse(done.finished_at!) >= retentionMs - 50, 'kept for the retention time, not deleted at once');
    assert.deepEqual((await filesUnder(dir)).filter((f) => f.includes('/')), [], 'only the (empty) server folder is left');
  } finally {
    await server.close();
  }
});

test('close() is a clean stop: every job stays journalled for the next start, with no lock, partial or temporary file left', async () => {
  const dir = join(work, 'close');
  const server = await startServer({ port: 0, jobs: { dir } });
  const id = 'closed-with-job';
  assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) })).status, 201);
  assert.equal((await patch(server, id, 0, clip.subarray(0, 50))).status, 204);
  assert.ok((await filesUnder(dir)).includes('server.lock'), 'the server holds its jobs folder');
  await server.close();
  assert.deepEqual((await filesUnder(dir)).sort(), [id, `${id}/input`, `${id}/job.json`]);
  const record = JSON.parse(await readFile(join(dir, id, 'job.json'), 'utf8')) as { state: string; uploadOffset: number };
  assert.deepEqual([record.state, record.uploadOffset], ['uploading', 50]);
});

test('frame windows: produced frames cover the clip once, with clamped context on both sides', async () => {
  async function* count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }
  const collect = async (n: number, size: number, context: number) => {
    const out: { sent: number[]; kept: number[] }[] = [];
    for await (const w of frameWindows(count(n), size, context)) out.push({ sent: w.frames, kept: w.frames.slice(w.keepFrom, w.keepTo) });
    return out;
  };
  assert.deepEqual(await collect(5, 2, 0), [
    { sent: [0, 1], kept: [0, 1] },
    { sent: [2, 3], kept: [2, 3] },
    { sent: [4], kept: [4] },
  ]);
  assert.deepEqual(await collect(7, 3, 1), [
    { sent: [0, 1, 2, 3], kept: [0, 1, 2] },
    { sent: [2, 3, 4, 5, 6], kept: [3, 4, 5] },
    { sent: [5, 6], kept: [6] },
  ]);
  assert.deepEqual(await collect(0, 4, 2), []);
  await assert.rejects(collect(3, 0, 0), /window size must be/);
});
