import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rgbaToTensor, tensorToRgba } from '../../worker/image/tensor.ts';
import { psnr, resizeBicubic, crop } from '../../worker/image/rgba.ts';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import { sniffFormat } from '../../worker/image/codec.ts';
import { readFile } from 'node:fs/promises';

const img = { width: 2, height: 1, data: new Uint8Array([255, 0, 51, 255, 0, 128, 255, 10]) };

test('NHWC in [0,255] keeps pixel order and values; alpha is not fed to the model', () => {
  const t = rgbaToTensor(img, { layout: 'NHWC', range: [0, 255] });
  assert.deepEqual(t.dims, [1, 1, 2, 3]);
  assert.deepEqual([...t.data], [255, 0, 51, 0, 128, 255]);
});

test('NCHW in [0,1] is planar and scaled', () => {
  const t = rgbaToTensor(img, { layout: 'NCHW', range: [0, 1] });
  assert.deepEqual(t.dims, [1, 3, 1, 2]);
  const v = [...(t.data as Float32Array)].map((x) => Math.round(x * 255));
  assert.deepEqual(v, [255, 0, 0, 128, 51, 255]);
});

test('[-1,1] round-trips to the same bytes, clamping out-of-range values', () => {
  const io = { layout: 'NCHW' as const, range: [-1, 1] as [number, number] };
  const t = rgbaToTensor(img, io);
  const back = tensorToRgba(t, io);
  assert.deepEqual([...back.data], [255, 0, 51, 255, 0, 128, 255, 255]);
  (t.data as Float32Array)[0] = 7; // far above range
  (t.data as Float32Array)[1] = -9;
  const clamped = tensorToRgba(t, io);
  assert.equal(clamped.data[0], 255);
  assert.equal(clamped.data[4], 0);
});

test('node codec decodes the real photo and re-encodes losslessly; formats are sniffed from bytes', async () => {
  const bytes = new Uint8Array(await readFile(new URL('../fixtures/images/chelsea.png', import.meta.url)));
  assert.equal(sniffFormat(bytes), 'png');
  const decoded = await nodeCodec.decode(bytes);
  assert.equal(decoded.width, 451);
  assert.equal(decoded.height, 300);
  const again = await nodeCodec.decode(await nodeCodec.encodePng(decoded));
  assert.deepEqual(again.data, decoded.data);
  await assert.rejects(nodeCodec.decode(new Uint8Array([1, 2, 3, 4])), /Unsupported image format/);
  await assert.rejects(nodeCodec.decode(bytes.subarray(0, 100)), /could not be decoded/);
});

test('bicubic of an image to its own size is near-identity and PSNR is infinite for identical images', async () => {
  const bytes = new Uint8Array(await readFile(new URL('../fixtures/images/chelsea.png', import.meta.url)));
  const small = crop(await nodeCodec.decode(bytes), 100, 100, 40, 30);
  assert.equal(psnr(small, small), Infinity);
  const same = resizeBicubic(small, 40, 30);
  assert.ok(psnr(small, same) > 50);
  const down = resizeBicubic(small, 20, 15);
  assert.ok(psnr(small, resizeBicubic(down, 40, 30)) < 40, 'a down-up round trip loses detail');
});
