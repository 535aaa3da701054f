// Issue 11 defect 1: about 10 s after the server answered an upload early while its client was still streaming the
// body, the process died (a TypeError in the body-discard timer, server/http-util.ts discardBody). The three
// triggers run here at once, on an in-process server, while their clients keep streaming: a PATCH of more bytes
// than the job declared (413), a cancel during the upload (409), a full disk (507: the clip's file is a link to
// /dev/full); and a fourth way an upload request ends early: a new PATCH taking over from a quiet one. The test waits until the server has closed each still-streaming connection (the discard grace, 10 s),
// then proves the server still answers. The old crash surfaces here as an uncaught exception: a failure.
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import { call, jobBody, jobFile, openPatch, patch, poll, requireFfmpeg, waitFor } from './jobs-util.ts';

let work: string;
/** discardBody's default grace (server/http-util.ts): how long the server reads a refused body before it hangs up. */
const DISCARD_GRACE_MS = 10_000;

before(async () => {
  requireFfmpeg();
  work = await mkdtemp(join(tmpdir(), 'frontier-jobs-crash-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * A PATCH that declares `declared` bytes and streams 512 of them every 50 ms, on and on, whatever the server
 * answers, until the server closes the connection (or `stop()`); or, with `quietAfter`, goes quiet after that many
 * writes without closing its connection.
 */
function endlessPatch(server: RunningServer, id: string, declared: number, o: { quietAfter?: number } = {}) {
  const { req, answer, closed } = openPatch(server, id, 0, declared);
  const chunk = new Uint8Array(512).fill(9);
  let writes = 0;
  const timer = setInterval(() => {
    if (!req.destroyed && writes++ < (o.quietAfter ?? Infinity)) req.write(chunk);
  }, 50);
  return {
    answer,
    closedByServer: closed,
    stop: () => {
      clearInterval(timer);
      req.destroy();
    },
  };
}

test('uploads the server answers early while their clients keep streaming (too long, cancelled, disk full) never take the server down', { timeout: 60_000 }, async () => {
  const dir = join(work, 'jobs');
  const server = await startServer({ port: 0, jobs: { dir } });
  const streams: ReturnType<typeof endlessPatch>[] = [];
  const quiet: ReturnType<typeof endlessPatch>[] = [];
  try {
    const big = 50_000_000; // one chunk of a 50 MB clip; the clients stream far less before the server answers
    for (const id of ['too-many-bytes', 'cancel-mid-upload', 'disk-full-upload', 'taken-over-upload']) {
      const res = await call(server, 'PUT', `/jobs/${id}`, { body: jobBody(id === 'too-many-bytes' ? 3000 : big) });
      assert.equal(res.status, 201, res.text);
    }
    const input = await jobFile(dir, 'disk-full-upload', 'input');
    await rm(input);
    await symlink('/dev/full', input);

    // 1. More bytes than the job declared (3000): refused before the body is read.
    streams.push(endlessPatch(server, 'too-many-bytes', 10_000_000));
    // 2. Cancelled (the plugin's Cancel button) while its chunk streams in.
    const cancelled = endlessPatch(server, 'cancel-mid-upload', big);
    streams.push(cancelled);
    await poll(server, 'cancel-mid-upload', (j) => j.upload.offset > 0, 20_000);
    assert.equal((await call(server, 'POST', '/jobs/cancel-mid-upload/cancel')).json?.state, 'cancelled');
    // 3. The disk fills up under the upload.
    streams.push(endlessPatch(server, 'disk-full-upload', big));
    // 4. A client whose connection went quiet comes back: its new PATCH takes over, the stale request is cut.
    const stale = endlessPatch(server, 'taken-over-upload', big, { quietAfter: 2 });
    quiet.push(stale);
    await poll(server, 'taken-over-upload', (j) => j.upload.offset === 1024, 20_000);
    const takeover = await patch(server, 'taken-over-upload', 1024, new Uint8Array(1000));
    assert.equal(takeover.status, 204, takeover.text);
    await waitFor(() => stale.closedByServer(), 'the stale request to be cut');

    await waitFor(() => streams.every((s) => s.answer()), 'the three early answers', 20_000);
    const answered = Date.now();
    // The server stops reading a body it refused after its grace period (10 s) and closes the connection: the moment
    // the old timer crashed. Wait for the connections to close and for every request's grace period to be over (a
    // connection cut earlier leaves its timer running all the same), then the server must still answer.
    await waitFor(() => streams.every((s) => s.closedByServer()), 'the server to close the still-streaming connections', 40_000);
    await waitFor(() => Date.now() - answered > DISCARD_GRACE_MS + 2000, 'the discard grace period to be over', 40_000);
    assert.deepEqual(
      streams.map((s) => s.answer()!.status),
      [413, 409, 507],
      streams.map((s) => s.answer()!.text).join('\n'),
    );
    assert.equal((await call(server, 'GET', '/v2/health/ready')).status, 200);
    assert.equal((await call(server, 'GET', '/jobs/too-many-bytes')).json?.state, 'uploading');
    assert.equal((await patch(server, 'too-many-bytes', 0, new Uint8Array(3000))).status, 204, 'the refused upload can still be sent');
  } finally {
    for (const s of [...streams, ...quiet]) s.stop();
    await server.close();
  }
});
