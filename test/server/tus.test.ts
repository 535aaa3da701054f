// A job's upload URL speaks the tus 1.0.0 core protocol (server/jobs/upload.ts): the reference client (tus-js-client)
// uploads a clip to it in chunks and resumes a stopped upload from the server's offset, and the protocol's rules hold
// on the wire: OPTIONS answers Tus-Version, HEAD Upload-Offset and Upload-Length without caching, PATCH takes only
// application/offset+octet-stream (415) at exactly the server's offset (409), another tus version is 412, and every
// answer carries Tus-Resumable. The credential is checked on every method, OPTIONS included: nothing is written
// without it (only a CORS preflight, which carries no credential by design, is answered without one).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { Upload, type HttpRequest, type HttpResponse } from 'tus-js-client';
import { startServer, type RunningServer } from '../../server/server.ts';
import { call, clipWorkspace, jobBody, patch, poll } from './jobs-util.ts';

let work: string;
let clip: Uint8Array;
let server: RunningServer;

before(async () => {
  ({ work, clip } = await clipWorkspace('frontier-tus-'));
  server = await startServer({ port: 0, jobs: { dir: `${work}/jobs` } });
});
after(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function createJob(id: string): Promise<string> {
  const created = await call(server, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) });
  assert.equal(created.status, 201, created.text);
  return `${server.url}/jobs/${id}/upload`;
}

interface Exchange {
  method: string;
  offset: string | undefined;
  status: number;
  tusResumable: string | undefined;
}

/** Runs tus-js-client against `uploadUrl` until it succeeds, or until `stopAt` bytes are accepted (then aborts). */
function tusUpload(uploadUrl: string, o: { chunkSize: number; stopAt?: number; token?: string }): Promise<{ exchanges: Exchange[]; finished: boolean }> {
  const exchanges: Exchange[] = [];
  return new Promise((resolve, reject) => {
    const upload: Upload = new Upload(Buffer.from(clip), {
      uploadUrl,
      chunkSize: o.chunkSize,
      headers: { Authorization: `Bearer ${o.token ?? server.token}` },
      retryDelays: null, // an error must show, not be retried away
      onAfterResponse(req: HttpRequest, res: HttpResponse) {
        exchanges.push({ method: req.getMethod(), offset: req.getHeader('Upload-Offset'), status: res.getStatus(), tusResumable: res.getHeader('Tus-Resumable') });
      },
      onChunkComplete(_size, accepted) {
        if (o.stopAt !== undefined && accepted >= o.stopAt) upload.abort().then(() => resolve({ exchanges, finished: false }), reject);
      },
      onSuccess: () => resolve({ exchanges, finished: true }),
      onError: reject,
    });
    upload.start();
  });
}

test('tus-js-client uploads a clip in chunks to the job’s upload URL, and the job runs on it', async () => {
  const url = await createJob('tus-client-whole');
  const chunkSize = Math.ceil(clip.length / 5);
  const { exchanges, finished } = await tusUpload(url, { chunkSize });
  assert.ok(finished);
  assert.deepEqual(exchanges.map((e) => e.method), ['HEAD', 'PATCH', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
  assert.deepEqual(exchanges.filter((e) => e.method === 'PATCH').map((e) => Number(e.offset)), [0, 1, 2, 3, 4].map((i) => i * chunkSize));
  assert.ok(exchanges.every((e) => e.tusResumable === '1.0.0'), 'every answer says Tus-Resumable');
  const last = (await poll(server, 'tus-client-whole')).at(-1);
  assert.equal(last?.state, 'succeeded', JSON.stringify(last));
});

test('tus-js-client resumes a stopped upload from the offset the server has (HEAD), not from the start', async () => {
  const url = await createJob('tus-client-resume');
  const chunkSize = Math.ceil(clip.length / 6);
  const first = await tusUpload(url, { chunkSize, stopAt: 2 * chunkSize });
  assert.equal(first.finished, false);
  const head = await call(server, 'HEAD', '/jobs/tus-client-resume/upload');
  assert.equal(head.headers.get('upload-offset'), String(2 * chunkSize));

  const second = await tusUpload(url, { chunkSize });
  assert.ok(second.finished);
  assert.equal(second.exchanges[0].method, 'HEAD');
  assert.equal(second.exchanges[1].offset, String(2 * chunkSize), 'the first PATCH goes on from the server’s offset');
  assert.equal((await poll(server, 'tus-client-resume')).at(-1)?.state, 'succeeded');
});

test('OPTIONS answers the versions spoken (Tus-Version), with the credential; a CORS preflight needs none', async () => {
  const url = '/jobs/tus-options-01/upload';
  const options = await call(server, 'OPTIONS', url);
  assert.ok(options.status === 204 || options.status === 200, options.text);
  assert.equal(options.headers.get('tus-version'), '1.0.0');
  assert.equal(options.headers.get('tus-resumable'), '1.0.0');
  assert.equal(options.headers.get('tus-extension'), null, 'no extension is offered (creation is PUT /jobs/{id})');

  const stranger = await call(server.url, 'OPTIONS', url);
  assert.equal(stranger.status, 401, 'OPTIONS without the token');
  assert.equal(stranger.headers.get('tus-resumable'), '1.0.0', 'a refusal still says Tus-Resumable');
  assert.equal(stranger.headers.get('tus-version'), null);

  const preflight = await call(server.url, 'OPTIONS', url, { headers: { Origin: 'null', 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'authorization, tus-resumable, upload-offset, content-type' } });
  assert.equal(preflight.status, 204);
  const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
  for (const h of ['authorization', 'tus-resumable', 'upload-offset', 'content-type']) assert.ok(allowed.includes(h), h);
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /PATCH/);
});

test('HEAD: Upload-Offset (0 too) and Upload-Length, not cached; a job that does not exist is 404 without an offset', async () => {
  await createJob('tus-head-0001');
  const head = await call(server, 'HEAD', '/jobs/tus-head-0001/upload', { headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('upload-offset'), '0');
  assert.equal(head.headers.get('upload-length'), String(clip.length));
  assert.equal(head.headers.get('tus-resumable'), '1.0.0');
  assert.equal(head.headers.get('cache-control'), 'no-store');

  const missing = await call(server, 'HEAD', '/jobs/tus-no-such-job/upload', { headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('upload-offset'), null);
  assert.equal(missing.headers.get('tus-resumable'), '1.0.0');
});

test('PATCH: 415 for another content type, 409 for another offset, 412 for another tus version; nothing is written', async () => {
  await createJob('tus-patch-rules');
  const offset = async () => (await call(server, 'HEAD', '/jobs/tus-patch-rules/upload')).headers.get('upload-offset');
  assert.equal((await patch(server, 'tus-patch-rules', 0, clip.subarray(0, 100), { 'Tus-Resumable': '1.0.0' })).status, 204);

  const wrongType = await patch(server, 'tus-patch-rules', 100, clip.subarray(100, 200), { 'Content-Type': 'application/octet-stream', 'Tus-Resumable': '1.0.0' });
  assert.equal(wrongType.status, 415, wrongType.text);
  assert.equal(wrongType.headers.get('tus-resumable'), '1.0.0');

  const wrongOffset = await patch(server, 'tus-patch-rules', 50, clip.subarray(50, 150), { 'Tus-Resumable': '1.0.0' });
  assert.equal(wrongOffset.status, 409, wrongOffset.text);
  assert.equal(wrongOffset.headers.get('upload-offset'), '100', 'the 409 says where to resume');
  assert.equal(wrongOffset.headers.get('tus-resumable'), '1.0.0');

  const oldVersion = await patch(server, 'tus-patch-rules', 100, clip.subarray(100, 200), { 'Tus-Resumable': '0.2.2' });
  assert.equal(oldVersion.status, 412, oldVersion.text);
  assert.equal(oldVersion.headers.get('tus-version'), '1.0.0');
  assert.equal(oldVersion.headers.get('tus-resumable'), '1.0.0');
  assert.match(oldVersion.json?.error ?? '', /speaks tus 1\.0\.0, not 0\.2\.2/);

  assert.equal(await offset(), '100', 'no refused chunk was written');
});

test('without the credential no method of the upload URL reads or writes anything, on loopback too', async () => {
  await createJob('tus-no-token-01');
  for (const [method, headers, body] of [
    ['PATCH', { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0', 'Tus-Resumable': '1.0.0' }, clip.subarray(0, 100)],
    ['HEAD', { 'Tus-Resumable': '1.0.0' }, undefined],
    ['GET', {}, undefined],
    ['OPTIONS', { 'Tus-Resumable': '1.0.0' }, undefined],
  ] as const) {
    const refused = await call(server.url, method, '/jobs/tus-no-token-01/upload', { headers, body });
    assert.equal(refused.status, 401, method);
    assert.equal(refused.headers.get('upload-offset'), null, `${method}: no offset told`);
    const wrong = await call({ url: server.url, token: 'not-the-token' }, method, '/jobs/tus-no-token-01/upload', { headers, body });
    assert.equal(wrong.status, 401, `${method} with a wrong token`);
  }
  await assert.rejects(tusUpload(`${server.url}/jobs/tus-no-token-01/upload`, { chunkSize: 100, token: 'not-the-token' }), /401/);
  assert.equal((await call(server, 'HEAD', '/jobs/tus-no-token-01/upload')).headers.get('upload-offset'), '0');
});
