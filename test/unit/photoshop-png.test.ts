// The panel's pure-TypeScript PNG codec: our stored-deflate encoder read by pngjs, and the decoder reading PNGs
// made by pngjs and by zlib at every strategy (stored, fixed and dynamic Huffman), every colour type and depth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { crc32, decodePng, encodeGrayPng, encodePng, inflateZlib, pngSize } from '../../plugin/photoshop/png.ts';

function image(width: number, height: number, alpha: (i: number) => number = () => 255): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = (i * 7) & 255;
    data[i * 4 + 1] = (i * 13 + 5) & 255;
    data[i * 4 + 2] = (i >> 3) & 255;
    data[i * 4 + 3] = alpha(i);
  }
  return data;
}

/** A PNG assembled by hand: IHDR, optional PLTE/tRNS, one IDAT of zlib(`raw`) at `level`, IEND. */
function handmade(width: number, height: number, depth: number, colorType: number, raw: Uint8Array, extra: [string, Uint8Array][] = [], level = 6): Uint8Array {
  const chunk = (type: string, body: Uint8Array) => {
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.write(type, 4, 'latin1');
    Buffer.from(body).copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  return new Uint8Array(Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    ...extra.map(([t, b]) => chunk(t, b)), chunk('IDAT', deflateSync(raw, { level })), chunk('IEND', new Uint8Array(0)),
  ]));
}

test('our encoder: pngjs reads back the exact pixels, RGB when opaque and RGBA otherwise', () => {
  for (const [w, h, alpha] of [[1, 1, () => 255], [97, 61, () => 255], [33, 20, (i: number) => i & 255], [300, 250, (i: number) => (i % 5 ? 255 : 0)]] as const) {
    const data = image(w, h, alpha);
    const png = encodePng({ width: w, height: h, data });
    assert.deepEqual(pngSize(png), { width: w, height: h });
    const read = PNG.sync.read(Buffer.from(png));
    assert.deepEqual(new Uint8Array(read.data), data);
    assert.equal(png[25], alpha(0) === 255 && alpha(1) === 255 && alpha(5) === 255 ? 2 : 6);
    assert.deepEqual(decodePng(png).data, data);
  }
});

test('grey encoder (masks): colour type 0, pngjs and our decoder read back every level', () => {
  const width = 300;
  const height = 250; // over one 64 KiB stored block
  const grey = Uint8Array.from({ length: width * height }, (_, i) => (i * 31 + (i >> 9)) & 255);
  const png = encodeGrayPng(width, height, grey);
  assert.equal(png[25], 0, 'IHDR colour type 0 (grey)');
  const read = PNG.sync.read(Buffer.from(png));
  assert.deepEqual([read.width, read.height], [width, height]);
  const ours = decodePng(png).data;
  for (let i = 0; i < grey.length; i++) {
    assert.equal(read.data[i * 4], grey[i]);
    assert.equal(ours[i * 4 + 2], grey[i]);
    assert.equal(ours[i * 4 + 3], 255);
  }
  assert.throws(() => encodeGrayPng(2, 2, new Uint8Array(3)), /does not match 2×2/);
  assert.throws(() => encodeGrayPng(0, 2, new Uint8Array(0)), /Cannot encode a 0×2 image/);
});

test('decoder: PNGs from pngjs at every zlib level, colour type and filter', () => {
  const w = 57;
  const h = 23;
  const data = image(w, h, (i) => (i * 3) & 255);
  for (const colorType of [0, 2, 4, 6] as const) {
    for (const level of [0, 1, 6, 9]) {
      const png = new PNG({ width: w, height: h });
      png.data = Buffer.from(data);
      const bytes = PNG.sync.write(png, { colorType, inputColorType: 6, deflateLevel: level } as never);
      assert.deepEqual(decodePng(new Uint8Array(bytes)).data, new Uint8Array(PNG.sync.read(bytes).data), `type ${colorType} level ${level}`);
    }
  }
});

test('inflate: stored, fixed-Huffman and dynamic-Huffman streams from zlib', () => {
  const text = new TextEncoder().encode('frontier '.repeat(5000));
  const noise = image(200, 200).subarray(0, 100_000);
  for (const input of [text, noise, new Uint8Array(0), new Uint8Array(70_000)]) {
    for (const options of [{ level: 0 }, { level: 1 }, { level: 9 }, { level: 6, strategy: 4 /* Z_FIXED */ }, { level: 6, strategy: 2 /* Z_HUFFMAN_ONLY */ }, { level: 6, strategy: 3 /* Z_RLE */ }]) {
      const z = new Uint8Array(deflateSync(input, options));
      assert.deepEqual(inflateZlib(z, input.length), input, JSON.stringify(options));
    }
  }
});

test('decoder: 16-bit samples keep their high byte; palette with tRNS; 1-bit gray; gray and RGB colour keys', () => {
  // 16-bit RGBA, 2×1.
  const raw16 = Uint8Array.from([0, 0x12, 0x34, 0xab, 0xcd, 0xff, 0xff, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]);
  assert.deepEqual(decodePng(handmade(2, 1, 16, 6, raw16)).data, Uint8Array.from([0x12, 0xab, 0xff, 0x80, 0x01, 0x03, 0x05, 0x07]));
  // Palette, 2 bits per pixel, 4 pixels, entry 1 half transparent.
  const plte = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]);
  const raw2 = Uint8Array.from([0, 0b00011011]);
  assert.deepEqual(
    decodePng(handmade(4, 1, 2, 3, raw2, [['PLTE', plte], ['tRNS', Uint8Array.from([255, 128])]])).data,
    Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255, 9, 9, 9, 255]),
  );
  // 1-bit gray, 10 pixels over 2 bytes, with the Up filter on row 2.
  const raw1 = Uint8Array.from([0, 0b10110000, 0b01000000, 2, 0b00000000, 0b00000000]);
  const gray = decodePng(handmade(10, 2, 1, 0, raw1)).data;
  assert.deepEqual(Array.from({ length: 10 }, (_, i) => gray[i * 4]), [255, 0, 255, 255, 0, 0, 0, 0, 0, 255]);
  assert.deepEqual(Array.from({ length: 10 }, (_, i) => gray[40 + i * 4]), [255, 0, 255, 255, 0, 0, 0, 0, 0, 255]);
  // 8-bit RGB with a colour key: (1,2,3) is transparent.
  const key = decodePng(handmade(2, 1, 8, 2, Uint8Array.from([0, 1, 2, 3, 4, 5, 6]), [['tRNS', Uint8Array.from([0, 1, 0, 2, 0, 3])]])).data;
  assert.deepEqual(key, Uint8Array.from([1, 2, 3, 0, 4, 5, 6, 255]));
});

test('decoder: corrupt, truncated and interlaced files fail with a clear message', () => {
  const good = encodePng({ width: 8, height: 8, data: image(8, 8) });
  const corrupt = good.slice();
  corrupt[40] ^= 0xff;
  assert.throws(() => decodePng(corrupt), /corrupt \(CRC mismatch\)/);
  assert.throws(() => decodePng(good.subarray(0, good.length - 20)), /truncated/);
  assert.throws(() => decodePng(Uint8Array.from([1, 2, 3])), /not a PNG/);
  const interlaced = handmade(1, 1, 8, 6, Uint8Array.from([0, 1, 2, 3, 4]));
  interlaced[28] = 1; // IHDR interlace byte (CRC fixed below)
  const view = Buffer.from(interlaced.buffer);
  view.writeUInt32BE(crc32(interlaced.subarray(12, 29)), 29);
  assert.throws(() => decodePng(interlaced), /Interlaced PNGs are not supported/);
  const short = handmade(4, 4, 8, 6, new Uint8Array(10));
  assert.throws(() => decodePng(short), /truncated or corrupt|ends early/);
});
