// Pixels across the page boundary of `npm run bench:peer`: RGBA bytes travel as base64 (page.evaluate carries JSON),
// and runs compare by hash.

/** An RGBA image as it crosses page.evaluate. */
export interface PixelsIn {
  width: number;
  height: number;
  /** RGBA bytes, base64. */
  rgba: string;
}

export function bytesToBase64(bytes: Uint8Array | Uint8ClampedArray): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** FNV-1a of the bytes: equal results have equal hashes. */
export function fnv1a(bytes: Uint8Array | Uint8ClampedArray): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
