// The Results list's state (ui/history.ts) without a browser: designer words for each task's main settings, newest
// first and bounded, Removed following check-nodes both ways (Undo, then Redo), and what an entry keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ItemResult } from '../../ui/batch.ts';
import { entryFor, HISTORY_LIMIT, resultWords, withEntry, withPresence, type HistoryEntry } from '../../ui/history.ts';
import { TASKS } from '../../worker/tasks/index.ts';
import { taskInfo } from '../../worker/tasks/task.ts';

const task = (id: string) => taskInfo(TASKS.find((t) => t.id === id)!);

test('designer words: the task and its main settings', () => {
  assert.equal(resultWords(task('upscale'), { scale: 4, quality: 'best' }), 'Upscale ×4 · Best');
  assert.equal(resultWords(task('restore'), { mode: 'derain' }), 'Remove rain');
  assert.equal(resultWords(task('upscale-video'), { scale: 2, quality: 'fast' }), 'Upscale video ×2 · Fast');
  assert.equal(resultWords(task('text-to-image'), { prompt: 'a red kite over a grey winter sea at dawn', steps: 50 }), 'Text to image · “a red kite over a grey…”');
  assert.equal(resultWords(task('rotate-view'), { yaw: 20, pitch: -5 }), 'Rotate view (3D) · yaw 20° · pitch -5°');
  assert.equal(resultWords(task('inpaint'), { feather: 8 }), 'Inpaint');
});

function result(nodeId: string | null): ItemResult {
  return {
    item: { nodeId: '1:1', name: 'Cat', width: 8, height: 8, kind: 'image' }, png: new Uint8Array(1000), width: 16, height: 16, name: 'r',
    placedNodeId: nodeId, ms: 1500, meta: { task: 'upscale', model: 'm', modelVariant: 'full', params: {}, target: 'server', version: '0', runMs: 1 },
  };
}

test('an entry keeps words, where, time and the run’s settings, not the result’s pixels', () => {
  const params = { scale: 2, quality: 'best' };
  const e = entryFor(1, result('5:1'), task('upscale'), params, 'esrgan-thick', 1000);
  params.scale = 4; // the UI's params move on; the entry keeps the run's
  assert.deepEqual(e, { id: 1, nodeId: '5:1', words: 'Upscale ×2 · Best', where: 'the server', ms: 1500, at: 1000, video: false, taskId: 'upscale', params: { scale: 2, quality: 'best' }, model: 'esrgan-thick', removed: false });
  assert.equal(entryFor(2, result(null), task('upscale'), params, '').model, undefined, 'Automatic is no model');
});

test('newest first, at most HISTORY_LIMIT; Removed follows check-nodes both ways', () => {
  let list: HistoryEntry[] = [];
  for (let i = 1; i <= HISTORY_LIMIT + 5; i++) list = withEntry(list, entryFor(i, result(`5:${i}`), task('upscale'), {}, ''));
  assert.equal(list.length, HISTORY_LIMIT);
  assert.deepEqual([list[0].id, list.at(-1)!.id], [HISTORY_LIMIT + 5, 6]);
  const asked = list.map((e) => e.nodeId!);
  const undone = withPresence(list, asked, asked.slice(1));
  assert.deepEqual(undone.filter((e) => e.removed).map((e) => e.id), [HISTORY_LIMIT + 5]);
  assert.equal(withPresence(undone, asked, asked.slice(1)), undone, 'no change, the same list');
  assert.equal(withPresence(undone, ['5:999'], []), undone, 'entries not asked about are left as they are');
  assert.deepEqual(withPresence(undone, asked, asked).filter((e) => e.removed), [], 'Redo brings it back');
});
