// The one base64 codec (RFC 4648, standard alphabet) for every place bytes travel as text: the Photoshop bridge's
// JSON frames, images in the server's job results, latents stored on results, clips the playground hands to tests.
// Plain table lookups, no atob/btoa, Buffer or TextEncoder: the same code runs in the browser, the UI's worker, UXP's
// panel engine and its webview, Figma's main thread and Node.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='
const ENCODE = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const DECODE = (() => {
  const table = new Int16Array(256).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();
/** Characters handed to String.fromCharCode at once (well under engines' argument limits). */
const CHARS_PER_CALL = 32 * 1024;

function charsOf(codes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < codes.length; i += CHARS_PER_CALL) {
    out += String.fromCharCode.apply(null, codes.subarray(i, i + CHARS_PER_CALL) as unknown as number[]);
  }
  return out;
}

/** Base64 of `bytes`, padded with "=" to a multiple of 4 characters (what Buffer and btoa write). */
export function bytesToBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = ENCODE[n >> 18];
    out[o++] = ENCODE[(n >> 12) & 63];
    out[o++] = ENCODE[(n >> 6) & 63];
    out[o++] = ENCODE[n & 63];
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
    out[o++] = ENCODE[n >> 18];
    out[o++] = ENCODE[(n >> 12) & 63];
    out[o++] = rest === 2 ? ENCODE[(n >> 6) & 63] : PAD;
    out[o++] = PAD;
  }
  return charsOf(out);
}

/**
 * The bytes of base64 `text`, padded or not. Throws for a character outside the alphabet (whitespace included), a
 * "=" before the end, or a length no byte count gives (4n + 1 characters).
 */
export function base64ToBytes(text: string): Uint8Array {
  let end = text.length;
  if (end % 4 === 0 && text.charCodeAt(end - 1) === PAD) end -= text.charCodeAt(end - 2) === PAD ? 2 : 1;
  const tail = end % 4;
  if (tail === 1) throw new Error(`base64 text has ${text.length} characters: no number of bytes gives that many`);
  const out = new Uint8Array(Math.floor(end / 4) * 3 + (tail === 0 ? 0 : tail - 1));
  const digit = (i: number) => {
    const code = text.charCodeAt(i);
    const v = code > 0xff ? -1 : DECODE[code];
    if (v < 0) throw new Error(`base64 text has an invalid character at position ${i}`);
    return v;
  };
  let o = 0;
  let i = 0;
  for (; i + 4 <= end; i += 4) {
    const n = (digit(i) << 18) | (digit(i + 1) << 12) | (digit(i + 2) << 6) | digit(i + 3);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (tail > 0) {
    const n = (digit(i) << 18) | (digit(i + 1) << 12) | (tail === 3 ? digit(i + 2) << 6 : 0);
    out[o++] = n >> 16;
    if (tail === 3) out[o++] = (n >> 8) & 0xff;
  }
  return out;
}
