// Engine jobs from the client side: worker/runtime/jobs-client.ts runEngineJob against a real server with a token
// (its own engine on the tiny models): the images equal a local run byte for byte, progress and previews arrive,
// the polling fallback works behind a gateway that cannot stream, cancel stops the server job, and errors say what
// to do. Then the Engine itself: text-to-image on target 'server' runs its loop there as one job.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import { Engine } from '../../worker/engine.ts';
import type { Params, Progress } from '../../worker/job.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { createJobServer, type JobServerOptions } from '../../worker/runtime/jobs-client.ts';
import { startFakeOipServer } from '../fakes/oip-server.ts';

const TOKEN = 'engine-job-test-token-77';
const STYLESWIN = 'styleswin-ffhq-256-tiny';
const VQ = 'vqdiffusion-ithq-transformer-tiny';

describe('engine jobs through the client', () => {
  let server: RunningServer;
  let work: string;
  const local = new Engine(createNodePlatform());

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'frontier-engine-client-'));
    server = await startServer({ port: 0, token: TOKEN, jobs: { dir: join(work, 'jobs'), heartbeatMs: 100, previewMs: 1 } });
  });
  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const jobId = (name: string) => `${name}-${Date.now().toString(36)}`;
  const client = (more: Partial<JobServerOptions> = {}) => createJobServer({ baseUrl: server.url, token: TOKEN, ...more });
  const generate = (params: Params, more: { signal?: AbortSignal; progress?: (p: Omit<Progress, 'jobId'>) => void; options?: Partial<JobServerOptions>; id?: string } = {}) =>
    client(more.options).runEngineJob({
      id: more.id ?? jobId('client-generate'),
      task: 'generate',
      model: STYLESWIN,
      params,
      signal: more.signal ?? new AbortController().signal,
      progress: more.progress ?? (() => {}),
    });

  test("runEngineJob: the server's images and per-image meta equal a local run, with progress on the way", async () => {
    const events: Omit<Progress, 'jobId'>[] = [];
    const out = await generate({ seed: 12, count: 3 }, { progress: (p) => events.push(p) });
    const mine = await local.run({ id: 'local-12', task: 'generate', model: STYLESWIN, params: { seed: 12, count: 3 }, target: 'node' });
    assert.equal(out.images.length, 3);
    out.images.forEach((img, i) => {
      assert.deepEqual([img.width, img.height], [32, 32]);
      assert.ok(Buffer.from(img.data).equals(Buffer.from(mine.images[i].data)), `image ${i} is byte for byte the local one`);
    });
    assert.deepEqual(
      out.imageMeta?.map((m) => [m.seed, m.latent]),
      mine.imageMeta?.map((m) => [m.seed, m.latent]),
    );
    const runs = events.filter((e) => e.stage === 'run' && e.total === 3);
    assert.ok(runs.length >= 2, `run progress arrived (${events.map((e) => `${e.stage} ${e.done}/${e.total}`).join(', ')})`);
    assert.ok(runs.some((e) => /Generating image \d \/ 3 \(on the server\)/.test(e.message ?? '')));
  });

  test('a gateway that cannot stream events: progress is polled and the result is the same', async () => {
    const id = jobId('client-polling');
    const eventRequests: string[] = [];
    let polls = 0;
    // A fetch that answers the events URL like a buffering proxy (a plain JSON 200), everything else normally.
    const noStreams: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.endsWith('/events')) {
        eventRequests.push(url);
        return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });
      }
      if (url.endsWith(`/jobs/${id}`) && (init?.method ?? 'GET') === 'GET') polls++;
      return fetch(input, init);
    };
    const out = await generate({ seed: 12, count: 3 }, { id, options: { fetch: noStreams, pollMs: 50, maxReconnects: 1 } });
    const mine = await local.run({ id: 'local-12b', task: 'generate', model: STYLESWIN, params: { seed: 12, count: 3 }, target: 'node' });
    assert.ok(eventRequests.length >= 1, 'it tried to stream first');
    assert.ok(polls >= 1, 'then it polled GET /jobs/{id}');
    assert.ok(Buffer.from(out.images[2].data).equals(Buffer.from(mine.images[2].data)));
  });

  test('previews arrive decoded (RGBA of the stated size) while text-to-image runs on the server', async () => {
    const previews: { width: number; height: number; bytes: number }[] = [];
    const out = await client().runEngineJob({
      id: jobId('client-previews'),
      task: 'text-to-image',
      model: VQ,
      params: { prompt: 'a green hill', steps: 40, seed: 3 },
      signal: new AbortController().signal,
      progress: (p) => p.preview && previews.push({ width: p.preview.width, height: p.preview.height, bytes: p.preview.data.length }),
    });
    assert.ok(previews.length >= 1, 'at least one preview');
    for (const p of previews) assert.equal(p.bytes, p.width * p.height * 4);
    assert.equal(out.images.length, 1);
  });

  test('abort mid-job: the server job is cancelled and nothing comes back', async () => {
    const id = jobId('client-cancel');
    const controller = new AbortController();
    let aborted = false;
    // A 100-step text-to-image job aborted at its first run event: 9 tiny generate images aborted after the first
    // could finish before the abort reached a loaded server.
    const steps = 100;
    const run = client().runEngineJob({
      id,
      task: 'text-to-image',
      model: VQ,
      params: { prompt: 'a slow boat', steps, seed: 30 },
      signal: controller.signal,
      progress: (p) => {
        if (p.stage === 'run' && !aborted) {
          aborted = true;
          controller.abort();
        }
      },
    });
    await assert.rejects(run, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'cancelled');
      assert.match(err.message, /server job was stopped and nothing was placed/);
      return true;
    });
    assert.ok(aborted, 'the job was running when it was aborted');
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const snapshot = (await (await fetch(`${server.url}/jobs/${id}`, { headers: auth })).json()) as { state: string; progress: { done: number } };
    assert.equal(snapshot.state, 'cancelled');
    assert.ok(snapshot.progress.done < steps, `stopped before the end (${snapshot.progress.done} of ${steps} steps)`);
    assert.equal((await fetch(`${server.url}/jobs/${id}/result`, { headers: auth })).status, 409);
  });

  test("errors say what to do: bad params (the task's message), wrong token, a server without a job API", async () => {
    await assert.rejects(generate({ seed: -5 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'bad-input');
      assert.match(err.message, /Seed must be between 0 and 4294967295 \(got -5\)/);
      return true;
    });
    await assert.rejects(generate({ seed: 1 }, { options: { token: 'not-the-token' } }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'target-unavailable');
      assert.match(err.message, /check the token/);
      assert.doesNotMatch(err.message, /not-the-token/);
      return true;
    });
    const triton = await startFakeOipServer();
    try {
      const plain = createJobServer({ baseUrl: triton.url });
      await assert.rejects(
        plain.runEngineJob({ id: jobId('triton-engine'), task: 'generate', model: STYLESWIN, params: { seed: 1 }, signal: new AbortController().signal, progress: () => {} }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'target-unavailable');
          assert.match(err.message, /has no job API.*generate runs as one job on Frontier's server \(npm start\)/);
          return true;
        },
      );
    } finally {
      await triton.close();
    }
  });

  test("the Engine runs text-to-image on target 'server' as one job: the same image as on target 'node'", async () => {
    const params = { prompt: 'a lighthouse', steps: 20, seed: 9 };
    const remote = await new Engine(createNodePlatform({ serverUrl: server.url, token: TOKEN })).run({ id: jobId('engine-t2i'), task: 'text-to-image', model: VQ, params, target: 'server' });
    const here = await local.run({ id: 'local-t2i', task: 'text-to-image', model: VQ, params, target: 'node' });
    assert.equal(remote.meta.target, 'server');
    assert.deepEqual([remote.images[0].width, remote.images[0].height], [here.images[0].width, here.images[0].height]);
    assert.ok(Buffer.from(remote.images[0].data).equals(Buffer.from(here.images[0].data)), 'byte for byte');
  });
});
