// CLIP's byte-level BPE tokenizer (openai/CLIP clip/simple_tokenizer.py), as VQ-Diffusion calls it
// (image_synthesis/modeling/modules/clip/clip.py tokenize): lower-case, ftfy-like clean-up, HTML unescaping,
// whitespace collapsed, CLIP's pre-tokenizer regex, BPE by merge rank with '</w>' marking word ends, then
// [start 49406, …, end 49407] padded with 0 to 77 (VQ-Diffusion pads with 0 = '!', not with the end token, and keeps
// the end token when it truncates). Pure TypeScript: runs in the browser worker and in Node. The vocabulary is data
// (CLIP's bpe_simple_vocab_16e6.txt.gz, shipped next to the text encoder): load it with loadClipVocabulary().
//
// ftfy is approximated by its deterministic fixes (control characters, terminal escapes, C1 controls read as
// Windows-1252, Latin ligatures, full/half-width forms, curly quotes, line breaks, NFC); its mojibake repair
// (fix_encoding) is not reproduced, and only common named HTML entities are decoded (numeric ones all are).

export const CLIP_CONTEXT = 77;
export const CLIP_START = 49406;
export const CLIP_END = 49407;
/** VQ-Diffusion's pad id (configs/ithq.yaml pad_value 0; the diffusers port pads with '!' = 0 too). */
export const VQ_DIFFUSION_PAD = 0;

const MERGE_COUNT = 49152 - 256 - 2; // merges[1 : 48895] of the file: 49408 = 2·256 symbols + merges + 2 specials
const SPECIALS = ['<|startoftext|>', '<|endoftext|>'] as const;

export interface ClipVocabulary {
  /** BPE symbol → token id. */
  readonly encoder: ReadonlyMap<string, number>;
  /** "left right" → merge rank (lower merges first). */
  readonly ranks: ReadonlyMap<string, number>;
}

/** byte value → its BPE symbol; bytes that would be whitespace or control characters map above U+00FF. */
function byteSymbols(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) symbols[b] = String.fromCodePoint(printable(b) ? b : 256 + shifted++);
  return symbols;
}

const BYTE_SYMBOLS = byteSymbols();

/** Builds the vocabulary from the merges file's text (first line a header, then one "left right" pair a line). */
export function parseClipMerges(text: string): ClipVocabulary {
  const lines = text.split('\n');
  if (lines.length < MERGE_COUNT + 1) {
    throw new Error(`CLIP merges: ${lines.length} lines, expected at least ${MERGE_COUNT + 1} `
      + '(is this bpe_simple_vocab_16e6.txt?)');
  }
  const ranks = new Map<string, number>();
  const merged: string[] = [];
  for (let i = 0; i < MERGE_COUNT; i++) {
    const pair = lines[i + 1].trim().split(/\s+/);
    if (pair.length !== 2) throw new Error(`CLIP merges: line ${i + 2} is not a pair: ${JSON.stringify(lines[i + 1])}`);
    ranks.set(`${pair[0]} ${pair[1]}`, i);
    merged.push(pair[0] + pair[1]);
  }
  // Token ids: the 256 byte symbols in CLIP's order (printable bytes first, then the rest by value), the same with
  // '</w>', the merge results in rank order, then the two specials.
  const order = [...BYTE_SYMBOLS.keys()].sort((a, b) => orderKey(a) - orderKey(b)).map((b) => BYTE_SYMBOLS[b]);
  const vocab = [...order, ...order.map((s) => `${s}</w>`), ...merged, ...SPECIALS];
  const encoder = new Map<string, number>();
  vocab.forEach((symbol, id) => encoder.set(symbol, id));
  return { encoder, ranks };
}

/** Position of a byte's symbol in CLIP's symbol list: its code point (printables are themselves, others 256+). */
function orderKey(byte: number): number {
  return BYTE_SYMBOLS[byte].codePointAt(0) ?? 0;
}

/** Reads CLIP's vocabulary from the bytes of bpe_simple_vocab_16e6.txt.gz (or of the unzipped text). */
export async function loadClipVocabulary(bytes: Uint8Array): Promise<ClipVocabulary> {
  const gzipped = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return parseClipMerges(gzipped ? await gunzipText(bytes) : new TextDecoder().decode(bytes));
}

/** gzip → UTF-8 text with the Compression Streams API (browsers, workers and Node ≥ 18). */
export async function gunzipText(bytes: Uint8Array): Promise<string> {
  if (typeof DecompressionStream === 'undefined') {
    throw new Error('gunzip: DecompressionStream is not available here; pass the unzipped merges text instead');
  }
  const copy = new Uint8Array(bytes); // an own ArrayBuffer for the Blob
  const stream = new Blob([copy.buffer]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}

// ---------------------------------------------------------------------------------------------------------------
// Text clean-up: ftfy.fix_text's deterministic fixes, html.unescape twice, whitespace collapsed, lower-case.

// C1 controls read as Windows-1252 (ftfy fix_c1_controls; bytes undefined there stay as they are).
const WINDOWS_1252: Record<number, number> = {
  0x80: 0x20ac, 0x82: 0x201a, 0x83: 0x0192, 0x84: 0x201e, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021, 0x88: 0x02c6,
  0x89: 0x2030, 0x8a: 0x0160, 0x8b: 0x2039, 0x8c: 0x0152, 0x8e: 0x017d, 0x91: 0x2018, 0x92: 0x2019, 0x93: 0x201c,
  0x94: 0x201d, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014, 0x98: 0x02dc, 0x99: 0x2122, 0x9a: 0x0161, 0x9b: 0x203a,
  0x9c: 0x0153, 0x9e: 0x017e, 0x9f: 0x0178,
};

const LIGATURES: Record<string, string> = {
  'Ĳ': 'IJ', 'ĳ': 'ij', 'ŉ': 'ʼn', 'Ǳ': 'DZ', 'ǲ': 'Dz', 'ǳ': 'dz', 'Ǆ': 'DŽ', 'ǅ': 'Dž', 'ǆ': 'dž', 'Ǉ': 'LJ',
  'ǈ': 'Lj', 'ǉ': 'lj', 'Ǌ': 'NJ', 'ǋ': 'Nj', 'ǌ': 'nj', 'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl',
  'ﬅ': 'ſt', 'ﬆ': 'st',
};

// Named entities decoded (Python's html.unescape knows all 2,231 HTML5 names; these are the ones prompts carry).
const ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™', hellip: '…',
  mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', sbquo: '‚', ldquo: '“', rdquo: '”', bdquo: '„', laquo: '«',
  raquo: '»', lsaquo: '‹', rsaquo: '›', deg: '°', times: '×', divide: '÷', middot: '·', bull: '•', euro: '€',
  pound: '£', yen: '¥', cent: '¢', sect: '§', para: '¶', plusmn: '±', micro: 'µ', frac12: '½', frac14: '¼',
  frac34: '¾', sup2: '²', sup3: '³', iexcl: '¡', iquest: '¿', acute: '´', uml: '¨', cedil: '¸', ordf: 'ª',
  ordm: 'º', not: '¬', shy: '\u00ad', macr: '¯', prime: '′', Prime: '″', larr: '←', rarr: '→', uarr: '↑',
  darr: '↓', harr: '↔', hearts: '♥', spades: '♠', clubs: '♣', diams: '♦', star: '☆', starf: '★', check: '✓',
  infin: '∞', ne: '≠', le: '≤', ge: '≥', asymp: '≈', minus: '−', alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ',
  pi: 'π', sigma: 'σ', omega: 'ω', mu: 'μ', lambda: 'λ', theta: 'θ', szlig: 'ß', aelig: 'æ', AElig: 'Æ',
  oslash: 'ø', Oslash: 'Ø', aring: 'å', Aring: 'Å', ccedil: 'ç', Ccedil: 'Ç', ntilde: 'ñ', Ntilde: 'Ñ',
  eacute: 'é', Eacute: 'É', egrave: 'è', Egrave: 'È', ecirc: 'ê', euml: 'ë', aacute: 'á', Aacute: 'Á',
  agrave: 'à', Agrave: 'À', acirc: 'â', atilde: 'ã', auml: 'ä', Auml: 'Ä', iacute: 'í', igrave: 'ì', icirc: 'î',
  iuml: 'ï', oacute: 'ó', Oacute: 'Ó', ograve: 'ò', ocirc: 'ô', otilde: 'õ', ouml: 'ö', Ouml: 'Ö', uacute: 'ú',
  ugrave: 'ù', ucirc: 'û', uuml: 'ü', Uuml: 'Ü', yacute: 'ý', yuml: 'ÿ', eth: 'ð', thorn: 'þ', brvbar: '¦',
  curren: '¤', sup1: '¹',
};
// Python's html.unescape also accepts these (HTML's legacy Latin-1 names, lower-case) without the ';'.
const LEGACY_ENTITIES = ['aacute', 'acirc', 'acute', 'aelig', 'agrave', 'amp', 'aring', 'atilde', 'auml', 'brvbar',
  'ccedil', 'cedil', 'cent', 'copy', 'curren', 'deg', 'divide', 'eacute', 'ecirc', 'egrave', 'eth', 'euml', 'frac12',
  'frac14', 'frac34', 'gt', 'iacute', 'icirc', 'iexcl', 'igrave', 'iquest', 'iuml', 'laquo', 'lt', 'macr', 'micro',
  'middot', 'nbsp', 'not', 'ntilde', 'oacute', 'ocirc', 'ograve', 'ordf', 'ordm', 'oslash', 'otilde', 'ouml', 'para',
  'plusmn', 'pound', 'quot', 'raquo', 'reg', 'sect', 'shy', 'sup1', 'sup2', 'sup3', 'szlig', 'thorn', 'times',
  'uacute', 'ucirc', 'ugrave', 'uml', 'uuml', 'yacute', 'yen', 'yuml'];

function decodeCodePoint(n: number): string {
  if (n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return '\ufffd';
  if (n === 0x0d) return '\r';
  if (n >= 0x80 && n <= 0x9f) return String.fromCodePoint(WINDOWS_1252[n] ?? n);
  // Python drops the code points HTML calls invalid (controls, noncharacters).
  if ((n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || n === 0x7f || (n >= 0xfdd0 && n <= 0xfdef)
    || (n & 0xfffe) === 0xfffe) return '';
  return String.fromCodePoint(n);
}

/** One pass of Python's html.unescape (numeric references with or without ';', named ones from ENTITIES). */
export function unescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)/g, (match, ref: string) => {
    if (ref[0] === '#') {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
      return decodeCodePoint(parseInt(digits, hex ? 16 : 10));
    }
    const name = ref.endsWith(';') ? ref.slice(0, -1) : ref;
    if (ENTITIES[name] !== undefined && (ref.endsWith(';') || LEGACY_ENTITIES.includes(name))) return ENTITIES[name];
    // Python's longest-prefix rule for the legacy names that need no ';' ("&ampx" → "&x").
    const legacy = LEGACY_ENTITIES.filter((l) => name.startsWith(l)).sort((a, b) => b.length - a.length)[0];
    if (legacy) return ENTITIES[legacy] + ref.slice(legacy.length);
    return match;
  });
}

/** ftfy's one-pass HTML fix: only complete references ending in ';'. */
function unescapeStrict(text: string): string {
  return text.replace(/&#?[0-9A-Za-z]{1,24};/g, (match) => {
    const decoded = unescapeHtml(match);
    return decoded.includes(';') ? match : decoded;
  });
}

const CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const TERMINAL_ESCAPE = /\u001b\[((?:\d|;)*)([a-zA-Z])/g;
const C1 = /[\u0080-\u009f]/g;
const LIGATURE = /[Ĳĳŉ\u01c4-\u01cc\u01f1-\u01f3ﬀ-ﬆ]/g;
const WIDE = /[\u3000\uff01-\uffef]/g;
const WHITESPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

/** ftfy.fix_text's deterministic fixes, in ftfy's order, repeated until nothing changes (as ftfy loops). */
export function fixText(input: string): string {
  const unescape = !input.includes('<'); // ftfy's unescape_html="auto": not in text that looks like HTML
  let text = input;
  for (let round = 0; round < 8; round++) {
    const before = text;
    if (unescape) text = unescapeStrict(text);
    text = text.replace(C1, (c) => String.fromCodePoint(WINDOWS_1252[c.charCodeAt(0)] ?? c.charCodeAt(0)));
    text = text.replace(LIGATURE, (c) => LIGATURES[c] ?? c);
    text = text.replace(WIDE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')));
    text = text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
    text = text.replace(/\r\n|[\r\u2028\u2029\u0085]/g, '\n');
    text = text.replace(TERMINAL_ESCAPE, '').replace(CONTROL, '');
    text = text.normalize('NFC');
    if (text === before) break;
  }
  return text;
}

/** VQ-Diffusion's clean-up: lower-case, basic_clean (ftfy, html.unescape twice, strip), whitespace_clean, lower. */
export function cleanText(text: string): string {
  let out = fixText(text.toLowerCase());
  out = unescapeHtml(unescapeHtml(out)).trim();
  return out.replace(WHITESPACE, ' ').trim().toLowerCase();
}

// CLIP's pre-tokenizer: specials, English contractions, letter runs, single digits, other non-space runs.
const PIECES = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

export interface ClipTokens {
  /** contextLength ids: start, text, end, padding. */
  ids: number[];
  /** Ids before padding (start and end included). */
  length: number;
  /** The text did not fit: ids keep the first contextLength − 1 tokens and end with the end token. */
  truncated: boolean;
}

export class ClipTokenizer {
  private readonly cache = new Map<string, string[]>();
  private readonly encoder: ReadonlyMap<string, number>;
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly decoder: string[];
  private readonly utf8 = new TextEncoder();

  constructor(vocabulary: ClipVocabulary) {
    this.encoder = vocabulary.encoder;
    this.ranks = vocabulary.ranks;
    this.decoder = [];
    for (const [symbol, id] of this.encoder) this.decoder[id] = symbol;
    if (this.encoder.get(SPECIALS[0]) !== CLIP_START || this.encoder.get(SPECIALS[1]) !== CLIP_END) {
      throw new Error('CLIP vocabulary: the special tokens are not at 49406/49407 (wrong merges file?)');
    }
  }

  /** Token ids of the text, without start/end tokens. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const [piece] of cleanText(text).matchAll(PIECES)) {
      if (piece === SPECIALS[0] || piece === SPECIALS[1]) {
        ids.push(this.encoder.get(piece) as number); // CLIP maps a typed special to its id
        continue;
      }
      let symbols = '';
      for (const byte of this.utf8.encode(piece)) symbols += BYTE_SYMBOLS[byte];
      for (const part of this.bpe(symbols)) {
        const id = this.encoder.get(part);
        if (id === undefined) throw new Error(`CLIP vocabulary has no symbol ${JSON.stringify(part)}`);
        ids.push(id);
      }
    }
    return ids;
  }

  /** [start, …, end] padded to contextLength with padToken (VQ-Diffusion: 0); too long → truncated, end kept. */
  tokenize(text: string, options: { contextLength?: number; padToken?: number } = {}): ClipTokens {
    const context = options.contextLength ?? CLIP_CONTEXT;
    const pad = options.padToken ?? VQ_DIFFUSION_PAD;
    let ids = [CLIP_START, ...this.encode(text), CLIP_END];
    const truncated = ids.length > context;
    if (truncated) ids = [...ids.slice(0, context - 1), CLIP_END];
    const length = ids.length;
    while (ids.length < context) ids.push(pad);
    return { ids, length, truncated };
  }

  /** Text of token ids (specials and padding included as their symbols; '</w>' → space). */
  decode(ids: readonly number[]): string {
    const symbols = ids.map((id) => this.decoder[id] ?? '').join('');
    const bytes: number[] = [];
    for (const ch of symbols.replaceAll('</w>', ' ')) {
      const byte = SYMBOL_BYTES.get(ch);
      if (byte !== undefined) bytes.push(byte);
      else for (const b of this.utf8.encode(ch)) bytes.push(b);
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }

  /** Byte-level BPE of one pre-token (already mapped to byte symbols): merge the lowest-ranked pair until none. */
  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [left, right] = [word[best], word[best + 1]];
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === left && word[i + 1] === right) {
          next.push(left + right);
          i++;
        } else {
          next.push(word[i]);
        }
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }
}

const SYMBOL_BYTES = new Map(BYTE_SYMBOLS.map((symbol, byte) => [symbol, byte]));

/** Rows of token ids as the int64 data of a [rows, contextLength] tensor. */
export function toInt64(rows: readonly (readonly number[])[]): BigInt64Array {
  const out = new BigInt64Array(rows.reduce((n, r) => n + r.length, 0));
  let i = 0;
  for (const row of rows) for (const id of row) out[i++] = BigInt(id);
  return out;
}
