// Native work runs in child processes (server/work-process.ts), so it can be stopped for real and can never take the
// server down: a run past its deadline or whose client left is killed with its process (504; the slot is freed and a
// fresh process serves the next request); close() kills what runs; a kill -9 of the server leaves no inference or
// engine process behind; a Ctrl-C to the process group leaves them to the server, which stops them when it closes.
// The stuck run is a Loop model that never ends on its own (oip-util spinModel): nothing here depends on speed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../server/server.ts';
import { REPO, type TempRoot } from './helpers.ts';
import { bearer, isAlive, NEVER_ENDS, post, probeRoot, SPIN, spinRequest, waitFor, workPids } from './oip-util.ts';

let root: TempRoot;
before(async () => {
  root = await probeRoot();
});
after(async () => {
  await root.remove();
});

const gather = JSON.stringify({ inputs: [{ name: 'index', shape: [1, 2], datatype: 'INT64', data: [0, 3] }] });

/** Starts a run that never ends on its own; resolves with its reply. */
function stuckRun(server: RunningServer) {
  return post(`${server.url}/v2/models/${SPIN}/infer`, spinRequest(NEVER_ENDS), bearer(server));
}

describe('stopping runs', () => {
  test('a run past its deadline → 504; its process is killed, its slot freed, and a fresh process serves the next request', { timeout: 60_000 }, async () => {
    const server = await startServer({ port: 0, root: root.root, maxConcurrentInfers: 1, requestTimeoutMs: 1500 });
    try {
      // Load both models outside any deadline, in the one process.
      assert.equal((await post(`${server.url}/v2/models/${SPIN}/infer`, spinRequest(1), bearer(server))).status, 200);
      const [first] = workPids('inference');
      assert.ok(first, 'one inference process');
      const reply = await stuckRun(server);
      assert.equal(reply.status, 504, JSON.stringify(reply.json));
      assert.match(reply.json.error ?? '', /did not finish within 1\.5 s/);
      await waitFor(() => !isAlive(first));
      await waitFor(() => server.inferStats().running === 0);
      assert.deepEqual(server.inferStats(), { admitted: 0, running: 0, waiting: 0, started: 2 });

      const ok = await post(`${server.url}/v2/models/gather/infer`, gather, bearer(server));
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.deepEqual(ok.json.outputs?.[0].data, [10, 13]);
      const [fresh] = workPids('inference');
      assert.ok(fresh && fresh !== first, 'a fresh process');
    } finally {
      await server.close();
    }
  });

  test('a client that leaves stops its run: the process is killed and the slot freed', { timeout: 60_000 }, async () => {
    const server = await startServer({ port: 0, root: root.root, maxConcurrentInfers: 1 });
    try {
      const client = new AbortController();
      const run = fetch(`${server.url}/v2/models/${SPIN}/infer`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...bearer(server) }, body: spinRequest(NEVER_ENDS), signal: client.signal });
      run.catch(() => {});
      await waitFor(() => server.inferStats().running === 1 && workPids('inference').length === 1);
      const [pid] = workPids('inference');
      client.abort();
      await waitFor(() => !isAlive(pid) && server.inferStats().running === 0 && server.inferStats().admitted === 0);
      assert.equal((await post(`${server.url}/v2/models/${SPIN}/infer`, spinRequest(3), bearer(server))).status, 200);
    } finally {
      await server.close();
    }
  });

  test('close() with a run in progress kills its process and returns (no native abort of this process)', { timeout: 60_000 }, async () => {
    const server = await startServer({ port: 0, root: root.root, maxConcurrentInfers: 1 });
    const reply = stuckRun(server).catch((err: Error) => err);
    await waitFor(() => server.inferStats().running === 1 && workPids('inference').length === 1);
    const [pid] = workPids('inference');
    await server.close();
    assert.equal(isAlive(pid), false);
    assert.ok((await reply) instanceof Error, 'the connection was closed');
  });
});

/** A server (and an engine job runner) in a process of its own, in its own process group. */
function serverProcess(): { child: ChildProcess; lines: AsyncIterator<string> } {
  const code = `
    import { mkdtemp } from 'node:fs/promises';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    import { startServer } from ${JSON.stringify(`${REPO}/server/server.ts`)};
    import { EngineJobRunner } from ${JSON.stringify(`${REPO}/server/jobs/engine-runner.ts`)};
    import { Job } from ${JSON.stringify(`${REPO}/server/jobs/job.ts`)};
    import { serverPaths } from ${JSON.stringify(`${REPO}/server/paths.ts`)};
    import { bearer, isAlive, post, spinRequest, workPids } from ${JSON.stringify(`${REPO}/test/server/oip-util.ts`)};
    const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const server = await startServer({ port: 0, root: ${JSON.stringify(root.root)}, maxConcurrentInfers: 2 });
    // A stuck inference (its process blocked in onnxruntime's run) and an engine job.
    post(server.url + '/v2/models/spin/infer', spinRequest(${NEVER_ENDS}), bearer(server)).catch(() => {});
    while (server.inferStats().running === 0) await sleep(10);
    const runner = new EngineJobRunner(serverPaths(${JSON.stringify(REPO)}), 1000);
    const spec = { task: 'text-to-image', model: 'vqdiffusion-ithq-transformer-tiny', params: { prompt: 'a boat', steps: 100, seed: 1 } };
    const job = new Job('process-test', spec, await mkdtemp(join(tmpdir(), 'frontier-process-test-')), 10);
    const engineJob = runner.run(job, spec, join(job.dir, 'result.json')).catch((e) => e);
    while (job.progress.stage !== 'run') await sleep(10);
    const pids = [...workPids('inference'), ...workPids('engine')];
    process.on('SIGINT', async () => {
      const aliveAtSigint = pids.filter(isAlive);
      const afterSigint = (await post(server.url + '/v2/models/gather/infer', ${JSON.stringify(gather)}, bearer(server))).status;
      job.abort.abort();
      await engineJob;
      await runner.close();
      await server.close();
      say({ aliveAtSigint, afterSigint, leftAfterClose: pids.filter(isAlive) });
      process.exit(0);
    });
    say({ pids });
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

async function nextJson(lines: AsyncIterator<string>): Promise<Record<string, number[] | number>> {
  const { value, done } = await lines.next();
  assert.ok(!done, 'the server process said nothing');
  return JSON.parse(value) as Record<string, number[] | number>;
}

describe('the server process and its children', () => {
  const started: ChildProcess[] = [];
  after(() => {
    // A failed test must not leave its server group running.
    for (const child of started) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  const start = () => {
    const server = serverProcess();
    started.push(server.child);
    return server;
  };

  test('kill -9 of the server leaves no inference or engine process behind (even one blocked in a native run)', { timeout: 90_000 }, async () => {
    const { child, lines } = start();
    const { pids } = (await nextJson(lines)) as { pids: number[] };
    assert.equal(pids.length, 2, `the inference process and the engine process: ${pids}`);
    assert.ok(pids.every(isAlive));
    process.kill(child.pid!, 'SIGKILL');
    await waitFor(() => pids.every((pid) => !isAlive(pid)));
  });

  test('Ctrl-C to the process group: the children keep working; the server stops them when it closes', { timeout: 90_000 }, async () => {
    const { child, lines } = start();
    const { pids } = (await nextJson(lines)) as { pids: number[] };
    assert.equal(pids.length, 2);
    process.kill(-child.pid!, 'SIGINT'); // the whole group, as a terminal's Ctrl-C
    const report = (await nextJson(lines)) as { aliveAtSigint: number[]; afterSigint: number; leftAfterClose: number[] };
    assert.deepEqual(report.aliveAtSigint, pids, 'no child died of the SIGINT');
    assert.equal(report.afterSigint, 200, 'inference still works after the SIGINT');
    assert.deepEqual(report.leftAfterClose, []);
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    assert.equal(child.exitCode, 0);
  });
});
