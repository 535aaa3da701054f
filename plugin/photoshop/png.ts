// PNG in plain TypeScript for the UXP panel, which has no canvas, no createImageBitmap and no zlib:
//   encodePng: straight RGBA → PNG with stored (uncompressed) deflate blocks. Fast and small in code; the bytes go
//              over a local bridge, not a network, so size matters less than the panel's CPU time.
//   encodeGrayPng: 8-bit grey levels → PNG the same way (selection masks).
//   decodePng: any non-interlaced PNG (gray, RGB, palette, gray+alpha, RGBA; 1–16 bits) → straight RGBA 8-bit,
//              with a complete inflate (stored, fixed and dynamic Huffman blocks), so results encoded by a browser's
//              canvas, by pngjs or by our own encoder all decode. 16-bit samples keep their high byte.

import { crc32 } from '../../worker/image/crc32.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface RgbaPixels {
  width: number;
  height: number;
  /** Straight (not premultiplied) RGBA, 4 bytes per pixel, rows top to bottom. */
  data: Uint8Array;
}

export class PngError extends Error {
  override name = 'PngError';
}

// ---------------------------------------------------------------------------------------------- checksums

// One CRC-32 for PNG chunks here, the CLI's PNG text chunks and the .ccx zip writer.
export { crc32 };

export function adler32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let a = 1;
  let b = 0;
  for (let i = start; i < end; ) {
    const stop = Math.min(end, i + 3800); // sums stay below 2^32 before the modulo
    for (; i < stop; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

// ---------------------------------------------------------------------------------------------- encoder

const MAX_STORED = 65535;
/** IDAT chunks are cut at this size (any size is valid; moderate chunks suit streaming readers). */
const IDAT_BYTES = 1 << 20;

function u32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  u32(out, 0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  u32(out, 8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** zlib stream of `raw` in stored blocks. */
export function zlibStored(raw: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(raw.length / MAX_STORED));
  const out = new Uint8Array(2 + blocks * 5 + raw.length + 4);
  out[0] = 0x78; // deflate, 32 KiB window
  out[1] = 0x01; // no dictionary, fastest; (0x78 << 8 | 0x01) % 31 === 0
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * MAX_STORED;
    const length = Math.min(MAX_STORED, raw.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE=00
    out[o++] = length & 0xff;
    out[o++] = length >>> 8;
    out[o++] = ~length & 0xff;
    out[o++] = (~length >>> 8) & 0xff;
    out.set(raw.subarray(start, start + length), o);
    o += length;
  }
  u32(out, o, adler32(raw));
  return out;
}

/** PNG of straight RGBA pixels: RGB (colour type 2) when every pixel is opaque, else RGBA (type 6). */
export function encodePng(image: RgbaPixels): Uint8Array {
  const { width, height, data } = image;
  checkSize(width, height);
  if (data.length !== width * height * 4) throw new PngError(`RGBA data of ${data.length} bytes does not match ${width}×${height}.`);
  let opaque = true;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      opaque = false;
      break;
    }
  }
  const channels = opaque ? 3 : 4;
  const stride = width * channels + 1;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    let o = y * stride + 1; // filter byte 0: None
    const row = y * width * 4;
    if (opaque) {
      for (let x = 0; x < width; x++) {
        const i = row + x * 4;
        raw[o++] = data[i];
        raw[o++] = data[i + 1];
        raw[o++] = data[i + 2];
      }
    } else {
      raw.set(data.subarray(row, row + width * 4), o);
    }
  }
  return assemble(width, height, opaque ? 2 : 6, raw);
}

/** PNG of 8-bit grey levels (colour type 0), one byte per pixel: masks. */
export function encodeGrayPng(width: number, height: number, grey: Uint8Array): Uint8Array {
  checkSize(width, height);
  if (grey.length !== width * height) throw new PngError(`Grey data of ${grey.length} bytes does not match ${width}×${height}.`);
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(grey.subarray(y * width, (y + 1) * width), y * (width + 1) + 1); // filter 0: None
  return assemble(width, height, 0, raw);
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new PngError(`Cannot encode a ${width}×${height} image.`);
}

/** Signature, IHDR (8 bits per sample), IDAT chunks of the filtered scanlines `raw`, IEND. */
function assemble(width: number, height: number, colorType: 0 | 2 | 6, raw: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  u32(ihdr, 0, width);
  u32(ihdr, 4, height);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const zlib = zlibStored(raw);
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr)];
  for (let i = 0; i < zlib.length; i += IDAT_BYTES) parts.push(chunk('IDAT', zlib.subarray(i, i + IDAT_BYTES)));
  parts.push(chunk('IEND', new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- inflate

/** A Huffman decoding table: entry = symbol << 4 | code length, indexed by the next `bits` input bits (LSB first). */
interface Huffman {
  table: Uint16Array | Uint32Array;
  bits: number;
}

function buildHuffman(lengths: ArrayLike<number>, what: string): Huffman {
  let maxLen = 0;
  const count = new Uint16Array(16);
  for (let s = 0; s < lengths.length; s++) {
    count[lengths[s]]++;
    if (lengths[s] > maxLen) maxLen = lengths[s];
  }
  if (maxLen === 0) return { table: new Uint32Array(1), bits: 0 }; // no codes: any use is an error below
  // Canonical codes (RFC 1951 §3.2.2); an over-subscribed set is corrupt.
  const next = new Uint16Array(16);
  let code = 0;
  count[0] = 0;
  for (let len = 1; len <= 15; len++) {
    code = (code + count[len - 1]) << 1;
    next[len] = code;
    if (count[len] > 0 && next[len] + count[len] > 1 << len) throw new PngError(`The PNG's compressed data has an invalid ${what} code.`);
  }
  const size = 1 << maxLen;
  const table = new Uint32Array(size);
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s];
    if (!len) continue;
    let c = next[len]++;
    let reversed = 0;
    for (let k = 0; k < len; k++) {
      reversed = (reversed << 1) | (c & 1);
      c >>= 1;
    }
    const entry = (s << 4) | len;
    for (let i = reversed; i < size; i += 1 << len) table[i] = entry;
  }
  return { table, bits: maxLen };
}

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

const FIXED = (() => {
  const lit = new Uint8Array(288);
  lit.fill(8, 0, 144);
  lit.fill(9, 144, 256);
  lit.fill(7, 256, 280);
  lit.fill(8, 280, 288);
  return { lit: buildHuffman(lit, 'literal'), dist: buildHuffman(new Uint8Array(30).fill(5), 'distance') };
})();

/** Inflates a zlib stream whose output is exactly `expected` bytes (a PNG knows its raw size in advance). */
export function inflateZlib(input: Uint8Array, expected: number): Uint8Array {
  if (input.length < 6) throw new PngError('The PNG has no image data.');
  const cmf = input[0];
  const flg = input[1];
  if ((cmf & 15) !== 8 || ((cmf << 8) | flg) % 31 !== 0) throw new PngError('The PNG image data is not a zlib stream.');
  if (flg & 0x20) throw new PngError('The PNG image data uses a preset dictionary, which PNG forbids.');
  const out = new Uint8Array(expected);
  let o = 0;
  let pos = 2;
  let bitBuf = 0;
  let bitCnt = 0;

  let phantom = 0; // zero bytes read past the end: a peek may look further than the last code needs
  const need = (n: number) => {
    while (bitCnt < n) {
      if (pos < input.length) bitBuf |= input[pos] << bitCnt;
      else if (++phantom > 4) throw new PngError('The PNG image data ends early: the file is truncated.');
      pos++;
      bitCnt += 8;
    }
  };
  const bits = (n: number) => {
    if (n === 0) return 0;
    need(n);
    const v = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCnt -= n;
    return v;
  };
  const decode = (h: Huffman) => {
    if (h.bits === 0) throw new PngError('The PNG image data uses a code its block did not define.');
    need(h.bits);
    const entry = h.table[bitBuf & ((1 << h.bits) - 1)];
    const len = entry & 15;
    if (len === 0) throw new PngError('The PNG image data has an invalid Huffman code.');
    bitBuf >>>= len;
    bitCnt -= len;
    return entry >>> 4;
  };

  let final = 0;
  while (!final) {
    final = bits(1);
    const type = bits(2);
    if (type === 0) {
      bitBuf = 0; // stored: skip to the byte boundary
      pos -= bitCnt >> 3;
      bitCnt = 0;
      if (pos + 4 > input.length) throw new PngError('The PNG image data ends early: the file is truncated.');
      const len = input[pos] | (input[pos + 1] << 8);
      const nlen = input[pos + 2] | (input[pos + 3] << 8);
      if ((len ^ 0xffff) !== nlen) throw new PngError('The PNG image data has a corrupt stored block.');
      pos += 4;
      if (pos + len > input.length) throw new PngError('The PNG image data ends early: the file is truncated.');
      if (o + len > expected) throw new PngError('The PNG image data holds more pixels than its header says.');
      out.set(input.subarray(pos, pos + len), o);
      o += len;
      pos += len;
      continue;
    }
    let lit: Huffman;
    let dist: Huffman;
    if (type === 1) {
      ({ lit, dist } = FIXED);
    } else if (type === 2) {
      const hlit = bits(5) + 257;
      const hdist = bits(5) + 1;
      const hclen = bits(4) + 4;
      const clen = new Uint8Array(19);
      for (let i = 0; i < hclen; i++) clen[CODE_LENGTH_ORDER[i]] = bits(3);
      const lengthCode = buildHuffman(clen, 'code length');
      const lengths = new Uint8Array(hlit + hdist);
      for (let i = 0; i < lengths.length; ) {
        const sym = decode(lengthCode);
        if (sym < 16) lengths[i++] = sym;
        else {
          let repeat: number;
          let value = 0;
          if (sym === 16) {
            if (i === 0) throw new PngError('The PNG image data repeats a code length before the first one.');
            value = lengths[i - 1];
            repeat = 3 + bits(2);
          } else if (sym === 17) repeat = 3 + bits(3);
          else repeat = 11 + bits(7);
          if (i + repeat > lengths.length) throw new PngError('The PNG image data has too many code lengths.');
          lengths.fill(value, i, i + repeat);
          i += repeat;
        }
      }
      if (lengths[256] === 0) throw new PngError('The PNG image data has no end-of-block code.');
      lit = buildHuffman(lengths.subarray(0, hlit), 'literal');
      dist = buildHuffman(lengths.subarray(hlit), 'distance');
    } else {
      throw new PngError('The PNG image data has an invalid block type.');
    }
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) {
        if (o >= expected) throw new PngError('The PNG image data holds more pixels than its header says.');
        out[o++] = sym;
      } else if (sym === 256) {
        break;
      } else {
        const li = sym - 257;
        if (li >= 29) throw new PngError('The PNG image data has an invalid length code.');
        const length = LENGTH_BASE[li] + bits(LENGTH_EXTRA[li]);
        const di = decode(dist);
        if (di >= 30) throw new PngError('The PNG image data has an invalid distance code.');
        const distance = DIST_BASE[di] + bits(DIST_EXTRA[di]);
        if (distance > o) throw new PngError('The PNG image data refers back before its start.');
        if (o + length > expected) throw new PngError('The PNG image data holds more pixels than its header says.');
        for (let k = 0; k < length; k++, o++) out[o] = out[o - distance];
      }
    }
  }
  if (o !== expected) throw new PngError(`The PNG image data holds ${o} bytes where ${expected} were expected: the file is truncated or corrupt.`);
  return out;
}

// ---------------------------------------------------------------------------------------------- decoder

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Refuses images whose RGBA would not fit comfortably in memory (Photoshop's own limit is far larger). */
export const MAX_DECODE_PIXELS = 16384 * 16384;

const u32be = (b: Uint8Array, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Width and height from the IHDR chunk, or null when `bytes` is not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (!isPng(bytes) || bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  return { width: u32be(bytes, 16), height: u32be(bytes, 20) };
}

function unfilter(raw: Uint8Array, height: number, rowBytes: number, bpp: number): void {
  const stride = rowBytes + 1;
  for (let y = 0; y < height; y++) {
    const start = y * stride + 1;
    const prev = start - stride; // previous row's first byte (invalid for y = 0)
    const filter = raw[start - 1];
    switch (filter) {
      case 0:
        break;
      case 1:
        for (let i = bpp; i < rowBytes; i++) raw[start + i] = (raw[start + i] + raw[start + i - bpp]) & 0xff;
        break;
      case 2:
        if (y > 0) for (let i = 0; i < rowBytes; i++) raw[start + i] = (raw[start + i] + raw[prev + i]) & 0xff;
        break;
      case 3:
        for (let i = 0; i < rowBytes; i++) {
          const left = i >= bpp ? raw[start + i - bpp] : 0;
          const up = y > 0 ? raw[prev + i] : 0;
          raw[start + i] = (raw[start + i] + ((left + up) >> 1)) & 0xff;
        }
        break;
      case 4:
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? raw[start + i - bpp] : 0;
          const b = y > 0 ? raw[prev + i] : 0;
          const c = i >= bpp && y > 0 ? raw[prev + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          raw[start + i] = (raw[start + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
        }
        break;
      default:
        throw new PngError(`The PNG has an unknown row filter ${filter} in row ${y}.`);
    }
  }
}

export function decodePng(bytes: Uint8Array): RgbaPixels {
  if (!isPng(bytes)) throw new PngError('The result is not a PNG file.');
  let pos = 8;
  let header: { width: number; height: number; depth: number; colorType: number } | null = null;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let idatBytes = 0;
  let ended = false;
  while (pos + 12 <= bytes.length) {
    const length = u32be(bytes, pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const bodyStart = pos + 8;
    const bodyEnd = bodyStart + length;
    if (bodyEnd + 4 > bytes.length) throw new PngError(`The PNG's ${type} chunk runs past the end of the file: it is truncated.`);
    if (crc32(bytes.subarray(pos + 4, bodyEnd)) !== u32be(bytes, bodyEnd)) throw new PngError(`The PNG's ${type} chunk is corrupt (CRC mismatch).`);
    const body = bytes.subarray(bodyStart, bodyEnd);
    if (type === 'IHDR') {
      if (length !== 13) throw new PngError('The PNG header is malformed.');
      header = { width: u32be(body, 0), height: u32be(body, 4), depth: body[8], colorType: body[9] };
      if (body[10] !== 0 || body[11] !== 0) throw new PngError('The PNG uses an unknown compression or filter method.');
      if (body[12] !== 0) throw new PngError('Interlaced PNGs are not supported here: save the image without interlacing.');
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') transparency = body;
    else if (type === 'IDAT') {
      idat.push(body);
      idatBytes += body.length;
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (!(bytes[pos + 4] & 0x20)) {
      throw new PngError(`The PNG has a critical chunk ${type} this decoder does not know.`);
    }
    pos = bodyEnd + 4;
  }
  if (!header) throw new PngError('The PNG has no header.');
  if (!ended) throw new PngError('The PNG has no end chunk: the file is truncated.');
  const { width, height, depth, colorType } = header;
  if (!(colorType in CHANNELS) || !ALLOWED_DEPTHS[colorType].includes(depth)) throw new PngError(`The PNG's colour type ${colorType} at ${depth} bits is invalid.`);
  if (width < 1 || height < 1 || width * height > MAX_DECODE_PIXELS) throw new PngError(`The PNG is ${width}×${height} px: too large to place.`);
  if (colorType === 3 && !palette) throw new PngError('The palette PNG has no palette.');

  const zlib = new Uint8Array(idatBytes);
  let o = 0;
  for (const part of idat) {
    zlib.set(part, o);
    o += part.length;
  }
  const bitsPerPixel = CHANNELS[colorType] * depth;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
  const raw = inflateZlib(zlib, (rowBytes + 1) * height);
  unfilter(raw, height, rowBytes, Math.max(1, bitsPerPixel >> 3));

  const data = new Uint8Array(width * height * 4);
  const stride = rowBytes + 1;
  const sampleMax = (1 << Math.min(depth, 8)) - 1;
  // tRNS for gray/RGB names one colour (in the image's own sample depth) that is fully transparent.
  const key = transparency && (colorType === 0 || colorType === 2)
    ? Array.from({ length: colorType === 0 ? 1 : 3 }, (_, c) => (transparency[c * 2] << 8) | transparency[c * 2 + 1])
    : null;
  for (let y = 0; y < height; y++) {
    const row = y * stride + 1;
    for (let x = 0; x < width; x++) {
      const d = (y * width + x) * 4;
      if (depth < 8) {
        const bit = x * depth;
        const v = (raw[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & sampleMax;
        if (colorType === 3) {
          if (v * 3 + 2 >= palette!.length) throw new PngError('The PNG uses a colour outside its palette.');
          data[d] = palette![v * 3];
          data[d + 1] = palette![v * 3 + 1];
          data[d + 2] = palette![v * 3 + 2];
          data[d + 3] = transparency && v < transparency.length ? transparency[v] : 255;
        } else {
          const g = Math.round((v * 255) / sampleMax);
          data[d] = data[d + 1] = data[d + 2] = g;
          data[d + 3] = key && v === key[0] ? 0 : 255;
        }
        continue;
      }
      const bytesPerSample = depth >> 3;
      const at = row + x * CHANNELS[colorType] * bytesPerSample;
      const sample = (c: number) => raw[at + c * bytesPerSample]; // high byte of 16-bit samples
      const full = (c: number) => (bytesPerSample === 2 ? (raw[at + c * 2] << 8) | raw[at + c * 2 + 1] : raw[at + c]);
      switch (colorType) {
        case 0:
          data[d] = data[d + 1] = data[d + 2] = sample(0);
          data[d + 3] = key && full(0) === key[0] ? 0 : 255;
          break;
        case 2:
          data[d] = sample(0);
          data[d + 1] = sample(1);
          data[d + 2] = sample(2);
          data[d + 3] = key && full(0) === key[0] && full(1) === key[1] && full(2) === key[2] ? 0 : 255;
          break;
        case 3: {
          const v = raw[at];
          if (v * 3 + 2 >= palette!.length) throw new PngError('The PNG uses a colour outside its palette.');
          data[d] = palette![v * 3];
          data[d + 1] = palette![v * 3 + 1];
          data[d + 2] = palette![v * 3 + 2];
          data[d + 3] = transparency && v < transparency.length ? transparency[v] : 255;
          break;
        }
        case 4:
          data[d] = data[d + 1] = data[d + 2] = sample(0);
          data[d + 3] = sample(1);
          break;
        case 6:
          data[d] = sample(0);
          data[d + 1] = sample(1);
          data[d + 2] = sample(2);
          data[d + 3] = sample(3);
          break;
      }
    }
  }
  return { width, height, data };
}
