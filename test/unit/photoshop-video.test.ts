// Video in the Photoshop panel, against the fake photoshop/uxp modules through the JSON-only webview bridge: a clip
// result is saved where the designer chooses and opened as a new document (Photoshop has no API to write frames into
// a video layer); a cancelled save dialog says the clip was not saved and where to get it; opening is a document
// change, so it happens in a modal scope (the fake refuses it outside one, as Photoshop does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultMeta } from '../../worker/job.ts';
import type { UiMessage } from '../../plugin/messages.ts';
import { parseNodeId } from '../../plugin/photoshop/document.ts';
import { META_FILE } from '../../plugin/photoshop/meta-store.ts';
import { VIDEO_NOT_SAVED, videoFileName } from '../../plugin/photoshop/video.ts';
import { fakeMp4, FakePhotoshop, mp4Size } from '../fakes/photoshop.ts';
import { ready } from './photoshop-util.ts';

const META = { task: 'upscale-video', model: 'esrgan-slim-x2', modelVariant: 'full', params: { scale: 2 }, target: 'server', version: '0.1.0', runMs: 900 } as ResultMeta;
const NAME = 'Upscale video ×2 · ESRGAN slim';

/** place-video as the UI sends it for a clip chosen from a file: no source node. */
const placeVideo = (requestId: string, bytes: Uint8Array, over: Record<string, unknown> = {}) =>
  ({ type: 'place-video', requestId, bytes, mime: 'video/mp4', width: 128, height: 96, name: NAME, meta: META, ...over }) as UiMessage;

function withPhoto(fake: FakePhotoshop) {
  return fake.openDocument({ title: 'photo.psd', width: 64, height: 48, background: [255, 255, 255, 255] });
}

test('the fake reads an MP4 track header’s size and refuses what is not an MP4', () => {
  assert.deepEqual(mp4Size(fakeMp4(128, 96)), { width: 128, height: 96 });
  assert.equal(mp4Size(new Uint8Array(64)), null);
});

test('place-video saves the clip where the designer chooses and opens it as a new front document, in a modal scope', async () => {
  const fake = new FakePhotoshop();
  const photo = withPhoto(fake);
  const s = await ready(fake);
  const clip = fakeMp4(128, 96);
  const before = s.received.length;
  await s.send(placeVideo('pv', clip));
  const placed = await s.next('placed', before);
  assert.equal(placed.requestId, 'pv');

  assert.deepEqual(fake.saveDialogs, [{ suggestedName: `${NAME}.mp4`, types: ['mp4'] }]);
  const path = `/Users/designer/Movies/${NAME}.mp4`;
  assert.deepEqual([...(fake.savedFiles.get(path) ?? [])], [...clip], 'the bytes on disk are the clip, exactly');
  assert.deepEqual(fake.opened, [path]);
  assert.deepEqual(fake.modalScopes, ['Frontier: opening the clip']);

  const doc = fake.documents.at(-1)!;
  assert.notEqual(doc, photo);
  assert.equal(fake.photoshop.app.activeDocument, doc, 'the clip is the front document');
  assert.deepEqual([doc.title, doc.path, doc.width, doc.height], [`${NAME}.mp4`, path, 128, 96]);
  assert.equal(doc.layers[0].kind, 'video');
  assert.deepEqual(parseNodeId(placed.nodeId), { docId: doc.id, layerId: doc.layers[0].id, region: null });
  assert.deepEqual(photo.historyNames, [], 'the open document is untouched');
  assert.match(fake.dataFiles.get(META_FILE) ?? '', /upscale-video/, 'how it was made is kept with the clip’s layer');

  // The Results list asks whether it is still there: it is, until the document is closed.
  await s.send({ type: 'check-nodes', requestId: 'c1', nodeIds: [placed.nodeId] });
  assert.deepEqual((await s.next('nodes')).present, [placed.nodeId]);
  await s.close();
});

test('a cancelled save dialog: nothing is written or opened, and the answer says the clip was not saved and where to get it', async () => {
  const fake = new FakePhotoshop();
  withPhoto(fake);
  fake.saveDialog = () => null;
  const s = await ready(fake);
  const documents = fake.documents.length;
  await s.send(placeVideo('pv', fakeMp4(128, 96)));
  const failed = await s.next('request-failed');
  assert.equal(failed.requestId, 'pv');
  assert.equal(failed.message, VIDEO_NOT_SAVED);
  assert.match(failed.message, /not saved.*download it from the Frontier panel/);
  assert.equal(fake.savedFiles.size, 0);
  assert.equal(fake.documents.length, documents);
  assert.deepEqual(fake.modalScopes, [], 'no modal scope for a dialog the designer closed');
  await s.close();
});

test('the fake enforces what UXP does: app.open only in a modal scope, binary writes only from an ArrayBuffer', async () => {
  const fake = new FakePhotoshop();
  const { app } = fake.photoshop;
  const fs = fake.uxp.storage.localFileSystem;
  const file = (await fs.getFileForSaving('clip.mp4', { types: ['mp4'] }))!;
  await assert.rejects(file.write(new Uint8Array(8) as unknown as ArrayBuffer, { format: fake.uxp.storage.formats.binary }), /takes an ArrayBuffer/);
  await file.write(fakeMp4(32, 24).buffer as ArrayBuffer, { format: fake.uxp.storage.formats.binary });
  await assert.rejects(app.open(file), /only allowed from inside a modal scope/);
  assert.equal(fake.documents.length, 0);
  await assert.rejects(fs.getFileForSaving('clip.mp4', { types: ['.mp4'] }), /without the dot/);
  const doc = await fake.photoshop.core.executeAsModal(() => app.open(file), { commandName: 'test' });
  assert.deepEqual([doc.width, doc.height], [32, 24]);
});

test('a clip Photoshop cannot open stays saved, and the answer says where and what to do', async () => {
  const fake = new FakePhotoshop();
  const s = await ready(fake);
  await s.send(placeVideo('pv', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])));
  const failed = await s.next('request-failed');
  assert.match(failed.message, /^The clip is saved at \/Users\/designer\/Movies\/.+\.mp4, but Photoshop did not open it \(.*does not recognize this type of file\.\): open it with File ▸ Open\.$/);
  assert.equal(fake.savedFiles.size, 1);
  assert.equal(fake.documents.length, 0);
  await s.close();
});

test('a clip over 1 MB crosses the JSON bridge in frames and is saved byte for byte', async () => {
  const fake = new FakePhotoshop();
  const s = await ready(fake, { frameChars: 256 * 1024 });
  const header = fakeMp4(64, 48);
  const clip = new Uint8Array(1_500_000);
  clip.set(header);
  for (let i = header.length; i < clip.length; i++) clip[i] = (i * 31) & 255;
  await s.send(placeVideo('big', clip, { width: 64, height: 48 }));
  await s.next('placed');
  const saved = [...fake.savedFiles.values()][0];
  assert.equal(saved.length, clip.length);
  assert.ok(saved.every((b, i) => b === clip[i]), 'every byte arrived');
  assert.ok(fake.webview.framesToPanel > 4, `sent in frames (${fake.webview.framesToPanel})`);
  await s.close();
});

test('file names drop characters file systems refuse', () => {
  assert.equal(videoFileName('Restore video · a/b: "c"?', 'mp4'), 'Restore video · a b c.mp4');
  assert.equal(videoFileName('***', 'mov'), 'Frontier clip.mov');
});
