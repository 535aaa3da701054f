// uploadResumable (worker/runtime/jobs-client.ts), the PATCH loop clips and model files share, against a scripted
// server: a connection cut mid-chunk asks where to resume, a 409 with another offset resumes there, a 204 without
// Upload-Offset advances by the chunk, the user's stop is never retried, and three stalls in a row give up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uploadResumable, type ResumableUpload } from '../../worker/runtime/jobs-client.ts';
import type { OipResponse } from '../../worker/runtime/oip-http.ts';

type Send = ResumableUpload['send'];
type Req = Parameters<Send>[0];

const answer = (status: number, headers: Record<string, string> = {}, body = ''): OipResponse => ({ status, headers: new Headers(headers), body: new TextEncoder().encode(body) });

/** A server that takes every chunk except as `script` says for the n-th PATCH; records each PATCH's offset. */
function server(size: number, script: (n: number, offset: number) => OipResponse | Error | undefined) {
  let have = 0;
  let n = 0;
  const patches: number[] = [];
  const send: Send = async (req: Req) => {
    if (req.method === 'GET') return answer(200, {}, JSON.stringify({ offset: have }));
    const offset = Number((req.headers as Record<string, string>)['Upload-Offset']);
    patches.push(offset);
    const scripted = script(n++, offset);
    if (scripted instanceof Error) throw scripted;
    if (scripted) return scripted;
    if (offset !== have) return answer(409, { 'Upload-Offset': String(have) });
    have = Math.min(size, offset + (req.body as Uint8Array).length);
    return answer(204, { 'Upload-Offset': String(have) });
  };
  return { send, patches, have: () => have, keep: (bytes: number) => (have = bytes) };
}

function upload(send: Send, size: number, extra: Partial<ResumableUpload> = {}): Promise<void> {
  return uploadResumable({
    send, id: 'job-1', size, from: 0, chunkBytes: 10, read: (a, b) => new Uint8Array(b - a), signal: new AbortController().signal,
    isCancel: (err) => (err as Error).message === 'stopped', failed: (res) => new Error(`failed ${res.status}`),
    what: 'send', resumeWhat: 'resume', onProgress: () => {}, ...extra,
  });
}

test('a cut mid-chunk: the server kept part of it, the upload asks where to resume and goes on from there', async () => {
  const s = server(30, (n, offset) => {
    if (n !== 1) return undefined;
    s.keep(offset + 4); // 4 bytes of the second chunk arrived before the cut
    return new Error('connection reset');
  });
  await upload(s.send, 30);
  assert.deepEqual(s.patches, [0, 10, 14, 24]);
  assert.equal(s.have(), 30);
});

test('a 409 naming another offset resumes there; a 204 without Upload-Offset advances by the chunk', async () => {
  const s = server(25, (n, offset) => {
    if (n === 0) {
      s.keep(5); // the server already had 5 bytes (an earlier try)
      return answer(409, { 'Upload-Offset': '5' });
    }
    if (n === 1) {
      s.keep(offset + 10);
      return answer(204); // stored, but no Upload-Offset header (a proxy dropped it)
    }
    return undefined;
  });
  await upload(s.send, 25);
  assert.deepEqual(s.patches, [0, 5, 15]);
  assert.equal(s.have(), 25);
});

test('the user\'s stop is not retried; a stop seen while reading a chunk throws the caller\'s cancel error', async () => {
  const stopped = server(30, () => new Error('stopped'));
  await assert.rejects(upload(stopped.send, 30), /stopped/);
  assert.deepEqual(stopped.patches, [0]);

  const controller = new AbortController();
  const reading = server(30, () => undefined);
  await assert.rejects(upload(reading.send, 30, {
    signal: controller.signal,
    read: (a, b) => (controller.abort(), new Uint8Array(b - a)),
    cancelled: () => new Error('Install cancelled.'),
  }), /Install cancelled\./);
  assert.deepEqual(reading.patches, [], 'nothing sent after the stop');
});

test('three stalls in a row give up with the last error; a refusal fails at once', async () => {
  const flaky = server(30, () => new Error('connection reset'));
  await assert.rejects(upload(flaky.send, 30), /connection reset/);
  assert.equal(flaky.patches.length, 4, 'the first try and three retries');

  const refused = server(30, () => answer(413));
  await assert.rejects(upload(refused.send, 30), /failed 413/);
  assert.deepEqual(refused.patches, [0]);
});
