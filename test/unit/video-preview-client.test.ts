// The job client's side of video previews (worker/video/preview.ts): each new preview frame is decoded once and
// shown; a newer one that arrives while an older one decodes wins (the older is never shown after it); nothing is
// shown after close (the job ended); a preview that does not decode, or no decoder at all (Node's CLI), shows nothing
// and throws nothing. Engine previews (raw RGBA) are not frame previews.
//
//   node --import tsx --test --test-reporter=spec test/unit/video-preview-client.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { framePreviews, isFramePreview, webImageDecoder } from '../../worker/video/preview.ts';
import type { RgbaImage } from '../../worker/job.ts';

const image = (width: number): RgbaImage => ({ width, height: 1, data: new Uint8Array(4 * width) });
const preview = (jpeg: string) => ({ width: 2, height: 1, jpeg });

test('each new preview is decoded once and shown; a newer one wins over an older one still decoding; none after close', async () => {
  const pending = new Map<string, (img: RgbaImage) => void>();
  const decoded: string[] = [];
  const shown: number[] = [];
  const previews = framePreviews(
    (bytes) => new Promise((resolve) => {
      const key = new TextDecoder().decode(bytes);
      decoded.push(key);
      pending.set(key, resolve);
    }),
    (img) => shown.push(img.width),
  );
  previews.offer(preview(btoa('one')));
  previews.offer(preview(btoa('one'))); // the same frame again (a poll, a replay): not decoded again
  previews.offer(undefined);
  previews.offer({ width: 2, height: 1, rgba: 'AAAA' }); // an engine preview
  previews.offer(preview(btoa('two')));
  assert.deepEqual(decoded, ['one', 'two']);
  pending.get('two')!(image(2));
  pending.get('one')!(image(1)); // older, finished later: dropped
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(shown, [2]);

  previews.offer(preview(btoa('three')));
  previews.close();
  pending.get('three')!(image(3));
  previews.offer(preview(btoa('four')));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(shown, [2], 'nothing after close');
  assert.deepEqual(decoded, ['one', 'two', 'three']);
});

test('a preview that does not decode, bad base64, or no decoder: nothing shown, nothing thrown', async () => {
  const shown: RgbaImage[] = [];
  const failing = framePreviews(() => Promise.reject(new Error('corrupt')), (img) => shown.push(img));
  failing.offer(preview(btoa('x')));
  failing.offer(preview('not base64!'));
  const none = framePreviews(undefined, (img) => shown.push(img));
  none.offer(preview(btoa('y')));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(shown.length, 0);
  assert.equal(webImageDecoder(), undefined, 'Node has no createImageBitmap / OffscreenCanvas');
  assert.equal(isFramePreview({ width: 1, height: 1, rgba: '' }), false);
  assert.equal(isFramePreview(preview('')), true);
});
