// Engine jobs on a real server: PUT /jobs/{id} with {task, model, params} and no upload runs a whole task (generate,
// text-to-image) with the server's own engine on the tiny models. Its images equal the local Node engine's byte for
// byte; PUT is idempotent (409 for another spec); bad bodies give 400 with the task's own message; cancel mid-job
// leaves only the job's journal; previews travel on the events; the queue is shared with video jobs; the token is
// required.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EngineJobSnapshot } from '../../server/jobs/job.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { Engine } from '../../worker/engine.ts';
import type { Params } from '../../worker/job.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { authHeaders, call, filesUnder, poll, readEvents, type SseEvent } from './jobs-util.ts';

const STYLESWIN = 'styleswin-ffhq-256-tiny';
const VQ = 'vqdiffusion-ithq-transformer-tiny';

interface ImageJson {
  width: number;
  height: number;
  rgba: string;
}

const engineBody = (params: Params, task = 'generate', model = STYLESWIN) => JSON.stringify({ task, model, params });
const snap = (e: SseEvent) => e.job as unknown as EngineJobSnapshot;
const pixels = (img: ImageJson) => Buffer.from(img.rgba, 'base64');

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'frontier-engine-jobs-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('engine jobs', () => {
  let server: RunningServer;
  const dir = () => join(work, 'jobs');
  before(async () => {
    server = await startServer({ port: 0, jobs: { dir: dir(), heartbeatMs: 100, previewMs: 1, maxRunningJobs: 1 } });
  });
  after(() => server?.close());

  test("a generate job runs whole on the server: its images and meta equal the local Node engine's, byte for byte", async () => {
    const id = 'engine-generate-01';
    const put = await call(server, 'PUT', `/jobs/${id}`, { body: engineBody({ seed: 7, count: 2 }) });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.headers.get('location'), `/jobs/${id}`);
    assert.equal(put.headers.get('upload-offset'), null, 'no upload headers');
    const created = put.json as unknown as EngineJobSnapshot & { upload?: unknown };
    assert.ok(['queued', 'running'].includes(created.state), created.state);
    assert.equal(created.upload, undefined);
    assert.deepEqual(created.params, { seed: 7, truncation: 0.7, count: 2 }, 'params come back with the task defaults');

    const read = await readEvents(server, id);
    const end = snap(read.events.at(-1)!);
    assert.equal(end.state, 'succeeded', end.error);
    assert.deepEqual(end.result, { url: `/jobs/${id}/result`, images: 2, width: 32, height: 32 });
    const runs = read.events.map(snap).filter((j) => j.state === 'running' && j.progress.stage === 'run');
    assert.ok(runs.some((j) => j.progress.total === 2 && /Generating image 2 \/ 2/.test(j.progress.message ?? '')), 'progress says which image runs');
    assert.ok(runs.every((j) => j.progress.done <= j.progress.total));

    const res = await fetch(`${server.url}${end.result!.url}`, { headers: authHeaders(server) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { images: ImageJson[]; imageMeta?: { seed?: number; latent?: string; params?: Params }[] };

    const local = await new Engine(createNodePlatform()).run({ id: 'local-generate', task: 'generate', model: STYLESWIN, params: { seed: 7, count: 2 }, target: 'node' });
    assert.equal(body.images.length, 2);
    body.images.forEach((img, i) => {
      assert.deepEqual([img.width, img.height], [local.images[i].width, local.images[i].height]);
      assert.ok(pixels(img).equals(Buffer.from(local.images[i].data)), `image ${i} equals the local engine's`);
    });
    assert.deepEqual(
      body.imageMeta?.map((m) => m.seed),
      [7, 8],
    );
    assert.deepEqual(
      body.imageMeta?.map((m) => m.latent),
      local.imageMeta?.map((m) => m.latent),
    );
    assert.deepEqual(body.imageMeta?.[1].params, { seed: 8, count: 1 }, 'per image, only what differs from the job');
  });

  test('PUT is idempotent: the same id and spec (defaults, key order) give the same job; another spec gives 409', async () => {
    const id = 'engine-idempotent-1';
    const first = await call(server, 'PUT', `/jobs/${id}`, { body: engineBody({ seed: 3 }) });
    assert.equal(first.status, 201, first.text);
    const same = await call(server, 'PUT', `/jobs/${id}`, { body: JSON.stringify({ params: { count: 1, truncation: 0.7, seed: 3 }, model: STYLESWIN, task: 'generate' }) });
    assert.equal(same.status, 200, same.text);
    assert.equal(same.json?.created_at, first.json?.created_at);
    const other = await call(server, 'PUT', `/jobs/${id}`, { body: engineBody({ seed: 4 }) });
    assert.equal(other.status, 409);
    assert.match(other.json?.error ?? '', /already exists with a different body \(generate, styleswin-ffhq-256-tiny, .*"seed":3.*\): choose a new id/);
    const video = await call(server, 'PUT', `/jobs/${id}`, { body: JSON.stringify({ task: 'upscale-video', model: 'esrgan-slim-x2', params: { scale: 2 }, upload: { bytes: 10, mime: 'video/mp4' } }) });
    assert.equal(video.status, 409, 'a video body under an engine job id is another job');
    const done = (await poll(server, id)).at(-1)!;
    assert.equal(done.state, 'succeeded');
  });

  test("bad bodies → 400 with the task's own message or the tasks that run as engine jobs; nothing is created", async () => {
    const cases: [string, string, RegExp][] = [
      ['bad-seed', engineBody({ seed: -1 }), /^Seed must be between 0 and 4294967295 \(got -1\)\.$/],
      ['bad-param', engineBody({ seed: 1, foo: 2 }), /Unknown parameter foo for Generate\. Known: seed, truncation, count\./],
      ['bad-count', engineBody({ count: 2.5 }), /Count must be a whole number/],
      ['bad-params', JSON.stringify({ task: 'generate', model: STYLESWIN, params: [1] }), /params must be an object.*generate takes seed, truncation, count/],
      ['bad-steps', engineBody({ steps: 500 }, 'text-to-image', VQ), /Steps must be between 2 and 100 \(got 500\)/],
      ['unknown-task', engineBody({}, 'paint'), /Unknown task "paint": this server runs "upscale-video" and "restore-video" jobs \(with an upload\) and engine jobs \(no upload\) for "generate", "text-to-image"/],
      ['no-task', JSON.stringify({ model: STYLESWIN }), /Unknown task undefined: .*engine jobs \(no upload\) for "generate"/],
      ['with-inputs', engineBody({}, 'upscale', 'esrgan-slim-x2'), /Unknown task "upscale" \(upscale takes inputs, which engine jobs cannot upload\)/],
      ['inpaint', engineBody({}, 'inpaint', 'simmim-swin-base-192-tiny'), /inpaint takes inputs/],
      ['wrong-model', engineBody({}, 'generate', 'esrgan-slim-x2'), /Model esrgan-slim-x2 is not a Generate model this server can run; available: .*styleswin-ffhq-256-tiny/],
      ['no-model', engineBody({}, 'generate', 'styleswin-nope'), /Model styleswin-nope is not a Generate model/],
      ['with-upload', JSON.stringify({ task: 'generate', model: STYLESWIN, upload: { bytes: 10, mime: 'video/mp4' } }), /Unknown field upload in the body of a generate job.*engine jobs take no upload/],
    ];
    for (const [name, body, message] of cases) {
      const id = `engine-bad-${name}`;
      const res = await call(server, 'PUT', `/jobs/${id}`, { body });
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.match(res.json?.error ?? '', message, name);
      assert.equal((await call(server, 'GET', `/jobs/${id}`)).status, 404, `${name}: no job was created`);
    }
  });

  test('an engine job takes no upload: PATCH and GET of its upload say so (409)', async () => {
    const id = 'engine-no-upload';
    assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: engineBody({ seed: 11 }) })).status, 201);
    const patch = await call(server, 'PATCH', `/jobs/${id}/upload`, { headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' }, body: new Uint8Array(4) });
    assert.equal(patch.status, 409);
    assert.match(patch.json?.error ?? '', /is a generate job: it takes no upload/);
    const get = await call(server, 'GET', `/jobs/${id}/upload`);
    assert.equal(get.status, 409);
    assert.match(get.json?.error ?? '', /takes no upload.*GET \/jobs\/engine-no-upload\/events/);
    assert.equal((await poll(server, id)).at(-1)!.state, 'succeeded');
  });

  test('cancel: a queued job and a running one end "cancelled" with no result and no files; the queue goes on', async () => {
    const running = 'engine-cancel-run';
    const queued = 'engine-cancel-queue';
    // Cancelled at its first run event, a 100-step job leaves the whole sampling loop for the cancel to land in, even on
    // a loaded 2-core machine (a 9-image tiny generate job cancelled after its first image once finished first in CI).
    const steps = 100;
    assert.equal((await call(server, 'PUT', `/jobs/${running}`, { body: engineBody({ prompt: 'a slow boat', steps, seed: 20 }, 'text-to-image', VQ) })).status, 201);
    const second = await call(server, 'PUT', `/jobs/${queued}`, { body: engineBody({ seed: 40 }) });
    assert.equal(second.json?.state, 'queued', 'one job runs at a time (maxRunningJobs 1)');
    const cancelQueued = await call(server, 'POST', `/jobs/${queued}/cancel`);
    assert.equal(cancelQueued.json?.state, 'cancelled');

    await readEvents(server, running, { stopAfter: (e) => snap(e).state === 'running' && snap(e).progress.stage === 'run' });
    const cancel = await call(server, 'POST', `/jobs/${running}/cancel`);
    assert.equal(cancel.status, 200);
    assert.equal(cancel.json?.state, 'cancelled');
    const replay = await readEvents(server, running, { lastEventId: 0 });
    const lastRun = replay.events.map(snap).filter((j) => j.progress.stage === 'run').at(-1)!;
    assert.ok(lastRun.progress.done < steps, `stopped mid-job (${lastRun.progress.done} of ${steps} steps)`);
    assert.equal(snap(replay.events.at(-1)!).state, 'cancelled');
    for (const id of [running, queued]) {
      const result = await call(server, 'GET', `/jobs/${id}/result`);
      assert.equal(result.status, 409);
      assert.match(result.json?.error ?? '', /has no result: it was cancelled/);
      assert.deepEqual((await filesUnder(dir())).filter((f) => f.startsWith(`${id}/`)), [`${id}/job.json`], `${id}: only its journal is left`);
    }
    const next = 'engine-after-cancel';
    assert.equal((await call(server, 'PUT', `/jobs/${next}`, { body: engineBody({ seed: 41 }) })).status, 201);
    assert.equal((await poll(server, next)).at(-1)!.state, 'succeeded');
  });

  test('previews: text-to-image sends {width, height, rgba} previews on its events; replay keeps only the newest', async () => {
    const id = 'engine-previews-1';
    assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: engineBody({ prompt: 'a red boat', steps: 40, seed: 5 }, 'text-to-image', VQ) })).status, 201);
    const live = await readEvents(server, id);
    const end = snap(live.events.at(-1)!);
    assert.equal(end.state, 'succeeded', end.error);
    assert.equal(end.progress.preview, undefined, 'the result replaces the preview');
    const previews = live.events.map(snap).flatMap((j) => (j.progress.preview ? [j.progress.preview] : []));
    assert.ok(previews.length >= 2, `previews arrive as the loop runs (${previews.length})`);
    for (const p of previews) assert.equal(pixels(p).length, p.width * p.height * 4);
    const replayed = (await readEvents(server, id, { lastEventId: 0 })).events.filter((e) => snap(e).progress.preview);
    assert.equal(replayed.length, 1, 'the replay log keeps one preview');
    const result = (await (await fetch(`${server.url}/jobs/${id}/result`, { headers: authHeaders(server) })).json()) as { images: ImageJson[] };
    const local = await new Engine(createNodePlatform()).run({ id: 'local-t2i', task: 'text-to-image', model: VQ, params: { prompt: 'a red boat', steps: 40, seed: 5 }, target: 'node' });
    assert.ok(pixels(result.images[0]).equals(Buffer.from(local.images[0].data)), "the server's image equals the local engine's");
  });
});

test('without the token: engine jobs answer 401 and nothing is created or run', async () => {
  const token = 'engine-jobs-token-0042';
  const server = await startServer({ port: 0, token, jobs: { dir: join(work, 'token') } });
  try {
    const id = 'engine-with-token';
    const stranger = server.url; // a bare URL: no token
    const refused = await call(stranger, 'PUT', `/jobs/${id}`, { body: engineBody({ seed: 2 }) });
    assert.equal(refused.status, 401);
    assert.equal((await call(server, 'GET', `/jobs/${id}`)).status, 404, 'the refused PUT created nothing');
    assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: engineBody({ seed: 2 }) })).status, 201);
    assert.equal((await call(stranger, 'GET', `/jobs/${id}/events`)).status, 401);
    const read = await readEvents(server, id);
    assert.equal(snap(read.events.at(-1)!).state, 'succeeded');
    assert.equal((await call(stranger, 'GET', `/jobs/${id}/result`)).status, 401);
    assert.equal((await fetch(`${server.url}/jobs/${id}/result`, { headers: authHeaders(server) })).status, 200);
  } finally {
    await server.close();
  }
});
