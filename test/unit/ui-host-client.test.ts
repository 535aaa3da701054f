import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostClient, HostRequestError } from '../../ui/host-client.ts';
import type { HostTransport } from '../../ui/host-client.ts';
import type { HostMessage, UiMessage } from '../../plugin/messages.ts';
import { DEFAULT_SETTINGS } from '../../plugin/messages.ts';

/** A transport whose host side the test drives: `sent` holds what the UI posted, `deliver` plays the host. */
function fakeTransport() {
  const sent: UiMessage[] = [];
  let handler: ((msg: unknown) => void) | null = null;
  const transport: HostTransport = {
    post: (msg) => sent.push(msg),
    listen: (h) => {
      handler = h;
      return () => (handler = null);
    },
  };
  return { transport, sent, deliver: (msg: unknown) => handler?.(msg), listening: () => handler !== null };
}

const INIT: HostMessage = {
  type: 'init',
  host: { name: 'figma', version: '1', maxImageEdge: 4096, video: false },
  settings: DEFAULT_SETTINGS,
  selection: { items: [] },
};

test('read-image resolves with the image answer that carries its requestId', async () => {
  const { transport, sent, deliver } = fakeTransport();
  const host = new HostClient(transport);
  const first = host.readImage('1:2', 'Photo');
  const second = host.readImage('3:4', 'Logo');
  assert.equal(sent.length, 2);
  const [a, b] = sent as Extract<UiMessage, { type: 'read-image' }>[];
  assert.equal(a.type, 'read-image');
  assert.equal(a.nodeId, '1:2');
  assert.notEqual(a.requestId, b.requestId);
  const bytes = new Uint8Array([137, 80, 78, 71]);
  // Answer out of order: each request gets its own answer.
  deliver({ type: 'image', requestId: b.requestId, nodeId: '3:4', bytes, mime: 'image/png', width: 2, height: 1 });
  deliver({ type: 'image', requestId: a.requestId, nodeId: '1:2', bytes, mime: 'image/jpeg', width: 4, height: 3 });
  assert.equal((await first).width, 4);
  assert.equal((await second).nodeId, '3:4');
  host.dispose();
});

test('place-result sends the payload and resolves with the placed node', async () => {
  const { transport, sent, deliver } = fakeTransport();
  const host = new HostClient(transport);
  const meta = { task: 'upscale', model: 'm', modelVariant: 'full' as const, params: { scale: 2 }, target: 'wasm' as const, version: '0.1.0', runMs: 5 };
  const placed = host.placeResult({ sourceNodeId: '1:2', png: new Uint8Array(8), width: 8, height: 8, name: 'Upscale ×2 · m', mode: 'beside', meta });
  const msg = sent[0] as Extract<UiMessage, { type: 'place-result' }>;
  assert.equal(msg.type, 'place-result');
  assert.equal(msg.name, 'Upscale ×2 · m');
  assert.deepEqual(msg.meta, meta);
  deliver({ type: 'placed', requestId: msg.requestId, nodeId: '9:9' });
  assert.equal((await placed).nodeId, '9:9');
  host.dispose();
});

test('request-failed rejects with the host message', async () => {
  const { transport, sent, deliver } = fakeTransport();
  const host = new HostClient(transport);
  const read = host.readImage('1:2');
  const { requestId } = sent[0] as Extract<UiMessage, { type: 'read-image' }>;
  deliver({ type: 'request-failed', requestId, message: 'The node was deleted. Select it again.' });
  await assert.rejects(read, (err: Error) => err instanceof HostRequestError && err.message === 'The node was deleted. Select it again.');
  host.dispose();
});

test('requests time out with a message naming what timed out, and late answers are ignored', async () => {
  const { transport, sent, deliver } = fakeTransport();
  const host = new HostClient(transport, { readImageMs: 30, placeResultMs: 30 });
  const read = host.readImage('1:2', 'Hero photo');
  await assert.rejects(read, /did not send the pixels of “Hero photo” within 0 s/);
  const meta = { task: 'upscale', model: 'm', modelVariant: 'tiny' as const, params: {}, target: 'wasm' as const, version: '0.1.0', runMs: 1 };
  const place = host.placeResult({ sourceNodeId: '1:2', png: new Uint8Array(1), width: 1, height: 1, name: 'Upscale ×4 · m', mode: 'beside', meta });
  await assert.rejects(place, /did not confirm placing “Upscale ×4 · m”/);
  const { requestId } = sent[0] as Extract<UiMessage, { type: 'read-image' }>;
  assert.doesNotThrow(() => deliver({ type: 'image', requestId, nodeId: '1:2', bytes: new Uint8Array(1), mime: 'image/png', width: 1, height: 1 }));
  host.dispose();
});

test('events reach subscribers; malformed messages are dropped without logging their content', async () => {
  const { transport, deliver, listening } = fakeTransport();
  const host = new HostClient(transport);
  const themes: string[] = [];
  const off = host.on('theme', (m) => themes.push(m.mode));
  let selections = 0;
  host.on('selection-changed', () => selections++);
  deliver({ type: 'theme', mode: 'dark' });
  deliver({ type: 'selection-changed', selection: { items: [] } });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    deliver({ type: 'init', host: null, settings: { token: 'TOPSECRET' }, selection: {} });
    deliver({ type: 'nonsense' });
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 2);
  assert.ok(warnings.every((w) => !w.includes('TOPSECRET')));
  assert.equal(host.last('init'), undefined);
  deliver(INIT);
  assert.equal(host.last('init')?.host.name, 'figma');
  off();
  deliver({ type: 'theme', mode: 'light' });
  assert.deepEqual(themes, ['dark']);
  assert.equal(selections, 1);
  host.dispose();
  assert.equal(listening(), false);
});

test('answers of the wrong type reject instead of resolving with the wrong payload', async () => {
  const { transport, sent, deliver } = fakeTransport();
  const host = new HostClient(transport);
  const read = host.readImage('1:2');
  const { requestId } = sent[0] as Extract<UiMessage, { type: 'read-image' }>;
  deliver({ type: 'placed', requestId, nodeId: '1:2' });
  await assert.rejects(read, /answered with “placed” where “image” was expected/);
  host.dispose();
});

test('dispose rejects requests still waiting', async () => {
  const { transport } = fakeTransport();
  const host = new HostClient(transport);
  const read = host.readImage('1:2');
  host.dispose();
  await assert.rejects(read, /closed before the host answered/);
});

test('the Figma transport wraps messages in pluginMessage and unwraps them', () => {
  const posted: unknown[] = [];
  const listeners: ((e: { data: unknown }) => void)[] = [];
  const win = {
    parent: { postMessage: (data: unknown, origin: string) => posted.push([data, origin]) },
    addEventListener: (_: string, l: (e: { data: unknown }) => void) => listeners.push(l),
    removeEventListener: () => listeners.pop(),
  } as unknown as Window;
  return import('../../ui/host-client.ts').then(({ figmaTransport }) => {
    const transport = figmaTransport(win);
    transport.post({ type: 'ui-ready' } as unknown as UiMessage);
    assert.deepEqual(posted, [[{ pluginMessage: { type: 'ui-ready' } }, '*']]);
    const got: unknown[] = [];
    const stop = transport.listen((m) => got.push(m));
    listeners[0]({ data: { pluginMessage: { type: 'theme', mode: 'dark' } } });
    listeners[0]({ data: 'unrelated postMessage from an extension' });
    assert.deepEqual(got, [{ type: 'theme', mode: 'dark' }]);
    stop();
    assert.equal(listeners.length, 0);
  });
});
