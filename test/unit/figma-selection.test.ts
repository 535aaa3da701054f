// Selection summary and read-image of the Figma bridge, against the fake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { HostToUi, Message } from '../../plugin/messages.ts';
import { EMPTY_SELECTION_PROBLEM, summarizeSelection } from '../../plugin/figma/selection.ts';
import { readImageHeader } from '../../plugin/figma/bytes.ts';
import { fixtureBytes, startSession } from '../fakes/figma-harness.ts';
import { FakeFigma } from '../fakes/figma.ts';

type ImageMsg = Message<HostToUi, 'image'>;
type FailedMsg = Message<HostToUi, 'request-failed'>;
type SelectionMsg = Message<HostToUi, 'selection-changed'>;

test('an empty selection says what to select', async () => {
  const fake = new FakeFigma();
  const summary = await summarizeSelection(fake.figma);
  assert.deepEqual(summary.items, []);
  assert.equal(summary.problem, EMPTY_SELECTION_PROBLEM);
  assert.match(summary.problem!, /Select an image, frame or layer/);
});

test('unsupported nodes give a problem naming the node', async () => {
  const fake = new FakeFigma();
  const line = fake.addLine(fake.currentPageNode, 'Divider', { width: 200 });
  fake.select(line);
  let summary = await summarizeSelection(fake.figma);
  assert.equal(summary.items.length, 0);
  assert.match(summary.problem!, /"Divider" has no area/);

  const connector = fake.addConnector(fake.currentPageNode, 'Arrow', {});
  fake.select(connector);
  summary = await summarizeSelection(fake.figma);
  assert.match(summary.problem!, /"Arrow" is a connector/);

  const hidden = fake.addRectangle(fake.currentPageNode, 'Ghost', {});
  hidden.visible = false;
  fake.select(hidden, line);
  summary = await summarizeSelection(fake.figma);
  assert.match(summary.problem!, /None of the 2 selected layers.*"Ghost" is hidden/);
});

test('an image fill is read at its native resolution, bytes unchanged', async () => {
  const { fake, send } = startSession();
  const png = fixtureBytes('astronaut.png');
  // Shown at 128×128 on the canvas, stored at 512×512.
  const photo = fake.addImage(fake.currentPageNode, 'Astronaut', { x: 0, y: 0, width: 128, height: 128 }, png);
  fake.select(photo);
  const summary = await summarizeSelection(fake.figma);
  assert.deepEqual(summary.items, [{ nodeId: photo.id, name: 'Astronaut', width: 512, height: 512, kind: 'image' }]);

  const answer = fake.ui.waitFor<ImageMsg>('image');
  await send({ type: 'read-image', requestId: 'r1', nodeId: photo.id });
  const image = await answer;
  assert.equal(image.requestId, 'r1');
  assert.equal(image.nodeId, photo.id);
  assert.equal(image.mime, 'image/png');
  assert.deepEqual([image.width, image.height], [512, 512]);
  assert.deepEqual(image.bytes, png);
  assert.equal(fake.exports.length, 0, 'an image fill is not re-rendered');
});

test('a JPEG fill is sent as JPEG with its size from the header', async () => {
  const { fake, send } = startSession();
  const decoded = PNG.sync.read(Buffer.from(fixtureBytes('chelsea.png')));
  const jpg = new Uint8Array(jpeg.encode({ width: decoded.width, height: decoded.height, data: decoded.data }, 85).data);
  const photo = fake.addImage(fake.currentPageNode, 'Chelsea', { width: 90, height: 60 }, jpg);
  const answer = fake.ui.waitFor<ImageMsg>('image');
  await send({ type: 'read-image', requestId: 'j', nodeId: photo.id });
  const image = await answer;
  assert.equal(image.mime, 'image/jpeg');
  assert.deepEqual([image.width, image.height], [451, 300]);
  assert.deepEqual(image.bytes, jpg);
});

test('a frame is exported as PNG at scale 1', async () => {
  const { fake, send } = startSession();
  const frame = fake.addFrame(fake.currentPageNode, 'Card', { x: 50, y: 50, width: 300, height: 200 });
  fake.addRectangle(frame, 'inside', { width: 10, height: 10 });
  fake.select(frame);
  const summary = await summarizeSelection(fake.figma);
  assert.deepEqual(summary.items, [{ nodeId: frame.id, name: 'Card', width: 300, height: 200, kind: 'frame', video: true }]);
  const answer = fake.ui.waitFor<ImageMsg>('image');
  await send({ type: 'read-image', requestId: 'f', nodeId: frame.id });
  const image = await answer;
  assert.equal(image.mime, 'image/png');
  assert.deepEqual([image.width, image.height], [300, 200]);
  assert.deepEqual(readImageHeader(image.bytes), { mime: 'image/png', width: 300, height: 200 });
  assert.deepEqual(fake.exports.at(-1)!.settings, { format: 'PNG', constraint: { type: 'SCALE', value: 1 } });
});

test('a frame wider than 4096 px is exported to fit 4096 on its long edge', async () => {
  const { fake, send } = startSession();
  const wide = fake.addFrame(fake.currentPageNode, 'Banner', { width: 10000, height: 1000 });
  const tall = fake.addFrame(fake.currentPageNode, 'Scroll', { x: 20000, width: 500, height: 8192 });
  fake.select(wide, tall);
  const summary = await summarizeSelection(fake.figma);
  assert.deepEqual(
    summary.items.map((i) => [i.width, i.height]),
    [
      [4096, 410],
      [250, 4096],
    ],
  );
  const answer = fake.ui.waitFor<ImageMsg>('image');
  await send({ type: 'read-image', requestId: 'w', nodeId: wide.id });
  const image = await answer;
  assert.deepEqual([image.width, image.height], [4096, 410]);
  assert.ok(image.width <= 4096 && image.height <= 4096);
  assert.deepEqual(fake.exports.at(-1)!.settings, { format: 'PNG', constraint: { type: 'WIDTH', value: 4096 } });
});

test('several selected nodes give several items, unusable ones left out', async () => {
  const fake = new FakeFigma();
  const photo = fake.addImage(fake.currentPageNode, 'Cat', { width: 45, height: 30 }, fixtureBytes('chelsea.png'));
  const frame = fake.addFrame(fake.currentPageNode, 'Frame', { width: 64, height: 32 });
  const rect = fake.addRectangle(fake.currentPageNode, 'Shape', { width: 10.4, height: 20.6 });
  const slice = fake.addSlice(fake.currentPageNode, 'Export area', { width: 40, height: 40 });
  const line = fake.addLine(fake.currentPageNode, 'Line', { width: 40 });
  const group = fake.addGroup(fake.currentPageNode, 'Group', [fake.addRectangle(fake.currentPageNode, 'g1', { x: 5, y: 5, width: 10, height: 10 }), fake.addRectangle(fake.currentPageNode, 'g2', { x: 20, y: 10, width: 10, height: 10 })]);
  fake.select(photo, frame, rect, slice, line, group);
  const summary = await summarizeSelection(fake.figma);
  assert.equal(summary.problem, undefined);
  assert.deepEqual(
    summary.items.map((i) => [i.name, i.kind, i.width, i.height]),
    [
      ['Cat', 'image', 451, 300],
      ['Frame', 'frame', 64, 32],
      ['Shape', 'layer', 10, 21],
      ['Export area', 'region', 40, 40],
      ['Group', 'layer', 25, 15],
    ],
  );
});

test('selection changes are posted to the UI', async () => {
  const { fake } = startSession();
  const frame = fake.addFrame(fake.currentPageNode, 'Frame', { width: 64, height: 32 });
  const next = fake.ui.waitFor<SelectionMsg>('selection-changed');
  fake.select(frame);
  const msg = await next;
  assert.deepEqual(msg.selection.items.map((i) => i.nodeId), [frame.id]);
  const cleared = fake.ui.waitFor<SelectionMsg>('selection-changed');
  fake.select();
  assert.equal((await cleared).selection.problem, EMPTY_SELECTION_PROBLEM);
});

test('read-image of a deleted node fails with a message saying what to do', async () => {
  const { fake, send } = startSession();
  const rect = fake.addRectangle(fake.currentPageNode, 'Gone', {});
  fake.deleteNode(rect);
  const failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await send({ type: 'read-image', requestId: 'g', nodeId: rect.id });
  const msg = await failed;
  assert.equal(msg.requestId, 'g');
  assert.match(msg.message, /no longer in the document.*Select it again/);

  const failedUnknown = fake.ui.waitFor<FailedMsg>('request-failed');
  await send({ type: 'read-image', requestId: 'u', nodeId: '999:999' });
  assert.equal((await failedUnknown).requestId, 'u');
});

test('read-image of an unreadable node fails with the selection problem', async () => {
  const { fake, send } = startSession();
  const line = fake.addLine(fake.currentPageNode, 'Rule', { width: 100 });
  const failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await send({ type: 'read-image', requestId: 'l', nodeId: line.id });
  assert.match((await failed).message, /"Rule" has no area/);
});

test('a GIF fill, which the UI cannot take as is, is rendered to PNG at the image width', async () => {
  const { fake, send } = startSession();
  const gif = new Uint8Array([...Buffer.from('GIF89a'), 30, 0, 20, 0, 0, 0, 0, 0x3b]);
  const node = fake.addImage(fake.currentPageNode, 'Anim', { width: 90, height: 60 }, gif);
  const answer = fake.ui.waitFor<ImageMsg>('image');
  await send({ type: 'read-image', requestId: 'gif', nodeId: node.id });
  const image = await answer;
  assert.equal(image.mime, 'image/png');
  assert.deepEqual([image.width, image.height], [30, 20]);
  assert.deepEqual(fake.exports.at(-1)!.settings, { format: 'PNG', constraint: { type: 'WIDTH', value: 30 } });
});

test('a Frontier result carries its stored meta in the selection (so it can be varied or turned); foreign pluginData does not', async () => {
  const { fake } = startSession();
  const png = fixtureBytes('chelsea.png');
  const made = fake.addImage(fake.currentPageNode, 'Generated', { width: 451, height: 300 }, png);
  const meta = { task: 'generate', model: 'styleswin-ffhq-256-tiny', modelVariant: 'tiny', params: { seed: 7 }, seed: 7, target: 'wasm', version: '0.1.0', runMs: 5, latent: 'AAAA' };
  made.setPluginData('frontier', JSON.stringify(meta));
  const other = fake.addImage(fake.currentPageNode, 'Other', { x: 500, width: 451, height: 300 }, png);
  other.setPluginData('frontier', '{"not":"ours"}');
  fake.select(made, other);
  const { items } = await summarizeSelection(fake.figma);
  assert.deepEqual(items.find((i) => i.nodeId === made.id)?.meta, meta);
  assert.equal(items.find((i) => i.nodeId === other.id)?.meta, undefined);
});
