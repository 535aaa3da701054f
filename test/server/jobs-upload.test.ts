// The upload and job-creation defects of issue 11 (defect 6), each on a real server with real files: a jobs folder
// that could not be written once recovers without a restart; a full disk is 507 (a real ENOSPC: the clip's file
// made a link to /dev/full) and creation checks free space; a client that vanished mid-chunk does not block its own
// resume, and a stalled body times out; bytes delivered before a connection drops are counted; one client cannot
// take every job slot (429).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import { call, clipWorkspace, jobBody, jobFile, openPatch, patch, poll, waitFor } from './jobs-util.ts';

let work: string;
let clip: Uint8Array;

before(async () => {
  ({ work, clip } = await clipWorkspace('frontier-jobs-upload-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const offsetOf = async (server: RunningServer, id: string) => Number((await call(server, 'HEAD', `/jobs/${id}/upload`)).headers.get('upload-offset'));

/** A PATCH of `total` declared bytes that sends `first` of them and then waits (its client's network went quiet). */
function stalledPatch(server: RunningServer, id: string, offset: number, total: number, first: number) {
  const open = openPatch(server, id, offset, total);
  open.req.write(clip.subarray(offset, offset + first));
  return open;
}

test('(a) a jobs folder that could not be written: 503 saying what to do (no path), and jobs work again once it is fixed, without a restart', async () => {
  const dir = join(work, 'unwritable');
  const server = await startServer({ port: 0, jobs: { dir } });
  try {
    await rm(dir, { recursive: true, force: true });
    await writeFile(dir, 'a file where the jobs folder should be');
    const refused = await call(server, 'PUT', '/jobs/when-unwritable', { body: jobBody(clip.length) });
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.json?.error ?? '', /cannot write to its jobs folder \(ENOTDIR, creating the job\): whoever runs the server must make that folder writable .*then create the job again/);
    assert.doesNotMatch(refused.text, new RegExp(work.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no server path');
    assert.equal((await call(server, 'GET', '/jobs/when-unwritable')).status, 404);

    await rm(dir);
    await mkdir(dir);
    const created = await call(server, 'PUT', '/jobs/when-writable', { body: jobBody(clip.length) });
    assert.equal(created.status, 201, `fixed folder, same server: ${created.text}`);
    assert.equal((await patch(server, 'when-writable', 0, clip)).status, 204);
    assert.equal((await poll(server, 'when-writable')).at(-1)?.state, 'succeeded');
  } finally {
    await server.close();
  }
});

test('(b) a full disk during an upload is 507 saying so and the upload stays resumable; a job the disk has no room for is 507 at once', async () => {
  const dir = join(work, 'full-disk');
  const server = await startServer({ port: 0, jobs: { dir } });
  try {
    const id = 'disk-fills-up-01';
    assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) })).status, 201);
    assert.equal((await patch(server, id, 0, clip.subarray(0, 100))).status, 204);
    // Every write to /dev/full fails with ENOSPC: the disk is full from here on.
    const input = await jobFile(dir, id, 'input');
    await rm(input);
    await symlink('/dev/full', input);
    const full = await patch(server, id, 100, clip.subarray(100, 1100));
    assert.equal(full.status, 507, full.text);
    assert.match(full.json?.error ?? '', /^The server's disk is full: it holds 100 of the clip's \d+ bytes\. Free some space on the server, then resume the upload from Upload-Offset 100/);
    assert.equal(full.headers.get('upload-offset'), '100');
    assert.equal((await call(server, 'GET', `/jobs/${id}`)).json?.state, 'uploading', 'the job waits for the rest');

    // Space freed: the client resumes where the server said.
    await rm(input);
    await writeFile(input, clip.subarray(0, 100));
    assert.equal((await patch(server, id, 100, clip.subarray(100))).status, 204);
    assert.equal((await poll(server, id)).at(-1)?.state, 'succeeded');
  } finally {
    await server.close();
  }

  const tight = await startServer({ port: 0, jobs: { dir: join(work, 'no-room'), diskMarginBytes: 2 ** 50 } });
  try {
    const res = await call(tight, 'PUT', '/jobs/no-room-for-it', { body: jobBody(clip.length) });
    assert.equal(res.status, 507, res.text);
    assert.match(res.json?.error ?? '', /^The server's disk has [\d.]+ MB free, and this job needs [\d.]+ MB \([\d.]+ MB for this clip, [\d.]+ MB kept free for results\): free some space on the server, or send a shorter clip, then create the job again\.$/);
    assert.equal((await call(tight, 'GET', '/jobs/no-room-for-it')).status, 404);
  } finally {
    await tight.close();
  }
});

test('(c) a client that vanished mid-chunk does not block its resume: a new PATCH takes over at once; a body that stops arriving is ended (408)', async () => {
  const server = await startServer({ port: 0, jobs: { dir: join(work, 'takeover') } });
  try {
    const id = 'vanished-client-1';
    assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) })).status, 201);
    const gone = stalledPatch(server, id, 0, clip.length, 1000);
    await waitFor(async () => (await offsetOf(server, id)) === 1000, 'the first 1000 bytes on disk');
    // The client is back (its old connection never closed): it asks where to resume and sends the rest.
    const offset = await offsetOf(server, id);
    const resumed = await patch(server, id, offset, clip.subarray(offset));
    assert.equal(resumed.status, 204, resumed.text);
    await waitFor(() => gone.closed(), 'the stale request to be closed by the server');
    assert.equal((await poll(server, id)).at(-1)?.state, 'succeeded');
  } finally {
    await server.close();
  }

  const strict = await startServer({ port: 0, jobs: { dir: join(work, 'idle'), uploadIdleMs: 300 } });
  try {
    const id = 'stalled-body-0001';
    assert.equal((await call(strict, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) })).status, 201);
    const stalled = stalledPatch(strict, id, 0, clip.length, 100);
    const res = await stalled.response;
    assert.equal(res.statusCode, 408, res.text);
    assert.match(JSON.parse(res.text).error, /^No bytes of the chunk arrived for 0.3 s, so the server ended it: resume the upload from Upload-Offset 100/);
    assert.equal(res.headers['upload-offset'], '100');
    stalled.req.destroy();
    assert.equal((await patch(strict, id, 100, clip.subarray(100))).status, 204);
  } finally {
    await strict.close();
  }
});

/**
 * Runs `work` while every thread of libuv's pool (file system calls) waits to open a FIFO that has no writer: the
 * server's file calls wait too, as on a slow or busy disk. Afterwards each FIFO is opened read-write on this thread
 * (on Linux that never waits and counts as a writer), which lets the waiting opens through.
 */
async function withDiskStalled(parent: string, work: () => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(parent, 'stall-'));
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const fifos = Array.from({ length: threads }, (_, i) => join(dir, `${i}.fifo`));
  for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
  const waiting = fifos.map((fifo) => open(fifo, 'r'));
  try {
    await work();
  } finally {
    const writers = fifos.map((fifo) => openSync(fifo, constants.O_RDWR));
    for (const handle of await Promise.all(waiting)) await handle.close();
    for (const fd of writers) closeSync(fd);
  }
}

test('(d) bytes delivered before the connection drops count, even when the server was still busy with its disk', async () => {
  const dir = join(work, 'cut');
  const server = await startServer({ port: 0, jobs: { dir } });
  try {
    for (const [i, sent] of [1200, 1, clip.length - 1].entries()) {
      const id = `cut-early-000${i}`;
      assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) })).status, 201);
      await withDiskStalled(work, async () => {
        // The chunk's first bytes and then the end of the connection, while the server cannot open the clip's file yet.
        const url = new URL(server.url);
        const socket = connect(Number(url.port), url.hostname);
        socket.on('error', () => {});
        socket.resume(); // whatever the server answers
        await once(socket, 'connect');
        const head =
          `PATCH /jobs/${id}/upload HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${server.token}\r\n` +
          `Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: ${clip.length}\r\n\r\n`;
        socket.end(Buffer.concat([Buffer.from(head), clip.subarray(0, sent)]));
        await once(socket, 'close'); // the server saw the end of the connection and closed its side
      });
      await waitFor(async () => (await offsetOf(server, id)) === sent, `the ${sent} bytes sent to be counted`, 10_000);
      assert.equal((await stat(await jobFile(dir, id, 'input'))).size, sent);
      assert.equal((await patch(server, id, sent, clip.subarray(sent))).status, 204);
    }
  } finally {
    await server.close();
  }
});

test('(e) one client cannot take every job slot: 429 with Retry-After past its cap; other clients still get theirs', async () => {
  const server = await startServer({ port: 0, jobs: { dir: join(work, 'cap'), maxJobsPerClient: 2 } });
  /** PUT from another loopback address: another client. */
  const putFrom = (localAddress: string, id: string) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(server.url);
      const body = jobBody(clip.length);
      const req = request({ host: url.hostname, port: url.port, localAddress, path: `/jobs/${id}`, method: 'PUT', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });
  try {
    for (const id of ['capped-job-0001', 'capped-job-0002']) assert.equal((await call(server, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) })).status, 201);
    const third = await call(server, 'PUT', '/jobs/capped-job-0003', { body: jobBody(clip.length) });
    assert.equal(third.status, 429, third.text);
    assert.equal(third.headers.get('retry-after'), '30');
    assert.match(third.json?.error ?? '', /^You already have 2 unfinished jobs on this server, the most one client may have: wait for some to finish, or cancel those you no longer need/);
    assert.equal((await call(server, 'PUT', '/jobs/capped-job-0001', { body: jobBody(clip.length) })).status, 200, 'the same PUT again is not a new job');
    assert.equal(await putFrom('127.0.0.2', 'other-client-001'), 201, 'another client is not affected');
    assert.equal((await call(server, 'POST', '/jobs/capped-job-0001/cancel')).json?.state, 'cancelled');
    assert.equal((await call(server, 'PUT', '/jobs/capped-job-0003', { body: jobBody(clip.length) })).status, 201, 'an ended job frees its slot');
  } finally {
    await server.close();
  }
});
