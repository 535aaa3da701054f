// Photoshop's pixels cross the panel ⇄ webview bridge raw (plugin/messages.ts RAW_RGBA): the UI's HostClient over the
// UXP transport, the real panel bridge on the fake Photoshop (its webview carries JSON text only), the real batch and
// the real Node engine running ESRGAN on a natural photo. What the engine is given is the layer's pixels exactly, what
// lands in the new layer is the engine's output exactly, and nothing is encoded or decoded on the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostMessage, checkUiMessage, RAW_RGBA, type SelectedItem } from '../../plugin/messages.ts';
import { startPhotoshopBridge, type PhotoshopBridge } from '../../plugin/photoshop/bridge.ts';
import { parseNodeId } from '../../plugin/photoshop/document.ts';
import { messageToText } from '../../plugin/photoshop/wire.ts';
import { runBatch, type BatchDeps, type ItemResult } from '../../ui/batch.ts';
import { HostClient } from '../../ui/host-client.ts';
import { uxpTransport } from '../../ui/uxp-transport.ts';
import { Engine } from '../../worker/engine.ts';
import { crop } from '../../worker/image/rgba.ts';
import type { Job, JobResult, RgbaImage } from '../../worker/job.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import type { TaskInfo } from '../../worker/tasks/task.ts';
import { FakePhotoshop, type FakeDocument } from '../fakes/photoshop.ts';
import { loadPhoto } from '../node/helpers.ts';

/** A window stand-in: an EventTarget with `uxpHost` wired to the fake webview's page side. */
function pageWindow(fake: FakePhotoshop): Window {
  const win = new EventTarget() as unknown as Window & { uxpHost: unknown };
  win.uxpHost = fake.webview.page.uxpHost;
  fake.webview.page.onMessage((event) => win.dispatchEvent(new MessageEvent('message', { data: (event as { data: unknown }).data })));
  return win;
}

/** A layer whose pixels are `image`, its top-left at (left, top). */
function layerOf(name: string, image: RgbaImage, left: number, top: number) {
  return {
    name,
    rect: { left, top, width: image.width, height: image.height },
    fill: (x: number, y: number): [number, number, number, number] => {
      const i = ((y - top) * image.width + (x - left)) * 4;
      return [image.data[i], image.data[i + 1], image.data[i + 2], image.data[i + 3]];
    },
  };
}

interface Panel {
  fake: FakePhotoshop;
  doc: FakeDocument;
  host: HostClient;
  items: SelectedItem[];
  /** What the panel logged as warnings and errors. */
  warnings: string[];
  close(): Promise<void>;
}

async function openPanel(init: Parameters<FakePhotoshop['openDocument']>[0]): Promise<Panel> {
  const fake = new FakePhotoshop();
  const doc = fake.openDocument(init);
  const warnings: string[] = [];
  const bridge: PhotoshopBridge = startPhotoshopBridge({
    photoshop: fake.photoshop, uxp: fake.uxp, storage: fake.localStorage, webview: fake.webview,
    log: { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  const host = new HostClient(uxpTransport(pageWindow(fake)), { readImageMs: 120_000, placeResultMs: 120_000 });
  const init$ = new Promise<SelectedItem[]>((resolve) => host.on('init', (msg) => resolve(msg.selection.items)));
  host.send({ type: 'ui-ready' });
  const items = await init$;
  return {
    fake, doc, host, items, warnings,
    async close() {
      host.dispose();
      await bridge.dispose();
    },
  };
}

const UPSCALE: TaskInfo = {
  id: 'upscale', label: 'Upscale', inputs: ['image'], params: [],
} as unknown as TaskInfo;

test('read → run → place through the panel: raw RGBA both ways, pixel-exact, nothing encoded or decoded', { timeout: 120_000 }, async () => {
  const photo = crop(await loadPhoto('chelsea.png'), 150, 80, 96, 64); // the cat's face
  const panel = await openPanel({ title: 'cat.psd', width: 160, height: 120, background: [255, 255, 255, 255], layers: [layerOf('Cat', photo, 20, 30)] });
  assert.equal(panel.host.takesRawPixels(), true, 'Photoshop says it takes raw pixels (HostInfo.pixels)');
  const engine = new Engine(createNodePlatform({ threads: 1 }));
  const jobs: Job[] = [];
  const results: JobResult[] = [];
  const deps: BatchDeps = {
    host: panel.host,
    engine: {
      decode: async () => assert.fail('raw pixels are not decoded'),
      encodePng: async () => assert.fail('raw pixels are not encoded for Photoshop'),
      run: async (job) => {
        jobs.push(job);
        const result = await engine.run(job);
        results.push(result);
        return result;
      },
    },
  };
  const placed: ItemResult[] = [];
  await runBatch(deps, {
    task: UPSCALE, model: 'esrgan-slim-x2', params: { scale: 2 }, target: 'node', placeMode: 'beside', items: panel.items, modelLabel: (id) => id,
  }, { onProgress() {}, onJob() {}, onResult: (r) => placed.push(r), isCancelled: () => false });

  assert.equal(jobs.length, 1);
  assert.deepEqual(jobs[0].image, { width: 96, height: 64, data: photo.data }, 'the engine got the layer’s pixels exactly');
  const out = results[0].images[0];
  assert.deepEqual([out.width, out.height], [192, 128]);
  const [result] = placed;
  const layer = panel.doc.layer(parseNodeId(result.placedNodeId!)!.layerId!)!;
  assert.deepEqual(layer.pixels({ left: 20, top: 30, right: 20 + 192, bottom: 30 + 128 }), out.data, 'the new layer holds the engine’s output exactly');
  assert.equal(result.png, undefined, 'no PNG was made to place it');
  assert.equal(result.image, out, 'the result card shows the raw pixels');
  assert.equal(result.before?.mime, RAW_RGBA);
  assert.deepEqual(result.before?.bytes, photo.data, 'Compare’s “before” is what was read');
  assert.deepEqual(panel.warnings, []);
  await panel.close();
});

test('a 1024² read crosses the bridge as w·h·4 bytes of base64, plus frame overhead', { timeout: 120_000 }, async () => {
  const photo = await loadPhoto('astronaut.png'); // 512²: tiled 2×2 to 1024²
  const big: RgbaImage = { width: 1024, height: 1024, data: new Uint8Array(1024 * 1024 * 4) };
  for (let y = 0; y < 1024; y++) {
    for (let x = 0; x < 1024; x += 512) big.data.set(photo.data.subarray((y % 512) * 512 * 4, ((y % 512) + 1) * 512 * 4), (y * 1024 + x) * 4);
  }
  const panel = await openPanel({ title: 'big.psd', width: 1024, height: 1024, layers: [layerOf('Astronauts', big, 0, 0)] });
  const before = panel.fake.webview.charsToPage;
  const image = await panel.host.readImage(panel.items[0].nodeId);
  const chars = panel.fake.webview.charsToPage - before;
  assert.equal(image.mime, RAW_RGBA);
  assert.deepEqual(image.bytes, big.data, 'byte-exact');
  const base64 = Math.ceil((1024 * 1024 * 4) / 3) * 4; // 5,592,408 characters
  assert.ok(chars >= base64 && chars < base64 + 4096, `the read cost ${chars} characters on the bridge; raw RGBA as base64 is ${base64}`);
  console.log(`1024² read: ${chars} characters on the bridge (${base64} of them base64 of the ${1024 * 1024 * 4} raw bytes)`);
  // The same pixels as the place-result the UI sends back: the message text is that base64 and a few hundred characters.
  const text = messageToText({ type: 'place-result', requestId: 'r', sourceNodeId: image.nodeId, rgba: image.bytes, width: 1024, height: 1024, name: 'x', mode: 'beside', meta: {} });
  assert.ok(text.length >= base64 && text.length < base64 + 1024);
  await panel.close();
});

test('the 4096 px edge: a result 4096 wide is placed, one 4097 wide is refused saying the limit and what to do', { timeout: 60_000 }, async () => {
  const panel = await openPanel({ title: 'wide.psd', width: 5000, height: 10, background: [0, 0, 0, 255], layers: [] });
  const meta = { task: 'upscale', model: 'm', modelVariant: 'full', params: {}, target: 'node', version: '0.1.0', runMs: 1 } as const;
  const strip = (width: number) => Uint8Array.from({ length: width * 2 * 4 }, (_, i) => (i * 31) & 255);
  const ok = await panel.host.placeResult({ sourceNodeId: '', rgba: strip(4096), width: 4096, height: 2, name: 'Wide', mode: 'beside', meta });
  const layer = panel.doc.layer(parseNodeId(ok.nodeId)!.layerId!)!;
  assert.equal(layer.name, 'Wide');
  await assert.rejects(
    panel.host.placeResult({ sourceNodeId: '', rgba: strip(4097), width: 4097, height: 2, name: 'Too wide', mode: 'beside', meta }),
    /The result is 4097×2 px; the Photoshop panel places up to 4096 px per edge\. Choose a smaller scale, or select a smaller area\./,
  );
  assert.equal(panel.doc.allLayers().filter((l) => l.name === 'Too wide').length, 0, 'nothing placed');
  assert.equal(panel.warnings.length, 1, 'the refusal is logged once');
  await panel.close();
});

test('raw pixels that do not fill their size fail the message check; a PNG from an older UI is refused with what to do', { timeout: 60_000 }, async () => {
  const place = { type: 'place-result', requestId: 'r', sourceNodeId: '', width: 4, height: 4, name: 'x', mode: 'beside', meta: {} };
  assert.equal(checkUiMessage({ ...place, rgba: new Uint8Array(64) }), null);
  assert.equal(checkUiMessage({ ...place, rgba: new Uint8Array(60) }), 'place-result.rgba has 60 bytes where 4×4 RGBA is 64');
  assert.equal(checkUiMessage({ ...place, rgba: new Uint8Array(64), png: new Uint8Array(8) }), 'place-result carries png or rgba, not both');
  const answer = { type: 'image', requestId: 'r', nodeId: 'n', mime: RAW_RGBA, width: 2, height: 3 };
  assert.equal(checkHostMessage({ ...answer, bytes: new Uint8Array(24) }), null);
  assert.equal(checkHostMessage({ ...answer, bytes: new Uint8Array(23) }), 'image.bytes has 23 bytes where 2×3 RGBA is 24');

  const panel = await openPanel({ title: 'a.psd', width: 16, height: 16, background: [0, 0, 0, 255], layers: [] });
  const meta = { task: 'upscale', model: 'm', modelVariant: 'full', params: {}, target: 'node', version: '0.1.0', runMs: 1 } as const;
  await assert.rejects(
    panel.host.placeResult({ sourceNodeId: '', png: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), width: 4, height: 4, name: 'Old', mode: 'beside', meta }),
    /sent a PNG where the panel takes raw pixels\. Reload the plugin/,
  );
  assert.equal(panel.doc.allLayers().length, 1, 'only the background');
  await panel.close();
});
