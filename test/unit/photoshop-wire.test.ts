// The JSON-only bridge codec between the UXP panel and its webview: UTF-8, message text with bytes, frames (its
// base64: base64.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BYTES_KEY, encodeFrames, findFrame, MAX_FRAMES, messageToText, PARTIAL_TIMEOUT_MS, textToMessage,
  utf8Decode, utf8Encode, WireReceiver, WireSender, type WireFrame,
} from '../../plugin/photoshop/wire.ts';

function random(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) out[i] = (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 16;
  return out;
}

test('UTF-8 round-trips every plane and matches TextEncoder', () => {
  const text = 'token: ä ∑ 漢 😀 \u{10FFFF}';
  assert.deepEqual(utf8Encode(text), new TextEncoder().encode(text));
  assert.equal(utf8Decode(new TextEncoder().encode(text)), text);
});

test('message text carries Uint8Array as base64 and brings it back as Uint8Array', () => {
  const msg = { type: 'image', bytes: Uint8Array.from([0, 1, 254, 255]), nested: { list: [Uint8Array.from([7])] }, note: 'x' };
  const text = messageToText(msg);
  assert.ok(text.includes(BYTES_KEY) && !text.includes('"0":'));
  const back = textToMessage(text) as typeof msg;
  assert.ok(back.bytes instanceof Uint8Array);
  assert.deepEqual(back, msg);
  assert.throws(() => messageToText({ data: new Float32Array(2) }), /Only Uint8Array/);
  // An object that merely has the key among others stays an object.
  assert.deepEqual(textToMessage(JSON.stringify({ a: { [BYTES_KEY]: 'AA==', b: 1 } })), { a: { [BYTES_KEY]: 'AA==', b: 1 } });
});

test('frames: a large message is cut, arrives out of order and duplicated, and is delivered once, exactly', () => {
  const payload = random(200_000, 9);
  const frames = encodeFrames({ type: 'image', bytes: payload }, 'ui', 'm1', 10_000);
  assert.ok(frames.length > 20);
  assert.ok(frames.every((f) => f.length < 10_200));
  const got: unknown[] = [];
  const receiver = new WireReceiver('ui', (m) => got.push(m));
  const order = frames.map((_, i) => i).reverse();
  for (const i of order) {
    receiver.push(frames[i]);
    receiver.push({ data: frames[i] }); // the same frame again, as another event delivers it
  }
  receiver.push(frames[0]); // late duplicate after completion
  assert.equal(got.length, 1);
  assert.deepEqual((got[0] as { bytes: Uint8Array }).bytes, payload);
  assert.equal(receiver.pending, 0);
});

test('frames are found inside host envelopes and ignored when addressed to the other end', () => {
  const [frame] = encodeFrames({ type: 'ping' }, 'host', 'e1');
  const parsed = JSON.parse(frame) as WireFrame;
  assert.deepEqual(findFrame(frame), parsed);
  assert.deepEqual(findFrame({ type: 'message', data: frame }), parsed);
  assert.deepEqual(findFrame({ message: { payload: parsed } }), parsed);
  assert.deepEqual(findFrame({ data: JSON.stringify({ data: frame }) }), parsed);
  assert.equal(findFrame('{"hello":1}'), null);
  assert.equal(findFrame(42), null);
  const got: unknown[] = [];
  new WireReceiver('ui', (m) => got.push(m)).push(frame);
  assert.deepEqual(got, [], 'a frame for the host is not the UI’s');
});

test('a message whose frames stop arriving is dropped after the timeout', () => {
  let now = 0;
  const problems: string[] = [];
  const got: unknown[] = [];
  const receiver = new WireReceiver('ui', (m) => got.push(m), { now: () => now, onProblem: (r) => problems.push(r) });
  const frames = encodeFrames({ type: 'x', text: 'y'.repeat(100) }, 'ui', 'slow', 40);
  receiver.push(frames[0]);
  assert.equal(receiver.pending, 1);
  now = PARTIAL_TIMEOUT_MS + 1;
  receiver.push(encodeFrames({ type: 'other' }, 'ui', 'fresh')[0]);
  assert.equal(receiver.pending, 0);
  assert.match(problems[0], /timed out/);
  for (const f of frames.slice(1)) receiver.push(f);
  assert.deepEqual(got, [{ type: 'other' }], 'the expired message is not delivered half-assembled');
});

test('oversized and corrupt messages are refused with a reason, never their content', () => {
  const problems: string[] = [];
  const receiver = new WireReceiver('ui', () => assert.fail('nothing is delivered'), { onProblem: (r) => problems.push(r), maxMessageChars: 1000 });
  const many: WireFrame = { tag: 'frontier-wire/1', to: 'ui', id: 'h', index: 0, count: MAX_FRAMES + 1, part: 'x' };
  receiver.push(JSON.stringify(many));
  for (const frame of encodeFrames({ type: 'x', text: 'y'.repeat(2000) }, 'ui', 'long', 300)) receiver.push(frame);
  const broken: WireFrame = { tag: 'frontier-wire/1', to: 'ui', id: 'b', index: 0, count: 1, part: '{"token":"secret' };
  receiver.push(JSON.stringify(broken));
  assert.equal(problems.length, 3);
  assert.match(problems[0], /frames is over the bridge's limit/);
  assert.match(problems[1], /message long is over the bridge's limit/);
  assert.match(problems[2], /not valid JSON/);
  assert.equal(receiver.pending, 0);
  assert.ok(!problems.join().includes('secret'));
});

test('a sender’s frames are JSON strings only, with ids unique per sender', () => {
  const posted: unknown[] = [];
  const a = new WireSender('host', (f) => posted.push(f), 16);
  a.send({ type: 'one', v: 'abcdefghijklmnopqrstuvwxyz' });
  a.send({ type: 'two' });
  assert.ok(posted.every((f) => typeof f === 'string'));
  const ids = new Set(posted.map((f) => (JSON.parse(f as string) as WireFrame).id));
  assert.equal(ids.size, 2);
  const got: unknown[] = [];
  const r = new WireReceiver('host', (m) => got.push(m));
  posted.forEach((f) => r.push(f));
  assert.deepEqual(got, [{ type: 'one', v: 'abcdefghijklmnopqrstuvwxyz' }, { type: 'two' }]);
});
