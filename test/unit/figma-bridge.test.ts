// The Figma bridge's message handling: validation, init, settings, notify, and what it posts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, checkHostMessage, type HostToUi, type Message, type Settings } from '../../plugin/messages.ts';
import { SETTINGS_KEY } from '../../plugin/figma/settings.ts';
import { RESULT_GONE } from '../../plugin/figma/show.ts';
import { fixtureBytes, startSession } from '../fakes/figma-harness.ts';
import { FakeFigma, plainDataProblem, syntheticPng } from '../fakes/figma.ts';

type InitMsg = Message<HostToUi, 'init'>;

const TOKEN = 'sk-frontier-3f9c1a77e2b54d0c';
const NEW_TOKEN = 'sk-frontier-new-81d2e0b9';
const SETTINGS: Settings = { target: 'server', serverUrl: 'https://gpu.example.com:8443', token: TOKEN, placeMode: 'replace-fill' };

test('ui-ready answers init with host info, stored settings and the selection', async () => {
  const fake = new FakeFigma();
  await fake.figma.clientStorage.setAsync(SETTINGS_KEY, { target: 'wasm' });
  const { send } = startSession(fake);
  const frame = fake.addFrame(fake.currentPageNode, 'Frame', { width: 64, height: 32 });
  fake.select(frame);
  const init = fake.ui.waitFor<InitMsg>('init');
  await send({ type: 'ui-ready' });
  const msg = await init;
  assert.deepEqual(msg.host, { name: 'figma', version: '1.0.0', maxImageEdge: 4096, video: true, videoPlace: 'canvas' });
  assert.deepEqual(msg.settings, { ...DEFAULT_SETTINGS, target: 'wasm' });
  assert.deepEqual(msg.selection.items.map((i) => i.nodeId), [frame.id]);
});

test('damaged stored settings fall back to defaults field by field', async () => {
  const fake = new FakeFigma();
  await fake.figma.clientStorage.setAsync(SETTINGS_KEY, { target: 'quantum', token: 42, serverUrl: 'http://10.0.0.2:8740', placeMode: null, extra: 'x' });
  const { send } = startSession(fake);
  const init = fake.ui.waitFor<InitMsg>('init');
  await send({ type: 'ui-ready' });
  assert.deepEqual((await init).settings, { ...DEFAULT_SETTINGS, serverUrl: 'http://10.0.0.2:8740' });
});

test('settings round-trip through clientStorage', async () => {
  const { fake, send } = startSession();
  await send({ type: 'save-settings', settings: { ...SETTINGS, unexpected: 'dropped' } });
  assert.deepEqual(fake.clientStorage.peek(SETTINGS_KEY), SETTINGS);
  const init = fake.ui.waitFor<InitMsg>('init');
  await send({ type: 'ui-ready' });
  assert.deepEqual((await init).settings, SETTINGS);
});

test('the token never reaches the console, the logs or a notification', async () => {
  const captured: string[] = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const originals = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => void captured.push(args.map(String).join(' '));
  try {
    const fake = new FakeFigma();
    fake.figma.showUI('<html></html>');
    // The default logger (console), as in Figma.
    const { startBridge } = await import('../../plugin/figma/bridge.ts');
    startBridge(fake.figma);
    const send = (msg: unknown) => fake.ui.deliver(msg);
    await send({ type: 'save-settings', settings: SETTINGS });
    await send({ type: 'ui-ready' });
    await send({ type: 'notify', message: `Server rejected token ${TOKEN}` });
    await send({ type: 'read-image', requestId: 'r', nodeId: 'missing' });
    await send({ type: 'bogus', token: TOKEN });
    // A storage layer that quotes the value it refused.
    fake.clientStorage.setAsync = async (_key: string, value: unknown) => {
      throw new Error(`cannot store ${JSON.stringify(value)}`);
    };
    await send({ type: 'save-settings', settings: { ...SETTINGS, token: NEW_TOKEN } });

    assert.ok(captured.length >= 3, 'the failures above were logged');
    assert.ok(captured.some((line) => line.includes('Saving settings failed')));
    for (const line of captured) assert.ok(!line.includes(TOKEN) && !line.includes(NEW_TOKEN), `logged: ${line}`);
    assert.equal(fake.notifications.length, 2);
    for (const n of fake.notifications) assert.ok(!n.requested.includes(TOKEN), `notified: ${n.requested}`);
  } finally {
    methods.forEach((m, i) => (console[m] = originals[i]));
  }
});

test('invalid messages are ignored and logged, without an answer or a change', async () => {
  const { fake, send, logs } = startSession();
  const rect = fake.addRectangle(fake.currentPageNode, 'Shape', { width: 10, height: 10 });
  const invalid: unknown[] = [
    null,
    'ui-ready',
    {},
    { type: 'delete-everything' },
    { type: 'read-image' },
    { type: 'read-image', requestId: 7, nodeId: rect.id },
    { type: 'place-result', requestId: 'x', sourceNodeId: rect.id, png: [137, 80, 78, 71], width: 1, height: 1, name: 'n', mode: 'beside', meta: {} },
    { type: 'notify' },
    { type: 'save-settings', settings: 'token' },
  ];
  for (const msg of invalid) await send(msg);
  assert.equal(fake.ui.sent.length, 0);
  assert.equal(fake.notifications.length, 0);
  assert.equal(fake.currentPageNode.children.length, 1);
  assert.equal(fake.history.uncommittedChanges, 0);
  assert.equal(await fake.figma.clientStorage.getAsync(SETTINGS_KEY), undefined);
  assert.equal(logs.filter((l) => l.level === 'warn' && l.message.startsWith('Ignored a message')).length, invalid.length);
});

test('notify passes at most 100 characters and the error flag', async () => {
  const { fake, send } = startSession();
  await send({ type: 'notify', message: 'Done' });
  await send({ type: 'notify', message: 'x'.repeat(99) + '😀' + 'y'.repeat(40), error: true });
  assert.deepEqual(fake.notifications[0], { message: 'Done', requested: 'Done', error: false });
  const long = fake.notifications[1];
  assert.ok(long.requested.length <= 100, `the bridge cut it (${long.requested.length})`);
  assert.equal(long.requested, 'x'.repeat(99), 'a surrogate pair is not split');
  assert.equal(long.error, true);
});

test('a whole session posts only valid messages that Figma can carry', async () => {
  const { fake, send, logs } = startSession();
  const photo = fake.addImage(fake.currentPageNode, 'Astronaut', { width: 128, height: 128 }, fixtureBytes('astronaut.png'));
  const frame = fake.addFrame(fake.currentPageNode, 'Frame', { x: 400, width: 300, height: 150 });
  fake.select(photo, frame);
  await fake.settle();
  await send({ type: 'ui-ready' });
  await send({ type: 'read-image', requestId: '1', nodeId: photo.id });
  await send({ type: 'read-image', requestId: '2', nodeId: frame.id });
  await send({ type: 'read-image', requestId: '3', nodeId: 'nope' });
  const meta = { task: 'upscale', model: 'm', modelVariant: 'tiny', params: {}, target: 'wasm', version: '0.1.0', runMs: 1 };
  await send({ type: 'place-result', requestId: '4', sourceNodeId: photo.id, png: syntheticPng(256, 256), width: 256, height: 256, name: 'r', mode: 'beside', meta });
  await send({ type: 'place-result', requestId: '5', sourceNodeId: photo.id, png: syntheticPng(256, 256), width: 256, height: 256, name: 'r', mode: 'replace-fill', meta });
  await send({ type: 'place-result', requestId: '6', sourceNodeId: photo.id, png: syntheticPng(8, 8), width: 5000, height: 5000, name: 'r', mode: 'beside', meta });
  await fake.settle();

  const types = fake.ui.sent.map((m) => (m as { type: string }).type);
  assert.deepEqual(
    types.filter((t) => t !== 'selection-changed'),
    ['init', 'image', 'image', 'request-failed', 'placed', 'placed', 'request-failed'],
  );
  assert.ok(types.includes('selection-changed'));
  for (const msg of fake.ui.sent) {
    assert.equal(checkHostMessage(msg), null, JSON.stringify(msg).slice(0, 200));
    assert.equal(plainDataProblem(msg), null);
  }
  assert.deepEqual(logs.filter((l) => l.level === 'error'), []);
});

test('check-nodes answers which results are still in the document: a removed one (Undo) is not', async () => {
  const { fake, send } = startSession();
  const photo = fake.addImage(fake.currentPageNode, 'Astronaut', { width: 128, height: 128 }, fixtureBytes('astronaut.png'));
  await send({ type: 'ui-ready' });
  const meta = { task: 'upscale', model: 'm', modelVariant: 'tiny', params: {}, target: 'wasm', version: '0.1.0', runMs: 1 };
  const placed = fake.ui.waitFor<{ nodeId: string }>('placed');
  await send({ type: 'place-result', requestId: 'p', sourceNodeId: photo.id, png: syntheticPng(256, 256), width: 256, height: 256, name: 'r', mode: 'beside', meta });
  const { nodeId } = await placed;
  const check = async (requestId: string) => {
    const answer = fake.ui.waitFor<{ requestId: string; present: string[] }>('nodes');
    await send({ type: 'check-nodes', requestId, nodeIds: [nodeId, photo.id, 'nope'] });
    const msg = await answer;
    assert.equal(msg.requestId, requestId);
    assert.equal(checkHostMessage({ type: 'nodes', ...msg }), null);
    return msg.present;
  };
  assert.deepEqual(await check('c1'), [nodeId, photo.id]);
  (await fake.figma.getNodeByIdAsync(nodeId))!.remove();
  assert.deepEqual(await check('c2'), [photo.id]);
});

test('show-node (the Results list) selects the result and scrolls it into view, on its own page; a gone one is said, not shown', async () => {
  const { fake, send, logs } = startSession();
  const photo = fake.addImage(fake.currentPageNode, 'Astronaut', { width: 128, height: 128 }, fixtureBytes('astronaut.png'));
  const other = fake.addPage('Page 2');
  const elsewhere = fake.addRectangle(other, 'Result on page 2', { x: 400, y: 0, width: 64, height: 64 });
  await send({ type: 'ui-ready' });
  const meta = { task: 'upscale', model: 'm', modelVariant: 'tiny', params: {}, target: 'wasm', version: '0.1.0', runMs: 1 };
  const placed = fake.ui.waitFor<{ nodeId: string }>('placed');
  await send({ type: 'place-result', requestId: 'p', sourceNodeId: photo.id, png: syntheticPng(256, 256), width: 256, height: 256, name: 'r', mode: 'beside', meta });
  const { nodeId } = await placed;
  fake.select(photo); // the designer moved on
  fake.scrolledTo.length = 0;

  await send({ type: 'show-node', nodeId });
  assert.deepEqual(fake.currentPageNode.selection.map((n) => n.id), [nodeId]);
  assert.deepEqual(fake.scrolledTo, [[nodeId]]);
  await fake.settle();
  const changed = fake.ui.sent.filter((m) => (m as { type: string }).type === 'selection-changed').at(-1) as { selection: { items: { nodeId: string }[] } };
  assert.deepEqual(changed.selection.items.map((i) => i.nodeId), [nodeId], 'the UI hears of the new selection');

  // A result on another page: Figma goes to that page first (dynamic-page access: setCurrentPageAsync).
  await send({ type: 'show-node', nodeId: elsewhere.id });
  assert.equal(fake.currentPageNode, other);
  assert.deepEqual(other.selection.map((n) => n.id), [elsewhere.id]);
  assert.deepEqual(fake.scrolledTo.at(-1), [elsewhere.id]);

  // Gone (Undo, deleted): a toast says so; the selection and the view stay as they were.
  fake.deleteNode(elsewhere);
  const scrolls = fake.scrolledTo.length;
  await send({ type: 'show-node', nodeId: elsewhere.id });
  assert.equal(fake.notifications.at(-1)?.message, RESULT_GONE);
  assert.equal(fake.scrolledTo.length, scrolls);
  await send({ type: 'show-node', nodeId: 'no-such-node' });
  assert.equal(fake.notifications.at(-1)?.message, RESULT_GONE);
  assert.deepEqual(logs.filter((l) => l.level !== 'info'), []);
});
