// A PNG's tEXt chunk as a result's memory outside a host: the CLI writes the ResultMeta (seed, latent) into the PNG
// it saves, so `frontier vary made.png more.png` starts from the exact latent, like a Figma node's pluginData.
import { crc32 } from './crc32.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(png: Uint8Array): boolean {
  return png.length >= 8 && SIGNATURE.every((b, i) => png[i] === b);
}

/** `png` with a tEXt chunk `key`=`text` (Latin-1) inserted before IEND. */
export function withPngText(png: Uint8Array, key: string, text: string): Uint8Array {
  if (!isPng(png)) throw new Error('not a PNG file');
  if (!/^[\x20-\x7e]{1,79}$/.test(key) || /[^\x00-\xff]/.test(text)) throw new Error('tEXt keys are 1–79 printable characters; text is Latin-1');
  const body = new Uint8Array(key.length + 1 + text.length);
  for (let i = 0; i < key.length; i++) body[i] = key.charCodeAt(i);
  for (let i = 0; i < text.length; i++) body[key.length + 1 + i] = text.charCodeAt(i);
  const chunk = new Uint8Array(12 + body.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, body.length);
  chunk.set([0x74, 0x45, 0x58, 0x74], 4); // "tEXt"
  chunk.set(body, 8);
  view.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)));
  const iend = png.length - 12; // IEND is the last chunk, 12 bytes
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, iend));
  out.set(chunk, iend);
  out.set(png.subarray(iend), iend + chunk.length);
  return out;
}

/** The text of tEXt chunk `key`, or undefined. */
export function readPngText(png: Uint8Array, key: string): string | undefined {
  if (!isPng(png)) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 12 <= png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'tEXt') {
      const body = png.subarray(at + 8, at + 8 + length);
      const zero = body.indexOf(0);
      if (zero > 0 && String.fromCharCode(...body.subarray(0, zero)) === key) {
        let text = '';
        for (const b of body.subarray(zero + 1)) text += String.fromCharCode(b);
        return text;
      }
    }
    if (type === 'IEND') return undefined;
    at += 12 + length;
  }
  return undefined;
}
