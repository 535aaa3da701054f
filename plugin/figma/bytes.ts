// Recognise encoded images by their magic numbers and read their pixel size from the header, without decoding.
// The main thread has no DOM (no createImageBitmap), so headers are parsed by hand.

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/gif';

export interface ImageHeader {
  mime: ImageMime;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function sniffMime(bytes: Uint8Array): ImageMime | null {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 6 && String.fromCharCode(...bytes.subarray(0, 6)).match(/^GIF8[79]a$/)) return 'image/gif';
  return null;
}

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u32be = (b: Uint8Array, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

/** Size from the PNG IHDR chunk, the JPEG SOFn segment or the GIF logical screen; null when unreadable. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  const mime = sniffMime(bytes);
  if (mime === 'image/png') {
    // IHDR is always the first chunk: length(4) "IHDR"(4) width(4) height(4).
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
    return { mime, width: u32be(bytes, 16), height: u32be(bytes, 20) };
  }
  if (mime === 'image/gif') {
    if (bytes.length < 10) return null;
    return { mime, width: bytes[6] | (bytes[7] << 8), height: bytes[8] | (bytes[9] << 8) };
  }
  if (mime === 'image/jpeg') return readJpegSize(bytes);
  return null;
}

function readJpegSize(bytes: Uint8Array): ImageHeader | null {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // Markers without a length field.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = u16be(bytes, i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { mime: 'image/jpeg', height: u16be(bytes, i + 5), width: u16be(bytes, i + 7) };
    }
    i += 2 + length;
  }
  return null;
}
