// Installing an official model by download through the server (server/install/, the contract in
// server/routes/install.ts), against a fake checkpoint host on 127.0.0.1 that serves a StyleSwin FFHQ_256.pt in the
// official layout at full size (random weights, written by torch.save once for this file) with Range support, and
// can hold or cut a connection mid-file. Real HTTP servers, real files, real conversion in a child process; every wait
// is on a state (job progress, host connections, processes), never on a moment.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeFakeCheckpoint, requireTorch } from '../export/export-util.ts';
import { tempRoot } from './helpers.ts';
import { catalogueEntry, ENTRY, ended, putInstall, startFakeHost, startInstallServer, testCatalogue, type FakeHost, type InstallJob } from './install-util.ts';
import { call, readEvents, waitFor } from './jobs-util.ts';

let work: string;
let checkpoint: string;
let size: number;
let sha256: string;
let host: FakeHost;

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'install-download-'));
  checkpoint = join(work, 'FFHQ_256.pt');
  await makeFakeCheckpoint('styleswin', ENTRY, checkpoint);
  size = statSync(checkpoint).size;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(checkpoint)) hash.update(chunk as Buffer);
  sha256 = hash.digest('hex');
  host = await startFakeHost();
  host.serve('/FFHQ_256.pt', checkpoint);
});
after(async () => {
  await host?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const CUT = 8_000_000;
const job = (state: string) => (j: { state: string }) => j.state === state;

async function snapshot(server: { url: string; token: string }, id: string): Promise<InstallJob> {
  const res = await call(server, 'GET', `/jobs/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.json as unknown as InstallJob;
}

/** Waits until the job has reported `bytes` downloaded. */
function downloadedAtLeast(server: { url: string; token: string }, id: string, bytes: number): Promise<InstallJob> {
  return waitFor(async () => {
    const j = await snapshot(server, id);
    if (j.state !== 'running') throw new Error(`job ${id} is ${j.state}: ${j.error ?? ''}`);
    return j.progress.stage === 'download' && j.progress.done >= bytes ? j : null;
  }, `${bytes} bytes downloaded`);
}

const filesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

test('one click: states not-installed → installing → installed, a cut connection resumes with Range from the cut, the published sha256 verified, registry.json lists the full model; uninstall removes it', async () => {
  const server = await startInstallServer({
    catalogue: testCatalogue((e) => {
      e.files[0].url = `${host.url}/redirect/FFHQ_256.pt`; // Azure and GitHub links redirect too
      e.files[0].bytes = size;
      e.files[0].sha256 = sha256;
      e.files[0].sha256Source = 'test';
    }),
  });
  try {
    const before = await catalogueEntry(server);
    assert.equal(before.state, 'not-installed');
    assert.equal(before.install, 'download');
    assert.deepEqual(before.download, { url: `${host.url}/redirect/FFHQ_256.pt`, directDownload: true, bytes: size, sha256Published: true });
    assert.equal(before.installed, undefined);

    const first = host.requests.length;
    host.holdAt(CUT);
    await putInstall(server, 'install-cut-0001');
    const held = await downloadedAtLeast(server, 'install-cut-0001', CUT);
    assert.equal(held.progress.done, CUT);
    assert.equal(held.progress.total, size);
    assert.match(held.progress.message ?? '', /^Downloading FFHQ_256\.pt from 127\.0\.0\.1:\d+/);
    const installing = await catalogueEntry(server);
    assert.equal(installing.state, 'installing');
    assert.deepEqual(installing.installing, { job: 'install-cut-0001' });

    host.holdAt(null); // cuts the held connection: the download resumes where it stopped
    const done = await ended(server, 'install-cut-0001');
    assert.equal(done.state, 'succeeded', done.error);
    const requests = host.requests.slice(first).filter((r) => r.path === '/FFHQ_256.pt');
    assert.equal(requests[0].range, undefined);
    assert.equal(requests[1].range, `bytes=${CUT}-`, 'the second request resumes from the cut offset');
    assert.ok(requests[1].ifRange, 'If-Range guards the resume against a changed file');
    assert.equal(requests.length, 2);

    assert.deepEqual(done.result?.cards, [ENTRY]);
    assert.equal(done.result?.installed.verified, true);
    assert.equal(done.result?.installed.sha256, sha256);
    const after = await catalogueEntry(server);
    assert.equal(after.state, 'installed');
    assert.equal(after.installed?.verified, true);
    assert.equal(after.installed?.bytes, size);
    assert.equal(after.installed?.sha256, sha256);
    assert.ok(Number.isFinite(Date.parse(after.installed?.at ?? '')));

    // Progress, as the events replay it: download bytes (never backwards across the cut), then the conversion.
    const events = await readEvents(server, 'install-cut-0001', { lastEventId: 0 });
    const progress = events.events.map((e) => (e.job as unknown as InstallJob).progress);
    const stages = [...new Set(progress.map((p) => p.stage))];
    assert.deepEqual(stages, ['queued', 'download', 'convert', 'done']);
    const downloads = progress.filter((p) => p.stage === 'download').map((p) => p.done);
    assert.deepEqual(downloads, [...downloads].sort((a, b) => a - b));
    assert.ok(progress.some((p) => p.stage === 'convert' && /checkpoint|style|Writing/i.test(p.message ?? '')), 'the converter says what it does');

    const registry = await call(server.url, 'GET', '/models/registry.json');
    const card = (registry.json as unknown as { models: { id: string; variant: string; task: string; files: { name: string }[] }[] }).models.find((m) => m.id === ENTRY);
    assert.equal(card?.variant, 'full');
    assert.equal(card?.task, 'generate');
    assert.deepEqual(filesIn(server.filesDir), card!.files.map((f) => f.name));
    const model = await call(server, 'HEAD', `/models/files/${card!.files[0].name}`); // served: size and sha256 as its card says
    assert.equal(model.status, 200);
    const records = JSON.parse(readFileSync(join(server.filesDir, '..', 'installed.json'), 'utf8'));
    assert.equal(records.installed[ENTRY].sha256, sha256);
    assert.equal(records.installed[ENTRY].source, 'download');

    const removed = await call(server, 'DELETE', `/models/installed/${ENTRY}`);
    assert.equal(removed.status, 204, removed.text);
    assert.deepEqual(filesIn(server.filesDir), []);
    const gone = await call(server.url, 'GET', '/models/registry.json');
    assert.ok(!(gone.json as unknown as { models: { id: string }[] }).models.some((m) => m.id === ENTRY));
    assert.equal((await catalogueEntry(server)).state, 'not-installed');
    assert.equal((await call(server, 'DELETE', `/models/installed/${ENTRY}`)).status, 404);
  } finally {
    host.holdAt(null);
    await server.stop();
  }
});

test('a split file and a second file: parts joined in order, all files downloaded; a server restarted mid-part resumes that part (Range) from the job folder, and both files verify', async () => {
  // As VQ-Diffusion's ithq_learnable.pth (GitHub release parts) and GRAM's generator.pth + ema.pth: the converter gets
  // the entry's first file, joined from its parts.
  const third = Math.floor(size / 3);
  host.serve('/parts/FFHQ_256.pt.0', checkpoint, { start: 0, end: third });
  host.serve('/parts/FFHQ_256.pt.1', checkpoint, { start: third, end: 2 * third });
  host.serve('/parts/FFHQ_256.pt.2', checkpoint, { start: 2 * third, end: size });
  const extra = join(work, 'ema.pth');
  writeFileSync(extra, randomBytes(300_000));
  host.serve('/ema.pth', extra);
  const root = await tempRoot({ 'models/registry.json': JSON.stringify({ version: 1, models: [] }) });
  const jobsDir = join(work, 'jobs-restart');
  const catalogue = testCatalogue((e) => {
    e.files = [
      { ...e.files[0], url: null, parts: [0, 1, 2].map((i) => `${host.url}/parts/FFHQ_256.pt.${i}`), sha256, sha256Source: 'test' },
      { ...e.files[0], name: 'ema.pth', url: `${host.url}/ema.pth`, sha256: createHash('sha256').update(readFileSync(extra)).digest('hex'), sha256Source: 'test' },
    ];
  });
  const first = await startInstallServer({ catalogue }, { jobsDir, root });
  let second;
  try {
    const before = host.requests.length;
    host.holdAt(CUT, '/parts/FFHQ_256.pt.1');
    await putInstall(first, 'install-restart-01');
    const held = await downloadedAtLeast(first, 'install-restart-01', third + CUT);
    assert.match(held.progress.message ?? '', /^Downloading FFHQ_256\.pt \(part 2 of 3\) from 127\.0\.0\.1/);
    await first.close(); // a clean stop: the job goes back to the queue, its download stays
    host.holdAt(null);
    const journal = JSON.parse(readFileSync(join(jobsDir, 'install-restart-01', 'job.json'), 'utf8'));
    assert.equal(journal.state, 'queued');
    assert.equal(statSync(join(jobsDir, 'install-restart-01', 'download', 'FFHQ_256.pt')).size, third + CUT);

    const restarted = host.requests.length;
    second = await startInstallServer({ catalogue }, { jobsDir, root });
    const done = await ended(second, 'install-restart-01');
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual(host.requests.slice(before, restarted).map((r) => `${r.path} ${r.range ?? ''}`), ['/parts/FFHQ_256.pt.0 ', '/parts/FFHQ_256.pt.1 ']);
    assert.deepEqual(host.requests.slice(restarted).map((r) => `${r.path} ${r.range ?? ''}`), [`/parts/FFHQ_256.pt.1 bytes=${CUT}-`, '/parts/FFHQ_256.pt.2 ', '/ema.pth ']);
    assert.ok(host.requests[restarted].ifRange, 'the resume after the restart still asks for the same file (If-Range)');
    assert.equal(done.result?.installed.verified, true, 'the joined file hashes to the published sha256, and so does the second file');
    assert.equal(done.result?.installed.sha256, sha256);
    assert.equal(done.result?.installed.bytes, size + 300_000);
    // The job's files go once it has ended (the state comes first): wait for that, then nothing but these is left.
    await waitFor(() => readdirSync(join(jobsDir, 'install-restart-01')).sort().join() === 'job.json,result.json', 'the download to be deleted');
  } finally {
    host.holdAt(null);
    await second?.close();
    await root.remove();
  }
});

test('cancel mid-download: the job is cancelled, the connection closed, the partial download deleted', async () => {
  const jobsDir = join(work, 'jobs-cancel');
  const server = await startInstallServer({ catalogue: testCatalogue((e) => void (e.files[0].url = `${host.url}/FFHQ_256.pt`)) }, { jobsDir });
  try {
    const closedBefore = host.closedByClient();
    host.holdAt(CUT);
    await putInstall(server, 'install-cancel-1');
    await downloadedAtLeast(server, 'install-cancel-1', CUT);
    assert.equal(statSync(join(jobsDir, 'install-cancel-1', 'download', 'FFHQ_256.pt')).size, CUT);
    const res = await call(server, 'POST', '/jobs/install-cancel-1/cancel');
    assert.equal(res.status, 200);
    assert.equal((res.json as unknown as InstallJob).state, 'cancelled');
    await waitFor(() => host.closedByClient() > closedBefore, 'the download connection to close');
    assert.deepEqual(readdirSync(join(jobsDir, 'install-cancel-1')), ['job.json']);
    assert.deepEqual(filesIn(server.filesDir), []);
    assert.equal((await catalogueEntry(server)).state, 'not-installed');
  } finally {
    host.holdAt(null);
    await server.stop();
  }
});

/** Conversion processes of this test process (Linux /proc). */
function conversionProcesses(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('convert-process.mjs');
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('cancel mid-conversion: the conversion process is ended, nothing is installed, nothing is left', async () => {
  const jobsDir = join(work, 'jobs-cancel-convert');
  const server = await startInstallServer({ catalogue: testCatalogue((e) => void (e.files[0].url = `${host.url}/FFHQ_256.pt`)) }, { jobsDir });
  let frozen: number | undefined;
  try {
    await putInstall(server, 'install-cancel-2');
    // Freeze the conversion where it is (a stuck conversion): the cancel must end it all the same.
    [frozen] = await waitFor(() => {
      const pids = conversionProcesses();
      return pids.length ? pids : null;
    }, 'the conversion process to start');
    process.kill(frozen, 'SIGSTOP');
    const running = await snapshot(server, 'install-cancel-2');
    assert.equal(running.state, 'running');
    assert.equal(running.progress.stage, 'convert');
    const res = await call(server, 'POST', '/jobs/install-cancel-2/cancel');
    assert.equal((res.json as unknown as InstallJob).state, 'cancelled');
    await waitFor(() => conversionProcesses().length === 0, 'the conversion process to end');
    assert.deepEqual(readdirSync(join(jobsDir, 'install-cancel-2')), ['job.json']);
    assert.deepEqual(filesIn(server.filesDir), []);
    assert.ok(!existsSync(server.registryPath) || !readFileSync(server.registryPath, 'utf8').includes(ENTRY));
  } finally {
    if (frozen && conversionProcesses().includes(frozen)) process.kill(frozen, 'SIGKILL');
    await server.stop();
  }
});

/** Installs with a catalogue whose entry `edit` changes; returns the ended job and the server's files folder. */
async function failing(id: string, edit: Parameters<typeof testCatalogue>[0], options: { freeBytes?: (dir: string) => Promise<number | null> } = {}) {
  const jobsDir = join(work, `jobs-${id}`);
  const server = await startInstallServer({ catalogue: testCatalogue(edit), ...options }, { jobsDir });
  try {
    await putInstall(server, id);
    const done = await ended(server, id);
    assert.equal(done.state, 'failed');
    // Nothing installed, nothing left but the job's journal (the files go right after the state changes).
    assert.deepEqual(filesIn(server.filesDir), []);
    await waitFor(() => readdirSync(join(jobsDir, id)).join() === 'job.json', 'the partial download to be deleted');
    assert.equal((await catalogueEntry(server)).state, 'not-installed');
    return done;
  } finally {
    await server.stop();
  }
}

test('404: the job fails saying the file is not there', async () => {
  const done = await failing('install-404-0001', (e) => void (e.files[0].url = `${host.url}/gone/FFHQ_256.pt`));
  assert.match(done.error ?? '', /127\.0\.0\.1:\d+ says FFHQ_256\.pt is not there \(HTTP 404\).*install it from the file/);
});

test('a web page instead of the checkpoint (as text/html, or labelled as a file) is refused as a web page', async () => {
  const page = '<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>Sign in</body></html>';
  host.answer('/page/FFHQ_256.pt', 200, page);
  const html = await failing('install-html-001', (e) => void (e.files[0].url = `${host.url}/page/FFHQ_256.pt`));
  assert.match(html.error ?? '', /sent a web page \("Sign in to your account"\) instead of FFHQ_256\.pt, so this is not the checkpoint/);
  host.answer('/page2/FFHQ_256.pt', 200, page, 'application/octet-stream');
  const labelled = await failing('install-html-002', (e) => void (e.files[0].url = `${host.url}/page2/FFHQ_256.pt`));
  assert.match(labelled.error ?? '', /sent a web page \("Sign in to your account"\)/);
});

test('a file that does not hash to the published sha256 is deleted and nothing is installed', async () => {
  // The hash is checked before anything reads the file, so any bytes do.
  const other = randomBytes(3_000_000);
  writeFileSync(join(work, 'other.pt'), other);
  host.serve('/other/FFHQ_256.pt', join(work, 'other.pt'));
  const done = await failing('install-hash-001', (e) => {
    e.files[0].url = `${host.url}/other/FFHQ_256.pt`;
    e.files[0].sha256 = sha256;
    e.files[0].sha256Source = 'test';
  });
  const actual = createHash('sha256').update(other).digest('hex');
  assert.equal(done.error, `FFHQ_256.pt does not match the sha256 its authors published (the download has ${actual.slice(0, 16)}…, the authors published ${sha256.slice(0, 16)}…): it is damaged or not the official file, so it was deleted and nothing was installed. Install again; if it happens again, the file on the server has changed.`);
});

test('a size other than the catalogue\'s is refused before the download', async () => {
  const before = host.requests.length;
  const done = await failing('install-size-001', (e) => {
    e.files[0].url = `${host.url}/FFHQ_256.pt`;
    e.files[0].bytes = size + 1;
  });
  assert.match(done.error ?? '', new RegExp(`sends FFHQ_256\\.pt with ${size} bytes, but the official file has ${size + 1}`));
  assert.equal(host.requests.length, before + 1);
});

test('not enough disk space: the job fails before writing, saying how much is needed and how much is free', async () => {
  const free = 100 * 2 ** 20;
  const done = await failing('install-disk-001', (e) => void (e.files[0].url = `${host.url}/FFHQ_256.pt`), { freeBytes: async () => free });
  const mb = (n: number) => `${Math.round((n / 2 ** 20) * 10) / 10} MB`;
  assert.equal(done.error, `Not enough disk space to install StyleSwin Faces (FFHQ, 256 px): it needs about ${mb(2 * size)} free (${mb(size)} for the download and about ${mb(size)} for the converted model), and the disk has ${mb(free)} free. Free some space, then install again.`);
  assert.equal(done.progress.done, 0, 'not a byte written');
});

test('a host that cannot be reached: "can\'t reach <host>: check the internet connection"', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const done = await failing('install-offline-1', (e) => void (e.files[0].url = `http://127.0.0.1:${port}/FFHQ_256.pt`));
  assert.match(done.error ?? '', new RegExp(`^can't reach 127\\.0\\.0\\.1:${port}: check the internet connection \\(ECONNREFUSED\\)`));
});

test('plain http to a host on the network is never used, even when loopback http is allowed', async () => {
  const done = await failing('install-http-001', (e) => void (e.files[0].url = 'http://checkpoints.example.com/FFHQ_256.pt'));
  assert.match(done.error ?? '', /Refused to download from http:\/\/checkpoints\.example\.com: official checkpoints are downloaded over https only/);
});

test('routes need the token; a second install of the same model while one runs is 409, and so is uninstalling it', async () => {
  const server = await startInstallServer({ catalogue: testCatalogue((e) => void (e.files[0].url = `${host.url}/FFHQ_256.pt`)) });
  try {
    for (const [method, path] of [['GET', '/models/catalogue'], ['DELETE', `/models/installed/${ENTRY}`], ['PUT', '/jobs/install-anon-01']]) {
      assert.equal((await call(server.url, method, path, method === 'PUT' ? { body: JSON.stringify({ task: 'install-model', model: ENTRY }) } : {})).status, 401, `${method} ${path}`);
    }
    host.holdAt(CUT);
    await putInstall(server, 'install-busy-001');
    await downloadedAtLeast(server, 'install-busy-001', 1);
    const again = await call(server, 'PUT', '/jobs/install-busy-002', { body: JSON.stringify({ task: 'install-model', model: ENTRY }) });
    assert.equal(again.status, 409);
    assert.match(again.json?.error ?? '', /being installed already, by job install-busy-001/);
    const same = await call(server, 'PUT', '/jobs/install-busy-001', { body: JSON.stringify({ task: 'install-model', model: ENTRY }) });
    assert.equal(same.status, 200, 'the same PUT again is the same job');
    const remove = await call(server, 'DELETE', `/models/installed/${ENTRY}`);
    assert.equal(remove.status, 409);
    assert.match(remove.json?.error ?? '', /is being installed \(job install-busy-001\): cancel it first/);
    assert.equal((await call(server, 'POST', '/jobs/install-busy-001/cancel')).status, 200);
    await waitFor(async () => job('cancelled')(await snapshot(server, 'install-busy-001')), 'the cancel');
  } finally {
    host.holdAt(null);
    await server.stop();
  }
});
