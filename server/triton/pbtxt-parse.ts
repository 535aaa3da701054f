// A reader for the protobuf text format subset found in Triton model configs, written independently of the
// writer (pbtxt.ts) so the tests check the exporter's output rather than its own assumptions. It accepts what
// Triton's own examples use: `#` comments, `key: value`, `key { … }` and `key: { … }`, lists `key: [ a, b ]` and
// `key [ { … }, { … } ]`, optional `,`/`;` separators, single- or double-quoted strings with escapes.

/** A bare identifier value: an enum (KIND_GPU) or true/false. Kept apart from strings, which must be quoted. */
export interface PbtxtIdent {
  ident: string;
}

export type PbtxtValue = string | number | PbtxtIdent | PbtxtMessage | PbtxtValue[];

/** Fields in order of first appearance; a field given twice, or as a list, holds an array. */
export type PbtxtMessage = { [key: string]: PbtxtValue };

interface Token {
  kind: 'ident' | 'string' | 'number' | 'punct';
  text: string;
  value?: string | number;
  line: number;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new Error(`pbtxt line ${line}: ${msg}`);
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if ('{}[]:,;<>'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length || src[i] === '\n') fail('unterminated string');
        const d = src[i];
        if (d === c) {
          i++;
          break;
        }
        if (d === '\\') {
          const e = src[i + 1];
          if (e === 'x') {
            const hex = /^[0-9a-fA-F]{1,2}/.exec(src.slice(i + 2))?.[0] ?? fail('bad \\x escape');
            s += String.fromCharCode(parseInt(hex, 16));
            i += 2 + hex.length;
          } else if (/[0-7]/.test(e)) {
            const oct = /^[0-7]{1,3}/.exec(src.slice(i + 1))![0];
            s += String.fromCharCode(parseInt(oct, 8));
            i += 1 + oct.length;
          } else if (e in ESCAPES) {
            s += ESCAPES[e];
            i += 2;
          } else {
            fail(`unknown escape \\${e}`);
          }
        } else {
          s += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', text: s, value: s, line });
    } else if (/[-+0-9.]/.test(c)) {
      const m = /^[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)[fF]?/.exec(src.slice(i));
      if (!m) fail(`bad number near "${src.slice(i, i + 10)}"`);
      const text = m![0];
      const n = /0[xX]/.test(text) ? parseInt(text, 16) : Number(text.replace(/[fF]$/, ''));
      tokens.push({ kind: 'number', text, value: n, line });
      i += text.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const text = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i))![0];
      tokens.push({ kind: 'ident', text, line });
      i += text.length;
    } else {
      fail(`unexpected character "${c}"`);
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private fail(msg: string): never {
    const t = this.peek() ?? this.tokens[this.tokens.length - 1];
    throw new Error(`pbtxt line ${t?.line ?? 1}: ${msg}`);
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === text;
  }

  private expect(text: string): void {
    if (!this.isPunct(text)) this.fail(`expected "${text}", found ${this.peek() ? `"${this.peek()!.text}"` : 'the end'}`);
    this.pos++;
  }

  /** Fields until `close` (or the end of input when close is null). */
  message(close: string | null): PbtxtMessage {
    const msg: PbtxtMessage = {};
    for (;;) {
      const t = this.peek();
      if (!t) {
        if (close) this.fail(`missing "${close}"`);
        return msg;
      }
      if (close && this.isPunct(close)) {
        this.pos++;
        return msg;
      }
      if (t.kind !== 'ident') this.fail(`expected a field name, found "${t.text}"`);
      this.pos++;
      const key = t.text;
      const value = this.fieldValue(key);
      if (key in msg) {
        const prev = msg[key];
        msg[key] = Array.isArray(prev) ? [...prev, ...(Array.isArray(value) ? value : [value])] : [prev, ...(Array.isArray(value) ? value : [value])];
      } else {
        msg[key] = value;
      }
      if (this.isPunct(',') || this.isPunct(';')) this.pos++;
    }
  }

  private fieldValue(key: string): PbtxtValue {
    const colon = this.isPunct(':');
    if (colon) this.pos++;
    if (this.isPunct('[')) {
      this.pos++;
      const items: PbtxtValue[] = [];
      while (!this.isPunct(']')) {
        if (!this.peek()) this.fail(`missing "]" after ${key}`);
        items.push(this.value(key));
        if (this.isPunct(',')) this.pos++;
        else if (!this.isPunct(']')) this.fail(this.peek() ? `expected "," or "]" in the list ${key}` : `missing "]" after ${key}`);
      }
      this.pos++;
      return items;
    }
    if (this.isPunct('{') || this.isPunct('<')) return this.value(key);
    if (!colon) this.fail(`expected ":" after ${key}`);
    return this.value(key);
  }

  private value(key: string): PbtxtValue {
    const t = this.peek();
    if (!t) this.fail(`missing value for ${key}`);
    if (t!.kind === 'punct' && (t!.text === '{' || t!.text === '<')) {
      this.pos++;
      return this.message(t!.text === '{' ? '}' : '>');
    }
    this.pos++;
    if (t!.kind === 'string') {
      // Adjacent strings concatenate, as in protobuf text format.
      let s = t!.value as string;
      while (this.peek()?.kind === 'string') s += this.tokens[this.pos++].value as string;
      return s;
    }
    if (t!.kind === 'number') return t!.value as number;
    if (t!.kind === 'ident') return { ident: t!.text };
    return this.fail(`unexpected "${t!.text}" as the value of ${key}`);
  }
}

export function parsePbtxt(text: string): PbtxtMessage {
  return new Parser(tokenize(text)).message(null);
}
