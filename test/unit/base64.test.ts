// The one base64 codec (worker/base64.ts): the same text as Node's encoder for random bytes of every length, exact
// round trips (large arrays included), padding optional on the way in, malformed text refused; and it runs where
// there is no Buffer, atob, btoa or TextEncoder (Figma's main thread, UXP's panel engine), here a bare VM context.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { base64ToBytes, bytesToBase64 } from '../../worker/base64.ts';
import { imageFromJson } from '../../worker/runtime/jobs-client.ts';

test('random bytes of 0–70 bytes: the text Buffer writes, and back to the same bytes', () => {
  for (let n = 0; n <= 70; n++) {
    for (let round = 0; round < (n <= 5 ? 50 : 3); round++) {
      const bytes = new Uint8Array(randomBytes(n));
      const text = bytesToBase64(bytes);
      assert.equal(text, Buffer.from(bytes).toString('base64'), `${n} bytes`);
      assert.deepEqual(base64ToBytes(text), bytes, `${n} bytes`);
    }
  }
  assert.equal(bytesToBase64(new Uint8Array(0)), '');
  assert.deepEqual(base64ToBytes(''), new Uint8Array(0));
});

test('every byte value and a large array (past String.fromCharCode’s argument limits) round-trip', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.equal(bytesToBase64(all), Buffer.from(all).toString('base64'));
  const big = new Uint8Array(randomBytes(3 * 1024 * 1024 + 2));
  const text = bytesToBase64(big);
  assert.equal(text, Buffer.from(big).toString('base64'));
  assert.deepEqual(base64ToBytes(text), big);
});

test('a subarray encodes only its own bytes', () => {
  const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7]);
  assert.equal(bytesToBase64(bytes.subarray(2, 6)), Buffer.from([3, 4, 5, 6]).toString('base64'));
});

test('text without its padding decodes too', () => {
  for (let n = 0; n <= 5; n++) {
    const bytes = new Uint8Array(randomBytes(n));
    assert.deepEqual(base64ToBytes(Buffer.from(bytes).toString('base64').replace(/=+$/, '')), bytes, `${n} bytes`);
  }
});

test('malformed text is refused, saying where', () => {
  assert.throws(() => base64ToBytes('ab$d'), /invalid character at position 2/);
  assert.throws(() => base64ToBytes('ab\u0141d'), /invalid character at position 2/);
  assert.throws(() => base64ToBytes('ab d'), /invalid character at position 2/);
  assert.throws(() => base64ToBytes('a=bc'), /invalid character at position 1/);
  assert.throws(() => base64ToBytes('ab=c'), /invalid character at position 2/);
  assert.throws(() => base64ToBytes('===='), /invalid character at position 0/);
  assert.throws(() => base64ToBytes('abcde'), /5 characters/);
  assert.throws(() => base64ToBytes('a'), /1 characters/);
  assert.throws(() => base64ToBytes('abcd=='), /invalid character at position 4/);
});

test('runs in a context with no Buffer, atob, btoa or TextEncoder', async () => {
  const bundle = await build({ entryPoints: ['worker/base64.ts'], bundle: true, write: false, format: 'iife', globalName: 'codec', logLevel: 'silent' });
  const context = createContext({});
  assert.equal(runInContext('typeof Buffer + typeof atob + typeof btoa + typeof TextEncoder', context), 'undefinedundefinedundefinedundefined');
  runInContext(bundle.outputFiles[0].text, context);
  const bytes = new Uint8Array(randomBytes(100_003));
  context.input = bytes;
  const text = runInContext('codec.bytesToBase64(input)', context) as string;
  assert.equal(text, Buffer.from(bytes).toString('base64'));
  context.text = text;
  assert.deepEqual([...(runInContext('codec.base64ToBytes(text)', context) as Uint8Array)], [...bytes]);
});

test('the job client reads the server’s images (written by Buffer) with it, and says so when the pixels are not base64', () => {
  const data = new Uint8Array(randomBytes(2 * 3 * 4));
  assert.deepEqual(imageFromJson({ width: 2, height: 3, rgba: Buffer.from(data).toString('base64') }), { width: 2, height: 3, data });
  assert.throws(() => imageFromJson({ width: 2, height: 3, rgba: 'not base64!' }), /2×3 image whose pixels are not base64 \(base64 text has an invalid character at position 3\)/);
});
