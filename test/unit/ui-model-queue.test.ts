// The panel model's runs and queue without a browser (ui/model.ts with a fake host and engine that finish each job only
// when the test says): jobs queued while one runs keep their settings, run in order, go on after a failure and after a
// cancel (which stops only the running one), and a removed or cleared job never runs. Each step waits on a state (a
// job the engine was given), never on time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS } from '../../plugin/messages.ts';
import type { Job, JobResult } from '../../worker/job.ts';
import { TASKS } from '../../worker/tasks/index.ts';
import { taskInfo } from '../../worker/tasks/task.ts';
import type { EngineClient } from '../../ui/engine-client.ts';
import type { HostClient } from '../../ui/host-client.ts';
import { PanelModel } from '../../ui/model.ts';
import { defaults } from '../../ui/store/view.ts';

const generate = taskInfo(TASKS.find((t) => t.id === 'generate')!);

/** An engine whose jobs wait until the test finishes or fails them; cancel fails the job as the real one does. */
function fakeEngine() {
  const jobs: { job: Job; finish(): void; fail(err: unknown): void }[] = [];
  const engine = {
    state: 'ready',
    onState: () => () => undefined,
    models: async () => [],
    encodePng: async () => new Uint8Array([0x89, 0x50]),
    cancel: async (id: string) => jobs.find((j) => j.job.id === id)?.fail({ code: 'cancelled', message: 'Cancelled.' }),
    run: (job: Job) =>
      new Promise<JobResult>((resolve, reject) => {
        const meta = { task: job.task, model: 'styleswin', modelVariant: 'full' as const, params: job.params, target: 'wasm' as const, version: '0', runMs: 1 };
        jobs.push({ job, finish: () => resolve({ jobId: job.id, images: [{ width: 1, height: 1, data: new Uint8Array(4) }], meta }), fail: reject });
      }),
  };
  return { engine: engine as unknown as EngineClient, jobs };
}

function fakeHost() {
  const placed: { seed: unknown }[] = [];
  const host = {
    on: () => () => undefined,
    send: () => undefined,
    placeResult: async (req: { meta: { params: { seed?: unknown } } }) => {
      placed.push({ seed: req.meta.params.seed });
      return { nodeId: `5:${placed.length}` };
    },
  };
  return { host: host as unknown as HostClient, placed };
}

/** Waits (turn by turn of the event loop, no timer) until `ok()` holds. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (ok()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`never: ${what}`);
}

function setUp() {
  const { engine, jobs } = fakeEngine();
  const { host, placed } = fakeHost();
  const model = new PanelModel(host, engine);
  model.store.set({ hostInfo: { name: 'figma', version: 'test', maxImageEdge: 4096, video: false }, settings: DEFAULT_SETTINGS, tasks: [generate], taskId: 'generate', boot: { phase: 'ready' } });
  const job = (seed: number) => model.capture({ task: generate, params: { ...defaults(generate), seed }, modelId: '', target: 'auto', items: [], chosenClip: null, preview: null });
  return { model, jobs, placed, job };
}

test('queued jobs run in order with their own settings; a failure and a cancel go on to the next', async () => {
  const { model, jobs, placed, job } = setUp();
  model.submit(job(1));
  await until(() => jobs.length === 1, 'the first job reaches the engine');
  for (const seed of [2, 3, 4, 5]) model.submit(job(seed));
  assert.deepEqual(model.state.queue.map((j) => j.params.seed), [2, 3, 4, 5], 'queued while the first runs');
  model.removeQueued(model.state.queue[2].id); // seed 4
  assert.equal(model.state.running?.params.seed, 1);

  jobs[0].finish();
  await until(() => jobs.length === 2, 'the second job starts when the first ends');
  jobs[1].fail({ code: 'run-failed', message: 'Non-zero status code.' });
  await until(() => jobs.length === 3, 'a failure goes on to the next');
  assert.equal(model.state.problem?.code, 'run-failed', 'the failure stays in view while the next runs');
  model.cancel();
  await until(() => jobs.length === 4, 'Cancel stops the running job only');
  assert.equal(model.state.cancelling, false, 'the next job is not cancelled');
  jobs[3].finish();
  await until(() => model.state.running === null, 'all done');

  assert.deepEqual(jobs.map((j) => j.job.params.seed), [1, 2, 3, 5], 'in order; the removed one never ran');
  assert.deepEqual(placed.map((p) => p.seed), [1, 5], 'what the successful ones made was placed');
  assert.deepEqual(model.state.queue, []);
});

test('a job queued keeps its settings when the panel changes; Clear queue drops every queued job', async () => {
  const { model, jobs, job } = setUp();
  model.submit(job(1));
  await until(() => jobs.length === 1, 'the first job reaches the engine');
  const panelParams = { ...defaults(generate), seed: 2 };
  const items = [{ nodeId: '1:1', name: 'Cat', width: 8, height: 8, kind: 'image' as const }];
  model.submit(model.capture({ task: generate, params: panelParams, modelId: '', target: 'auto', items, chosenClip: null, preview: null }));
  panelParams.seed = 99; // the panel's objects change afterwards: the queued job has its own copies
  items.pop();
  model.setParams({ seed: 42 });
  assert.equal(model.state.queue[0].items.length, 1);
  assert.equal(model.state.queue[0].params.seed, 2);
  model.submit(job(3));
  model.clearQueue();
  jobs[0].finish();
  await until(() => model.state.running === null, 'the first job ends');
  assert.deepEqual(jobs.map((j) => j.job.params.seed), [1], 'nothing queued ran after Clear queue');
});
