// Jobs across real restarts of `npm start`'s entry (server/main.ts as its own process, Frontier's folder in a temp
// dir): kill -9 in the middle of a video job and a restart resume it (a second kill mid-run fails it, saying the
// server restarted twice), an upload resumes from its offset, and a client reconnecting with its Last-Event-ID gets
// new events and the end. Ctrl-C to the whole process group (as a terminal sends it, to ffmpeg too) stops the server
// cleanly, several times over: exit code 0, every job journalled to resume, no lock, partial file or process left.
// SIGTERM does the same. A second server on the same folder refuses to start.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, startMainProcess } from './helpers.ts';
import { call, filesUnder, jobBody, makeClip, patch, poll, readEvents, readJournal, requireFfmpeg, submit, waitFor, type Target } from './jobs-util.ts';

let work: string;
let clip: Uint8Array; // 8 frames, 32×24: a quick job
let slowClip: Uint8Array; // 24 frames, 64×48 on ESRGAN thick ×4: many seconds of work, so it is mid-run when stopped
const SLOW = 'esrgan-thick-x4';

before(async () => {
  requireFfmpeg();
  work = await mkdtemp(join(tmpdir(), 'frontier-jobs-process-'));
  await makeClip(join(work, 'clip.mp4'), { width: 32, height: 24, fps: 8, seconds: 1 });
  await makeClip(join(work, 'slow.mp4'), { width: 64, height: 48, fps: 8, seconds: 3 });
  clip = new Uint8Array(await readFile(join(work, 'clip.mp4')));
  slowClip = new Uint8Array(await readFile(join(work, 'slow.mp4')));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Main {
  child: ChildProcess;
  server: Target & { url: string; token: string };
  output: () => string;
  exit: Promise<number | null>;
}

/** Starts server/main.ts on a free port with Frontier's folder at `home` (in its own process group when `group`). */
async function startMain(home: string, group = false): Promise<Main> {
  const main = await startMainProcess(home, { group });
  return { child: main.child, server: { url: main.url, token: main.token }, output: main.output, exit: main.exit };
}

async function kill9(main: Main): Promise<void> {
  main.child.kill('SIGKILL');
  await main.exit;
}

/** The pids of processes whose command line names `text` (ffmpeg reading a job's clip). Linux only: [] elsewhere. */
async function processesNaming(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text) && Number(name) !== process.pid) pids.push(Number(name));
  }
  return pids;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls the job until it runs its frames (stage run). */
const runningFrames = (server: Target, id: string) => poll(server, id, (j) => j.state === 'running' && j.progress.stage === 'run', 60_000);

test('kill -9 mid-job and restarts: the job runs again (and fails, saying so, when cut short twice); an upload resumes from its offset; events go on', { timeout: 110_000 }, async () => {
  const home = await mkdtemp(join(work, 'home-'));
  const jobsDir = join(home, 'jobs');
  const slow = 'killed-mid-run-01';
  const upload = 'killed-mid-upload';

  let main = await startMain(home);
  await submit(main.server, slow, slowClip, jobBody(slowClip.length, SLOW, 4));
  assert.equal((await call(main.server, 'PUT', `/jobs/${upload}`, { body: jobBody(clip.length) })).status, 201);
  assert.equal((await patch(main.server, upload, 0, clip.subarray(0, 700))).status, 204);
  const seen = await readEvents(main.server, slow, { stopAfter: (e) => e.job.progress.stage === 'run' });
  await runningFrames(main.server, slow);
  await kill9(main);
  assert.equal((await readJournal(jobsDir, slow)).state, 'running', 'the journal says it was running when the server died');

  // Restart 1: the job is queued again and runs; the upload resumes; a client with its Last-Event-ID hears of it.
  main = await startMain(home);
  const afterKill = await readEvents(main.server, slow, { lastEventId: seen.events.at(-1)!.id, stopAfter: (e) => e.job.progress.stage === 'run' });
  assert.ok(afterKill.events[0].id > seen.events.at(-1)!.id, 'event ids go on past the ones sent before the kill');
  assert.equal(afterKill.events[0].job.state, 'queued');
  assert.match((afterKill.events[0].job.progress as { message?: string }).message ?? '', /restarted while the job ran: it is queued again/);
  const head = await call(main.server, 'HEAD', `/jobs/${upload}/upload`);
  assert.equal(head.headers.get('upload-offset'), '700');
  await runningFrames(main.server, slow);
  await kill9(main);

  // Restart 2: cut short twice, the job is failed with the reason; the upload completes and its job runs.
  main = await startMain(home);
  try {
    const end = (await readEvents(main.server, slow, { lastEventId: afterKill.events.at(-1)!.id })).events.at(-1)!.job;
    assert.equal(end.state, 'failed');
    assert.match(end.error ?? '', /^The server restarted twice while this job ran/);
    assert.equal((await call(main.server, 'HEAD', `/jobs/${upload}/upload`)).headers.get('upload-offset'), '700');
    assert.equal((await patch(main.server, upload, 700, clip.subarray(700))).status, 204);
    const done = (await poll(main.server, upload, undefined, 60_000)).at(-1)!;
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual([done.result?.width, done.result?.frames], [64, 8]);
    assert.deepEqual((await filesUnder(jobsDir)).filter((f) => f.startsWith(`${slow}/`)), [`${slow}/job.json`], 'a failed job keeps only its journal');
  } finally {
    await kill9(main);
  }
  assert.deepEqual(await processesNaming(jobsDir), [], 'no ffmpeg or other process of the killed servers is left');
});

test('Ctrl-C to the process group stops the server cleanly, again and again: exit 0, jobs journalled to resume, nothing else left', { timeout: 110_000 }, async () => {
  const home = await mkdtemp(join(work, 'home-'));
  const jobsDir = join(home, 'jobs');
  const slow = 'interrupted-by-ctrl-c';
  const upload = 'uploading-at-ctrl-c';
  for (let round = 1; round <= 3; round++) {
    const main = await startMain(home, true);
    const pgid = main.child.pid!;
    try {
      if (round === 1) {
        await submit(main.server, slow, slowClip, jobBody(slowClip.length, SLOW, 4));
        assert.equal((await call(main.server, 'PUT', `/jobs/${upload}`, { body: jobBody(clip.length) })).status, 201);
      } else {
        assert.equal((await call(main.server, 'GET', `/jobs/${slow}`)).status, 200, `round ${round}: the job is back`);
      }
      await runningFrames(main.server, slow);
      // A chunk still streaming when Ctrl-C comes: what arrived counts, and the upload resumes after the restart.
      const streaming = await streamChunk(main.server, upload, clip, 300);
      await poll(main.server, upload, (j) => j.upload.offset >= 300 * round, 20_000);
      process.kill(-pgid, 'SIGINT');
      assert.equal(await main.exit, 0, main.output());
      streaming.destroy();
    } finally {
      main.child.kill('SIGKILL');
    }
    await waitFor(() => !groupAlive(pgid), 'every process of the group to end');
    const files = (await filesUnder(jobsDir)).sort();
    assert.deepEqual(files, [slow, `${slow}/input`, `${slow}/job.json`, upload, `${upload}/input`, `${upload}/job.json`], `round ${round}: no lock, partial result or temporary file`);
    const record = await readJournal(jobsDir, slow);
    assert.deepEqual([record.state, record.interrupted], ['queued', 0], 'a clean stop queues the job again without counting it as cut short');
    const uploaded = await readJournal(jobsDir, upload);
    assert.equal(uploaded.state, 'uploading');
    assert.equal(uploaded.uploadOffset, (await stat(join(jobsDir, upload, 'input'))).size, 'the journal counts every byte on disk');
    assert.deepEqual(await processesNaming(jobsDir), [], 'no ffmpeg left');
  }
  // A last start: both jobs are there to go on. A second server on the same folder meanwhile is refused.
  const main = await startMain(home);
  try {
    const second = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'server', 'main.ts'), '--port', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FRONTIER_HOME: home } });
    let said = '';
    second.stdout!.on('data', (d) => (said += d));
    second.stderr!.on('data', (d) => (said += d));
    const [code] = await once(second, 'exit');
    assert.equal(code, 1, said);
    assert.match(said, new RegExp(`Another Frontier server \\(process ${main.child.pid}\\) is using the jobs folder .*: stop it first, or give this server a folder of its own`));
    assert.ok(['queued', 'running'].includes((await call(main.server, 'GET', `/jobs/${slow}`)).json?.state ?? ''), 'the job goes on');
    const offset = Number((await call(main.server, 'HEAD', `/jobs/${upload}/upload`)).headers.get('upload-offset'));
    assert.ok(offset >= 900, `the upload resumes from ${offset}`);
    assert.equal((await patch(main.server, upload, offset, clip.subarray(offset))).status, 204);
    assert.equal((await call(main.server, 'DELETE', `/jobs/${slow}`)).status, 204);
    const done = (await poll(main.server, upload, undefined, 60_000)).at(-1)!;
    assert.equal(done.state, 'succeeded', done.error);
  } finally {
    main.child.kill('SIGTERM'); // a service manager's stop, to the server alone
    assert.equal(await main.exit, 0, main.output());
  }
  assert.ok(!(await filesUnder(jobsDir)).includes('server.lock'), 'SIGTERM gives the folder up too');
});

/**
 * A PATCH that sends `bytes` bytes of `data` from the job's current offset and then stalls with its body unfinished
 * (a client whose network went quiet). Returns the request, for the caller to destroy.
 */
async function streamChunk(server: Main['server'], id: string, data: Uint8Array, bytes: number): Promise<ClientRequest> {
  const offset = Number((await call(server, 'HEAD', `/jobs/${id}/upload`)).headers.get('upload-offset'));
  const url = new URL(server.url);
  const chunk = request({
    host: url.hostname,
    port: url.port,
    path: `/jobs/${id}/upload`,
    method: 'PATCH',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), 'Content-Length': String(data.length - offset) },
  });
  chunk.on('error', () => {}); // the server goes away under it
  chunk.write(data.subarray(offset, offset + bytes));
  return chunk;
}
