// Cross-site use of the local server, tried for real: a page on another site (http://localhost:<port>, while the
// server is http://127.0.0.1:<port>) opened in Chromium tries what the hardening issue found possible before the
// pairing token: a no-preflight text/plain POST to /infer, the same from a sandboxed iframe (origin "null", as Figma's
// plugin iframe), reading jobs and their results, cancelling a job with a form post, fetching the playground page for
// a code, and framing the playground. Nothing runs, nothing changes, nothing is read.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/server.ts';
import { launchBrowser } from '../browser.ts';
import { MODEL } from './oip-util.ts';

const JOB = 'victim-job-0001';
let server: RunningServer;
let evil: Server;
let evilUrl = '';
let browser: Browser;

const inferBody = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4, 4, 3], datatype: 'FP32', data: Array.from({ length: 48 }, (_, i) => i) }] });

/** The attacker's page: every attempt records what it could see in window.results. */
function evilPage(target: string): string {
  const attempts = `
    const target = ${JSON.stringify(target)};
    const body = ${JSON.stringify(inferBody)};
    const results = {};
    async function attempt(name, run) {
      try { results[name] = await run(); } catch (err) { results[name] = 'error: ' + err.message; }
    }
  `;
  // Runs in a sandboxed iframe: origin "null", which the server must admit by CORS for Figma's sake.
  const nullOrigin = `
    ${attempts}
    (async () => {
      await attempt('infer', async () => (await fetch(target + '/v2/models/${MODEL}/infer', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).status);
      await attempt('inferTextPlain', async () => (await fetch(target + '/v2/models/${MODEL}/infer', { method: 'POST', body })).status);
      await attempt('readJob', async () => { const r = await fetch(target + '/jobs/${JOB}'); return r.status + ' ' + (await r.text()).slice(0, 200); });
      await attempt('readEvents', async () => (await fetch(target + '/jobs/${JOB}/events')).status);
      await attempt('cancel', async () => (await fetch(target + '/jobs/${JOB}/cancel', { method: 'POST' })).status);
      await attempt('createJob', async () => (await fetch(target + '/jobs/attacker-job-01', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ task: 'generate', params: {} }) })).status);
      await attempt('playgroundPage', async () => await (await fetch(target + '/')).text());
      parent.postMessage({ from: 'null-frame', results }, '*');
    })();
  `;
  return `<!doctype html><meta charset="utf-8"><title>a page the designer happens to visit</title>
<form id="f" method="POST" enctype="text/plain" target="sink" action="${target}/jobs/${JOB}/cancel"><input name="x" value="y"></form>
<iframe name="sink"></iframe>
<iframe id="framed" src="${target}/"></iframe>
<script>
  ${attempts}
  window.results = results;
  const framedLoaded = new Promise((resolve) => document.getElementById('framed').addEventListener('load', resolve, { once: true }));
  (async () => {
    // A simple request: no preflight, the answer is opaque, but the request reaches the server.
    await attempt('noCorsInfer', async () => (await fetch(target + '/v2/models/${MODEL}/infer', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body })).type);
    await attempt('noCorsCancel', async () => (await fetch(target + '/jobs/${JOB}/cancel', { method: 'POST', mode: 'no-cors' })).type);
    document.getElementById('f').submit();
    const frame = document.createElement('iframe');
    frame.sandbox = 'allow-scripts';
    frame.srcdoc = '<script>' + ${JSON.stringify(nullOrigin)} + '<\\/script>';
    window.addEventListener('message', async (e) => {
      if (e.data && e.data.from === 'null-frame') {
        window.nullResults = e.data.results;
        await framedLoaded; // an error page when framing is refused: it still fires load
        window.done = true;
      }
    });
    document.body.append(frame);
  })();
</script>`;
}

before(async () => {
  server = await startServer({ port: 0 });
  evil = createServer((_req, res) => {
    const html = evilPage(server.url);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
    res.end(html);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/evil.html`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  evil?.close();
  await server?.close();
});

test('a page on another site can neither run, change nor read anything on the local server', { timeout: 120_000 }, async () => {
  const auth = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' };
  // The victim's job: a clip upload in progress.
  const put = await fetch(`${server.url}/jobs/${JOB}`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ task: 'upscale-video', model: MODEL, params: { scale: 2 }, upload: { bytes: 4096, mime: 'video/mp4' } }),
  });
  assert.equal(put.status, 201, await put.text());
  const seen: string[] = [];
  const page = await browser.newPage();
  page.on('request', (r) => seen.push(`${r.method()} ${r.url()}`));
  const formPost = page.waitForResponse((r) => r.url() === `${server.url}/jobs/${JOB}/cancel` && r.request().resourceType() === 'document');
  await page.goto(evilUrl);
  await page.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, undefined, { timeout: 60_000 });
  const top = (await page.evaluate(() => (window as unknown as { results: Record<string, unknown> }).results)) as Record<string, string>;
  const framed = (await page.evaluate(() => (window as unknown as { nullResults: Record<string, unknown> }).nullResults)) as Record<string, string | number>;

  // The origin-null frame gets answers it can read (Figma needs that) — and every one of them is a refusal.
  assert.equal(framed.infer, 401);
  assert.equal(framed.inferTextPlain, 401);
  assert.match(String(framed.readJob), /^401 /);
  assert.doesNotMatch(String(framed.readJob), /uploading|4096/);
  assert.equal(framed.readEvents, 401);
  assert.equal(framed.cancel, 401);
  assert.equal(framed.createJob, 401);
  // The playground page is public, and holds no code: pairing travels in the link's fragment only.
  assert.match(String(framed.playgroundPage), /Frontier playground/);
  assert.ok(!String(framed.playgroundPage).includes(server.token));
  assert.equal(top.noCorsInfer, 'opaque', 'the simple requests did reach the server');
  assert.equal(top.noCorsCancel, 'opaque');

  // The form post went out too, and was refused like the rest.
  assert.equal((await formPost).status(), 401);
  for (const want of [`POST ${server.url}/jobs/${JOB}/cancel`, `POST ${server.url}/v2/models/${MODEL}/infer`]) {
    assert.ok(seen.some((s) => s === want), `${want} was attempted: ${seen.join(', ')}`);
  }
  // Framing the playground is refused by its frame-ancestors policy.
  const framedPlayground = page.frames().find((f) => f.name() === '' && f.url().includes(server.url));
  assert.equal(framedPlayground, undefined, 'the playground loaded inside another site');

  // Server side: nothing ran, the job is untouched, no job was created.
  assert.equal(server.inferStats().started, 0);
  const job = (await (await fetch(`${server.url}/jobs/${JOB}`, { headers: auth })).json()) as { state: string };
  assert.equal(job.state, 'uploading');
  assert.equal((await fetch(`${server.url}/jobs/attacker-job-01`, { headers: auth })).status, 404);
  await page.close();
});
