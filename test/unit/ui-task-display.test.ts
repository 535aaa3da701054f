// Issue 14 (task facts leak out of the task table): the UI speaks of a task in the words of its row (TaskDisplay, the
// params' widget hints), not from tables keyed by task id. A made-up task row, never seen by the UI, gets its progress
// line, its Results words and its placed name from its own facts, after crossing a bridge as JSON; a row without
// facts is said plainly; every real row's facts name params it has. Its widgets, and the whole UI with such a row, are
// checked in Chromium by test/unit/ui-task-row.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatedName, runBatch, type BatchDeps, type BatchRequest } from '../../ui/batch.ts';
import { stageText, taskDisplay } from '../../ui/format.ts';
import { resultWords } from '../../ui/history.ts';
import type { JobResult, Progress } from '../../worker/job.ts';
import { TASKS } from '../../worker/tasks/index.ts';
import { taskInfo, type TaskInfo } from '../../worker/tasks/task.ts';
import { SKETCH } from './made-up-task.ts';

/** As the UI gets it: through taskInfo and a JSON bridge (Comlink, the Photoshop webview). */
const sketch: TaskInfo = JSON.parse(JSON.stringify(taskInfo(SKETCH)));

test('a made-up row crosses the bridge with its facts', () => {
  assert.deepEqual(sketch.display, SKETCH.display);
  assert.deepEqual(sketch.params.map((p) => ('widget' in p ? p.widget : undefined)), ['prompt', undefined, undefined, 'seed']);
  assert.deepEqual(taskDisplay(sketch), SKETCH.display);
});

test('its progress line, Results words and placed name come from its row', () => {
  assert.equal(stageText({ stage: 'run', done: 2, total: 5 }, sketch), 'Sketching step 3 / 5');
  assert.equal(stageText({ stage: 'run', done: 0, total: 1 }, sketch), 'Sketching');
  assert.equal(stageText({ stage: 'load', done: 0, total: 1 }, sketch), 'Loading model');
  assert.equal(resultWords(sketch, { idea: 'a paper boat on a pond', style: 'charcoal', lines: 8, luck: 3 }), 'Charcoal lines 8 · “a paper boat on a pond”');
  const meta = { task: 'sketch', model: 'm', modelVariant: 'full', params: { idea: 'a boat' }, seed: 3, target: 'wasm', version: '0', runMs: 1 } as const;
  assert.equal(generatedName(sketch, meta, 'StyleSwin'), 'Sketch · StyleSwin', 'seedInName false: no seed in the name');
});

test('the batch reports a made-up task’s run in its words', async () => {
  const texts: string[] = [];
  const deps: BatchDeps = {
    host: {
      readImage: async () => { throw new Error('no read'); },
      placeResult: async () => ({ type: 'placed', requestId: 'r', nodeId: 'n' }),
      readVideo: async () => { throw new Error('no video'); },
      placeVideo: async () => { throw new Error('no video'); },
    },
    engine: {
      decode: async () => { throw new Error('no decode'); },
      encodePng: async () => new Uint8Array([0x89]),
      run: async (job, onProgress: (p: Progress) => void): Promise<JobResult> => {
        onProgress({ jobId: job.id, stage: 'run', done: 1, total: 4 });
        return { jobId: job.id, images: [{ width: 1, height: 1, data: new Uint8Array(4) }], meta: { task: 'sketch', model: 'm', modelVariant: 'full', params: {}, target: 'wasm', version: '0', runMs: 1 } };
      },
    },
  };
  const req: BatchRequest = { task: sketch, params: {}, target: 'auto', placeMode: 'beside', items: [], modelLabel: () => 'M' };
  await runBatch(deps, req, { onProgress: (p) => texts.push(p.text), onJob: () => {}, onResult: () => {}, isCancelled: () => false });
  assert.ok(texts.includes('Sketching step 2 / 4'), texts.join('\n'));
});

test('a row without facts is said plainly: no UI table fills them in', () => {
  const plain: TaskInfo = { ...sketch, id: 'novel', label: 'Novel task', display: undefined };
  assert.deepEqual(taskDisplay(plain), {});
  assert.equal(stageText({ stage: 'run', done: 0, total: 3 }, plain), 'Running Novel task step 1 / 3');
  assert.equal(resultWords(plain, { idea: 'x', style: 'ink' }), 'Novel task');
});

test('every task’s display facts name params it has', () => {
  for (const t of TASKS) {
    const names = new Set(t.params.map((p) => p.name));
    assert.ok(t.display?.progress, `${t.id} has progress words`);
    for (const main of t.display?.mainParams ?? []) {
      const name = typeof main === 'string' ? main : main.name;
      assert.ok(names.has(name), `${t.id}: main param ${name} is not one of its params`);
    }
    for (const name of t.display?.preview?.params ?? []) assert.ok(names.has(name), `${t.id}: preview param ${name} is not one of its params`);
    // A view preview renders `size` and one frame (view-preview.ts): the task must have both.
    if (t.display?.preview?.kind === 'view') assert.ok(names.has('size') && names.has('frames'), `${t.id}: a view preview needs size and frames`);
    if (t.inputs.includes('video')) assert.ok(t.display?.clipWord, `${t.id}: a video task says what its clip is`);
  }
});
