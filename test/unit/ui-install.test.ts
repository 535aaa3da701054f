// "Official models" logic against a fake of the install contract over real HTTP: the client (catalogue, install by
// download and from a file with chunked upload, events or polling, failure, cancel, remove, connection problems), the
// store the UI renders (progress, Retry with the same file, licence acceptance, resuming an install after a reload,
// the registry reloaded before an entry shows Installed) and the words it shows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createInstallClient, InstallError, newJobId, type CatalogueEntryView, type InstallProgress } from '../../worker/runtime/install-client.ts';
import { OfficialModelsStore, type OfficialState } from '../../ui/official-models.ts';
import {
  entryForTestModel, formatSize, licenceBadge, progressText, stateText, testModelInUse, whatItMakes, whereItRuns, whyNotInstallable, convertCommand,
} from '../../ui/install-format.ts';
import type { ModelStatus } from '../../worker/engine-api.ts';
import { entry, startFakeInstallServer, TOKEN, type FakeInstallServer } from './ui-install-fake.ts';

const GRAM = () => entry('gram-ffhq-256', {
  family: 'gram', familyLabel: 'GRAM', task: 'rotate-view',
  license: { summary: 'Non-commercial research use only.', commercialUse: 'no', redistribution: false, acceptBeforeDownload: true, url: 'https://example.com/gram' },
});

function catalogue(): CatalogueEntryView[] {
  return [
    entry('styleswin-ffhq-256'),
    entry('styleswin-church-256', { install: 'file', download: { url: 'https://drive.example.com/page', directDownload: false, bytes: null, sha256Published: false } }),
    GRAM(),
    entry('vqdiffusion-ithq', { task: 'text-to-image', install: 'python', cards: ['vqdiffusion-ithq-text', 'vqdiffusion-ithq-transformer', 'vqdiffusion-ithq-decoder'] }),
    entry('ttvsr-reds', { task: 'upscale-video', status: 'planned', install: 'no', cards: [] }),
  ];
}

/** Resolves once the store's state satisfies `check`. */
function until<T>(store: OfficialModelsStore, check: (s: OfficialState) => T | undefined | false, ms = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const first = check(store.state);
    if (first) return resolve(first);
    const timer = setTimeout(() => {
      off();
      reject(new Error(`state never matched: ${JSON.stringify({ ...store.state, entries: store.state.entries.map((e) => [e.id, e.state]) })}`));
    }, ms);
    const off = store.subscribe((s) => {
      const v = check(s);
      if (v) {
        clearTimeout(timer);
        off();
        resolve(v);
      }
    });
  });
}

describe('install client against the contract', () => {
  let fake: FakeInstallServer;
  before(async () => {
    fake = await startFakeInstallServer(catalogue());
  });
  after(() => fake.close());
  const client = (over: { token?: string; pollMs?: number; chunkBytes?: number } = {}) =>
    createInstallClient({ baseUrl: fake.url, token: over.token ?? TOKEN, pollMs: over.pollMs ?? 20, chunkBytes: over.chunkBytes, retries: 0 });

  test('the catalogue lists every entry the server gives', async () => {
    const entries = await client().catalogue();
    assert.deepEqual(entries.map((e) => e.id), catalogue().map((e) => e.id));
  });

  test('connection problems have kinds the UI words: unpaired, unsupported, offline', async () => {
    await assert.rejects(client({ token: 'wrong' }).catalogue(), (e: InstallError) => e.kind === 'unpaired');
    fake.forceStatus = 404;
    await assert.rejects(client().catalogue(), (e: InstallError) => e.kind === 'unsupported' && /cannot install models/.test(e.message));
    fake.forceStatus = null;
    const dead = createInstallClient({ baseUrl: 'http://127.0.0.1:9', token: TOKEN, retries: 0 });
    await assert.rejects(dead.catalogue(), (e: InstallError) => e.kind === 'offline');
  });

  test('download install: progress from server-sent events, then the cards', async () => {
    const seen: InstallProgress[] = [];
    const id = newJobId();
    const done = client().install({ id, model: 'styleswin-ffhq-256', acceptLicense: false, signal: new AbortController().signal, progress: (p) => seen.push(p) });
    await fake.waitFor(() => fake.requests.includes(`GET /jobs/${id}/events`));
    fake.step(id, { stage: 'download', done: 50_000_000, total: 200_000_000 });
    fake.step(id, { stage: 'convert', done: 1, total: 3, message: 'Reading the model file' });
    fake.finish(id, { cards: ['styleswin-ffhq-256'] });
    assert.deepEqual(await done, { cards: ['styleswin-ffhq-256'] });
    assert.deepEqual(fake.jobs.get(id)!.body, { task: 'install-model', model: 'styleswin-ffhq-256' });
    assert.ok(seen.some((p) => p.stage === 'download' && p.done === 50_000_000), JSON.stringify(seen));
    assert.ok(seen.some((p) => p.stage === 'convert' && p.message === 'Reading the model file'));
    assert.equal(seen.at(-1)?.stage, 'done');
  });

  test('install from a file: the job describes the file, its bytes go up in resumable chunks with progress; polling without events', async () => {
    fake.sse = false;
    try {
      const bytes = new Uint8Array(10_000).map((_, i) => i % 251);
      const file = new File([bytes], 'FFHQ_256.pt');
      const seen: InstallProgress[] = [];
      const id = newJobId();
      const done = client({ chunkBytes: 4096 }).install({ id, model: 'styleswin-church-256', acceptLicense: false, file, signal: new AbortController().signal, progress: (p) => seen.push(p) });
      await fake.waitFor(() => fake.jobs.get(id)?.snapshot.state === 'queued' && fake.requests.filter((r) => r === `GET /jobs/${id}`).length >= 2);
      fake.step(id, { stage: 'convert', done: 2, total: 3, message: 'Computing the average face' });
      await fake.waitFor(() => seen.some((p) => p.stage === 'convert'));
      fake.finish(id, { cards: ['styleswin-church-256'] });
      await done;
      const job = fake.jobs.get(id)!;
      assert.deepEqual(job.body.upload, { bytes: 10_000, mime: 'application/octet-stream', name: 'FFHQ_256.pt' });
      assert.equal(job.patches, 3);
      assert.deepEqual(Buffer.concat(job.received), Buffer.from(bytes));
      const uploads = seen.filter((p) => p.stage === 'upload').map((p) => p.done);
      assert.deepEqual([...new Set(uploads)], [0, 4096, 8192, 10_000]);
    } finally {
      fake.sse = true;
    }
  });

  test('a failed install carries the server\'s own words', async () => {
    const id = newJobId();
    const done = client().install({ id, model: 'styleswin-ffhq-256', acceptLicense: false, signal: new AbortController().signal, progress: () => {} });
    await fake.waitFor(() => fake.jobs.has(id));
    fake.finish(id, { error: 'This file is a web page, not a model file: download it again from the link.' });
    await assert.rejects(done, (e: InstallError) => e.kind === 'failed' && e.message === 'This file is a web page, not a model file: download it again from the link.');
  });

  test('a licence that must be accepted: the server refuses without acceptLicense, in its words', async () => {
    await assert.rejects(
      client().install({ id: newJobId(), model: 'gram-ffhq-256', acceptLicense: false, signal: new AbortController().signal, progress: () => {} }),
      (e: InstallError) => e.kind === 'refused' && /Accept the licence first: Non-commercial/.test(e.message),
    );
  });

  test('cancel: aborting stops the server job', async () => {
    const id = newJobId();
    const controller = new AbortController();
    const done = client().install({ id, model: 'styleswin-ffhq-256', acceptLicense: false, signal: controller.signal, progress: () => {} });
    await fake.waitFor(() => fake.requests.includes(`GET /jobs/${id}/events`));
    controller.abort();
    await assert.rejects(done, (e: InstallError) => e.kind === 'cancelled');
    assert.equal(fake.jobs.get(id)!.snapshot.state, 'cancelled');
  });

  test('remove: 204 is done; 409 and 404 say why', async () => {
    fake.entries[0].state = 'installed';
    await client().remove('styleswin-ffhq-256');
    assert.equal(fake.entries[0].state, 'not-installed');
    await assert.rejects(client().remove('styleswin-ffhq-256'), (e: InstallError) => e.kind === 'refused' && /not installed/.test(e.message));
    fake.removeAnswer.set('gram-ffhq-256', { status: 409, error: 'It is being installed right now: cancel that first.' });
    await assert.rejects(client().remove('gram-ffhq-256'), (e: InstallError) => /being installed/.test(e.message));
    fake.removeAnswer.clear();
  });
});

describe('the official-models store', () => {
  let fake: FakeInstallServer;
  before(async () => {
    fake = await startFakeInstallServer(catalogue());
  });
  after(() => fake.close());
  const store = (changes: unknown[] = [], token = TOKEN) =>
    new OfficialModelsStore(createInstallClient({ baseUrl: fake.url, token, pollMs: 20, chunkBytes: 4096, retries: 0 }), {
      onRegistryChanged: async (change) => {
        changes.push(change);
      },
    });

  test('load: ready with the entries; a wrong pairing code and a dead server are connection states', async () => {
    const s = store();
    await s.load();
    assert.equal(s.state.connection.state, 'ready');
    assert.equal(s.state.entries.length, 5);
    const unpaired = store([], 'nope');
    await unpaired.load();
    assert.equal(unpaired.state.connection.state, 'unpaired');
    const dead = new OfficialModelsStore(createInstallClient({ baseUrl: 'http://127.0.0.1:9', retries: 0 }), { onRegistryChanged: () => {} });
    await dead.load();
    assert.equal(dead.state.connection.state, 'offline');
  });

  test('install: progress in the state, the registry reloaded before the entry shows Installed', async () => {
    const changes: unknown[] = [];
    const s = store(changes);
    await s.load();
    s.install('styleswin-ffhq-256');
    const job = await until(s, (st) => st.runs['styleswin-ffhq-256']?.job);
    await fake.waitFor(() => fake.jobs.has(job));
    fake.step(job, { stage: 'download', done: 20_000_000, total: 200_000_000 });
    const run = await until(s, (st) => st.runs['styleswin-ffhq-256']?.progress.stage === 'download' && st.runs['styleswin-ffhq-256']);
    assert.deepEqual(progressText(run), { text: 'Downloading 20 / 200 MB', fraction: 0.1 });
    fake.finish(job, { cards: ['styleswin-ffhq-256'], bytes: 312_000_000 });
    await until(s, (st) => !st.runs['styleswin-ffhq-256'] && st.entries.find((e) => e.id === 'styleswin-ffhq-256')?.state === 'installed');
    assert.deepEqual(changes, [{ installed: ['styleswin-ffhq-256'] }]);
    assert.equal(s.state.installedNow['styleswin-ffhq-256'], true);
    const e = s.state.entries.find((x) => x.id === 'styleswin-ffhq-256')!;
    assert.equal(stateText(e, undefined), 'Installed · 312 MB');
  });

  test('a failure shows the server\'s words; Retry sends the same file again', async () => {
    const s = store();
    await s.load();
    const file = new File([new Uint8Array(5000)], 'church.pt');
    s.install('styleswin-church-256', file);
    const first = await until(s, (st) => st.runs['styleswin-church-256']?.job);
    await fake.waitFor(() => fake.jobs.get(first)?.snapshot.state === 'queued');
    fake.finish(first, { error: 'Not enough disk space: needs 1.2 GB, 300 MB free.' });
    await until(s, (st) => st.failures['styleswin-church-256'] === 'Not enough disk space: needs 1.2 GB, 300 MB free.' && !st.runs['styleswin-church-256']);
    s.retry('styleswin-church-256');
    const second = await until(s, (st) => st.runs['styleswin-church-256']?.job);
    assert.notEqual(second, first, 'a fresh job');
    assert.equal(s.state.failures['styleswin-church-256'], undefined, 'the old failure is gone while it retries');
    await fake.waitFor(() => fake.jobs.get(second)?.snapshot.state === 'queued');
    assert.equal(fake.jobs.get(second)!.body.upload?.name, 'church.pt');
    assert.equal(Buffer.concat(fake.jobs.get(second)!.received).length, 5000);
    fake.finish(second, { cards: ['styleswin-church-256'] });
    await until(s, (st) => st.entries.find((e) => e.id === 'styleswin-church-256')?.state === 'installed');
  });

  test('a licence to accept: Install waits for "I accept", then says so to the server', async () => {
    const s = store();
    await s.load();
    s.install('gram-ffhq-256');
    assert.match(s.state.failures['gram-ffhq-256'], /Accept the licence first/);
    assert.equal('gram-ffhq-256' in s.state.runs, false, 'nothing started');
    s.accept('gram-ffhq-256', true);
    s.install('gram-ffhq-256');
    const job = await until(s, (st) => st.runs['gram-ffhq-256']?.job);
    await fake.waitFor(() => fake.jobs.has(job));
    assert.equal(fake.jobs.get(job)!.body.acceptLicense, true);
    s.cancel('gram-ffhq-256');
    assert.equal(s.state.runs['gram-ffhq-256']?.cancelling, true);
    await until(s, (st) => !st.runs['gram-ffhq-256']);
    assert.equal(fake.jobs.get(job)!.snapshot.state, 'cancelled');
    assert.equal(s.state.failures['gram-ffhq-256'], undefined, 'a cancel is no failure');
  });

  test('an install running on the server when the list loads is followed; closing the window does not cancel it', async () => {
    const starter = store();
    await starter.load();
    starter.install('styleswin-ffhq-256');
    const job = await until(starter, (st) => st.runs['styleswin-ffhq-256']?.job);
    await fake.waitFor(() => fake.jobs.has(job) && fake.entries[0].state === 'installing');
    const reopened = store();
    await reopened.load();
    assert.equal(reopened.state.runs['styleswin-ffhq-256']?.job, job);
    assert.equal(reopened.state.runs['styleswin-ffhq-256']?.source, 'resumed');
    reopened.dispose();
    starter.dispose();
    await new Promise((r) => setImmediate(r));
    assert.notEqual(fake.jobs.get(job)!.snapshot.state, 'cancelled');
    fake.finish(job, { cards: ['styleswin-ffhq-256'] });
  });

  test('remove: the registry is reloaded and the entry is Not installed', async () => {
    const changes: unknown[] = [];
    const s = store(changes);
    fake.entries[0].state = 'installed';
    fake.entries[0].installed = { bytes: 1, verified: false, sha256: '', at: '' };
    await s.load();
    await s.removeNow('styleswin-ffhq-256');
    assert.deepEqual(changes, [{ removed: ['styleswin-ffhq-256'] }]);
    assert.equal(s.state.entries[0].state, 'not-installed');
  });
});

describe('words', () => {
  const tiny = (id: string, over: Partial<ModelStatus['card']> = {}): ModelStatus => ({ card: { id, variant: 'tiny', ...over } as ModelStatus['card'], cached: false, cachedBytes: 0, loaded: false });
  const full = (id: string): ModelStatus => ({ card: { id, variant: 'full' } as ModelStatus['card'], cached: false, cachedBytes: 0, loaded: false });

  test('what it makes, where it runs, size, licence, why not', () => {
    const tasks = [{ label: 'Generate', modelTask: 'generate' }, { label: 'Variations', modelTask: 'generate' }, { label: 'Inpaint', modelTask: 'inpaint' }];
    assert.equal(whatItMakes(entry('a'), tasks), 'Generate · Variations');
    assert.equal(whatItMakes({ task: 'component' }, tasks), 'A part other models use');
    assert.equal(whereItRuns(entry('a')), 'on this computer');
    assert.equal(whereItRuns(entry('a', { targets: ['node', 'server'] })), 'on the server only');
    assert.equal(formatSize(1_234_000_000), '1.2 GB');
    assert.equal(formatSize(48_900_000), '49 MB');
    assert.equal(licenceBadge(GRAM().license).text, 'NON-COMMERCIAL');
    assert.equal(licenceBadge({ ...GRAM().license, commercialUse: 'unclear' }).text, 'COMMERCIAL USE UNCLEAR');
    assert.equal(whyNotInstallable(entry('a', { install: 'python' })), 'Needs the developer tools: npm run convert');
    assert.equal(whyNotInstallable(entry('a', { install: 'no', status: 'planned' })), 'Coming later');
    assert.equal(whyNotInstallable(entry('a')), null);
    assert.deepEqual(progressText({ source: 'file', cancelling: false, progress: { stage: 'convert', done: 1, total: 4, message: 'Writing the model' } }),
      { text: 'Preparing: Writing the model', fraction: 0.25 });
    assert.equal(progressText({ source: 'file', cancelling: false, progress: { stage: 'upload', done: 0, total: 1_500_000_000 } }).text, 'Sending the model file 0.0 / 1.5 GB');
  });

  test('which test model a task uses, and which entry brings its real model', () => {
    assert.equal(testModelInUse([tiny('styleswin-ffhq-256-tiny')], '')?.card.id, 'styleswin-ffhq-256-tiny');
    assert.equal(testModelInUse([tiny('styleswin-ffhq-256-tiny'), full('styleswin-ffhq-256')], ''), null, 'Automatic prefers the real one');
    assert.equal(testModelInUse([tiny('styleswin-ffhq-256-tiny'), full('styleswin-ffhq-256')], 'styleswin-ffhq-256-tiny')?.card.id, 'styleswin-ffhq-256-tiny');
    assert.equal(testModelInUse([full('esrgan')], ''), null);
    const entries = [...catalogue(), entry('vqdiffusion-ithq-vqvae', { cards: ['vqdiffusion-ithq-decoder'], install: 'download' })];
    assert.equal(entryForTestModel('styleswin-ffhq-256-tiny', entries)?.id, 'styleswin-ffhq-256');
    assert.equal(entryForTestModel('vqdiffusion-ithq-transformer-tiny', entries)?.id, 'vqdiffusion-ithq');
    assert.equal(entryForTestModel('simmim-swin-base-192-tiny', entries), undefined);
    assert.equal(convertCommand(tiny('vqdiffusion-ithq-transformer-tiny', { pipeline: { id: 'vqdiffusion-ithq-tiny' } })), 'npm run convert -- vqdiffusion-ithq --checkpoint <file>');
  });
});
