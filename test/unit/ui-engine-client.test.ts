import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Comlink from 'comlink';
import { EngineClient, EngineError, toEngineError } from '../../ui/engine-client.ts';
import type { WorkerUrlKind } from '../../ui/engine-client.ts';
import type { EngineConfig } from '../../worker/engine-api.ts';
import { FrontierError, toWireError } from '../../worker/job.ts';
import type { Job, Progress } from '../../worker/job.ts';
import { FakeWorker } from './ui-harness/fake-worker-node.ts';
import type { FakeApi } from './ui-harness/fake-worker-node.ts';

const CONFIG: EngineConfig = { modelBaseUrl: 'http://127.0.0.1:8740', token: 'secret' };
const CAPS = { webgpu: { available: false, detail: 'none' }, wasm: { available: true, threads: 1, crossOriginIsolated: false, detail: '' }, cache: { available: true, detail: '' } };
const IMAGE = { width: 1, height: 1, data: new Uint8Array(4) };
const JOB: Job = { id: 'j1', task: 'upscale', params: { scale: 2 }, image: IMAGE };

/** A factory that records every worker it made and the configs each one was initialised with. */
function harness(makeApi: (worker: { inits: EngineConfig[] }) => FakeApi) {
  const workers: (FakeWorker & { inits: EngineConfig[]; kind: WorkerUrlKind })[] = [];
  const createWorker = (kind: WorkerUrlKind) => {
    const record = { inits: [] as EngineConfig[] };
    const worker = Object.assign(new FakeWorker({ init: async (c: EngineConfig) => { record.inits.push(c); return CAPS; }, ...makeApi(record) }), record, { kind });
    workers.push(worker);
    return worker;
  };
  return { workers, createWorker };
}

const never = () => new Promise<never>(() => {});

test('calls reach the worker through Comlink and progress comes back through the proxy', async () => {
  const { workers, createWorker } = harness(() => ({
    tasks: async () => [{ id: 'upscale' }],
    run: async (job: Job, onProgress: Comlink.Remote<(p: Progress) => void>) => {
      await onProgress({ jobId: job.id, stage: 'run', done: 1, total: 2 });
      onProgress[Comlink.releaseProxy]();
      return { jobId: job.id, images: [IMAGE], meta: {} };
    },
  }));
  const engine = new EngineClient({ createWorker });
  assert.deepEqual(await engine.init(CONFIG), CAPS);
  assert.equal(engine.state, 'ready');
  assert.deepEqual(await engine.tasks(), [{ id: 'upscale' }]);
  const seen: Progress[] = [];
  const result = await engine.run(JOB, (p) => seen.push(p));
  assert.equal(result.jobId, 'j1');
  assert.deepEqual(seen, [{ jobId: 'j1', stage: 'run', done: 1, total: 2 }]);
  assert.equal(workers.length, 1);
  engine.dispose();
});

test('a worker error event rejects every pending call with worker-crashed, and the next call starts a new worker with the last config', async () => {
  const { workers, createWorker } = harness(() => ({ run: never, models: never, tasks: async () => ['ok'] }));
  const states: string[] = [];
  const engine = new EngineClient({ createWorker, onStateChange: (s) => states.push(s) });
  await engine.init(CONFIG);
  const run = engine.run(JOB, () => {});
  const models = engine.models();
  await new Promise((r) => setTimeout(r, 20));
  workers[0].crash('Uncaught RangeError: Array buffer allocation failed');
  await assert.rejects(run, (err: EngineError) => err.code === 'worker-crashed' && /crashed \(Uncaught RangeError/.test(err.message) && /Restart engine/.test(err.message));
  await assert.rejects(models, (err: EngineError) => err.code === 'worker-crashed');
  assert.equal(workers[0].terminated, true);
  assert.equal(engine.state, 'failed');
  assert.deepEqual(await engine.tasks(), ['ok']);
  assert.equal(workers.length, 2);
  assert.deepEqual(workers[1].inits, [CONFIG], 'the new worker got the last init config');
  assert.deepEqual(states, ['starting', 'ready', 'failed', 'stopped', 'starting', 'ready']);
  engine.dispose();
});

test('messageerror is treated as a crash too', async () => {
  const { workers, createWorker } = harness(() => ({ run: never }));
  const engine = new EngineClient({ createWorker });
  await engine.init(CONFIG);
  const run = engine.run(JOB, () => {});
  await new Promise((r) => setTimeout(r, 20));
  const listeners = (workers[0] as unknown as { listeners: Map<string, Set<(e: Event) => void>> }).listeners;
  for (const l of listeners.get('messageerror') ?? []) l(new Event('messageerror'));
  await assert.rejects(run, (err: EngineError) => err.code === 'worker-crashed' && /messageerror/.test(err.message));
  engine.dispose();
});

test('init that never answers times out with a message that says what to do', async () => {
  const { workers, createWorker } = harness(() => ({ init: never }));
  const engine = new EngineClient({ createWorker, initTimeoutMs: 50 });
  await assert.rejects(engine.init(CONFIG), (err: EngineError) =>
    err.code === 'worker-crashed' && /did not start within 0 s/.test(err.message) && /npm start/.test(err.message) && err.message.includes(CONFIG.modelBaseUrl));
  assert.equal(workers[0].terminated, true, 'a hung worker is terminated');
  assert.equal(engine.state, 'failed');
  assert.equal(workers.length, 1, 'a timeout is not a load failure: no data: URL retry');
});

test('a blob: worker that dies before answering is retried once from a data: URL', async () => {
  const { workers, createWorker } = harness((rec) => ({
    init: async (c: EngineConfig) => {
      rec.inits.push(c);
      if (workers.length === 1) {
        setTimeout(() => workers[0].crash('Failed to load worker script'), 5);
        return never();
      }
      return CAPS;
    },
  }));
  const engine = new EngineClient({ createWorker });
  assert.deepEqual(await engine.init(CONFIG), CAPS);
  assert.deepEqual(workers.map((w) => w.kind), ['blob', 'data']);
  assert.equal(engine.workerUrlKind, 'data');
  engine.dispose();
});

test('hardCancel rejects the pending run with cancelled and starts a new worker', async () => {
  const { workers, createWorker } = harness(() => ({ run: never }));
  const engine = new EngineClient({ createWorker });
  await engine.init(CONFIG);
  const run = engine.run(JOB, () => {});
  await new Promise((r) => setTimeout(r, 20));
  engine.hardCancel();
  await assert.rejects(run, (err: EngineError) => err.code === 'cancelled' && /nothing was placed/.test(err.message));
  assert.equal(workers[0].terminated, true);
  assert.equal(workers.length, 2, 'a fresh worker was started');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(workers[1].inits, [CONFIG]);
  assert.equal(engine.state, 'ready');
  engine.dispose();
});

test('cancel() stops cooperatively when the engine honours it, without a new worker', async () => {
  let stop: ((err: unknown) => void) | undefined;
  const { workers, createWorker } = harness(() => ({
    run: () => new Promise((_, reject) => (stop = reject)),
    cancel: async () => stop?.(new Error('Job j1 was cancelled.')),
  }));
  const engine = new EngineClient({ createWorker, hardCancelAfterMs: 5_000 });
  await engine.init(CONFIG);
  const run = engine.run(JOB, () => {});
  const outcome = assert.rejects(run, (err: EngineError) => err.code === 'cancelled');
  await new Promise((r) => setTimeout(r, 20));
  await engine.cancel('j1');
  await outcome;
  assert.equal(workers.length, 1);
  assert.equal(workers[0].terminated, false);
  engine.dispose();
});

test('cancel() terminates the worker when the job ignores the cooperative cancel', async () => {
  const { workers, createWorker } = harness(() => ({ run: never, cancel: async () => {} }));
  const engine = new EngineClient({ createWorker, hardCancelAfterMs: 40 });
  await engine.init(CONFIG);
  const run = engine.run(JOB, () => {});
  const outcome = assert.rejects(run, (err: EngineError) => err.code === 'cancelled');
  await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  await engine.cancel('j1');
  assert.ok(Date.now() - t0 >= 35, 'waited for the cooperative cancel first');
  await outcome;
  assert.equal(workers[0].terminated, true);
  assert.equal(workers.length, 2);
  engine.dispose();
});

test('a soft cancel (superseded preview) never terminates the worker, however long the tile takes', async () => {
  const { workers, createWorker } = harness(() => ({ run: never, cancel: async () => {} }));
  const engine = new EngineClient({ createWorker, hardCancelAfterMs: 20 });
  await engine.init(CONFIG);
  const run = engine.run(JOB, () => {});
  run.catch(() => {});
  void engine.cancel('j1', { hard: false });
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(workers[0].terminated, false, 'the loaded models survive');
  assert.equal(workers.length, 1);
  engine.dispose();
});

test('errors from the worker keep their code when it crosses Comlink, else become run-failed', async () => {
  const { createWorker } = harness(() => ({
    models: async () => { throw { code: 'download-failed', message: 'Could not download esrgan: HTTP 404. Start the local server: npm start.' }; },
    tasks: async () => { throw new Error('boom'); },
    capabilities: async () => { throw toWireError(new FrontierError('hash-mismatch', 'The download of esrgan was corrupted: Clear model cache and retry.')); },
  }));
  const engine = new EngineClient({ createWorker });
  await engine.init(CONFIG);
  await assert.rejects(engine.models(), (err: EngineError) => err instanceof EngineError && err.code === 'download-failed' && /HTTP 404/.test(err.message));
  await assert.rejects(engine.tasks(), (err: EngineError) => err.code === 'run-failed' && err.message === 'boom');
  await assert.rejects(engine.capabilities(), (err: EngineError) => err.code === 'hash-mismatch' && /corrupted/.test(err.message));
  engine.dispose();
});

test('toEngineError ignores unknown codes and non-objects', () => {
  assert.equal(toEngineError({ code: 'EPERM', message: 'x' }).code, 'run-failed');
  assert.equal(toEngineError('plain').message, 'plain');
  assert.equal(toEngineError(Object.assign(new Error('m'), { code: 'hash-mismatch' })).code, 'hash-mismatch');
  assert.equal(toEngineError(toWireError(new FrontierError('download-failed', 'HTTP 404'))).code, 'download-failed', 'the engine\'s wire form');
  assert.equal(toEngineError(Object.assign(new Error('x'), { name: 'FrontierError:made-up' })).code, 'run-failed');
});

test('calls before init say that the engine is not started', async () => {
  const engine = new EngineClient({ createWorker: () => { throw new Error('no workers here'); } });
  await assert.rejects(engine.tasks(), (err: EngineError) => err.code === 'worker-crashed' && /not started/.test(err.message));
  await assert.rejects(engine.init(CONFIG), (err: EngineError) => /could not be created: no workers here/.test(err.message));
});
