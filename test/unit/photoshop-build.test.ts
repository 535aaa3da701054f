// The Photoshop build: manifest v5 with the permissions the panel needs, the panel page and bundle, icons for every
// manifest entry, and the .ccx, read back by an independent reader (Python's zipfile, which checks every CRC).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { buildPhotoshop, normalizeDomain, writeZip } from '../../plugin/build-photoshop.ts';
import { WireReceiver, WireSender } from '../../plugin/photoshop/wire.ts';
import type { HostMessage } from '../../plugin/messages.ts';
import { FakePhotoshop } from '../fakes/photoshop.ts';

interface Icon { width: number; height: number; path: string; scale: number[] }

const PYTHON = '/usr/bin/python3';
/** Lists a zip's entries with Python's zipfile after testzip() (every entry's CRC): name → base64 of its bytes. */
const READ_ZIP_PY = `
import base64, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    if bad is not None:
        sys.exit(f"bad CRC in {bad}")
    json.dump({i.filename: [i.compress_type, base64.b64encode(z.read(i)).decode()] for i in z.infolist()}, sys.stdout)
`;

/** Entries of the zip at `path` as Python's zipfile reads them, each checked against its CRC. */
function readZip(path: string): Map<string, { method: number; data: Uint8Array }> {
  const out = execFileSync(PYTHON, ['-c', READ_ZIP_PY, path], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const entries = JSON.parse(out) as Record<string, [number, string]>;
  return new Map(Object.entries(entries).map(([name, [method, b64]]) => [name, { method, data: new Uint8Array(Buffer.from(b64, 'base64')) }]));
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

    const files = readZip(ccx!);
    assert.ok(files.has('manifest.json') && files.has('index.html') && files.has('panel.js') && files.has('webview/index.html'));
    for (const name of ['manifest.json', 'index.html', 'panel.js', 'webview/index.html', 'icons/panel-dark@2x.png']) {
      assert.deepEqual(files.get(name)?.data, new Uint8Array(await readFile(join(outDir, name))), name);
    }
    assert.equal(files.get('panel.js')?.method, 8, 'text is deflated');
    assert.equal(files.size, 4 + icons.length * 2);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('zip writer: entries with UTF-8 names, empty and incompressible ones, read back exactly by Python’s zipfile', async () => {
  let seed = 7;
  const noise = Uint8Array.from({ length: 4000 }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 255);
  const entries = [
    { path: 'a.txt', data: new TextEncoder().encode('hello '.repeat(1000)) },
    { path: 'dir/ü.bin', data: Uint8Array.from({ length: 300 }, (_, i) => (i * 97) & 255) },
    { path: 'empty', data: new Uint8Array(0) },
    { path: 'noise.bin', data: noise },
  ];
  const dir = await mkdtemp(join(tmpdir(), 'frontier-zip-'));
  try {
    const path = join(dir, 'test.zip');
    await writeFile(path, writeZip(entries));
    const files = readZip(path);
    assert.deepEqual([...files.keys()].sort(), entries.map((e) => e.path).sort());
    for (const e of entries) assert.deepEqual(files.get(e.path)?.data, e.data, e.path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
