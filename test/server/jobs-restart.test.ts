// Jobs across restarts, in-process (the real-process kill -9 and Ctrl-C cases are in jobs-process.test.ts): a clean
// stop mid-run and a restart on the same jobs folder (the job runs again and succeeds; a client reconnecting with
// its Last-Event-ID gets newer events and the end); what a restart makes of every journalled state a server can die
// in, and of orphans and leftovers; one server per jobs folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer } from '../../server/server.ts';
import { authHeaders, call, clipWorkspace, editJournal, filesUnder, jobBody, patch, poll, probe, readEvents, readJournal, startStallingGateway, submit, waitFor } from './jobs-util.ts';

let work: string;
let clip: Uint8Array; // 8 frames, 32×24
const TOKEN = 'restart-test-token-0917';
const HOUR = 3_600_000;

before(async () => {
  ({ work, clip } = await clipWorkspace('frontier-jobs-restart-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const serve = (dir: string, more: Record<string, unknown> = {}) => startServer({ port: 0, token: TOKEN, jobs: { dir, windowFrames: 2, heartbeatMs: 100, retentionMs: HOUR, ...more } });

test('a clean stop mid-run keeps the job; the next start runs it again, and a client reconnecting with Last-Event-ID gets newer events and the end', async () => {
  const dir = join(work, 'clean-stop');
  const id = 'restart-mid-run1';
  // The first server sends its frames to a gateway that never answers: the job is running when the server stops.
  const gateway = await startStallingGateway();
  const first = await serve(dir, { inferUrl: gateway.url, inferToken: TOKEN });
  gateway.target.url = first.url;
  gateway.target.token = first.token;
  let lastSeen: number;
  try {
    await submit(first, id, clip);
    const running = await readEvents(first, id, { stopAfter: (e) => e.job.progress.stage === 'run' });
    lastSeen = running.events.at(-1)!.id;
    await waitFor(() => gateway.held() > 0, 'the first frame to reach the gateway');
  } finally {
    await first.close();
    await gateway.close();
  }
  const record = await readJournal(dir, id);
  assert.equal(record.state, 'queued', 'journalled to run again');
  assert.equal(record.interrupted, 0, 'a clean stop is not an interrupted run');
  assert.deepEqual((await filesUnder(dir)).sort(), [id, `${id}/input`, `${id}/job.json`], 'no partial result, no lock');

  const second = await serve(dir);
  try {
    const rest = await readEvents(second, id, { lastEventId: lastSeen });
    assert.equal(rest.status, 200);
    assert.ok(rest.events[0].id > lastSeen, `numbering continues past ${lastSeen} (got ${rest.events[0].id})`);
    assert.equal(rest.events[0].job.state, 'queued');
    assert.match((rest.events[0].job.progress as { message?: string }).message ?? '', /server restarted/);
    const end = rest.events.at(-1)!.job;
    assert.equal(end.state, 'succeeded', end.error);
    const ids = rest.events.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in order');
    const res = await fetch(`${second.url}/jobs/${id}/result`, { headers: authHeaders(second) });
    assert.equal(res.status, 200);
    await writeFile(join(work, 'restarted.mp4'), new Uint8Array(await res.arrayBuffer()));
    const probed = await probe(join(work, 'restarted.mp4'));
    assert.deepEqual([probed.width, probed.height, probed.frames], [64, 48, 8]);
    // An old Last-Event-ID beyond anything the restarted server numbered still gets the job's end, not a silent 204.
    const stale = await readEvents(second, id, { lastEventId: end.seq + 10_000 });
    assert.equal(stale.events.at(-1)?.job.state, 'succeeded');
  } finally {
    await second.close();
  }
});

test('a restart finds every state a server can die in: uploads resume from the bytes on disk, runs cut short once run again, twice fail; ended jobs stay until their retention; orphans and leftovers go', async () => {
  const dir = join(work, 'states');
  const ids = { upload: 'died-uploading', once: 'died-running-once', twice: 'died-running-twice', queued: 'died-queued-01', ended: 'ended-failed-01', expired: 'ended-expired-01' };
  const first = await serve(dir);
  try {
    for (const id of [ids.upload, ids.once, ids.twice, ids.queued]) {
      assert.equal((await call(first, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) })).status, 201);
      assert.equal((await patch(first, id, 0, clip.subarray(0, 100))).status, 204);
    }
    const junk = new TextEncoder().encode('not a video, only text');
    for (const id of [ids.ended, ids.expired]) {
      await submit(first, id, junk);
      assert.equal((await poll(first, id)).at(-1)?.state, 'failed');
    }
  } finally {
    await first.close();
  }
  const seqBefore = (await readJournal(dir, ids.upload)).seq;

  // What a server killed at various moments leaves behind.
  await appendFile(join(dir, ids.upload, 'input'), clip.subarray(100, 500)); // written, but not yet journalled
  for (const id of [ids.once, ids.twice, ids.queued]) await writeFile(join(dir, id, 'input'), clip);
  await editJournal(dir, ids.once, { state: 'running', attempts: 1, interrupted: 0, progress: { done: 4, total: 8, stage: 'run' } });
  await writeFile(join(dir, ids.once, 'result.partial.mp4'), 'half an mp4');
  await writeFile(join(dir, ids.once, 'job.json.4242-7.tmp'), '{"half a record');
  await editJournal(dir, ids.twice, { state: 'running', attempts: 2, interrupted: 1 });
  await editJournal(dir, ids.queued, { state: 'queued', uploadOffset: clip.length });
  await editJournal(dir, ids.expired, { finishedAt: new Date(Date.now() - 2 * HOUR).toISOString() });
  await mkdir(join(dir, 'orphan-no-journal'));
  await writeFile(join(dir, 'orphan-no-journal', 'input'), 'bytes of a job whose journal never landed');
  await mkdir(join(dir, 'orphan-bad-journal'));
  await writeFile(join(dir, 'orphan-bad-journal', 'job.json'), '{"version":1,"id":"orphan-bad-jo');
  await mkdir(join(dir, 'server-AbC123', 'some-old-job-1'), { recursive: true }); // an earlier version's folder
  await writeFile(join(dir, 'server-AbC123', 'some-old-job-1', 'input'), 'old');
  await mkdir(join(dir, 'MyPhotos2024'));
  await writeFile(join(dir, 'MyPhotos2024', 'holiday.jpg'), 'not the server’s');

  const second = await serve(dir);
  try {
    const upload = (await call(second, 'GET', `/jobs/${ids.upload}`)).json!;
    assert.equal(upload.state, 'uploading');
    assert.equal(upload.upload.offset, 500, "the clip's bytes on disk count, not the journal's older offset");
    assert.match((upload.progress as { message?: string }).message ?? '', /restarted: resume the upload from byte 500/);
    assert.ok(upload.seq > seqBefore + 1, 'its events continue past those sent before');
    assert.equal((await call(second, 'HEAD', `/jobs/${ids.upload}/upload`)).headers.get('upload-offset'), '500');
    assert.equal((await patch(second, ids.upload, 500, clip.subarray(500))).status, 204);

    const twice = (await call(second, 'GET', `/jobs/${ids.twice}`)).json!;
    assert.equal(twice.state, 'failed');
    assert.match(twice.error ?? '', /^The server restarted twice while this job ran/);
    assert.equal((await call(second, 'GET', `/jobs/${ids.ended}`)).json?.state, 'failed', 'an ended job is kept until its retention ends');
    assert.match((await call(second, 'GET', `/jobs/${ids.ended}`)).json?.error ?? '', /not a video/);
    assert.equal((await call(second, 'GET', `/jobs/${ids.expired}`)).status, 404, 'one whose retention ran out while the server was down is gone');

    for (const id of [ids.upload, ids.once, ids.queued]) {
      const end = (await poll(second, id)).at(-1)!;
      assert.equal(end.state, 'succeeded', `${id}: ${end.error}`);
    }
    assert.equal((await readJournal(dir, ids.once)).attempts, 2, 'its second run');
    const files = (await filesUnder(dir)).sort();
    const expected = [
      'MyPhotos2024',
      'MyPhotos2024/holiday.jpg', // not the server's: left alone
      ...[ids.ended, ids.twice].flatMap((id) => [id, `${id}/job.json`]),
      ...[ids.upload, ids.once, ids.queued].flatMap((id) => [id, `${id}/job.json`, `${id}/result.mp4`]),
      'server.lock',
    ].sort();
    assert.deepEqual(files, expected);
  } finally {
    await second.close();
  }
});

test('one server per jobs folder: a second is refused with a clear message; the lock of a server that is gone is taken over', async () => {
  const dir = join(work, 'locked');
  const first = await serve(dir);
  try {
    await assert.rejects(serve(dir), (err: Error) => {
      assert.match(err.message, /already uses the jobs folder .*locked: give each server a folder of its own/);
      return true;
    });
  } finally {
    await first.close();
  }
  // A lock left by a process that has ended (a server killed with kill -9).
  const gone = spawn(process.execPath, ['-e', '']);
  await once(gone, 'exit');
  await writeFile(join(dir, 'server.lock'), JSON.stringify({ pid: gone.pid, host: (await import('node:os')).hostname(), nonce: 'stale', started: new Date().toISOString() }));
  const third = await serve(dir);
  try {
    const lock = JSON.parse(await readFile(join(dir, 'server.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, process.pid);
    assert.equal((await call(third, 'PUT', '/jobs/after-takeover', { body: jobBody(clip.length) })).status, 201);
  } finally {
    await third.close();
  }
  await assert.rejects(stat(join(dir, 'server.lock')), { code: 'ENOENT' }, 'a clean stop gives the folder up');
});

test('without jobs.dir, each server keeps its jobs in a private temporary folder, made on the first job request and removed when it stops', async () => {
  const saved = process.env.TMPDIR;
  const temp = await mkdtemp(join(work, 'tmp-'));
  process.env.TMPDIR = temp; // os.tmpdir(): private folders go under <temp>/frontier-jobs
  const [a, b] = await Promise.all([startServer({ port: 0 }), startServer({ port: 0 })]);
  try {
    assert.deepEqual(await filesUnder(join(temp, 'frontier-jobs')), [], 'servers that run no jobs make no folder');
    const id = 'default-folder-01';
    // Two servers side by side, the same job id on each: neither sees the other's.
    assert.equal((await call(a, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length) })).status, 201);
    assert.equal((await call(b, 'GET', `/jobs/${id}`)).status, 404);
    assert.equal((await call(b, 'PUT', `/jobs/${id}`, { body: jobBody(clip.length + 1) })).status, 201);
    const journals = (await filesUnder(join(temp, 'frontier-jobs'))).filter((f) => f.endsWith(`${id}/job.json`));
    assert.equal(journals.length, 2, journals.join(', '));
    await a.close();
    assert.equal((await call(b, 'GET', `/jobs/${id}`)).json?.state, 'uploading');
    await b.close();
    assert.deepEqual(await filesUnder(join(temp, 'frontier-jobs')), [], 'a stop removes a private folder: nobody would resume it');
  } finally {
    process.env.TMPDIR = saved;
    if (saved === undefined) delete process.env.TMPDIR;
    await Promise.allSettled([a.close(), b.close()]);
  }
});
