// No single request can take the server down: the real `npm start` process, with a fault injected (test/server/
// faults.ts) into the upload, inference, event-stream and static-file paths outside any promise the handler awaits.
// Each failing request is answered with 500 (or, once its headers are out, its connection is cut), the error is
// logged, and the same process keeps serving every other request and job.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, startMainProcess, type MainProcess } from './helpers.ts';
import { MODEL } from './oip-util.ts';

interface Reply {
  status: number;
  body: Buffer;
  /** The connection ended before the whole response arrived. */
  cut: boolean;
}

/** One request; a response cut short (or a reset) comes back as `cut`, never as a thrown error. */
function send(base: string, path: string, o: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), cut: !res.complete }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), cut: true }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), cut: true }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${path}: no answer within 30 s`)));
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve({ status: 0, body: Buffer.alloc(0), cut: true }) : reject(err)));
    req.end(o.body);
  });
}

let main: MainProcess;
let child: ChildProcess;
let base = '';
let auth: Record<string, string> = {};
let home = '';
const output = () => main.output();

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'frontier-home-'));
  main = await startMainProcess(home, { preload: [join(REPO, 'test', 'server', 'faults.ts')] });
  child = main.child;
  base = main.url;
  auth = { Authorization: `Bearer ${main.token}` };
});

after(async () => {
  child.kill('SIGKILL');
  await rm(home, { recursive: true, force: true });
});

/** The process is the one that started, and it still answers. */
async function assertAlive(): Promise<void> {
  assert.equal(child.exitCode, null, `the server exited:\n${output()}`);
  assert.equal((await send(base, '/v2/health/live')).status, 200);
}

/** Waits for the server's log line about the fault (its stderr may arrive after the HTTP answer). */
async function loggedFault(path: string): Promise<boolean> {
  const line = new RegExp(`uncaught error while answering [A-Z]+ ${path.replace(/[/.]/g, '\\$&')}`);
  const end = Date.now() + 20_000;
  while (!line.test(output())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** A video job waiting for its 4 KB upload (the job those tests fault around). */
async function createUploadJob(id: string): Promise<string> {
  const put = await send(base, `/jobs/${id}`, {
    method: 'PUT',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ task: 'upscale-video', model: MODEL, params: { scale: 2 }, upload: { bytes: 4096, mime: 'video/mp4' } }),
  });
  assert.equal(put.status, 201, put.body.toString());
  return id;
}

const tinyInfer = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4, 4, 3], datatype: 'FP32', data: Array.from({ length: 48 }, (_, i) => i) }] });

test('inference: a throw in a body listener → 500 for that request; the next inference runs', { timeout: 60_000 }, async () => {
  const path = `/v2/models/${MODEL}/infer`;
  const faulty = await send(base, path, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json', 'X-Frontier-Test-Fault': 'body-data' }, body: tinyInfer });
  assert.equal(faulty.status, 500);
  const message = (JSON.parse(faulty.body.toString()) as { error: string }).error;
  assert.match(message, /the server logged it and keeps serving/);
  assert.doesNotMatch(message, /injected|\//, 'no internals in the answer');
  assert.ok(await loggedFault(path), output());
  await assertAlive();
  const ok = await send(base, path, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: tinyInfer });
  assert.equal(ok.status, 200, ok.body.toString());
});

test('upload: a throw in a body listener → 500; the job keeps its upload and takes the next chunk', { timeout: 60_000 }, async () => {
  const id = await createUploadJob('crash-guard-upload');
  const chunk = (offset: number, fault?: string) =>
    send(base, `/jobs/${id}/upload`, {
      method: 'PATCH',
      headers: { ...auth, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), ...(fault ? { 'X-Frontier-Test-Fault': fault } : {}) },
      body: Buffer.alloc(1024, 7),
    });
  const faulty = await chunk(0, 'body-data');
  assert.equal(faulty.status, 500);
  assert.ok(await loggedFault(`/jobs/${id}/upload`), output());
  await assertAlive();
  // Resume from what the server says it has, as a client would.
  let offset = -1;
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const head = await send(base, `/jobs/${id}/upload`, { headers: auth });
    const state = JSON.parse(head.body.toString()) as { offset: number };
    const next = await chunk(state.offset);
    if (next.status === 204) {
      offset = state.offset + 1024;
      break;
    }
    assert.equal(next.status, 409, next.body.toString()); // a chunk still being written: ask again
  }
  assert.ok(offset > 0, 'the upload went on after the fault');
  const job = JSON.parse((await send(base, `/jobs/${id}`, { headers: auth })).body.toString()) as { state: string; upload: { offset: number } };
  assert.equal(job.state, 'uploading');
  assert.equal(job.upload.offset, offset);
});

test('event stream: a throw after its headers → that stream is cut; the job and other streams go on', { timeout: 60_000 }, async () => {
  const id = await createUploadJob('crash-guard-events');
  const faulty = await send(base, `/jobs/${id}/events`, { headers: { ...auth, 'X-Frontier-Test-Fault': 'after-head' } });
  assert.ok(faulty.cut, 'the stream was cut, not ended as if complete');
  assert.ok(await loggedFault(`/jobs/${id}/events`), output());
  await assertAlive();
  assert.equal(JSON.parse((await send(base, `/jobs/${id}`, { headers: auth })).body.toString()).state, 'uploading');
  // Another stream of the same job works: cancel the job and read its final event.
  const cancel = await send(base, `/jobs/${id}/cancel`, { method: 'POST', headers: auth });
  assert.equal(cancel.status, 200);
  const events = await send(base, `/jobs/${id}/events`, { headers: auth });
  assert.equal(events.cut, false);
  assert.match(events.body.toString(), /"state":"cancelled"/);
});

test('static file: a throw after its headers is caught and logged; the file serves again', { timeout: 60_000 }, async () => {
  const path = '/samples/astronaut.png';
  // Whether this download is cut depends on how far the file got before the throw: not asserted.
  await send(base, path, { headers: { 'X-Frontier-Test-Fault': 'after-head' } });
  assert.ok(await loggedFault(path), output());
  await assertAlive();
  const whole = await send(base, path);
  assert.equal(whole.status, 200);
  assert.equal(whole.cut, false);
});
