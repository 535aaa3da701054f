// Render check of "Official models" in real Chromium: the real components and store (bundled as the plugin bundles
// them) inside a sandboxed srcdoc iframe (origin null, as Figma's) at Figma's plugin size 320×560, talking over HTTP
// to a fake of the install contract. The test-model notice offers Install; progress shows in it and in the list with
// aria-valuetext; the installed entry says its size and "unverified"; a licence that asks for it is accepted before
// Install; a file install shows the server's error with Retry; Cancel; and without a server, what to do.
// Screenshots go to $UI_SCREENSHOTS (default: a temp dir, printed).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import { entry, startFakeInstallServer, TOKEN, type FakeInstallServer } from './ui-install-fake.ts';
import type { CatalogueEntryView } from '../../worker/runtime/install-client.ts';

const root = join(import.meta.dirname, '..', '..');
const shots = process.env.UI_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'frontier-official-shots-')));

/** A page like the plugin's: the Generate task with its test model and notice, then the Models section. */
const ENTRY = `
import { render } from 'preact';
import './ui/styles.css';
import { OfficialModels } from './ui/components/OfficialModels.tsx';
import { InstallsInProgress } from './ui/components/InstallsInProgress.tsx';
import { TestModelNotice } from './ui/components/TestModelNotice.tsx';
import { Section } from './ui/components/Section.tsx';
import { entryForTestModel } from './ui/install-format.ts';
import { useOfficialModels } from './ui/official-models.ts';

const config = window.CONFIG;
window.registryChanges = [];
const tiny = { card: { id: 'styleswin-ffhq-256-tiny', variant: 'tiny', label: 'StyleSwin tiny (test model)' }, cached: false, cachedBytes: 0, loaded: false };
const tasks = [{ label: 'Generate', modelTask: 'generate' }, { label: 'Variations', modelTask: 'generate' }, { label: 'In-betweens', modelTask: 'generate' },
  { label: 'Rotate view', modelTask: 'rotate-view' }, { label: 'Inpaint', modelTask: 'inpaint' }, { label: 'Text to image', modelTask: 'text-to-image' }];

function Page() {
  const official = useOfficialModels({ serverUrl: config.serverUrl, token: config.token, active: true,
    onRegistryChanged: (change) => { window.registryChanges.push(change); } });
  const installed = official.state.entries.find((e) => e.id === 'styleswin-ffhq-256')?.state === 'installed';
  return (
    <main class="app">
      <InstallsInProgress official={official.state} actions={official.actions} except={installed ? undefined : 'styleswin-ffhq-256'} />
      <div class="panel job">
        <div class="field"><label class="field-label" for="m">Model</label>
          <select id="m"><option>Automatic (best for the target)</option></select></div>
        {!installed && <TestModelNotice tiny={tiny} entry={entryForTestModel(tiny.card.id, official.state.entries)} official={official.state}
          actions={official.actions} serverUrl={config.serverUrl} onUseReal={() => {}} onReloadModels={() => {}} />}
        <div class="run-row"><button type="button" class="primary">Generate</button></div>
      </div>
      <Section title="Models" testId="models-panel" open>
        <OfficialModels official={official.state} actions={official.actions} tasks={tasks} serverUrl={config.serverUrl} />
      </Section>
    </main>
  );
}
render(<Page />, document.getElementById('app'));
`;

async function bundle(config: { serverUrl: string; token: string }): Promise<string> {
  const out = await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'tsx', sourcefile: 'official-page.tsx' },
    bundle: true, format: 'iife', platform: 'browser', target: 'es2022', jsx: 'automatic', jsxImportSource: 'preact',
    outdir: '/virtual', write: false, logLevel: 'silent',
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text.replace(/<\/script/gi, '<\\/script');
  const css = out.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  return `<!doctype html><html><head><meta charset="utf-8"><style>${css}</style></head><body><div id="app"></div>` +
    `<script>window.CONFIG = ${JSON.stringify(config)};</script><script>${js}</script></body></html>`;
}

/** The real catalogue's shape: StyleSwin (download and file), GRAM (licence to accept), VQ-Diffusion (python), planned ones. */
function catalogue(): CatalogueEntryView[] {
  const ffhqLicence = {
    summary: 'Personal and research use only. The model itself is MIT-licensed, but it learned from FFHQ, a face collection NVIDIA shares for non-commercial use only (CC BY-NC-SA 4.0), so Frontier treats its pictures as non-commercial.',
    commercialUse: 'no' as const, redistribution: true, acceptBeforeDownload: false, url: 'https://github.com/microsoft/StyleSwin/blob/main/LICENSE',
  };
  return [
    entry('styleswin-ffhq-256', { label: 'Faces (FFHQ, 256 px)', license: ffhqLicence, download: { url: 'https://example.com/FFHQ_256.pt', directDownload: true, bytes: 200_000_000, sha256Published: false } }),
    entry('styleswin-church-256', {
      label: 'Churches (LSUN, 256 px)', install: 'file',
      license: { ...ffhqLicence, summary: 'Free to use, including commercially (MIT).', commercialUse: 'yes' },
      download: { url: 'https://drive.google.com/file/d/x/view', directDownload: false, bytes: null, sha256Published: false },
    }),
    entry('styleswin-ffhq-1024', { label: 'Faces (FFHQ, 1024 px)', targets: ['node', 'server'], license: ffhqLicence }),
    entry('gram-ffhq-256', {
      family: 'gram', familyLabel: 'GRAM', label: '3D faces you can turn (FFHQ, 256 px)', task: 'rotate-view', files: ['generator.pth', 'ema.pth'],
      license: {
        summary: "Non-commercial research use only (teaching, research, personal experiments). You download Microsoft's file yourself after accepting its licence; Frontier converts it on your computer and never shares the converted file — don't share it either.",
        commercialUse: 'no', redistribution: false, acceptBeforeDownload: true, url: 'https://github.com/microsoft/GRAM/blob/main/LICENSE',
      },
    }),
    entry('vqdiffusion-ithq', {
      family: 'vqdiffusion', familyLabel: 'VQ-Diffusion', label: 'Pictures from text (ITHQ)', task: 'text-to-image', install: 'python', targets: ['node', 'server'],
      license: { ...ffhqLicence, summary: 'MIT; trained on pictures from the web.', commercialUse: 'unclear' },
    }),
    entry('ttvsr-reds', { family: 'ttvsr', familyLabel: 'TTVSR', label: 'Video upscaling (REDS)', task: 'upscale-video', status: 'planned', install: 'no', cards: [] }),
    entry('gram-cats-256', { family: 'gram', familyLabel: 'GRAM', label: 'Cats (256 px)', task: 'rotate-view', status: 'planned', install: 'no', cards: [] }),
  ];
}

describe('official models in Chromium at 320×560', { timeout: 180_000 }, () => {
  let fake: FakeInstallServer;
  let browser: BrowserContext;
  let profile: string;
  let dir: string;
  before(async () => {
    fake = await startFakeInstallServer(catalogue());
    profile = await mkdtemp(join(tmpdir(), 'frontier-chromium-'));
    dir = await mkdtemp(join(tmpdir(), 'frontier-official-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 320, height: 560 },
    });
    console.log(`screenshots: ${shots}`);
  });
  after(async () => {
    await browser?.close();
    await fake?.close();
    await rm(profile, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  });

  /** Opens the page for `serverUrl` in a sandboxed srcdoc iframe (origin null, as in Figma). */
  async function open(serverUrl: string, name: string): Promise<{ page: Page; ui: FrameLocator; errors: string[] }> {
    const html = await bundle({ serverUrl, token: TOKEN });
    const host = join(dir, `${name}.html`);
    await writeFile(host, `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0;width:320px;height:560px;display:block}</style></head>` +
      `<body><iframe id="plugin" sandbox="allow-scripts" title="Frontier"></iframe><script>document.getElementById('plugin').srcdoc = ${JSON.stringify(html).replace(/<\//g, '<\\/')};</script></body></html>`);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(host).href);
    return { page, ui: page.frameLocator('#plugin'), errors };
  }
  const shoot = (page: Page, name: string) => page.locator('#plugin').screenshot({ path: join(shots, `${name}.png`) });

  test('no server: the list and the notice say so, and what to do', async () => {
    const { page, ui, errors } = await open('http://127.0.0.1:9', 'offline');
    const connection = ui.getByTestId('models-panel').getByTestId('official-connection');
    await connection.and(ui.locator('[data-state="offline"]')).waitFor();
    assert.match(await connection.innerText(), /Frontier is not running on this computer[\s\S]*npm start[\s\S]*pair/);
    assert.match(await ui.getByTestId('test-model-notice').innerText(), /Test model: results are noise — install the real one[\s\S]*npm start/);
    await shoot(page, 'official-offline');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the list, Install from the task notice with progress, installed with its size, a licence to accept, an error with Retry, Cancel', async () => {
    const { page, ui, errors } = await open(fake.url, 'list');
    const ffhq = ui.getByTestId('official-styleswin-ffhq-256');
    await ffhq.waitFor();
    // Each entry: label, licence, what it makes, where it runs, size, state.
    const text = await ffhq.innerText();
    assert.match(text, /Faces \(FFHQ, 256 px\)[\s\S]*NON-COMMERCIAL/);
    assert.match(text, /Generate · Variations · In-betweens · runs on this computer · 200 MB download/);
    assert.match(text, /Not installed/);
    assert.match(await ui.getByTestId('official-styleswin-ffhq-1024').innerText(), /runs on the server only/);
    assert.match(await ui.getByTestId('official-vqdiffusion-ithq').innerText(), /COMMERCIAL USE UNCLEAR[\s\S]*Needs the developer tools: npm run convert/);
    assert.equal(await ui.getByTestId('official-vqdiffusion-ithq').getByTestId('install').count(), 0);
    assert.match(await ui.getByTestId('official-later').innerText(), /Coming later \(2\)/);
    await shoot(page, 'official-list');

    // GRAM: Install only after "I accept".
    const gram = ui.getByTestId('official-gram-ffhq-256');
    await gram.scrollIntoViewIfNeeded();
    assert.equal(await gram.getByTestId('install').isDisabled(), true);
    assert.equal(await gram.getByTestId('install-file').isDisabled(), true);
    assert.match(await gram.innerText(), /I accept the licence[\s\S]*Non-commercial research use only/);
    await shoot(page, 'official-gram-accept');
    await gram.getByLabel('I accept the licence').check();
    assert.equal(await gram.getByTestId('install').isDisabled(), false);
    // Its two files from disk: one alone is refused with what to do; both go up together, described part by part.
    assert.equal(await gram.getByTestId('install-file').getAttribute('title'), 'Choose generator.pth and ema.pth together');
    const gramFile = (name: string, size: number) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.alloc(size, 3) });
    await gram.getByTestId('install-file-input').setInputFiles([gramFile('generator.pth', 1000)]);
    assert.match(await gram.getByTestId('pick-problem').innerText(), /is 2 files: choose generator\.pth and ema\.pth together \(hold Shift or ⌘ to pick several\)/);
    assert.equal([...fake.jobs.values()].filter((j) => j.body.model === 'gram-ffhq-256').length, 0, 'nothing sent');
    await gram.getByTestId('install-file-input').setInputFiles([gramFile('ema.pth', 400), gramFile('generator.pth', 1000)]);
    const gramJob = await fake.waitFor(() => [...fake.jobs.entries()].find(([, j]) => j.body.model === 'gram-ffhq-256')?.[0]);
    await fake.waitFor(() => fake.jobs.get(gramJob)!.snapshot.state === 'queued');
    assert.deepEqual(fake.jobs.get(gramJob)!.body.upload, { bytes: 1400, mime: 'application/octet-stream', name: 'ema.pth + generator.pth', parts: [{ name: 'ema.pth', bytes: 400 }, { name: 'generator.pth', bytes: 1000 }] });
    assert.equal(await gram.getByTestId('pick-problem').count(), 0);
    await gram.getByTestId('cancel-install').click();
    await ui.locator('[data-testid="official-gram-ffhq-256"][data-state="not-installed"]').waitFor();

    // Install from the notice on the task: progress there and in the list.
    const notice = ui.getByTestId('test-model-notice');
    await notice.scrollIntoViewIfNeeded();
    assert.match(await notice.innerText(), /Faces \(FFHQ, 256 px\)/);
    await notice.getByTestId('install').click();
    const job = await fake.waitFor(() => [...fake.jobs.entries()].find(([, j]) => j.body.model === 'styleswin-ffhq-256')?.[0]);
    await fake.waitFor(() => fake.requests.includes(`GET /jobs/${job}/events`));
    fake.step(job, { stage: 'download', done: 50_000_000, total: 200_000_000 });
    const bar = notice.getByTestId('install-progress');
    await notice.locator('[data-testid="install-progress"][aria-valuenow="25"]').waitFor();
    assert.equal(await bar.getAttribute('aria-valuetext'), 'Downloading 50 / 200 MB, 25%');
    assert.equal(await bar.getAttribute('aria-label'), 'Installing Faces (FFHQ, 256 px)');
    assert.equal(await ffhq.getAttribute('data-state'), 'installing');
    assert.equal(await ui.getByTestId('installs-running').count(), 0, 'the notice shows this one already');
    await shoot(page, 'official-installing-notice');
    fake.step(job, { stage: 'convert', done: 2, total: 3, message: 'Computing the average face' });
    await ffhq.getByTestId('install-progress').and(ui.locator('[aria-valuetext^="Preparing: Computing the average face"]')).waitFor();
    await ffhq.scrollIntoViewIfNeeded();
    await shoot(page, 'official-installing-list');
    fake.finish(job, { cards: ['styleswin-ffhq-256'], bytes: 312_000_000 });
    await ui.locator('[data-testid="official-styleswin-ffhq-256"][data-state="installed"]').waitFor();
    assert.match(await ffhq.getByTestId('official-state').innerText(), /^Installed · 312 MB · unverified: no published checksum$/);
    assert.deepEqual(await page.frames()[1].evaluate(() => (window as unknown as { registryChanges: unknown[] }).registryChanges), [{ installed: ['styleswin-ffhq-256'] }]);
    assert.equal(await notice.count(), 0, 'the task no longer uses a test model');
    await ffhq.getByTestId('remove').waitFor();
    await shoot(page, 'official-installed');

    // Install from file…: the upload's progress, then the server's error with Retry.
    const church = ui.getByTestId('official-styleswin-church-256');
    await church.scrollIntoViewIfNeeded();
    assert.match(await church.innerText(), /Open the download page/);
    assert.equal(await church.getByTestId('install').count(), 0, 'a browser-only download: from a file only');
    await church.getByTestId('install-file-input').setInputFiles({ name: 'church.pt', mimeType: 'application/octet-stream', buffer: Buffer.alloc(300_000, 7) });
    const fileJob = await fake.waitFor(() => [...fake.jobs.entries()].find(([, j]) => j.body.model === 'styleswin-church-256')?.[0]);
    await fake.waitFor(() => fake.jobs.get(fileJob)!.snapshot.state === 'queued');
    assert.deepEqual(fake.jobs.get(fileJob)!.body.upload, { bytes: 300_000, mime: 'application/octet-stream', name: 'church.pt' });
    // Progress stays in view at the top wherever the list is scrolled.
    await ui.getByTestId('installs-running').getByText('Installing Churches (LSUN, 256 px)').waitFor();
    assert.equal(await ui.getByTestId('installs-running').getByTestId('install-progress').count(), 1);
    await ui.getByTestId('installs-running').scrollIntoViewIfNeeded();
    await shoot(page, 'official-installing-top');
    fake.finish(fileJob, { error: 'This file is not a StyleSwin model file: it looks like a web page. Download it again from the link.' });
    const failure = church.getByTestId('install-error');
    await failure.waitFor();
    assert.match(await failure.innerText(), /it looks like a web page[\s\S]*Retry/);
    await failure.scrollIntoViewIfNeeded();
    await shoot(page, 'official-error');
    assert.equal(await ui.getByTestId('installs-running').count(), 0, 'nothing running');
    await church.getByTestId('retry').click();
    const retried = await fake.waitFor(() => [...fake.jobs.entries()].find(([id, j]) => j.body.model === 'styleswin-church-256' && id !== fileJob)?.[0]);
    await fake.waitFor(() => fake.jobs.get(retried)!.snapshot.state === 'queued');
    assert.equal(Buffer.concat(fake.jobs.get(retried)!.received).length, 300_000, 'Retry sends the same file');

    // Cancel.
    await church.getByTestId('cancel-install').click();
    await ui.locator('[data-testid="official-styleswin-church-256"][data-state="not-installed"]').waitFor();
    assert.equal(fake.jobs.get(retried)!.snapshot.state, 'cancelled');
    assert.equal(await church.getByTestId('install-error').count(), 0);

    // Dark theme.
    await page.frames()[1].evaluate(() => document.documentElement.classList.add('theme-dark'));
    await ui.getByTestId('official-styleswin-ffhq-256').scrollIntoViewIfNeeded();
    await shoot(page, 'official-dark');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
