// The panel's model without a browser (issue 14, structure): the store hands changes to its readers and keeps the
// identity of the fields a change does not name (so memoised views do not recompute on each progress report); the
// view's derivations (settings per task, items a task takes, what blocks Run) and the queue's own logic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SelectedItem, SelectionSummary } from '../../plugin/messages.ts';
import type { ModelStatus } from '../../worker/engine-api.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { TASKS } from '../../worker/tasks/index.ts';
import { taskInfo } from '../../worker/tasks/task.ts';
import { Store } from '../../ui/store/store.ts';
import { blockerFor, itemsFor, leftOutFor, paramsFor, runLabel, targetFor, taskKind, type BlockerFacts } from '../../ui/store/view.ts';
import { itemsWords, jobDetails, jobLine, queued, takeNext, withoutJob, type JobSpec } from '../../ui/queue.ts';
import { DEFAULT_SETTINGS } from '../../plugin/messages.ts';

const task = (id: string) => taskInfo(TASKS.find((t) => t.id === id)!);
const image = (nodeId: string, extra: Partial<SelectedItem> = {}): SelectedItem => ({ nodeId, name: `Image ${nodeId}`, width: 64, height: 64, kind: 'image', ...extra });

test('the store: readers get each change; fields a change does not name keep their identity', () => {
  const store = new Store({ a: { n: 1 }, b: { n: 2 } });
  const seen: number[] = [];
  const off = store.subscribe((s) => seen.push(s.a.n));
  const b = store.state.b;
  store.set({ a: { n: 3 } });
  store.set((s) => ({ a: { n: s.a.n + 1 } }));
  assert.deepEqual(seen, [3, 4]);
  assert.equal(store.state.b, b, 'b was not named: the same object');
  off();
  store.set({ a: { n: 9 } });
  assert.deepEqual(seen, [3, 4], 'no reader after unsubscribing');
});

test('settings per task: defaults, then the last run’s that still fit, then what was changed here', () => {
  const upscale = task('upscale');
  const base = paramsFor(upscale, {}, undefined);
  assert.equal(base.scale, upscale.params.find((p) => p.name === 'scale')!.default);
  const saved = { upscale: { scale: 4, quality: 'no-such-quality' } };
  const fromSaved = paramsFor(upscale, {}, saved);
  assert.equal(fromSaved.scale, 4, 'a saved scale that fits is kept');
  assert.equal(fromSaved.quality, base.quality, 'a saved value that no longer fits falls back to the default');
  assert.equal(paramsFor(upscale, { upscale: { scale: 2 } }, saved).scale, 2, 'a change here wins over the saved one');
  assert.deepEqual(paramsFor(undefined, {}, saved), {});
});

test('"Run on" is per task, the general setting otherwise', () => {
  const settings = { ...DEFAULT_SETTINGS, target: 'auto' as const, targets: { restore: 'wasm' as const } };
  assert.equal(targetFor(settings, 'restore'), 'wasm');
  assert.equal(targetFor(settings, 'upscale'), 'auto');
});

test('the items a task takes from the selection', () => {
  const clip = image('6:1', { kind: 'video', video: true });
  const marked = image('4:1', { mask: { label: 'Dragged region' } });
  const generated = image('3:1', { meta: { task: 'generate', model: 'styleswin', modelVariant: 'full', params: {}, latent: 'AAAA', target: 'wasm', version: '0', runMs: 1 } });
  const selection: SelectionSummary = { items: [image('1:1'), clip, marked, generated] };
  const styleswin = [{ card: { id: 'styleswin' } as ModelCard, cached: true, cachedBytes: 0, loaded: false }] as ModelStatus[];
  const ids = (id: string, models: ModelStatus[] = []) => itemsFor(selection, taskKind(task(id)), models, null).map((it) => it.nodeId);
  assert.deepEqual(ids('upscale'), ['1:1', '4:1', '3:1'], 'image tasks: every image, no clip');
  assert.deepEqual(ids('upscale-video'), ['6:1'], 'video tasks: the clips');
  assert.deepEqual(ids('inpaint'), ['4:1'], 'inpaint: images with a marked region');
  assert.deepEqual(ids('vary', styleswin), ['3:1'], 'a generator: results of its own models');
  assert.deepEqual(ids('vary'), [], '…and none when the model that made them is not the task’s');
});

test('what keeps Run from starting, in words that say what to do', () => {
  const upscale = task('upscale');
  const facts = (over: Partial<BlockerFacts>): BlockerFacts => ({
    ready: true, task: upscale, params: paramsFor(upscale, {}, undefined), kind: taskKind(upscale), items: [image('1:1')],
    selection: { items: [image('1:1')] }, hostInfo: null, fit: undefined, targetStatus: { ok: true, text: 'On this computer' }, ...over,
  });
  assert.equal(blockerFor(facts({})), null);
  assert.equal(blockerFor(facts({ ready: false })), 'The engine is not ready.');
  assert.equal(blockerFor(facts({ items: [], selection: { items: [] } })), 'Select an image first.');
  assert.equal(blockerFor(facts({ targetStatus: { ok: false, text: 'The graphics card is not available here.' } })), 'The graphics card is not available here.');
  const t2i = task('text-to-image');
  assert.match(blockerFor(facts({ task: t2i, kind: taskKind(t2i), params: { ...paramsFor(t2i, {}, undefined), prompt: '   ' } }))!, /^Type a prompt first/);
  const inpaint = task('inpaint');
  assert.match(blockerFor(facts({ task: inpaint, kind: taskKind(inpaint), items: [] }))!, /^Mark what to fill/);
});

test('Rotate view says when what is selected is not one of its results', () => {
  const rotate = task('rotate-view');
  const kind = taskKind(rotate);
  assert.match(leftOutFor(rotate, kind, { items: [image('1:1')] }, [])!, /“Image 1:1” is not .* leaves it out/);
  assert.equal(leftOutFor(rotate, kind, { items: [] }, []), null);
});

test('the primary button’s words', () => {
  assert.equal(runLabel(task('upscale'), 1, 4), 'Upscale ×4');
  assert.equal(runLabel(task('upscale'), 2, 2), 'Upscale ×2 · 2 items');
  assert.equal(runLabel(undefined, 0, undefined), 'Run');
});

function job(id: number, over: Partial<JobSpec> = {}): JobSpec {
  return { id, task: task('upscale'), params: { scale: 4, quality: 'best' }, modelId: '', target: 'auto', items: [image('1:1'), image('1:2')], chosenClip: null, preview: null, ...over };
}

test('the queue: in order, one taken out, the next taken first', () => {
  let list = queued(queued(queued([], job(1)), job(2)), job(3));
  list = withoutJob(list, 2);
  assert.deepEqual(list.map((j) => j.id), [1, 3]);
  const { next, rest } = takeNext(list);
  assert.equal(next?.id, 1);
  assert.deepEqual(rest.map((j) => j.id), [3]);
  assert.equal(takeNext([]).next, undefined);
});

test('a queued job’s line and details, in designers’ words', () => {
  assert.equal(jobLine(job(1)), 'Upscale ×4 · Best — 2 images');
  assert.equal(jobLine(job(1, { task: task('restore'), params: { mode: 'derain' }, items: [image('1:1')] })), 'Remove rain — 1 image');
  assert.equal(itemsWords(job(1, { task: task('upscale-video'), items: [image('6:1', { kind: 'video', video: true })] })), '1 clip');
  assert.equal(jobLine(job(1, { task: task('generate'), params: {}, items: [] })), 'Generate');
  assert.equal(jobDetails(job(1, { modelId: 'esrgan-thick-x4', target: 'server' }), (id) => (id === 'esrgan-thick-x4' ? 'ESRGAN thick' : id)),
    'Image 1:1, Image 1:2 · ESRGAN thick · on the Frontier server');
  assert.equal(jobDetails(job(1, { target: 'wasm' }), (id) => id), 'Image 1:1, Image 1:2 · Automatic model · on this computer');
});
