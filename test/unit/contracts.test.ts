// The contracts: the host bridge message table and task params (defaults, bounds, clear errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostMessage, checkUiMessage, largestFittingScale, DEFAULT_SETTINGS } from '../../plugin/messages.ts';
import { resolveParams } from '../../worker/tasks/task.ts';
import { TASKS, findTask } from '../../worker/tasks/index.ts';
import { fromWireError, toWireError, FrontierError } from '../../worker/job.ts';
import registry from '../../models/registry.json' with { type: 'json' };
import type { Registry } from '../../worker/models/card.ts';

test('valid bridge messages pass, malformed ones say what is wrong', () => {
  assert.equal(checkUiMessage({ type: 'ui-ready' }), null);
  assert.equal(checkUiMessage({ type: 'read-image', requestId: 'r1', nodeId: '1:2' }), null);
  assert.match(checkUiMessage({ type: 'read-image', requestId: 'r1' })!, /nodeId must be string/);
  assert.match(checkUiMessage({ type: 'nope' })!, /unknown message type/);
  assert.match(checkUiMessage(null)!, /not an object/);
  const place = { type: 'place-result', requestId: 'r', sourceNodeId: '1:2', png: new Uint8Array(4), width: 1, height: 1, name: 'x', mode: 'beside', meta: {} };
  assert.equal(checkUiMessage(place), null);
  // ArrayBuffer is not Uint8Array: Figma's bridge would not carry it.
  assert.match(checkUiMessage({ ...place, png: new ArrayBuffer(4) })!, /png must be bytes/);
  assert.equal(checkHostMessage({ type: 'init', host: {}, settings: DEFAULT_SETTINGS, selection: { items: [] } }), null);
  assert.match(checkHostMessage({ type: 'image', requestId: 'r', nodeId: 'n', bytes: [1, 2], mime: 'image/png', width: 1, height: 1 })!, /bytes must be bytes/);
  // place-video's source is optional (a clip chosen from a file has none), but a given one must be a string.
  const video = { type: 'place-video', requestId: 'r', bytes: new Uint8Array(4), mime: 'video/mp4', width: 1, height: 1, name: 'x', meta: {} };
  assert.equal(checkUiMessage(video), null);
  assert.equal(checkUiMessage({ ...video, sourceNodeId: '1:2' }), null);
  assert.match(checkUiMessage({ ...video, sourceNodeId: 7 })!, /place-video\.sourceNodeId must be string when given/);
  assert.match(checkUiMessage({ ...video, bytes: undefined })!, /place-video\.bytes must be bytes/);
});

test('largestFittingScale respects the 4096 px limit', () => {
  assert.equal(largestFittingScale(1000, 800, [2, 3, 4]), 4);
  assert.equal(largestFittingScale(1200, 800, [2, 3, 4]), 3);
  assert.equal(largestFittingScale(2049, 10, [2, 3, 4]), 0);
});

test('params get defaults, are bounded, and unknown ones are refused', () => {
  const upscale = findTask('upscale')!;
  assert.deepEqual(resolveParams(upscale, {}), { scale: 4, quality: 'best' });
  assert.deepEqual(resolveParams(upscale, { scale: '2', quality: 'fast' }), { scale: 2, quality: 'fast' });
  assert.throws(() => resolveParams(upscale, { scale: 5 }), /Scale must be one of 2, 3, 4 \(got 5\)/);
  assert.throws(() => resolveParams(upscale, { sclae: 2 }), /Unknown parameter sclae/);
});

test('every task default model exists in the registry with the task and scale it promises', () => {
  const reg = registry as Registry;
  for (const task of TASKS) {
    const scaleSpec = task.params.find((p) => p.name === 'scale');
    const qualitySpec = task.params.find((p) => p.name === 'quality');
    for (const scale of scaleSpec?.type === 'choice' ? scaleSpec.choices.map((c) => c.value) : [undefined]) {
      for (const quality of qualitySpec?.type === 'choice' ? qualitySpec.choices.map((c) => c.value) : [undefined]) {
        const params = resolveParams(task, { ...(scale ? { scale } : {}), ...(quality ? { quality } : {}) });
        // As the engine calls it: the registry's cards for the task, full ones first.
        const available = reg.models.filter((m) => m.task === (task.modelTask ?? task.id) && (!task.modelRole || m.role === task.modelRole)).sort((a, b) => Number(a.variant === 'tiny') - Number(b.variant === 'tiny'));
        const id = task.defaultModel(params, available);
        const card = reg.models.find((m) => m.id === id);
        assert.ok(card, `${task.id} default ${id} missing from registry`);
        assert.equal(card.task, task.modelTask ?? task.id);
        assert.doesNotThrow(() => task.checkModel?.(card, params));
      }
    }
  }
});

test('registry cards are complete: content-addressed names, sha256, sizes, io', () => {
  const reg = registry as Registry;
  assert.equal(reg.version, 1);
  const ids = new Set<string>();
  for (const m of reg.models) {
    assert.ok(!ids.has(m.id), `duplicate id ${m.id}`);
    ids.add(m.id);
    assert.ok(['full', 'tiny'].includes(m.variant));
    assert.ok(m.files.length > 0);
    for (const f of m.files) {
      assert.match(f.sha256, /^[0-9a-f]{64}$/);
      assert.ok(f.name.includes(f.sha256.slice(0, 16)), `${f.name} is not content-addressed`);
      assert.ok(f.bytes > 0);
    }
    assert.ok(m.io.inputs.length && m.io.outputs.length && m.io.tile.size > m.io.tile.overlap);
    assert.ok(m.license && m.source.checkpoint);
  }
});

test('error codes survive the Comlink wire format', () => {
  const back = fromWireError(toWireError(new FrontierError('hash-mismatch', 'bad file')));
  assert.equal(back.code, 'hash-mismatch');
  assert.equal(back.message, 'bad file');
  assert.equal(fromWireError(new Error('plain')).code, 'run-failed');
});
