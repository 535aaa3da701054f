// The UI's UXP transport (ui/uxp-transport.ts) with HostClient, against the fake webview and the real panel bridge:
// messages cross as JSON-only frames and arrive as the typed messages HostClient checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostClient } from '../../ui/host-client.ts';
import { hasUxpHost, uxpTransport } from '../../ui/uxp-transport.ts';
import { encodeFrames } from '../../plugin/photoshop/wire.ts';
import { startPhotoshopBridge } from '../../plugin/photoshop/bridge.ts';
import { FakePhotoshop } from '../fakes/photoshop.ts';

/** A window stand-in: an EventTarget with `uxpHost` wired to the fake webview's page side. */
function pageWindow(fake: FakePhotoshop): Window {
  const win = new EventTarget() as unknown as Window & { uxpHost: unknown };
  win.uxpHost = fake.webview.page.uxpHost;
  fake.webview.page.onMessage((event) => win.dispatchEvent(new MessageEvent('message', { data: (event as { data: unknown }).data })));
  return win;
}

test('hasUxpHost only where window.uxpHost can post', () => {
  assert.equal(hasUxpHost(new EventTarget() as unknown as Window), false);
  assert.equal(hasUxpHost(Object.assign(new EventTarget(), { uxpHost: { postMessage() {} } }) as unknown as Window), true);
  assert.throws(() => uxpTransport(new EventTarget() as unknown as Window), /window\.uxpHost is missing/);
});

test('HostClient over the UXP transport: init, then read-image bytes arrive as Uint8Array', async () => {
  const fake = new FakePhotoshop();
  fake.openDocument({ title: 'a.psd', width: 20, height: 10, layers: [{ name: 'L', rect: { left: 2, top: 1, width: 6, height: 4 }, fill: [10, 20, 30, 255] }] });
  const bridge = startPhotoshopBridge({ photoshop: fake.photoshop, uxp: fake.uxp, storage: fake.localStorage, webview: fake.webview, log: { info() {}, warn() {}, error() {} }, frameChars: 64 });
  const host = new HostClient(uxpTransport(pageWindow(fake), 64), { readImageMs: 5000 });
  const init = new Promise<{ selection: { items: { nodeId: string }[] } }>((resolve) => host.on('init', resolve));
  host.send({ type: 'ui-ready' } as never);
  const { selection } = await init;
  const image = await host.readImage(selection.items[0].nodeId);
  assert.ok(image.bytes instanceof Uint8Array);
  assert.deepEqual([image.width, image.height], [6, 4]);
  assert.ok(fake.webview.framesToPanel >= 2 && fake.webview.framesToPage > 2, `small frames (64 chars) were used: ${fake.webview.framesToPanel} → panel, ${fake.webview.framesToPage} → page`);
  host.dispose();
  await bridge.dispose();
});

test('a frame delivered on both window and uxpHost reaches the UI once', () => {
  const win = new EventTarget() as unknown as Window & { uxpHost: unknown };
  const hostListeners: ((e: unknown) => void)[] = [];
  win.uxpHost = { postMessage() {}, addEventListener: (_t: string, l: (e: unknown) => void) => hostListeners.push(l), removeEventListener() {} };
  const got: unknown[] = [];
  const stop = uxpTransport(win).listen((m) => got.push(m));
  const [frame] = encodeFrames({ type: 'theme', mode: 'dark' }, 'ui', 'dup');
  win.dispatchEvent(new MessageEvent('message', { data: frame }));
  hostListeners.forEach((l) => l({ message: frame }));
  assert.deepEqual(got, [{ type: 'theme', mode: 'dark' }]);
  stop();
});
