// place-result of the Figma bridge: never destroys the original, one undo step, Figma's size limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostToUi, Message, PlaceMode } from '../../plugin/messages.ts';
import type { ResultMeta } from '../../worker/job.ts';
import { PLUGIN_DATA_KEY, RESULT_GAP } from '../../plugin/figma/place.ts';
import { fixtureBytes, startSession, type Session } from '../fakes/figma-harness.ts';
import { syntheticPng, type FakeRectangle, type FakeSceneNode } from '../fakes/figma.ts';

type PlacedMsg = Message<HostToUi, 'placed'>;
type FailedMsg = Message<HostToUi, 'request-failed'>;

const META: ResultMeta = {
  task: 'upscale',
  model: 'esrgan-slim-x2',
  modelVariant: 'full',
  params: { scale: 2, tile: 128, denoise: true },
  seed: 7,
  target: 'wasm',
  version: '0.1.0',
  runMs: 1234,
};

function placeMessage(sourceNodeId: string, width: number, height: number, mode: PlaceMode = 'beside', requestId = 'p1') {
  return { type: 'place-result', requestId, sourceNodeId, png: syntheticPng(width, height), width, height, name: 'Upscale ×2 (esrgan-slim-x2)', mode, meta: META };
}

async function place(session: Session, msg: ReturnType<typeof placeMessage>): Promise<FakeSceneNode> {
  const placed = session.fake.ui.waitFor<PlacedMsg>('placed');
  await session.send(msg);
  const { nodeId, requestId } = await placed;
  assert.equal(requestId, msg.requestId);
  const node = session.fake.nodeById(nodeId);
  assert.ok(node, `placed node ${nodeId} exists`);
  return node as FakeSceneNode;
}

function snapshot(session: Session) {
  const page = session.fake.currentPageNode;
  const describe = (n: FakeSceneNode): unknown => ({
    id: n.id,
    name: n.name,
    box: n.absoluteBoundingBox,
    fills: 'fills' in n ? JSON.parse(JSON.stringify(n.fills)) : null,
    data: n.getPluginDataKeys().map((k) => [k, n.getPluginData(k)]),
    children: 'children' in n ? (n.children as FakeSceneNode[]).map(describe) : null,
  });
  return page.children.map(describe);
}

test('beside: a new image node right of the source, meta stored, selected and scrolled to', async () => {
  const session = startSession();
  const { fake } = session;
  const source = fake.addImage(fake.currentPageNode, 'Cat', { x: 100, y: 50, width: 451, height: 300 }, fixtureBytes('chelsea.png'));
  const sourceFills = JSON.stringify(source.fills);
  const steps = fake.history.stepCount;

  const result = (await place(session, placeMessage(source.id, 902, 600))) as FakeRectangle;
  assert.equal(result.type, 'RECTANGLE');
  assert.equal(result.name, 'Upscale ×2 (esrgan-slim-x2)');
  assert.equal(result.parent, fake.currentPageNode);
  assert.deepEqual(result.absoluteBoundingBox, { x: 100 + 451 + RESULT_GAP, y: 50, width: 902, height: 600 });
  const [paint] = result.fills as ImagePaint[];
  assert.equal(paint.type, 'IMAGE');
  assert.equal(paint.scaleMode, 'FILL');
  const stored = fake.figma.getImageByHash(paint.imageHash!)!;
  assert.deepEqual(await stored.getSizeAsync(), { width: 902, height: 600 });
  assert.deepEqual(JSON.parse(result.getPluginData(PLUGIN_DATA_KEY)), META);
  assert.deepEqual(fake.currentPageNode.selection, [result]);
  assert.deepEqual(fake.scrolledTo.at(-1), [result.id]);
  assert.equal(JSON.stringify(source.fills), sourceFills, 'the source is untouched');
  assert.equal(fake.history.stepCount, steps + 1, 'one action = one undo step');
  assert.equal(fake.history.uncommittedChanges, 0);
});

test('beside: a second result steps right of the first instead of covering it', async () => {
  const session = startSession();
  const { fake } = session;
  const source = fake.addImage(fake.currentPageNode, 'Cat', { x: 0, y: 0, width: 451, height: 300 }, fixtureBytes('chelsea.png'));
  const first = await place(session, placeMessage(source.id, 451, 300, 'beside', 'a'));
  const second = await place(session, placeMessage(source.id, 451, 300, 'beside', 'b'));
  const a = first.absoluteBoundingBox;
  const b = second.absoluteBoundingBox;
  assert.equal(b.x, a.x + a.width + RESULT_GAP);
  assert.equal(b.y, a.y);
  assert.notEqual(first.id, second.id);
});

test('beside: inside a clipping frame the result goes next to the frame, not hidden inside it', async () => {
  const session = startSession();
  const { fake } = session;
  const frame = fake.addFrame(fake.currentPageNode, 'Artboard', { x: 1000, y: 1000, width: 400, height: 400 });
  const photo = fake.addImage(frame, 'Photo', { x: 10, y: 20, width: 100, height: 100 }, fixtureBytes('astronaut.png'));
  const result = await place(session, placeMessage(photo.id, 512, 512));
  assert.equal(result.parent, fake.currentPageNode);
  assert.deepEqual(result.absoluteBoundingBox, { x: 1000 + 400 + RESULT_GAP, y: 1020, width: 512, height: 512 });
});

test('beside: in a non-clipping frame the result stays in the same parent, in its coordinates', async () => {
  const session = startSession();
  const { fake } = session;
  const board = fake.addFrame(fake.currentPageNode, 'Board', { x: 500, y: 300, width: 2000, height: 2000 });
  board.clipsContent = false;
  const photo = fake.addImage(board, 'Photo', { x: 10, y: 20, width: 100, height: 100 }, fixtureBytes('astronaut.png'));
  const result = await place(session, placeMessage(photo.id, 200, 200));
  assert.equal(result.parent, board);
  assert.deepEqual([result.x, result.y], [10 + 100 + RESULT_GAP, 20]);
  assert.deepEqual(result.absoluteBoundingBox, { x: 500 + 150, y: 320, width: 200, height: 200 });
});

test('beside: one undo removes the result and nothing else', async () => {
  const session = startSession();
  const { fake } = session;
  const source = fake.addImage(fake.currentPageNode, 'Cat', { width: 451, height: 300 }, fixtureBytes('chelsea.png'));
  const before = snapshot(session);
  const result = await place(session, placeMessage(source.id, 451, 300));
  fake.figma.commitUndo(); // nothing pending: must not add a step
  (fake.figma as unknown as PluginAPI).triggerUndo();
  assert.equal(result.removed, true);
  assert.deepEqual(snapshot(session), before);
});

test('replace-fill keeps the original paint hidden, stores meta, and one undo reverts all of it', async () => {
  const session = startSession();
  const { fake } = session;
  const png = fixtureBytes('chelsea.png');
  const source = fake.addImage(fake.currentPageNode, 'Cat', { width: 451, height: 300 }, png, 'CROP');
  const original = source.fills[0] as ImagePaint;
  const before = snapshot(session);
  const steps = fake.history.stepCount;

  const placed = await place(session, placeMessage(source.id, 902, 600, 'replace-fill'));
  assert.equal(placed, source, 'the result lands on the source node');
  const fills = source.fills as ImagePaint[];
  assert.equal(fills.length, 2);
  assert.deepEqual({ ...fills[0], visible: true }, original, 'the original paint is kept, only hidden');
  assert.equal(fills[0].visible, false);
  assert.equal(fills[1].visible, true);
  assert.equal(fills[1].scaleMode, 'CROP', 'the new image keeps the original crop');
  assert.notEqual(fills[1].imageHash, original.imageHash);
  assert.deepEqual(await fake.figma.getImageByHash(original.imageHash!)!.getBytesAsync(), png, 'the original image is recoverable');
  assert.deepEqual(JSON.parse(source.getPluginData(PLUGIN_DATA_KEY)), META);
  assert.deepEqual([source.width, source.height], [451, 300], 'the layer keeps its size');
  assert.equal(fake.history.stepCount, steps + 1);

  (fake.figma as unknown as PluginAPI).triggerUndo();
  assert.deepEqual(snapshot(session), before);
});

test('replace-fill on a group is refused with a message pointing to "Place beside"', async () => {
  const session = startSession();
  const { fake } = session;
  const group = fake.addGroup(fake.currentPageNode, 'Icons', [fake.addRectangle(fake.currentPageNode, 'a', {})]);
  const before = snapshot(session);
  const failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await session.send(placeMessage(group.id, 10, 10, 'replace-fill'));
  assert.match((await failed).message, /"Icons" has no fill to replace.*Place beside/);
  assert.deepEqual(snapshot(session), before);
});

test('a result over 4096 px is refused before touching the document', async () => {
  const session = startSession();
  const { fake } = session;
  const source = fake.addImage(fake.currentPageNode, 'Cat', { width: 451, height: 300 }, fixtureBytes('chelsea.png'));
  const before = snapshot(session);
  const imagesBefore = fake.images.size;
  const steps = fake.history.stepCount;
  const failed = fake.ui.waitFor<FailedMsg>('request-failed');
  // A tiny PNG stands in for the bytes: the size check must come before createImage ever sees them.
  await session.send({ ...placeMessage(source.id, 4, 3), width: 4100, height: 2728 });
  const msg = await failed;
  assert.equal(msg.requestId, 'p1');
  assert.match(msg.message, /4100×2728 px.*4096 px per edge.*smaller scale/);
  assert.equal(fake.images.size, imagesBefore, 'createImage was not called');
  assert.deepEqual(snapshot(session), before);
  assert.equal(fake.history.stepCount, steps);
  assert.equal(fake.history.uncommittedChanges, 0);
  assert.equal(fake.ui.messagesOfType('placed').length, 0);
});

test('bytes Figma rejects give request-failed and leave no half-made node', async () => {
  const session = startSession();
  const { fake } = session;
  const source = fake.addRectangle(fake.currentPageNode, 'Shape', { width: 10, height: 10 });
  const before = snapshot(session);
  const failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await session.send({ ...placeMessage(source.id, 10, 10), png: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
  assert.match((await failed).message, /Figma refused the result image/);
  assert.deepEqual(snapshot(session), before);
  assert.equal(fake.history.uncommittedChanges, 0);
});

test('beside with a deleted source still places the result, in view', async () => {
  const session = startSession();
  const { fake } = session;
  const source = fake.addRectangle(fake.currentPageNode, 'Shape', { width: 10, height: 10 });
  fake.deleteNode(source);
  const result = await place(session, placeMessage(source.id, 64, 48));
  assert.equal(result.parent, fake.currentPageNode);
  assert.deepEqual(fake.scrolledTo.at(-1), [result.id]);
});

test('replace-fill with a deleted source fails and says to select again', async () => {
  const session = startSession();
  const { fake } = session;
  const source = fake.addRectangle(fake.currentPageNode, 'Shape', { width: 10, height: 10 });
  fake.deleteNode(source);
  const failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await session.send(placeMessage(source.id, 10, 10, 'replace-fill'));
  assert.match((await failed).message, /Select it again/);
});

test('a generated image (no source node) goes mid-view; a second one lands beside it, not on top', async () => {
  const session = startSession();
  const first = await place(session, { ...placeMessage('', 64, 64, 'beside', 'g1'), name: 'Generate · seed 7 · StyleSwin' });
  const second = await place(session, { ...placeMessage('', 64, 64, 'beside', 'g2'), name: 'Generate · seed 8 · StyleSwin' });
  const a = first.absoluteBoundingBox!;
  const b = second.absoluteBoundingBox!;
  assert.ok(b.x >= a.x + a.width, 'side by side, no overlap');
  assert.equal(b.y, a.y, 'on one row');
  assert.equal(first.parent?.type, 'PAGE');
});

test('a batch of generated images is laid out as a grid from the first one; a taken cell falls back beside', async () => {
  const session = startSession();
  const msg = (i: number, grid?: { anchorNodeId: string; index: number; columns: number }) => ({ ...placeMessage('', 64, 64, 'beside', `c${i}`), name: `Generate · seed ${i}`, ...(grid ? { grid } : {}) });
  const first = await place(session, msg(0));
  const cells = [first];
  for (let i = 1; i < 4; i++) cells.push(await place(session, msg(i, { anchorNodeId: first.id, index: i, columns: 2 })));
  const [a, b, c, d] = cells.map((n) => n.absoluteBoundingBox!);
  assert.deepEqual([b.x - a.x, b.y - a.y], [64 + RESULT_GAP, 0]);
  assert.deepEqual([c.x - a.x, c.y - a.y], [0, 64 + RESULT_GAP]);
  assert.deepEqual([d.x - a.x, d.y - a.y], [64 + RESULT_GAP, 64 + RESULT_GAP]);
  // Cell 1 is taken now: the next image goes beside instead of on top.
  const extra = (await place(session, msg(9, { anchorNodeId: first.id, index: 1, columns: 2 }))).absoluteBoundingBox!;
  for (const box of [a, b, c, d]) assert.ok(extra.x >= box.x + box.width || extra.y >= box.y + box.height || extra.x + extra.width <= box.x || extra.y + extra.height <= box.y, 'no overlap');
});
