// Video in the Figma bridge: which selections can be read as clips (top-level frames), read-video through
// exportAsync MP4, place-video through createVideoAsync in one undo step, and the limits Figma enforces (paid teams,
// 100 MB, MP4/MOV/WebM only), each refused with a message that says what to do.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HostToUi, Message } from '../../plugin/messages.ts';
import { PLUGIN_DATA_KEY } from '../../plugin/figma/place.ts';
import { summarizeSelection } from '../../plugin/figma/selection.ts';
import type { ResultMeta } from '../../worker/job.ts';
import { startSession } from '../fakes/figma-harness.ts';
import type { FakeRectangle } from '../fakes/figma.ts';
import { makeClip, requireFfmpeg } from '../server/jobs-util.ts';

type VideoMsg = Message<HostToUi, 'video'>;
type PlacedMsg = Message<HostToUi, 'placed'>;
type FailedMsg = Message<HostToUi, 'request-failed'>;

const META: ResultMeta = { task: 'upscale-video', model: 'esrgan-slim-x2', modelVariant: 'full', params: { scale: 2 }, target: 'server', version: '0.1.0', runMs: 900 };

let work: string;
let clip: Uint8Array;
before(async () => {
  requireFfmpeg();
  work = await mkdtemp(join(tmpdir(), 'frontier-figma-video-'));
  await makeClip(join(work, 'clip.mp4'), { width: 32, height: 24, fps: 8, seconds: 1 });
  clip = new Uint8Array(await readFile(join(work, 'clip.mp4')));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const placeVideo = (sourceNodeId: string, bytes = clip, over: Record<string, unknown> = {}) => ({
  type: 'place-video', requestId: 'pv', sourceNodeId, bytes, mime: 'video/mp4', width: 64, height: 48, name: 'Upscale video ×2 · ESRGAN slim', meta: META, ...over,
});

test('top-level frames can be read as video; nested frames and images cannot', async () => {
  const { fake } = startSession();
  const top = fake.addFrame(fake.currentPageNode, 'Animated card', { x: 0, y: 0, width: 32, height: 24 });
  const nested = fake.addFrame(top, 'Inner', { x: 0, y: 0, width: 10, height: 10 });
  fake.select(top, nested);
  const { items } = await summarizeSelection(fake.figma);
  assert.equal(items.find((i) => i.nodeId === top.id)?.video, true);
  assert.equal(items.find((i) => i.nodeId === nested.id)?.video, undefined);
});

test('read-video exports the animated frame as MP4 at scale 1 and sends the bytes', async () => {
  const { fake, send } = startSession();
  const frame = fake.addFrame(fake.currentPageNode, 'Animated card', { x: 0, y: 0, width: 32, height: 24 });
  fake.animate(frame, clip);
  const answer = fake.ui.waitFor<VideoMsg>('video');
  await send({ type: 'read-video', requestId: 'rv', nodeId: frame.id });
  const video = await answer;
  assert.equal(video.mime, 'video/mp4');
  assert.deepEqual([video.width, video.height], [32, 24]);
  assert.deepEqual([...video.bytes], [...clip]);
  assert.deepEqual(fake.exports.at(-1)?.settings, { format: 'MP4', fps: 30, quality: 'HIGH', constraint: { type: 'SCALE', value: 1 } });
});

test('read-video of a frame without animation, or of a nested frame, says what to select', async () => {
  const { fake, send } = startSession();
  const still = fake.addFrame(fake.currentPageNode, 'Still', { width: 32, height: 24 });
  const inner = fake.addFrame(still, 'Inner', { width: 8, height: 8 });
  let failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await send({ type: 'read-video', requestId: 'a', nodeId: still.id });
  assert.match((await failed).message, /could not export "Still" as video .*Only a frame with animation/);
  failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await send({ type: 'read-video', requestId: 'b', nodeId: inner.id });
  assert.match((await failed).message, /"Inner" is not a top-level frame.*placed directly on the page/);
});

test('place-video adds a video-filled rectangle beside the source with its meta, as one undo step', async () => {
  const { fake, send } = startSession();
  const source = fake.addFrame(fake.currentPageNode, 'Animated card', { x: 100, y: 50, width: 32, height: 24 });
  const steps = fake.history.stepCount;
  const placed = fake.ui.waitFor<PlacedMsg>('placed');
  await send(placeVideo(source.id));
  const node = fake.nodeById((await placed).nodeId) as FakeRectangle;
  assert.equal(node.type, 'RECTANGLE');
  assert.equal(node.name, 'Upscale video ×2 · ESRGAN slim');
  assert.deepEqual([node.width, node.height], [64, 48]);
  assert.ok(node.x >= 100 + 32, 'placed right of the source');
  const fill = node.fills[0] as VideoPaint;
  assert.equal(fill.type, 'VIDEO');
  assert.deepEqual([...(fake.videos.get(fill.videoHash!) ?? [])], [...clip]);
  assert.deepEqual(JSON.parse(node.getPluginData(PLUGIN_DATA_KEY)), META);
  assert.equal(fake.history.stepCount, steps + 1, 'one action = one undo step');
  (fake.figma as unknown as PluginAPI).triggerUndo();
  assert.equal(fake.nodeById(node.id), undefined, 'undo removes the placed clip');
  assert.ok(fake.nodeById(source.id), 'the source is untouched');
});

test('place-video with no source (a clip chosen from a file in the UI) lands in view as a video, one undo step', async () => {
  const { fake, send } = startSession();
  const steps = fake.history.stepCount;
  const placed = fake.ui.waitFor<PlacedMsg>('placed');
  const message: Record<string, unknown> = placeVideo('');
  delete message.sourceNodeId;
  await send(message);
  const node = fake.nodeById((await placed).nodeId) as FakeRectangle;
  assert.equal((node.fills[0] as VideoPaint).type, 'VIDEO');
  assert.equal(node.parent, fake.currentPageNode, 'on the current page');
  const center = fake.figma.viewport.center;
  assert.ok(Math.abs(node.x + node.width / 2 - center.x) < 200 && Math.abs(node.y + node.height / 2 - center.y) < 200, `near the view's centre: ${node.x},${node.y} vs ${center.x},${center.y}`);
  assert.equal(fake.history.stepCount, steps + 1);
});

test('Figma limits: a free team, bytes that are no video, over 100 MB: refused with what to do, nothing added', async () => {
  const { fake, send } = startSession();
  const source = fake.addFrame(fake.currentPageNode, 'Animated card', { width: 32, height: 24 });
  const before = fake.currentPageNode.children.length;

  fake.paidPlan = false;
  let failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await send(placeVideo(source.id));
  assert.match((await failed).message, /Figma did not accept the video .*paid Professional, Organization or Education teams/);
  fake.paidPlan = true;

  failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await send(placeVideo(source.id, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])));
  assert.match((await failed).message, /Figma did not accept the video \(Invalid video/);

  failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await send(placeVideo(source.id, new Uint8Array(100 * 1024 * 1024 + 1)));
  assert.match((await failed).message, /is 100\.0 MB; Figma takes video up to 100 MB\. Download it from the plugin/);

  failed = fake.ui.waitFor<FailedMsg>('request-failed');
  await send(placeVideo(source.id, clip, { width: 64.5 }));
  assert.match((await failed).message, /not a whole number of pixels/);

  assert.equal(fake.currentPageNode.children.length, before, 'nothing was added');
  assert.equal(fake.videos.size, 0);
});
