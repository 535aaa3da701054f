// Installing VQ-Diffusion ITHQ from its official file without Python (models/convert/from-checkpoint.ts) against the
// Python exporter's conversion of the very same file, at tiny width (the full transformer is 5.4 GB: too big for CI).
// One file makes three cards. The fake is ithq_learnable.pth as the official training script saves it: {'model':
// DALLE.state_dict() (text encoder under transformer.condition_emb.*, transformer under transformer.*, VQ-VAE under
// content_codec.*), 'ema': DiffusionTransformer.state_dict(), 'optimizer', 'last_epoch'}, with the CLIP text
// encoder's Linear weights in float16 as CLIP stores them, and 'model' values unlike the 'ema' ones (EMA must win for
// the text encoder and the transformer, as in the official inference script). Also ithq_vqvae.pth (PatchVQGAN with its
// encoder half), which makes the decoder alone.
// Bounds: the two ONNX graphs compute the same float32 function from the same weights (≤ 1e-5), and both stay within
// vqdiffusion.py's stated bounds of PyTorch (text 1e-4, transformer 2e-3, decoder 2e-3). The files the cards ship
// besides the graph are byte-identical to Python's: CLIP's vocabulary and the learned null text embedding.
// Needs Debian's python3-torch + python3-onnx (fails, never skips).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from '../../worker/models/card.ts';
import { ConvertError, convertFromCheckpoint, type Converted } from '../../models/convert/from-checkpoint.ts';
import { templateSlots } from '../../models/convert/onnx-template.ts';
import { REPO_ROOT, findTemplate, listTemplates, readTemplateGraph, staleSources } from '../../models/convert/templates.ts';
import { assertOk, maxAbsDiff, readReference, requireTorch, runExport, runPython, checkFiles, toOrtTensor, type Reference } from '../export/export-util.ts';

const PIPELINE = 'vqdiffusion-ithq';
const PARTS = ['text', 'transformer', 'decoder'] as const;
type Part = (typeof PARTS)[number];
const EXPORT = join(REPO_ROOT, 'models', 'export');
/** vqdiffusion.py's TOLERANCE (ONNX vs PyTorch). */
const STATED_BOUND: Record<Part, number> = { text: 1e-4, transformer: 2e-3, decoder: 2e-3 };
const OUTPUT: Record<Part, string> = { text: 'text', transformer: 'log_probs', decoder: 'image' };

// The official files at tiny width: each part from its own seed; 'model' = 'ema' + 0.25 where both hold a part.
const FAKE_PY = `
import os, sys
import torch
import vqdiffusion as v
out = sys.argv[1]
def tiny(part, seed):
    torch.manual_seed(seed)
    return v.build('vqdiffusion-ithq-' + part, True).state_dict()
text, transformer, decoder = tiny('text', 11), tiny('transformer', 12), tiny('decoder', 13)
# CLIP keeps most of its text weights in float16 (convert_weights): the official layout says which; they load into
# float32 exactly.
dtypes = {n: d for n, _, d in v.official_layout('vqdiffusion-ithq-text')}
text = {k: t.to(getattr(torch, dtypes[k])) for k, t in text.items()}
assert sum(t.dtype == torch.float16 for t in text.values()) > 10
def shifted(t):
    return t + 0.25 if t.is_floating_point() else t
ema = {**{'condition_emb.' + k: t for k, t in text.items()}, **transformer}
model = {'content_codec.enc.encoder.conv_in.weight': torch.zeros(4, 3, 3, 3)}
model.update({'transformer.condition_emb.' + k: shifted(t) for k, t in text.items()})
model.update({'transformer.' + k: shifted(t) for k, t in transformer.items()})
model.update({'content_codec.dec.' + k: t for k, t in decoder.items()})
official = {'last_epoch': 7, 'last_iter': 700, 'model': model, 'ema': ema,
            'optimizer_and_scheduler': {'default': {'optimizer': {'state': {}, 'param_groups': [{'lr': 4.5e-4}]}}}}
torch.save(official, os.path.join(out, 'ithq_learnable.pth'))
vqvae = {'encoder.conv_in.weight': torch.zeros(4, 3, 3, 3), 'quant_conv.weight': torch.zeros(2, 2, 1, 1)}
vqvae.update(decoder)
torch.save({'model': vqvae}, os.path.join(out, 'ithq_vqvae.pth'))
torch.save({'g_ema': {'style.1.weight': torch.zeros(2, 2), 'layers.0.blocks.0.attn.0.relative_position_bias_table': torch.zeros(2, 2)}}, os.path.join(out, 'styleswin.pt'))
`;

type VqCard = ModelCard & { role: string; pipeline: Record<string, string>; io: ModelCard['io'] & { tokenizer?: unknown; diffusion?: unknown } };

let work: string;
let official: string;
let templates: string;
const python = new Map<Part, { card: VqCard; dir: string; reference: Reference }>();

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'from-checkpoint-vq-'));
  official = join(work, 'ithq_learnable.pth');
  templates = join(work, 'templates');
  assertOk(await runPython(['-c', FAKE_PY, work]), 'fake official files');
  const results = await Promise.all(PARTS.flatMap((part) => [
    runPython([join(EXPORT, 'template.py'), `${PIPELINE}-${part}`, '--tiny', '--gzip', '--out', templates], 300_000),
    runExport([`${PIPELINE}-${part}`, '--tiny', '--checkpoint', official, '--out', join(work, 'python'), '--dump-reference', join(work, `reference-${part}.json`)], 300_000),
  ]));
  results.forEach((r, i) => assertOk(r, `${i % 2 ? 'export.py' : 'template.py'} ${PARTS[i >> 1]}`));
  for (const part of PARTS) {
    const dir = join(work, 'python');
    const card = JSON.parse(readFileSync(join(dir, `${PIPELINE}-${part}-tiny.card.json`), 'utf8')) as VqCard;
    python.set(part, { card, dir, reference: readReference(join(work, `reference-${part}.json`)) });
  }
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function run(model: string, part: Part, inputs: Reference['runs'][number]['inputs']): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toOrtTensor(t)]));
    return (await session.run(feeds))[OUTPUT[part]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Max |TS − Python| and |TS − PyTorch| over every run of the exporter's own check. */
async function compare(part: Part, converted: Converted): Promise<{ vsPython: number; vsTorch: number }> {
  const { card: pyCard, dir, reference } = python.get(part)!;
  assert.ok(reference.runs.length >= 2);
  let vsPython = 0;
  let vsTorch = 0;
  for (const r of reference.runs) {
    const [ts, py] = await Promise.all([run(converted.paths[0], part, r.inputs), run(join(dir, pyCard.files[0].name), part, r.inputs)]);
    vsPython = Math.max(vsPython, maxAbsDiff(ts, py));
    vsTorch = Math.max(vsTorch, maxAbsDiff(ts, Float32Array.from(r.outputs[OUTPUT[part]].data)));
  }
  return { vsPython, vsTorch };
}

/** Every external-data location a graph names (StringStringEntryProto {key: "location", value}), wherever the tensor
 *  is: an initializer or a Constant node's value (a large trace writes both to files). */
function externalLocations(graph: Uint8Array): string[] {
  const key = Buffer.from('\x0a\x08location\x12', 'latin1');
  const bytes = Buffer.from(graph.buffer, graph.byteOffset, graph.byteLength);
  const found: string[] = [];
  for (let at = bytes.indexOf(key); at >= 0; at = bytes.indexOf(key, at + 1)) {
    const length = bytes[at + key.length]; // names are short: a one-byte varint
    found.push(bytes.subarray(at + key.length + 1, at + key.length + 1 + length).toString('utf8'));
  }
  return found;
}

/** The card without its files and converter (which say how it was made). */
function withoutFiles(card: VqCard): Partial<VqCard> {
  const rest: Partial<VqCard> = { ...card };
  delete rest.files;
  delete rest.source;
  return rest;
}

test('one official VQ-Diffusion file converted in TypeScript makes the three cards the Python exporter makes, computing the same', async () => {
  const out = join(work, 'ts');
  for (const part of PARTS) {
    const converted = await convertFromCheckpoint(`${PIPELINE}-${part}`, official, { outDir: out, templatesDir: templates });
    const card = converted.card as VqCard;
    const py = python.get(part)!.card;
    assert.deepEqual(converted.warnings, []);
    assert.deepEqual(withoutFiles(card), withoutFiles(py), `${part}: the card is the exporter's, files aside`);
    checkFiles(card, out);
    assert.deepEqual(converted.paths, card.files.map((f) => join(out, f.name)));
    // The files besides the graph: the same kinds in the same order, and the same bytes.
    assert.deepEqual(card.files.slice(1).map((f) => [f.kind, f.name, f.sha256]), py.files.slice(1).map((f) => [f.kind, f.name, f.sha256]), `${part}: files besides the graph`);
    const { vsPython, vsTorch } = await compare(part, converted);
    console.log(`VQ-Diffusion tiny ${part}: |TS − Python conversion| ${vsPython.toExponential(2)}, |TS − PyTorch| ${vsTorch.toExponential(2)}`);
    assert.ok(vsPython <= 1e-5, `${part}: TypeScript vs Python conversion ${vsPython}`);
    assert.ok(vsTorch <= STATED_BOUND[part], `${part}: TypeScript conversion vs PyTorch ${vsTorch}`);
  }
  const byKind = (part: Part, kind: string) => python.get(part)!.card.files.find((f) => f.kind === kind);
  assert.ok(byKind('text', 'clip-bpe-vocabulary'), 'the text encoder ships CLIP\'s vocabulary');
  assert.ok(byKind('transformer', 'null-text-embedding'), 'the transformer ships the learned null text embedding');
});

test('the transformer above the external-data threshold: one content-addressed data file the graph points into, same outputs', async () => {
  const out = join(work, 'ts-external');
  const converted = await convertFromCheckpoint(`${PIPELINE}-transformer`, official, { outDir: out, templatesDir: templates, externalAbove: 0 });
  const kinds = converted.card.files.map((f) => f.kind ?? 'onnx');
  assert.deepEqual(kinds, ['onnx', 'onnx-external-data', 'null-text-embedding']);
  checkFiles(converted.card, out);
  const template = findTemplate(`${PIPELINE}-transformer`, templates)!;
  const weightBytes = templateSlots(readTemplateGraph(template, template.meta.file, template.meta.sha256)).reduce((n, s) => n + s.byteLength, 0);
  assert.ok(converted.card.files[1].bytes >= weightBytes, `the data file (${converted.card.files[1].bytes} bytes) holds every weight (${weightBytes} bytes)`);
  const { vsPython } = await compare('transformer', converted);
  assert.ok(vsPython <= 1e-5, `external data vs Python: ${vsPython}`);
});

test('the decoder from ithq_vqvae.pth is the decoder from ithq_learnable.pth, byte for byte', async () => {
  const [a, b] = await Promise.all([
    convertFromCheckpoint(`${PIPELINE}-decoder`, official, { outDir: join(work, 'dec-a'), templatesDir: templates }),
    convertFromCheckpoint(`${PIPELINE}-decoder`, join(work, 'ithq_vqvae.pth'), { outDir: join(work, 'dec-b'), templatesDir: templates }),
  ]);
  assert.equal(b.card.files[0].sha256, a.card.files[0].sha256);
});

test('VQ-Diffusion files that do not fit are refused by name; nothing is left behind', async () => {
  const out = join(work, 'bad');
  const convert = (part: Part, file: string) => convertFromCheckpoint(`${PIPELINE}-${part}`, join(work, file), { outDir: out, templatesDir: templates });
  const wrong = (pattern: RegExp) => (e: unknown) => e instanceof ConvertError && e.code === 'wrong-checkpoint' && pattern.test(e.message);
  await assert.rejects(convert('text', 'ithq_vqvae.pth'), wrong(/holds no VQ-Diffusion text weights .*in ithq_learnable\.pth, not in ithq_vqvae\.pth/));
  await assert.rejects(convert('transformer', 'styleswin.pt'), wrong(/styleswin\.pt is a StyleSwin checkpoint, not a VQ-Diffusion one/));
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no file written');
});

test('the committed VQ-Diffusion templates are current, and their slots are the official layout minus what the graphs do not use', () => {
  const committed = listTemplates().filter((t) => Object.keys(t.meta.cards).some((id) => id.startsWith('vqdiffusion-')));
  assert.deepEqual(committed.map((t) => Object.keys(t.meta.cards)).flat().sort(), PARTS.map((p) => `${PIPELINE}-${p}`).sort());
  const parameters: Record<string, number> = {};
  for (const t of committed) {
    const [cardId] = Object.keys(t.meta.cards);
    const part = cardId.slice(PIPELINE.length + 1) as Part;
    assert.deepEqual(staleSources(t), [], `${t.name} was made from other exporter sources: run npm run templates`);
    const layout = readFileSync(join(EXPORT, 'keys', `${cardId}.txt`), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' '));
    const graph = readTemplateGraph(t, t.meta.file, t.meta.sha256);
    assert.deepEqual(externalLocations(graph).filter((l) => !l.startsWith('frontier:')), [], `${t.name}: tensors stored in files that an install would not have`);
    const slots = templateSlots(graph);
    assert.deepEqual(slots.filter((s) => s.kind === 'computed'), [], 'VQ-Diffusion computes nothing after loading');
    const byName = new Map(layout.map(([n, shape, dtype]) => [n, [shape, dtype]]));
    for (const s of slots) {
      const [shape, dtype] = byName.get(s.name) ?? [];
      assert.equal(s.dims.join('x'), shape, `${cardId}: slot ${s.name} is not in the official layout as it is`);
      // CLIP's float16 weights are widened on conversion (float16 → float32 is exact).
      assert.ok(dtype === s.dtype || (dtype === 'float16' && s.dtype === 'float32'), `${cardId}: ${s.name} is ${dtype} in the file, ${s.dtype} in the graph`);
    }
    const unused = layout.map(([n]) => n).filter((n) => !slots.some((s) => s.name === n));
    const files = (t.meta.files ?? []).map((f) => ('tensor' in f ? f.tensor : basename(f.copy)));
    // What the graphs leave out, by design: CLIP's unused text projection; the null embedding (a file of its own); the
    // schedule and cross-attention mask buffers (fixed by the architecture, kept for the key layout).
    if (part === 'text') {
      assert.deepEqual(unused, ['text_projection']);
      assert.deepEqual(files, [basename(readdirSync(join(REPO_ROOT, 'models', 'tiny')).find((f) => f.startsWith('clip-bpe'))!)]);
    } else if (part === 'transformer') {
      // The schedule (log_* buffers) and the training loss history (Lt_history, Lt_count) of DiffusionTransformer.
      assert.deepEqual(unused.filter((n) => !/^(log_[a-z0-9_]+|Lt_history|Lt_count)$|\.attn2\.mask$/.test(n)), ['empty_text_embed']);
      assert.deepEqual(files, ['empty_text_embed']);
    } else {
      assert.deepEqual(unused.filter((n) => !/^quantize\.(embedding_avg|cluster_size|initted)$/.test(n)), []);
      assert.deepEqual(files, []);
    }
    parameters[part] = slots.reduce((n, s) => n + s.byteLength / 4, 0);
  }
  console.log(`committed VQ-Diffusion templates: ${JSON.stringify(parameters)} values in slots`);
});
