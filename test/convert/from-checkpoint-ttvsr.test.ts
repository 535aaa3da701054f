// Installing TTVSR from its official file without Python (models/convert/from-checkpoint.ts) against the Python
// exporter's conversion of the very same file. One file makes the five part cards of the recurrence (flow, features,
// align, refine, reconstruct). The fake is TTVSR_REDS.pth as mmcv's save_checkpoint writes it: {'meta', 'state_dict'
// (the restorer's step_counter, then generator.*), 'optimizer'}, at tiny width with weights from another seed than the
// exporter's own; also the same weights as a bare generator state_dict (no prefix, no step_counter).
// Bounds: the two ONNX graphs compute the same float32 function from the same weights (≤ 1e-5 on every output of every
// part), and both stay within ttvsr.py's stated per-part bounds of PyTorch (TOLERANCE: flow 1e-3, the others 1e-4).
// Then: a full-size fake in the official layout (keys/ttvsr-reds.txt, random values) converts with the committed
// templates (every slot found, every shape right) into graphs onnxruntime loads; files of other models are refused by
// name; the committed templates are current and their slots are the official layout.
// Needs Debian's python3-torch + python3-onnx (fails, never skips).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from '../../worker/models/card.ts';
import { ConvertError, convertFromCheckpoint, type Converted } from '../../models/convert/from-checkpoint.ts';
import { templateSlots } from '../../models/convert/onnx-template.ts';
import { REPO_ROOT, listTemplates, readTemplateGraph, staleSources } from '../../models/convert/templates.ts';
import { assertOk, maxAbsDiff, readReference, requireTorch, runExport, runPython, checkFiles, toOrtTensor, type Reference } from '../export/export-util.ts';

const PARTS = ['flow', 'features', 'align', 'refine', 'reconstruct'] as const;
type Part = (typeof PARTS)[number];
const EXPORT = join(REPO_ROOT, 'models', 'export');
/** ttvsr.py's TOLERANCE (ONNX vs PyTorch; RELATIVE_TOLERANCE only raises it for large outputs). */
const STATED_BOUND: Record<Part, number> = { flow: 1e-3, features: 1e-4, align: 1e-4, refine: 1e-4, reconstruct: 1e-4 };
/** The generator's submodules each part's graph holds (ttvsr.py FlowPart … ReconstructPart). */
const PART_MODULES: Record<Part, string[]> = {
  flow: ['spynet'],
  features: ['feat_extractor'],
  align: ['LTAM'],
  refine: ['resblocks'],
  reconstruct: ['fusion', 'upsample1', 'upsample2', 'conv_hr', 'conv_last'],
};

// The official file at tiny width (seed 5: not the exporter's seed-0 weights), the same weights as a bare generator
// state_dict, a full-size fake from the official layout, and files that are not TTVSR's.
const FAKE_PY = `
import collections, os, sys
import torch
import ttvsr
out = sys.argv[1]
def mmcv(state):
    optimizer = {'generator': {'state': {0: {'step': 400000, 'exp_avg': torch.zeros(2)}},
                               'param_groups': [{'lr': 1e-7, 'betas': (0.9, 0.99), 'params': [0]}]}}
    meta = {'mmedit_version': '0.7.0', 'iter': 400000, 'epoch': 1, 'mmcv_version': '1.3.9', 'exp_name': 'ttvsr_reds4'}
    return {'meta': meta, 'state_dict': state, 'optimizer': optimizer}
torch.manual_seed(5)
tiny = ttvsr.build('ttvsr-reds-flow', True).state_dict()
tiny['step_counter'] = torch.tensor([400000.0])
torch.save(mmcv(tiny), os.path.join(out, 'tiny.pth'))
torch.save({k[len('generator.'):]: v for k, v in tiny.items() if k.startswith('generator.')}, os.path.join(out, 'tiny-generator.pth'))
gen = torch.Generator().manual_seed(3)
full = collections.OrderedDict((name, torch.randn(shape, generator=gen) * 0.02)
                               for name, shape, _ in ttvsr.official_layout('ttvsr-reds-flow'))
full['generator.spynet.mean'] = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
full['generator.spynet.std'] = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
torch.save(mmcv(full), os.path.join(out, 'TTVSR_REDS.pth'))
dropped = collections.OrderedDict((k, v) for k, v in full.items() if k != 'generator.resblocks.main.2.59.conv2.weight')
torch.save(mmcv(dropped), os.path.join(out, 'dropped.pth'))
odd = collections.OrderedDict(full)
odd['generator.spynet.mean'] = torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1)
torch.save(mmcv(odd), os.path.join(out, 'odd-mean.pth'))
basicvsr = {k: v for k, v in full.items() if k.startswith('generator.spynet.')}
basicvsr['generator.backward_resblocks.main.0.weight'] = torch.zeros(64, 66, 3, 3)
torch.save(mmcv(basicvsr), os.path.join(out, 'basicvsr.pth'))
torch.save({'g_ema': {'style.1.weight': torch.zeros(2, 2), 'layers.0.blocks.0.attn.0.relative_position_bias_table': torch.zeros(2, 2)}}, os.path.join(out, 'styleswin.pt'))
print(len(full))
`;

type TtvsrCard = ModelCard & { role: string; pipeline: Record<string, string> };

let work: string;
let official: string;
let templates: string;
const python = new Map<Part, { card: TtvsrCard; dir: string; reference: Reference }>();

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'from-checkpoint-ttvsr-'));
  official = join(work, 'tiny.pth');
  templates = join(work, 'templates');
  const fake = await runPython(['-c', FAKE_PY, work], 120_000);
  assertOk(fake, 'fake official files');
  assert.equal(fake.stdout.trim(), '339', 'the official layout: step_counter + 338 generator tensors');
  // Two at a time: the machine's two cores.
  for (const pair of [PARTS.slice(0, 2), PARTS.slice(2, 4), PARTS.slice(4)]) {
    const results = await Promise.all(pair.flatMap((part) => [
      runPython([join(EXPORT, 'template.py'), `ttvsr-reds-${part}`, '--also', `ttvsr-vimeo90k-${part}`, '--tiny', '--out', templates], 300_000),
      runExport([`ttvsr-reds-${part}`, '--tiny', '--checkpoint', official, '--out', join(work, 'python'), '--dump-reference', join(work, `reference-${part}.json`)], 300_000),
    ]));
    results.forEach((r, i) => assertOk(r, `${i % 2 ? 'export.py' : 'template.py'} ${pair[i >> 1]}`));
  }
  for (const part of PARTS) {
    const dir = join(work, 'python');
    const card = JSON.parse(readFileSync(join(dir, `ttvsr-reds-${part}-tiny.card.json`), 'utf8')) as TtvsrCard;
    python.set(part, { card, dir, reference: readReference(join(work, `reference-${part}.json`)) });
  }
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function run(model: string, inputs: Reference['runs'][number]['inputs']): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toOrtTensor(t)]));
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Max |TS − Python| and |TS − PyTorch| over every output of every run of the exporter's own check. */
async function compare(part: Part, converted: Converted): Promise<{ vsPython: number; vsTorch: number }> {
  const { card: pyCard, dir, reference } = python.get(part)!;
  assert.ok(reference.runs.length >= 2);
  let vsPython = 0;
  let vsTorch = 0;
  for (const r of reference.runs) {
    const [ts, py] = await Promise.all([run(converted.paths[0], r.inputs), run(join(dir, pyCard.files[0].name), r.inputs)]);
    assert.deepEqual(Object.keys(ts).sort(), Object.keys(r.outputs).sort(), `${part}: outputs`);
    for (const [name, expected] of Object.entries(r.outputs)) {
      vsPython = Math.max(vsPython, maxAbsDiff(ts[name], py[name]));
      vsTorch = Math.max(vsTorch, maxAbsDiff(ts[name], Float32Array.from(expected.data)));
    }
  }
  return { vsPython, vsTorch };
}

/** The card without its files and converter (which say how it was made). */
function withoutFiles(card: ModelCard): Partial<ModelCard> {
  const rest: Partial<ModelCard> = { ...card };
  delete rest.files;
  delete rest.source;
  return rest;
}

test('one official TTVSR file (mmcv layout) converted in TypeScript makes the five part cards the Python exporter makes, computing the same', async () => {
  const out = join(work, 'ts');
  for (const part of PARTS) {
    const converted = await convertFromCheckpoint(`ttvsr-reds-${part}`, official, { outDir: out, templatesDir: templates });
    const card = converted.card as TtvsrCard;
    assert.deepEqual(converted.warnings, []);
    assert.deepEqual(withoutFiles(card), withoutFiles(python.get(part)!.card), `${part}: the card is the exporter's, files aside`);
    assert.equal(card.role, part);
    assert.equal(card.pipeline[part], `ttvsr-reds-${part}-tiny`);
    checkFiles(card, out);
    assert.deepEqual(converted.paths, card.files.map((f) => join(out, f.name)));
    const { vsPython, vsTorch } = await compare(part, converted);
    console.log(`TTVSR tiny ${part}: |TS − Python conversion| ${vsPython.toExponential(2)}, |TS − PyTorch| ${vsTorch.toExponential(2)}`);
    assert.ok(vsPython <= 1e-5, `${part}: TypeScript vs Python conversion ${vsPython}`);
    assert.ok(vsTorch <= STATED_BOUND[part], `${part}: TypeScript conversion vs PyTorch ${vsTorch}`);
  }
  // The Vimeo-90K cards come from the same templates (--also): the same graphs, their own ids and pipeline.
  const vimeo = await convertFromCheckpoint('ttvsr-vimeo90k-align', official, { outDir: join(work, 'ts-vimeo'), templatesDir: templates });
  assert.equal(vimeo.card.id, 'ttvsr-vimeo90k-align-tiny');
  assert.equal((vimeo.card as TtvsrCard).pipeline.id, 'ttvsr-vimeo90k-tiny');
  assert.match(vimeo.card.files[0].name, /^ttvsr-vimeo90k-align-tiny\.[0-9a-f]{16}\.onnx$/);
  const reds = readdirSync(out).find((f) => f.startsWith('ttvsr-reds-align-tiny.'));
  assert.equal(vimeo.card.files[0].name.slice(-22), reds?.slice(-22), 'the same graph and weights: the same bytes');
});

test('a bare generator state_dict converts to the same graphs, byte for byte', async () => {
  for (const part of ['flow', 'refine'] as const) {
    const [a, b] = await Promise.all([
      convertFromCheckpoint(`ttvsr-reds-${part}`, official, { outDir: join(work, 'bare-a'), templatesDir: templates }),
      convertFromCheckpoint(`ttvsr-reds-${part}`, join(work, 'tiny-generator.pth'), { outDir: join(work, 'bare-b'), templatesDir: templates }),
    ]);
    assert.equal(b.card.files[0].sha256, a.card.files[0].sha256, part);
  }
});

test('a full-size fake in the official layout converts with the committed templates into graphs onnxruntime loads', async () => {
  const out = join(work, 'full');
  const file = join(work, 'TTVSR_REDS.pth');
  const started = performance.now();
  for (const part of PARTS) {
    const converted = await convertFromCheckpoint(`ttvsr-reds-${part}`, file, { outDir: out });
    assert.deepEqual(converted.warnings, []);
    const card = converted.card as TtvsrCard;
    assert.equal(card.id, `ttvsr-reds-${part}`);
    assert.equal(card.variant, 'full');
    assert.equal(card.role, part);
    assert.deepEqual(card.pipeline, { id: 'ttvsr-reds', ...Object.fromEntries(PARTS.map((p) => [p, `ttvsr-reds-${p}`])) });
    assert.match(card.source.converter ?? '', /from-checkpoint\.ts \(template ttvsr-reds-[a-z]+\.template\.onnx\.gz\)/);
    checkFiles(card, out);
    const session = await ort.InferenceSession.create(converted.paths[0], { intraOpNumThreads: 1 });
    assert.deepEqual(session.inputNames, card.io.inputs.map((i) => i.name), `${part}: inputs`);
    assert.deepEqual(session.outputNames, card.io.outputs.map((o) => o.name), `${part}: outputs`);
    await session.release();
  }
  console.log(`full-size fake: five parts converted and loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

test('TTVSR files that do not fit are refused by name; nothing is left behind', async () => {
  const out = join(work, 'bad');
  const convert = (id: string, file: string, templatesDir?: string) => convertFromCheckpoint(id, join(work, file), { outDir: out, templatesDir });
  const wrong = (pattern: RegExp) => (e: unknown) => e instanceof ConvertError && e.code === 'wrong-checkpoint' && pattern.test(e.message);
  await assert.rejects(convert('ttvsr-reds-flow', 'styleswin.pt'), wrong(/styleswin\.pt is a StyleSwin checkpoint, not a TTVSR one/));
  await assert.rejects(convert('ttvsr-reds-flow', 'basicvsr.pth'), wrong(/basicvsr\.pth is not a TTVSR checkpoint: no generator\.LTAM\.fusion\.weight .*it has a SPyNet but no trajectory attention/));
  await assert.rejects(convert('ttvsr-reds-refine', 'dropped.pth'), wrong(/dropped\.pth does not fit ttvsr-reds-refine: 1 tensors missing \(resblocks\.main\.2\.59\.conv2\.weight\)/));
  await assert.rejects(convert('ttvsr-reds-reconstruct', 'tiny.pth'), wrong(/tiny\.pth does not fit ttvsr-reds-reconstruct: 9 of another shape \(.*fusion\.weight \[8,24,1,1\] \(needs \[64,192,1,1\]\)/));
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no file written');
  // SPyNet normalisation values that are not ImageNet's: converted as the official code would use them, with a warning.
  const odd = await convertFromCheckpoint('ttvsr-reds-flow', join(work, 'odd-mean.pth'), { outDir: join(work, 'odd') });
  assert.equal(odd.warnings.length, 1);
  assert.match(odd.warnings[0], /odd-mean\.pth: SPyNet's mean is \[0\.5000, 0\.5000, 0\.5000\], not ImageNet's/);
});

test('the committed TTVSR templates are current, one per part for both checkpoints, and their slots are the official layout', () => {
  const committed = listTemplates().filter((t) => Object.keys(t.meta.cards).some((id) => id.startsWith('ttvsr-')));
  assert.equal(committed.length, PARTS.length);
  const layout = readFileSync(join(EXPORT, 'keys', 'ttvsr-reds.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' '));
  const generator = new Map(layout.filter(([n]) => n.startsWith('generator.')).map(([n, shape, dtype]) => [n.slice('generator.'.length), [shape, dtype]]));
  const seen = new Set<string>();
  for (const part of PARTS) {
    const t = committed.find((c) => Object.hasOwn(c.meta.cards, `ttvsr-reds-${part}`));
    assert.ok(t, `no committed template makes ttvsr-reds-${part}`);
    assert.deepEqual(Object.keys(t.meta.cards), [`ttvsr-reds-${part}`, `ttvsr-vimeo90k-${part}`]);
    assert.deepEqual(staleSources(t), [], `${t.name} was made from other exporter sources: run npm run templates`);
    assert.deepEqual(Object.keys(t.meta.sources).sort(), ['common.py', 'export.py', 'template.py', 'ttvsr.py'].map((f) => `models/export/${f}`));
    const slots = templateSlots(readTemplateGraph(t, t.meta.file, t.meta.sha256));
    assert.ok(slots.every((s) => s.kind === 'checkpoint'), 'TTVSR computes nothing after loading');
    for (const s of slots) {
      const [shape, dtype] = generator.get(s.name) ?? [];
      assert.equal(s.dims.join('x'), shape, `${part}: slot ${s.name} is not generator.${s.name} of the official layout as it is`);
      assert.equal(s.dtype, dtype, `${part}: ${s.name}`);
      assert.ok(PART_MODULES[part].some((m) => s.name.startsWith(`${m}.`)), `${part}: slot ${s.name} is outside the part's modules`);
      assert.ok(!seen.has(s.name), `${s.name} is a slot of two parts`);
      seen.add(s.name);
    }
    // Every tensor of the part's modules is a slot: no parameter of a part goes unused.
    const own = [...generator.keys()].filter((n) => PART_MODULES[part].some((m) => n.startsWith(`${m}.`)));
    assert.deepEqual(slots.map((s) => s.name).sort(), own.sort(), `${part}: slots = the part's tensors in the file`);
  }
  // Together the parts use every generator tensor of the file (step_counter is the training loop's).
  assert.deepEqual([...seen].sort(), [...generator.keys()].sort());
  assert.deepEqual(layout.map(([n]) => n).filter((n) => !n.startsWith('generator.')), ['step_counter']);
});
