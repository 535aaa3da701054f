// Engine jobs run in a child process (engine-runner.ts): a cancel stops the job at its next step and keeps the
// process (and its sessions) for the next job; a job that does not stop within the grace is ended by killing its
// process; an engine process that dies fails only its job; close() in the middle of a job settles it and kills the
// process, never this one (terminating a worker thread mid-run aborted the whole server). A process stopped with
// SIGSTOP stands in for one stuck in a long native call: it cannot answer a cancel, whatever the machine's speed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EngineJobSpec } from '../../server/jobs/engine-spec.ts';
import { EngineJobRunner } from '../../server/jobs/engine-runner.ts';
import { Job } from '../../server/jobs/job.ts';
import { serverPaths } from '../../server/paths.ts';
import { isAlive, waitFor, workPids } from './oip-util.ts';

const SLOW: EngineJobSpec = { task: 'text-to-image', model: 'vqdiffusion-ithq-transformer-tiny', params: { prompt: 'a slow boat', steps: 100, seed: 3 } };
const QUICK: EngineJobSpec = { task: 'generate', model: 'styleswin-ffhq-256-tiny', params: { seed: 1, count: 1 } };

let work: string;
let n = 0;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'frontier-engine-process-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Starts `spec` as a job; `running` resolves once the task reports its first step. */
function start(runner: EngineJobRunner, spec: EngineJobSpec) {
  const job = new Job(`engine-process-${++n}`, spec, work, 20);
  const outcome = runner.run(job, spec, join(work, `${job.id}.json`)).then(
    (result) => ({ result, error: undefined }),
    (err: Error) => ({ result: undefined, error: err.message }),
  );
  const running = waitFor(() => job.progress.stage === 'run');
  return { job, outcome, running };
}

test('a cancel stops the job at its next step; the engine process stays for the next job', { timeout: 60_000 }, async () => {
  const runner = new EngineJobRunner(serverPaths(), 1000);
  try {
    const slow = start(runner, SLOW);
    await slow.running;
    const [pid] = workPids('engine');
    slow.job.abort.abort();
    assert.deepEqual(await slow.outcome, { result: undefined, error: 'The job was cancelled.' });
    const next = start(runner, QUICK);
    assert.equal((await next.outcome).error, undefined);
    assert.deepEqual(workPids('engine'), [pid], 'the same process ran the next job');
  } finally {
    await runner.close();
  }
});

test('a cancelled job that does not stop (its process stuck) is ended by killing the process; the next job gets a fresh one', { timeout: 60_000 }, async () => {
  const runner = new EngineJobRunner(serverPaths(), 1000, 100);
  try {
    const slow = start(runner, SLOW);
    await slow.running;
    const [pid] = workPids('engine');
    process.kill(pid, 'SIGSTOP'); // stuck: it cannot see the cancel
    slow.job.abort.abort();
    assert.deepEqual(await slow.outcome, { result: undefined, error: 'The job was cancelled.' });
    await waitFor(() => !isAlive(pid));
    const next = start(runner, QUICK);
    const { result, error } = await next.outcome;
    assert.equal(error, undefined);
    assert.equal(result?.images, 1);
    const [fresh] = workPids('engine');
    assert.ok(fresh && fresh !== pid);
  } finally {
    await runner.close();
  }
});

test('an engine process that dies fails its job with a message to run it again; the next job runs', { timeout: 60_000 }, async () => {
  const runner = new EngineJobRunner(serverPaths(), 1000);
  try {
    const slow = start(runner, SLOW);
    await slow.running;
    const [pid] = workPids('engine');
    process.kill(pid, 'SIGKILL');
    const { error } = await slow.outcome;
    assert.match(error ?? '', /^The engine stopped while running the job \(the engine process was ended by signal SIGKILL\): run it again\.$/);
    assert.equal((await start(runner, QUICK).outcome).error, undefined);
  } finally {
    await runner.close();
  }
});

test('close() in the middle of a job settles it and kills the engine process; this process lives on', { timeout: 60_000 }, async () => {
  const runner = new EngineJobRunner(serverPaths(), 1000);
  const slow = start(runner, SLOW);
  await slow.running;
  const [pid] = workPids('engine');
  await runner.close();
  assert.equal(isAlive(pid), false);
  assert.deepEqual(await slow.outcome, { result: undefined, error: 'The server shut down while the job ran: run it again once the server is back.' });
  await assert.rejects(runner.run(new Job('after-close', QUICK, work, 20), QUICK, join(work, 'after.json')), /shutting down/);
});
