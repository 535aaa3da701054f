// The TTVSR memory estimate's arithmetic (worker/video/ttvsr-memory.ts), without a model: the window shapes of a clip
// are the server's (frameWindows), the figures stated in its header (1080p, 180p), the largest fitting frame size, the
// channels read from a card. Its match with what the driver really holds is test/export/ttvsr-windows.test.ts.
//
//   node --import tsx --test --test-reporter=spec test/unit/ttvsr-memory.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModelCard } from '../../worker/models/card.ts';
import { clipWindows, largestFitting, MARGIN, PART_WORK_FM, ttvsrChannels, windowHeldBytes, windowsHeldBytes } from '../../worker/video/ttvsr-memory.ts';

const GB = 1e9;

test('a clip’s window shapes are the server’s: first, middle and last windows of 8 with 4 of context', async () => {
  assert.deepEqual(await clipWindows(30, 8, 4), [
    { frames: 12, keepFrom: 0, keepTo: 8 },
    { frames: 16, keepFrom: 4, keepTo: 12 },
    { frames: 10, keepFrom: 4, keepTo: 10 },
  ]);
  assert.deepEqual(await clipWindows(5, 8, 4), [{ frames: 5, keepFrom: 0, keepTo: 5 }]);
});

test('the figures: 1080p needs ≈ 110 GB (tokens 8.5 GB at 4 keyframes), 180p ≈ 3 GB; the middle window is the largest', async () => {
  const windows = await clipWindows(300, 8, 4);
  const fhd = windowsHeldBytes({ width: 1920, height: 1080, channels: 64 }, windows);
  const fm = 4 * 64 * 1920 * 1080;
  assert.equal(fhd.keyframes, 4);
  assert.equal(fhd.tokens, 16 * fm);
  assert.ok(Math.abs(fhd.tokens / GB - 8.49) < 0.01, `${fhd.tokens / GB}`);
  assert.equal(fhd.parts, (PART_WORK_FM.flow + PART_WORK_FM.features + PART_WORK_FM.refine + PART_WORK_FM.reconstruct + 4 * PART_WORK_FM.alignPerKeyframe) * fm);
  assert.equal(fhd.total, Math.ceil(MARGIN * (fhd.driver + fhd.parts)));
  assert.ok(fhd.total > 105 * GB && fhd.total < 115 * GB, `${fhd.total / GB} GB`);
  // 6 keyframes (a window of 16 frames run in one pass): the ≈ 12.7 GB of token buffers the issue names.
  assert.ok(Math.abs(windowHeldBytes({ width: 1920, height: 1080, channels: 64 }, { frames: 16 }).tokens / GB - 12.74) < 0.01);
  const small = windowsHeldBytes({ width: 320, height: 180, channels: 64 }, windows);
  assert.ok(small.total > 2.8 * GB && small.total < 3.2 * GB, `${small.total / GB} GB`);
  assert.deepEqual(windowsHeldBytes({ width: 320, height: 180, channels: 64 }, windows), windowHeldBytes({ width: 320, height: 180, channels: 64 }, windows[1]));
  // Memory grows with the frame's area; sizes under 64 are padded to 64.
  assert.ok(Math.abs(windowsHeldBytes({ width: 640, height: 360, channels: 64 }, windows).total / small.total - 4) < 0.01);
  assert.deepEqual(windowHeldBytes({ width: 20, height: 30, channels: 8 }, { frames: 5 }), windowHeldBytes({ width: 64, height: 64, channels: 8 }, { frames: 5 }));
});

test('largestFitting: the size it names fits, a little larger does not; nothing fits a budget under the smallest frames', async () => {
  const windows = await clipWindows(100, 8, 4);
  const size = { width: 1280, height: 720, channels: 64 };
  const fit = largestFitting(size, windows, 4 * GB)!;
  const need = (w: number, h: number) => windowsHeldBytes({ ...size, width: w, height: h }, windows).total;
  assert.ok(need(fit.width, fit.height) <= 4 * GB);
  assert.ok(need(fit.width + 8, fit.height + 8) > 4 * GB);
  assert.ok(Math.abs(fit.width / fit.height - 16 / 9) < 0.02);
  assert.ok(largestFitting(size, windows, 4 * GB, 'driver')!.width > fit.width, 'the driver alone (a gateway runs the parts) fits larger frames');
  assert.equal(largestFitting(size, windows, 1e6), null);
});

test('the channels come from the card (io.video.channels, else the feature input)', () => {
  const template = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'models', 'templates', 'ttvsr-reds-reconstruct.template.json'), 'utf8')) as { cards: Record<string, ModelCard> };
  const card = template.cards['ttvsr-reds-reconstruct'];
  assert.equal(ttvsrChannels(card), 64);
  const io = { ...card.io, video: undefined } as unknown as ModelCard['io'];
  assert.equal(ttvsrChannels({ ...card, io }), 64, 'from the feature input');
  assert.throws(() => ttvsrChannels({ ...card, io: { ...io, inputs: [] } }), /does not say how many feature channels/);
});
