// GET /jobs/fit on a real server: whether a clip of a given size fits a video model there, asked before any upload,
// so the plugin's clip chooser can warn at choose time (ui/clip.ts useClipFit). The five TTVSR REDS part cards come
// from the committed templates (full width, 64 channels) with stand-in files (clip-fit-server.ts): the answer
// computes from cards and the memory budget, it never loads a model. What it says for a clip is what the job refuses
// for the same clip (same largest frame size), a fitting clip fits, ESRGAN (frame by frame) fits whatever TTVSR's memory, the server's frame-size limit counts for every model, and it follows the server's credential
// rules (a token route: nothing is computed for a request without the token; CORS as for every route). The plugin's
// client (fetchClipFit) and the chooser's words (clipFitWarning) are checked on the same answers.
//
//   node --import tsx --test --test-reporter=spec test/server/jobs-clip-fit.test.ts
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningServer } from '../../server/server.ts';
import { clipFitWarning } from '../../ui/clip.ts';
import { fetchClipFit, type ClipFit } from '../../worker/runtime/jobs-client.ts';
import { DEFAULT_CONTEXT, DEFAULT_WINDOW } from '../../worker/video/ttvsr.ts';
import { clipWindows, windowsHeldBytes } from '../../worker/video/ttvsr-memory.ts';
import { startClipFitServer } from './clip-fit-server.ts';
import { raw, type TempRoot } from './helpers.ts';
import { call, clipWorkspace, makeClip, poll, submit } from './jobs-util.ts';

const BUDGET = 2e9;
const MAX_FRAME_PIXELS = 1280 * 720;

const fitPath = (model: string, width: number, height: number, frames: number) => `/jobs/fit?model=${model}&width=${width}&height=${height}&frames=${frames}`;

describe('GET /jobs/fit', { timeout: 120_000 }, () => {
  let root: TempRoot;
  let server: RunningServer;
  let work: string;

  before(async () => {
    ({ work } = await clipWorkspace('frontier-clip-fit-'));
    ({ server, root } = await startClipFitServer({ dir: join(work, 'jobs'), ttvsrMemoryBytes: BUDGET, maxFramePixels: MAX_FRAME_PIXELS }));
  });
  after(async () => {
    await server?.close();
    await root?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a TTVSR clip too large for the memory budget: not fitting, with the largest frames that do — the size the job itself refuses it with', async () => {
    const answer = await call(server, 'GET', fitPath('ttvsr-reds', 640, 360, 8));
    assert.equal(answer.status, 200, answer.text);
    const fit = answer.json as unknown as ClipFit;
    const windows = await clipWindows(8, DEFAULT_WINDOW, DEFAULT_CONTEXT);
    const need = windowsHeldBytes({ width: 640, height: 360, channels: 64 }, windows).total;
    assert.deepEqual([fit.model, fit.name, fit.fits, fit.limit], ['ttvsr-reds', 'TTVSR (REDS)', false, 'memory']);
    assert.deepEqual(fit.memory, { budgetBytes: BUDGET, needBytes: need, counted: 'total' });
    const { width, height } = fit.largest!;
    const at = (w: number, h: number) => windowsHeldBytes({ width: w, height: h, channels: 64 }, windows).total;
    assert.ok(at(width, height) <= BUDGET && at(Math.round(width * 1.05), Math.round(height * 1.05)) > BUDGET, `${width}×${height}`);
    assert.equal(answer.headers.get('cache-control'), 'no-store');

    // The same clip sent as a job is refused naming the same size.
    await makeClip(join(work, 'big.mp4'), { width: 640, height: 360, fps: 8, seconds: 1 });
    const big = new Uint8Array(await readFile(join(work, 'big.mp4')));
    await submit(server, 'clip-fit-big-0001', big, JSON.stringify({ task: 'upscale-video', model: 'ttvsr-reds', params: { scale: 4 }, upload: { bytes: big.length, mime: 'video/mp4' } }));
    const end = (await poll(server, 'clip-fit-big-0001', undefined, 60_000)).at(-1)!;
    assert.equal(end.state, 'failed');
    assert.match(end.error ?? '', new RegExp(`frames up to about ${width}×${height} fit`));

    // The chooser's words for it.
    assert.equal(clipFitWarning(fit), `This clip is too large for TTVSR (REDS) on this server: at most ${width}×${height} frames. Choose ESRGAN per frame, or a smaller clip.`);
  });

  test('a small TTVSR clip fits (any of the pipeline\'s ids names it); ESRGAN fits a clip TTVSR does not; the frame-size limit counts for every model', async () => {
    for (const model of ['ttvsr-reds', 'ttvsr-reds-reconstruct']) {
      const small = (await call(server, 'GET', fitPath(model, 64, 64, 240))).json as unknown as ClipFit;
      assert.equal(small.fits, true, model);
      assert.equal(small.limit, undefined);
      assert.ok(small.memory!.needBytes <= BUDGET && small.memory!.needBytes > 0);
      assert.equal(clipFitWarning(small), null);
    }
    const esrgan = (await call(server, 'GET', fitPath('esrgan-slim-x2', 640, 360, 8))).json as unknown as ClipFit;
    assert.deepEqual([esrgan.fits, esrgan.memory], [true, undefined]);

    const huge = (await call(server, 'GET', fitPath('esrgan-slim-x2', 1920, 1080, 8))).json as unknown as ClipFit;
    assert.deepEqual([huge.fits, huge.limit, huge.maxFramePixels], [false, 'frame-size', MAX_FRAME_PIXELS]);
    assert.ok(huge.largest!.width * huge.largest!.height <= MAX_FRAME_PIXELS && huge.largest!.width >= 1270, JSON.stringify(huge.largest));
    assert.match(clipFitWarning(huge)!, /^This clip is too large for this server: frames up to \d+×\d+\. Export it smaller first\.$/);
  });

  test('a token route: no answer without the server\'s token or with a wrong one; bad questions are 400, unknown models 404', async () => {
    const path = fitPath('ttvsr-reds', 640, 360, 8);
    const none = await raw(server.url, path, { headers: { Origin: 'null' } });
    assert.equal(none.status, 401);
    assert.doesNotMatch(none.body.toString(), /fits|largest|memory/);
    assert.equal(none.headers['access-control-allow-origin'], 'null', 'the plugin (origin null) can read why');
    const wrong = await raw(server.url, path, { headers: { Authorization: 'Bearer not-the-token' } });
    assert.equal(wrong.status, 401);
    const preflight = await raw(server.url, path, { method: 'OPTIONS', headers: { Origin: 'null', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } });
    assert.equal(preflight.status, 204);
    const stranger = await raw(server.url, path, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' } });
    assert.equal(stranger.status, 403);

    for (const bad of ['/jobs/fit?width=640&height=360&frames=8', fitPath('ttvsr-reds', 0, 360, 8), fitPath('ttvsr-reds', 640, 360, 1.5), '/jobs/fit?model=ttvsr-reds&width=640&height=360']) {
      const answer = await call(server, 'GET', bad);
      assert.equal(answer.status, 400, `${bad}: ${answer.text}`);
    }
    const unknown = await call(server, 'GET', fitPath('no-such-model', 640, 360, 8));
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /no video model no-such-model/);
  });

  test('the plugin\'s client: the same answer with the token, an error without it, null from a server that cannot say (Triton)', async () => {
    const clip = { model: 'ttvsr-reds', width: 640, height: 360, frames: 8 };
    const fit = await fetchClipFit({ baseUrl: server.url, token: server.token }, clip);
    assert.deepEqual(fit, (await call(server, 'GET', fitPath('ttvsr-reds', 640, 360, 8))).json);
    await assert.rejects(fetchClipFit({ baseUrl: server.url }, clip), /refused the question \(401\): check the pairing code/);
    assert.equal(await fetchClipFit({ baseUrl: server.url, token: server.token }, { ...clip, model: 'no-such-model' }), null);

    // A Triton-like server answers 404 for a path it does not have.
    const triton = createServer((req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `Not Found: ${req.url}` }));
    });
    await new Promise<void>((resolve) => triton.listen(0, '127.0.0.1', resolve));
    try {
      assert.equal(await fetchClipFit({ baseUrl: `http://127.0.0.1:${(triton.address() as AddressInfo).port}` }, clip), null);
    } finally {
      await new Promise((resolve) => triton.close(resolve));
    }
  });
});
