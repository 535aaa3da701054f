// The fake must enforce Figma's rules, or the bridge tests prove nothing. Each rule is checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { FakeFigma, plainDataProblem, syntheticPng } from '../fakes/figma.ts';
import { fixtureBytes } from '../fakes/figma-harness.ts';

test('createImage takes PNG, JPEG and GIF and reads the real size from the bytes', async () => {
  const fake = new FakeFigma();
  const png = fixtureBytes('chelsea.png');
  const image = fake.figma.createImage(png);
  assert.deepEqual(await image.getSizeAsync(), { width: 451, height: 300 });
  assert.deepEqual(await fake.figma.getImageByHash(image.hash)!.getBytesAsync(), png);

  const decoded = PNG.sync.read(Buffer.from(png));
  const jpg = new Uint8Array(jpeg.encode({ width: decoded.width, height: decoded.height, data: decoded.data }, 80).data);
  assert.deepEqual(await fake.figma.createImage(jpg).getSizeAsync(), { width: 451, height: 300 });

  const gif = new Uint8Array([...Buffer.from('GIF89a'), 3, 0, 2, 0, 0, 0, 0, 0x3b]);
  assert.deepEqual(await fake.figma.createImage(gif).getSizeAsync(), { width: 3, height: 2 });
});

test('createImage rejects other bytes and images over 4096 px per edge', () => {
  const fake = new FakeFigma();
  assert.throws(() => fake.figma.createImage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), /unsupported/);
  assert.throws(() => fake.figma.createImage(new Uint8Array(Buffer.from('<svg></svg>'))), /unsupported/);
  assert.throws(() => fake.figma.createImage(syntheticPng(4097, 1)), /Image is too large/);
  assert.throws(() => fake.figma.createImage(syntheticPng(1, 4097)), /Image is too large/);
  assert.doesNotThrow(() => fake.figma.createImage(syntheticPng(4096, 1)));
});

test('fills are frozen: changing a paint in place throws, assigning a copy works', () => {
  const fake = new FakeFigma();
  const rect = fake.addImage(fake.currentPageNode, 'photo', { width: 10, height: 10 }, fixtureBytes('chelsea.png'));
  assert.throws(() => {
    (rect.fills[0] as { visible: boolean }).visible = false;
  }, TypeError);
  assert.throws(() => (rect.fills as Paint[]).push(rect.fills[0]), TypeError);
  rect.fills = [{ ...rect.fills[0], visible: false }];
  assert.equal(rect.fills[0].visible, false);
  assert.throws(() => (rect.fills = [{ type: 'IMAGE', imageHash: 'f'.repeat(40), scaleMode: 'FILL' }]), /not an image in this file/);
  assert.throws(() => (rect.fills = [{ ...rect.fills[0], bogus: 1 } as unknown as Paint]), /unknown property "bogus"/);
});

test('dynamic-page: synchronous lookups and the currentPage setter throw', async () => {
  const fake = new FakeFigma();
  const api = fake.figma as unknown as PluginAPI;
  const rect = fake.addRectangle(fake.currentPageNode, 'r', {});
  assert.throws(() => api.getNodeById(rect.id), /getNodeByIdAsync/);
  assert.throws(() => {
    api.currentPage = fake.addPage('Other') as unknown as PageNode;
  }, /setCurrentPageAsync/);
  assert.equal(await api.getNodeByIdAsync(rect.id), rect);
  fake.deleteNode(rect);
  assert.equal(await api.getNodeByIdAsync(rect.id), null);
});

test('clientStorage keeps plain data only, returns copies and refuses more than 5 MB', async () => {
  const { clientStorage } = new FakeFigma().figma;
  const value = { a: [1, 'two', { three: true }] };
  await clientStorage.setAsync('k', value);
  const back = await clientStorage.getAsync('k');
  assert.deepEqual(back, value);
  assert.notEqual(back, value);
  assert.equal(await clientStorage.getAsync('missing'), undefined);
  await assert.rejects(clientStorage.setAsync('f', { f: () => 1 }), /function/);
  await assert.rejects(clientStorage.setAsync('m', new Map()), /Map/);
  await clientStorage.setAsync('big', 'x'.repeat(4 * 1024 * 1024));
  await assert.rejects(clientStorage.setAsync('more', 'y'.repeat(1024 * 1024 + 1)), /5 MB/);
  await clientStorage.setAsync('big', 'x'); // replacing an entry frees its space
  await clientStorage.setAsync('more', 'y'.repeat(1024 * 1024 + 1));
});

test('setPluginData takes strings of at most 100 kB', () => {
  const fake = new FakeFigma();
  const rect = fake.addRectangle(fake.currentPageNode, 'r', {});
  rect.setPluginData('frontier', '{"a":1}');
  assert.equal(rect.getPluginData('frontier'), '{"a":1}');
  assert.throws(() => rect.setPluginData('frontier', 'x'.repeat(100_000)), /100 kB/);
  assert.throws(() => rect.setPluginData('frontier', { a: 1 } as unknown as string), /strings/);
});

test('ui.postMessage carries plain data and Uint8Array only, and needs an open UI', () => {
  const fake = new FakeFigma();
  assert.throws(() => fake.figma.ui.postMessage({ type: 'x' }), /no UI is open/);
  fake.figma.showUI('<p></p>');
  fake.figma.ui.postMessage({ type: 'ok', bytes: new Uint8Array([1, 2]), nested: [{ d: new Date(0), n: null }] });
  assert.deepEqual(fake.ui.sent[0], { type: 'ok', bytes: new Uint8Array([1, 2]), nested: [{ d: new Date(0), n: null }] });
  for (const bad of [new ArrayBuffer(2), new Uint16Array(2), new Float32Array(1), Buffer.from('a'), () => 1, new Map(), new Blob(['a']), new (class Thing {})()]) {
    assert.throws(() => fake.figma.ui.postMessage({ type: 'bad', deep: [{ value: bad }] }), /cannot send/, String(bad));
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.match(plainDataProblem(cyclic) ?? '', /circular/);
  assert.equal(fake.ui.sent.length, 1);
});

test('notify shows at most 100 characters', () => {
  const fake = new FakeFigma();
  fake.figma.notify('x'.repeat(150), { error: true });
  assert.equal(fake.notifications[0].message.length, 100);
  assert.equal(fake.notifications[0].requested.length, 150);
  assert.equal(fake.notifications[0].error, true);
});

test('undo: commitUndo closes a step and triggerUndo reverts exactly that step', async () => {
  const fake = new FakeFigma();
  const api = fake.figma as unknown as PluginAPI;
  const first = api.createRectangle();
  first.name = 'first';
  api.commitUndo();
  const second = api.createRectangle();
  second.x = 300;
  second.setPluginData('k', 'v');
  api.commitUndo();
  assert.equal(fake.history.stepCount, 2);
  api.triggerUndo();
  assert.equal(second.removed, true);
  assert.equal(await api.getNodeByIdAsync(second.id), null);
  assert.equal(first.removed, false);
  assert.deepEqual(fake.currentPageNode.children.map((n) => n.name), ['first']);
  api.triggerUndo();
  assert.equal(first.removed, true);
  assert.equal(fake.currentPageNode.children.length, 0);
});

test('exportAsync renders a PNG of the node size times the constraint', async () => {
  const fake = new FakeFigma();
  const frame = fake.addFrame(fake.currentPageNode, 'f', { width: 200, height: 100 });
  const at2 = PNG.sync.read(Buffer.from(await frame.exportAsync({ format: 'PNG', constraint: { type: 'SCALE', value: 2 } })));
  assert.deepEqual([at2.width, at2.height], [400, 200]);
  const byHeight = PNG.sync.read(Buffer.from(await frame.exportAsync({ format: 'PNG', constraint: { type: 'HEIGHT', value: 50 } })));
  assert.deepEqual([byHeight.width, byHeight.height], [100, 50]);
});

test('selectionchange fires asynchronously, once for several changes', async () => {
  const fake = new FakeFigma();
  let calls = 0;
  fake.figma.on('selectionchange', () => calls++);
  const a = fake.addRectangle(fake.currentPageNode, 'a', {});
  const b = fake.addRectangle(fake.currentPageNode, 'b', {});
  fake.select(a);
  fake.select(b);
  assert.equal(calls, 0);
  await fake.settle();
  assert.equal(calls, 1);
});
