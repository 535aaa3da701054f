// The Photoshop build: manifest v5 with the permissions the panel needs, the panel page and bundle, icons for every
// manifest entry, and the .ccx (a zip read back here entry by entry with node:zlib).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { buildPhotoshop, normalizeDomain, writeZip } from '../../plugin/build-photoshop.ts';
import { crc32 } from '../../plugin/photoshop/png.ts';
import { WireReceiver, WireSender } from '../../plugin/photoshop/wire.ts';
import type { HostMessage } from '../../plugin/messages.ts';
import { FakePhotoshop } from '../fakes/photoshop.ts';

interface Icon { width: number; height: number; path: string; scale: number[] }

/** Entries of a zip, read from its central directory, each checked against its CRC. */
function readZip(zip: Uint8Array): Map<string, Uint8Array> {
  const buf = Buffer.from(zip);
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'end of central directory present');
  const count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    const size = buf.readUInt32LE(at + 20);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    assert.equal(buf.readUInt32LE(local), 0x04034b50);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const body = buf.subarray(start, start + size);
    const data = new Uint8Array(method === 8 ? inflateRawSync(body) : body);
    assert.equal(crc32(data), crc, `${name} CRC`);
    files.set(name, data);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

test('build: manifest v5 for PS 26+, webview with local rendering and the message bridge, extra server domains', async () => {
  const out = await mkdtemp(join(tmpdir(), 'frontier-ps-build-'));
  try {
    const standIn = join(out, 'stand-in-ui.html');
    await writeFile(standIn, '<!doctype html><div id="app"></div>');
    const { outDir, ccx } = await buildPhotoshop({ outDir: join(out, 'photoshop'), uiHtmlPath: standIn, packagePath: join(out, 'frontier.ccx'), domains: ['https://gpu.example.com/v2/', 'http://127.0.0.1:8740'] });
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.manifestVersion, 5);
    assert.deepEqual(manifest.host, { app: 'PS', minVersion: '26.0.0', data: { apiVersion: 2 } });
    assert.equal(manifest.main, 'index.html');
    const [panel] = manifest.entrypoints;
    assert.equal(panel.type, 'panel');
    assert.ok(panel.minimumSize.width >= 240 && panel.preferredDockedSize.height >= 400);
    const { network, webview } = manifest.requiredPermissions;
    assert.deepEqual(network.domains, ['http://127.0.0.1:8740', 'http://localhost:8740', 'https://gpu.example.com']);
    assert.deepEqual(webview, { allow: 'yes', domains: network.domains, allowLocalRendering: 'yes', enableMessageBridge: 'localAndRemote' });

    const index = await readFile(join(outDir, 'index.html'), 'utf8');
    assert.match(index, /<webview id="frontier-ui" src="plugin:\/webview\/index\.html"/);
    assert.match(index, /<script src="panel\.js"><\/script>/);
    const panelJs = await readFile(join(outDir, 'panel.js'), 'utf8');
    assert.doesNotMatch(panelJs, /^\s*(import|export)\s/m, 'a classic script');
    assert.match(panelJs, /"photoshop"/);

    const icons: Icon[] = [...manifest.icons, ...panel.icons];
    for (const icon of icons) {
      for (const scale of icon.scale) {
        const path = scale === 1 ? icon.path : icon.path.replace(/\.png$/, `@${scale}x.png`);
        const png = PNG.sync.read(await readFile(join(outDir, path)));
        assert.deepEqual([png.width, png.height], [icon.width * scale, icon.height * scale], path);
      }
    }

    const files = readZip(new Uint8Array(await readFile(ccx!)));
    assert.ok(files.has('manifest.json') && files.has('index.html') && files.has('panel.js') && files.has('webview/index.html'));
    assert.deepEqual(files.get('manifest.json'), new Uint8Array(await readFile(join(outDir, 'manifest.json'))));
    assert.equal(files.size, 4 + icons.length * 2);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('zip writer: stored and deflated entries with UTF-8 names read back exactly', () => {
  const entries = [
    { path: 'a.txt', data: new TextEncoder().encode('hello '.repeat(1000)) },
    { path: 'dir/ü.bin', data: Uint8Array.from({ length: 300 }, (_, i) => (i * 97) & 255) },
    { path: 'empty', data: new Uint8Array(0) },
  ];
  const files = readZip(writeZip(entries));
  for (const e of entries) assert.deepEqual(files.get(e.path), e.data);
});

test('--domain takes origins only, http or https', () => {
  assert.equal(normalizeDomain('https://gpu.example.com/v2/models'), 'https://gpu.example.com');
  assert.equal(normalizeDomain('http://192.168.1.20:8740'), 'http://192.168.1.20:8740');
  assert.throws(() => normalizeDomain('gpu.example.com'), /not a URL/);
  assert.throws(() => normalizeDomain('ftp://x.example.com'), /only http and https/);
});

test('the built panel.js starts the bridge on UXP’s globals: require(), the <webview> element, localStorage, the theme', async () => {
  const out = await mkdtemp(join(tmpdir(), 'frontier-ps-panel-'));
  const global = globalThis as { require?: unknown };
  const saved = global.require;
  try {
    const standIn = join(out, 'ui.html');
    await writeFile(standIn, '<!doctype html>');
    const { outDir } = await buildPhotoshop({ outDir: join(out, 'photoshop'), uiHtmlPath: standIn });
    const fake = new FakePhotoshop();
    fake.openDocument({ title: 'a.psd', width: 8, height: 8, layers: [{ name: 'L', rect: { left: 0, top: 0, width: 8, height: 8 } }] });
    global.require = (id: string) => {
      if (id === 'photoshop') return fake.photoshop;
      if (id === 'uxp') return fake.uxp;
      throw new Error(`UXP has no module ${id}`);
    };
    const document = {
      getElementById: (id: string) => (id === 'frontier-ui' ? fake.webview : null),
      theme: { getCurrent: () => 'lightest', onUpdated: { addListener() {} } },
    };
    const code = await readFile(join(outDir, 'panel.js'), 'utf8');
    new Function('document', 'window', code)(document, { localStorage: fake.localStorage });

    const received: HostMessage[] = [];
    const receiver = new WireReceiver('ui', (m) => received.push(m as HostMessage));
    fake.webview.page.onMessage((e) => receiver.push(e));
    new WireSender('host', (f) => fake.webview.page.uxpHost.postMessage(f)).send({ type: 'ui-ready' });
    for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(received.map((m) => m.type), ['init', 'theme']);
    const [init, theme] = received;
    assert.equal(init.type === 'init' && init.selection.items[0].name, 'L');
    assert.equal(theme.type === 'theme' && theme.mode, 'light');
  } finally {
    global.require = saved;
    await rm(out, { recursive: true, force: true });
  }
});
