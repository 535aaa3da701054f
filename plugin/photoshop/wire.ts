// The JSON-only bridge between the UXP panel and its <webview>: `webview.postMessage` ⇄ `window.uxpHost.postMessage`
// carry JSON, nothing binary, and large single messages are a risk. So each host-bridge message (plugin/messages.ts)
// is JSON text with every Uint8Array as base64 (worker/base64.ts), cut into frames of at most FRAME_CHARS
// characters; each frame is itself a JSON string. The receiver puts frames back together by message id, ignores
// duplicates (UXP versions differ in which event delivers a message, so a page may listen on two), and looks for the
// frame inside whatever envelope the host wrapped it in. No DOM, no Buffer, no TextEncoder: the same code runs in
// UXP's panel engine, in the webview and in Node tests.
import { base64ToBytes, bytesToBase64 } from '../../worker/base64.ts';

export const WIRE_TAG = 'frontier-wire/1';
/** Characters of message text per frame: 1 MiB keeps every single postMessage small. */
export const FRAME_CHARS = 1 << 20;
/** Largest message text accepted (≈190 MB of binary as base64); a 4096² raw RGBA image (64 MiB) is ≈89.5 M. */
export const MAX_MESSAGE_CHARS = 256 * 1024 * 1024;
/** Most frames one message may have (a sender may cut smaller than FRAME_CHARS). */
export const MAX_FRAMES = 1 << 20;
/** A message whose frames stop arriving is dropped after this long. */
export const PARTIAL_TIMEOUT_MS = 120_000;
/** Key that marks base64 bytes inside message JSON; unlikely in user data, checked on the way in. */
export const BYTES_KEY = '__frontier_bytes__';

export type WireEnd = 'ui' | 'host';

export interface WireFrame {
  tag: typeof WIRE_TAG;
  /** Which end the frame is for: a page never takes its own frames for the host's. */
  to: WireEnd;
  id: string;
  index: number;
  count: number;
  part: string;
}

// ---------------------------------------------------------------------------------------------- UTF-8

/** UTF-8 bytes of `text` (UXP's panel engine is not promised a TextEncoder). */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (const char of text) {
    const c = char.codePointAt(0) ?? 0;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

export function utf8Decode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let c: number;
    let extra: number;
    if (b < 0x80) [c, extra] = [b, 0];
    else if (b >= 0xf0) [c, extra] = [b & 7, 3];
    else if (b >= 0xe0) [c, extra] = [b & 15, 2];
    else if (b >= 0xc0) [c, extra] = [b & 31, 1];
    else [c, extra] = [0xfffd, 0];
    for (let k = 1; k <= extra; k++) c = (c << 6) | ((bytes[i + k] ?? 0) & 63);
    out += String.fromCodePoint(c > 0x10ffff ? 0xfffd : c);
    i += 1 + extra;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- messages

/** JSON text of `msg`, Uint8Array values as `{ [BYTES_KEY]: base64 }`. */
export function messageToText(msg: unknown): string {
  return JSON.stringify(msg, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return { [BYTES_KEY]: bytesToBase64(value) };
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      throw new Error('Only Uint8Array crosses the Photoshop bridge; convert other binary data first.');
    }
    return value;
  });
}

export function textToMessage(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const encoded = (value as Record<string, unknown>)[BYTES_KEY];
      if (keys.length === 1 && typeof encoded === 'string') return base64ToBytes(encoded);
    }
    return value;
  });
}

/** The frames (JSON strings) that carry `msg` to `to`. */
export function encodeFrames(msg: unknown, to: WireEnd, id: string, frameChars = FRAME_CHARS): string[] {
  const text = messageToText(msg);
  if (text.length > MAX_MESSAGE_CHARS) {
    throw new Error(`The message is ${(text.length / 1e6).toFixed(0)} M characters; the Photoshop bridge carries at most ${MAX_MESSAGE_CHARS / 1e6} M. Select a smaller area.`);
  }
  const count = Math.max(1, Math.ceil(text.length / frameChars));
  const frames: string[] = [];
  for (let index = 0; index < count; index++) {
    const frame: WireFrame = { tag: WIRE_TAG, to, id, index, count, part: text.slice(index * frameChars, (index + 1) * frameChars) };
    frames.push(JSON.stringify(frame));
  }
  return frames;
}

function isFrame(value: unknown): value is WireFrame {
  if (!value || typeof value !== 'object') return false;
  const f = value as Partial<WireFrame>;
  return (
    f.tag === WIRE_TAG && (f.to === 'ui' || f.to === 'host') && typeof f.id === 'string' && typeof f.part === 'string' &&
    Number.isInteger(f.index) && Number.isInteger(f.count) && f.count! >= 1 && f.index! >= 0 && f.index! < f.count!
  );
}

/** Keys under which hosts have been seen to wrap a posted value (event.data, event.message, an envelope's payload). */
const ENVELOPE_KEYS = ['data', 'message', 'detail', 'payload', 'body'];

/** The frame in `raw` (a frame, its JSON text, or either wrapped in an envelope), or null. */
export function findFrame(raw: unknown, depth = 0): WireFrame | null {
  if (depth > 4 || raw === null || raw === undefined) return null;
  if (typeof raw === 'string') {
    if (!raw.includes(WIRE_TAG)) return null;
    try {
      return findFrame(JSON.parse(raw) as unknown, depth + 1);
    } catch {
      return null;
    }
  }
  if (typeof raw !== 'object') return null;
  if (isFrame(raw)) return raw;
  for (const key of ENVELOPE_KEYS) {
    let inner: unknown;
    try {
      inner = (raw as Record<string, unknown>)[key];
    } catch {
      continue; // a getter on a host event object may throw
    }
    const found = findFrame(inner, depth + 1);
    if (found) return found;
  }
  return null;
}

interface Partial_ {
  parts: (string | undefined)[];
  received: number;
  chars: number;
  started: number;
}

export interface ReceiverOptions {
  /** Told why a frame or message was dropped (never the content: it may carry a token). */
  onProblem?(reason: string): void;
  now?(): number;
  /** Largest message text accepted; MAX_MESSAGE_CHARS by default. */
  maxMessageChars?: number;
}

/** Reassembles messages addressed to `end` from frames, in any order, each message once. */
export class WireReceiver {
  private readonly partial = new Map<string, Partial_>();
  private readonly done: string[] = [];
  private readonly doneSet = new Set<string>();
  private readonly now: () => number;

  constructor(
    private readonly end: WireEnd,
    private readonly deliver: (msg: unknown) => void,
    private readonly options: ReceiverOptions = {},
  ) {
    this.now = options.now ?? (() => Date.now());
  }

  /** Takes one raw value from a message event; ignores anything that is not a frame for this end. */
  push(raw: unknown): void {
    const frame = findFrame(raw);
    if (!frame || frame.to !== this.end || this.doneSet.has(frame.id)) return;
    this.expire();
    let entry = this.partial.get(frame.id);
    if (!entry) {
      if (frame.count > MAX_FRAMES) {
        this.options.onProblem?.(`a message of ${frame.count} frames is over the bridge's limit`);
        this.finish(frame.id);
        return;
      }
      entry = { parts: new Array<string | undefined>(frame.count), received: 0, chars: 0, started: this.now() };
      this.partial.set(frame.id, entry);
    }
    if (entry.parts.length !== frame.count) {
      this.options.onProblem?.(`frames of message ${frame.id} disagree on their count`);
      this.partial.delete(frame.id);
      this.finish(frame.id);
      return;
    }
    if (entry.parts[frame.index] !== undefined) return; // duplicate delivery
    entry.parts[frame.index] = frame.part;
    entry.received++;
    entry.chars += frame.part.length;
    if (entry.chars > (this.options.maxMessageChars ?? MAX_MESSAGE_CHARS)) {
      this.options.onProblem?.(`message ${frame.id} is over the bridge's limit`);
      this.partial.delete(frame.id);
      this.finish(frame.id);
      return;
    }
    if (entry.received < frame.count) return;
    this.partial.delete(frame.id);
    this.finish(frame.id);
    let msg: unknown;
    try {
      msg = textToMessage(entry.parts.join(''));
    } catch (err) {
      this.options.onProblem?.(`message ${frame.id} is not valid JSON (${err instanceof Error ? err.name : 'error'})`);
      return;
    }
    this.deliver(msg);
  }

  /** Messages still waiting for frames (for tests and diagnostics). */
  get pending(): number {
    return this.partial.size;
  }

  private finish(id: string): void {
    this.done.push(id);
    this.doneSet.add(id);
    if (this.done.length > 512) this.doneSet.delete(this.done.shift()!);
  }

  private expire(): void {
    const now = this.now();
    for (const [id, entry] of this.partial) {
      if (now - entry.started > PARTIAL_TIMEOUT_MS) {
        this.partial.delete(id);
        this.finish(id);
        this.options.onProblem?.(`message ${id} timed out with ${entry.received} of ${entry.parts.length} frames`);
      }
    }
  }
}

/** Sends messages to `to` as frames through `post`, with ids unique to this sender. */
export class WireSender {
  private next = 1;
  private readonly prefix: string;

  constructor(
    private readonly to: WireEnd,
    private readonly post: (frame: string) => void,
    private readonly frameChars = FRAME_CHARS,
  ) {
    this.prefix = `${to === 'ui' ? 'h' : 'u'}${Math.floor(Math.random() * 0x7fffffff).toString(36)}`;
  }

  send(msg: unknown): void {
    for (const frame of encodeFrames(msg, this.to, `${this.prefix}-${this.next++}`, this.frameChars)) this.post(frame);
  }
}
