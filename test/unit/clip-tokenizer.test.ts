// worker/text/clip-tokenizer.ts against CLIP's real vocabulary (models/tiny/clip-bpe-simple-vocab-16e6.924691ac288e5440.txt.gz,
// byte-identical to openai/CLIP clip/bpe_simple_vocab_16e6.txt.gz, MIT): ids quoted by an independent test suite,
// ids from an independent Python implementation written here (no ftfy/regex: a scanner over unicodedata
// categories), ftfy-like clean-up, truncation and padding as VQ-Diffusion does them.
//
//   node --import tsx --test test/unit/clip-tokenizer.test.ts

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  CLIP_CONTEXT, CLIP_END, CLIP_START, ClipTokenizer, type ClipVocabulary, cleanText, loadClipVocabulary,
  parseClipMerges, toInt64, unescapeHtml,
} from '../../worker/text/clip-tokenizer.ts';

const VOCAB_PATH = fileURLToPath(new URL('../../models/tiny/clip-bpe-simple-vocab-16e6.924691ac288e5440.txt.gz', import.meta.url));
const VOCAB_SHA256 = '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a'; // openai/CLIP's file
const PYTHON = '/usr/bin/python3';

let vocabulary: ClipVocabulary;
let tokenizer: ClipTokenizer;

before(async () => {
  const bytes = readFileSync(VOCAB_PATH);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), VOCAB_SHA256, 'the fixture is CLIP\'s vocabulary');
  vocabulary = await loadClipVocabulary(bytes);
  tokenizer = new ClipTokenizer(vocabulary);
});

function ids(text: string): number[] {
  const { ids: all, length } = tokenizer.tokenize(text);
  return all.slice(0, length);
}

test('vocabulary: 49408 ids, byte symbols first, specials last; gzip and plain text load alike', async () => {
  assert.equal(vocabulary.encoder.size, 49408);
  assert.equal(vocabulary.ranks.size, 48894);
  assert.equal(vocabulary.encoder.get('!'), 0, 'id 0 is "!", VQ-Diffusion\'s pad');
  assert.equal(vocabulary.encoder.get('a</w>'), 320);
  assert.equal(vocabulary.encoder.get('<|startoftext|>'), CLIP_START);
  assert.equal(vocabulary.encoder.get('<|endoftext|>'), CLIP_END);
  const plain = await loadClipVocabulary(new Uint8Array(gunzipSync(readFileSync(VOCAB_PATH))));
  assert.deepEqual([...plain.encoder.entries()].slice(-300), [...vocabulary.encoder.entries()].slice(-300));
  assert.throws(() => parseClipMerges('#version: 0.2\ni n\nt h\n'), /expected at least 48895/);
  assert.throws(() => new ClipTokenizer({ encoder: new Map(), ranks: new Map() }), /special tokens/);
});

// Ids quoted by elixir-nx/bumblebee test/bumblebee/text/clip_tokenizer_test.exs (HF openai/clip-vit-base-patch32).
test('known ids quoted by an independent suite', () => {
  assert.deepEqual(ids('a photo of a cat'), [49406, 320, 1125, 539, 320, 2368, 49407]);
  assert.deepEqual(ids('a photo of a dog'), [49406, 320, 1125, 539, 320, 1929, 49407]);
  // Case and spacing do not matter; punctuation is its own token.
  assert.deepEqual(ids('  A   PHOTO of a\tCat  '), ids('a photo of a cat'));
  assert.deepEqual(ids('Hello, world!'), [49406, 3306, 267, 1002, 256, 49407]);
  assert.deepEqual(ids(''), [49406, 49407]);
});

test('padding to 77 with 0 (VQ-Diffusion), or another pad on request; int64 rows', () => {
  const out = tokenizer.tokenize('a photo of a cat');
  assert.equal(out.ids.length, CLIP_CONTEXT);
  assert.equal(out.length, 7);
  assert.equal(out.truncated, false);
  assert.deepEqual(out.ids.slice(7), new Array(70).fill(0));
  const endPadded = tokenizer.tokenize('a cat', { padToken: CLIP_END, contextLength: 8 });
  assert.deepEqual(endPadded.ids, [49406, 320, 2368, 49407, 49407, 49407, 49407, 49407]);
  const rows = toInt64([out.ids, endPadded.ids]);
  assert.equal(rows.length, 77 + 8);
  assert.equal(rows[1], 320n);
  assert.equal(rows[77 + 7], 49407n);
});

test('long prompts: the first 76 tokens, then the end token', () => {
  const text = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
  const full = [CLIP_START, ...tokenizer.encode(text), CLIP_END];
  assert.ok(full.length > 77);
  const out = tokenizer.tokenize(text);
  assert.equal(out.truncated, true);
  assert.equal(out.length, 77);
  assert.equal(out.ids.length, 77);
  assert.deepEqual(out.ids.slice(0, 76), full.slice(0, 76));
  assert.equal(out.ids[76], CLIP_END);
  // Exactly 77 fits without truncation.
  const fit = Array.from({ length: 75 }, () => 'cat').join(' ');
  assert.equal(tokenizer.tokenize(fit).truncated, false);
  assert.equal(tokenizer.tokenize(`${fit} cat`).truncated, true);
});

// An independent reference: CLIP's documented rules written from scratch in Python, with no ftfy and no `regex`
// (the pre-tokenizer is a scanner over unicodedata categories). Reads prompts as JSON on stdin.
const REFERENCE_PY = String.raw`
import gzip, json, sys, unicodedata
keep = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
rest = [b for b in range(256) if b not in keep]
table = {**{b: chr(b) for b in keep}, **{b: chr(256 + n) for n, b in enumerate(rest)}}  # vocabulary order
specials = ('<|startoftext|>', '<|endoftext|>')
contractions = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
lines = gzip.open(sys.argv[1]).read().decode('utf-8').split('\n')[1:48895]
merges = [tuple(l.split()) for l in lines]
symbols = list(table.values())
order = symbols + [s + '</w>' for s in symbols] + [a + b for a, b in merges] + list(specials)
vocab = {s: i for i, s in enumerate(order)}
ranks = {m: r for r, m in enumerate(merges)}
letter = lambda c: unicodedata.category(c)[0] == 'L'
number = lambda c: unicodedata.category(c)[0] == 'N'
def pieces(text):
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        hit = next((s for s in specials + contractions if text.startswith(s, i)), None)
        if hit:
            yield hit
            i += len(hit)
            continue
        j = i + 1
        if letter(text[i]):
            while j < len(text) and letter(text[j]): j += 1
        elif not number(text[i]):
            while j < len(text) and not (text[j].isspace() or letter(text[j]) or number(text[j])): j += 1
        yield text[i:j]
        i = j
def bpe(word):
    parts = list(word[:-1]) + [word[-1] + '</w>']
    while len(parts) > 1:
        pair = min(zip(parts, parts[1:]), key=lambda p: ranks.get(p, 1 << 30))
        if pair not in ranks: break
        out, k = [], 0
        while k < len(parts):
            if k + 1 < len(parts) and (parts[k], parts[k + 1]) == pair:
                out.append(parts[k] + parts[k + 1]); k += 2
            else:
                out.append(parts[k]); k += 1
        parts = out
    return parts
def tokenize(text):
    ids = [49406]
    for piece in pieces(' '.join(text.lower().split())):
        if piece in specials: ids.append(vocab[piece])
        else: ids.extend(vocab[p] for p in bpe(''.join(table[b] for b in piece.encode('utf-8'))))
    ids.append(49407)
    if len(ids) > 77: ids = ids[:76] + [49407]
    return ids + [0] * (77 - len(ids))
print(json.dumps([tokenize(p) for p in json.loads(sys.stdin.read())]))
`;

function pythonReference(prompts: string[]): number[][] {
  const run = spawnSync(PYTHON, ['-c', REFERENCE_PY, VOCAB_PATH], { input: JSON.stringify(prompts), encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    const why = run.error?.message ?? run.stderr;
    assert.fail(`the Python reference needs ${PYTHON} (apt-get install -y python3): ${why}`);
  }
  return JSON.parse(run.stdout) as number[][];
}

test('matches an independent Python implementation on punctuation, digits, unicode, emoji, specials, long text', () => {
  const prompts = [
    'a photo of a cat',
    'teddy bear playing in the pool',
    'A long exposure photo of waterfall, 4K!!! (HDR) -- f/2.8 @ 1/250s; 50% off?',
    "don't stop: it's rock'n'roll, they're here, I've, I'm, we'll, he'd",
    'café naïve façade Ærøskøbing Straße ÉCOLE',
    '東京の夜景 서울 Москва ночью مرحبا שלום हिन्दी ภาษาไทย',
    'emoji 🐱🐶 👩‍👩‍👧 ✨ and symbols © ® ™ ° € ½ ∞ →',
    'digits 3.14159 2024-01-01 x2 10,000 ١٢٣',
    'typed specials <|startoftext|> and <|endoftext|> inside',
    'tabs\tand\nnewlines   and\u00a0no-break\u2003em space',
    'supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis',
    Array.from({ length: 90 }, (_, i) => `token${i}`).join(' '),
  ];
  const reference = pythonReference(prompts);
  prompts.forEach((prompt, i) => {
    assert.deepEqual(tokenizer.tokenize(prompt).ids, reference[i], `prompt ${i}: ${JSON.stringify(prompt)}`);
  });
});

test('ftfy-like clean-up: curly quotes, ligatures, full-width forms, controls, C1, HTML entities', () => {
  const same = (a: string, b: string) =>
    assert.deepEqual(ids(a), ids(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  same('it’s a “test”', 'it\'s a "test"');
  same('ʼtisʼ', "'tis'");
  same('ﬁsh and ﬂowers', 'fish and flowers');
  same('ＡＢＣ　１２３！', 'abc 123!');
  same('ｶﾀｶﾅ', 'カタカナ');
  same('bell\u0007 and\u001b[31m red\u001b[0m', 'bell and red');
  same('zero\u200bwidth', 'zero\u200bwidth'); // not a control in ftfy: stays (and is its own piece)
  same('\ufeffbom', 'bom');
  same('smart \u0093quotes\u0094 \u0085', 'smart "quotes" …');
  same('cats &amp; dogs', 'cats & dogs');
  same('cats &amp;amp; dogs', 'cats & dogs'); // ftfy loops, then CLIP unescapes twice
  same('caf&eacute; &#233; &#xE9; &lt;b&gt;', 'café é é <b>');
  same('e\u0301cole', 'école'); // NFC
  assert.equal(cleanText('  Hello\n\tWORLD  '), 'hello world');
  // With '<' in the text ftfy leaves entities alone, but CLIP's two html.unescape passes still decode two levels.
  assert.equal(cleanText('<b> &amp;amp;amp; </b>'), '<b> &amp; </b>');
  assert.equal(cleanText('&amp;amp;amp;amp;'), '&');
});

test('HTML unescaping equals Python\'s html.unescape on the entities prompts carry', () => {
  const samples = [
    '&ampx &amp &notanentity; &#0; &#x110000; &unknown;',
    'caf&eacute; &#233;&#xE9; &lt;b&gt; &quot;q&quot; &apos;a&apos; &hellip; &mdash; &rsquo;',
    '&#39; &#39 &#x27 &#128; &#150; &#65533; &#1;x &#xD800;',
    'AT&T &copy2024 &nbsp;&nbsp; &frac12;&sup2;&deg;c &times; &divide; &euro;5',
  ];
  const script = 'import html, json, sys; print(json.dumps([html.unescape(s) for s in json.load(sys.stdin)]))';
  const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(samples), encoding: 'utf8' });
  assert.equal(run.status, 0, `${PYTHON}: ${run.error?.message ?? run.stderr}`);
  const expected = JSON.parse(run.stdout) as string[];
  samples.forEach((sample, i) => assert.equal(unescapeHtml(sample), expected[i], sample));
});

test('decode inverts encode up to spacing', () => {
  assert.equal(tokenizer.decode(tokenizer.encode('a photo of a cat')), 'a photo of a cat ');
  assert.equal(tokenizer.decode(tokenizer.encode('東京 🐱, café!')), '東京 🐱, café ! ');
});

test('speed: a 77-token prompt in well under a millisecond once the cache is warm', () => {
  const text = 'a highly detailed oil painting of a lighthouse on a cliff at sunset, dramatic clouds, waves, 8k';
  tokenizer.tokenize(text);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) tokenizer.tokenize(`${text} ${i}`);
  const ms = (performance.now() - t0) / 200;
  assert.ok(ms < 1, `${ms.toFixed(3)} ms per prompt`);
});
