// Installing GRAM from its official files without Python (models/convert/from-checkpoint.ts) against the Python
// exporter's conversion of the very same files. The files are fakes in the official layout at tiny width, written by
// `gram.py fake-checkpoint --tiny`: generator.pth (a bare state_dict of raw weights) and ema.pth beside it (a pickled
// torch_ema ExponentialMovingAverage whose shadow_params, in generator.parameters() order, hold other weights: the ones
// both converters must use). The template is made by template.py for the same tiny architecture.
// Bounds: at truncation 1 the two ONNX graphs compute the same float32 function from the same weights (≤ 1e-5;
// measured ≈ 1e-7, onnxruntime's folding order aside) and both stay within gram.py's stated bound of PyTorch (1e-3).
// The truncation averages are computed buffers: TypeScript averages the mapping graph's two outputs over its own z, and
// PyTorch's mapping network (EMA weights loaded by gram.load_checkpoint) over those same z gives the same means
// (≤ 1e-5); rendered with those averages at ψ = 0.7, PyTorch and the TypeScript conversion agree within 1e-3.
// Also: without ema.pth the raw weights with a warning (as gram.py), 'module.' prefixes stripped, ema.pth given instead
// of generator.pth or both picked together under other names, a missing tensor named, a file of another family named; and the committed full template is current,
// holds no weights (GRAM's licence forbids redistributing them) and its slots are the official key layout.
// Needs Debian's python3-torch + python3-onnx (fails, never skips). Never commit a converted GRAM file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ConvertError, convertFromCheckpoint, gramParameterOrder } from '../../models/convert/from-checkpoint.ts';
import { readInitializer, templateSlots } from '../../models/convert/onnx-template.ts';
import { REPO_ROOT, findTemplate, listTemplates, readTemplateGraph, staleSources } from '../../models/convert/templates.ts';
import { Rng } from '../../worker/random.ts';
import { assertOk, maxAbsDiff, readCheckedCard, readReference, requireTorch, runExport, runPython, toOrtTensor, type Reference } from '../export/export-util.ts';

const MODEL = 'gram-ffhq-256';
const EXPORT = join(REPO_ROOT, 'models', 'export');
/** gram.py's TOLERANCE (ONNX vs PyTorch, rgb in [-1, 1] and depth). */
const STATED_BOUND = 1e-3;
const AVG = ['representation.rf_network.avg_frequencies', 'representation.rf_network.avg_phase_shifts'];
const BAD_KEY = 'representation.sample_network.network.0.wieght';

// Variants of the official files: DDP-prefixed keys (with ema.pth beside), generator.pth alone (no EMA), and one
// generator.pth with a tensor missing (ema.pth beside).
const VARIANTS_PY = `
import shutil, sys, os
import torch
src, out = sys.argv[1], sys.argv[2]
state = torch.load(os.path.join(src, 'generator.pth'))
for name in ('ddp', 'noema', 'partial'):
    os.makedirs(os.path.join(out, name))
torch.save({'module.' + k: v for k, v in state.items()}, os.path.join(out, 'ddp', 'generator.pth'))
shutil.copy(os.path.join(src, 'ema.pth'), os.path.join(out, 'ddp', 'ema.pth'))
shutil.copy(os.path.join(src, 'generator.pth'), os.path.join(out, 'noema', 'generator.pth'))
del state['representation.rf_network.output_color.3.bias']
torch.save(state, os.path.join(out, 'partial', 'generator.pth'))
shutil.copy(os.path.join(src, 'ema.pth'), os.path.join(out, 'partial', 'ema.pth'))
`;

// PyTorch (weights loaded by gram.load_checkpoint: EMA applied) over the z TypeScript used: the truncation averages,
// then run 0 of the exporter's check (ψ = 0.7) rendered with them.
const AVERAGES_PY = `
import json, sys
import numpy as np, torch
import gram
path, zpath, refpath = sys.argv[1:4]
model = gram.build('${MODEL}', True)
gram.load_checkpoint(model, '${MODEL}', path)
rf = model.representation.rf_network
z = torch.from_numpy(np.fromfile(zpath, dtype=np.float32).reshape(-1, 256))
with torch.no_grad():
    freq, phase = rf.mapping_network(z)
    freq, phase = freq.double().mean(0, keepdim=True), phase.double().mean(0, keepdim=True)
    rf.avg_frequencies.copy_(freq.float())
    rf.avg_phase_shifts.copy_(phase.float())
    rf.has_average = True
    run = json.load(open(refpath))['runs'][0]['inputs']
    t = {k: torch.tensor(v['data'], dtype=torch.float32).reshape(v['shape']) for k, v in run.items()}
    rgb, depth = model(t['z'], t['truncation'], t['ray_origins'], t['ray_directions'])
print(json.dumps({'freq': freq.flatten().tolist(), 'phase': phase.flatten().tolist(), 'psi': t['truncation'].item(),
                  'rgb': rgb.flatten().tolist(), 'depth': depth.flatten().tolist()}))
`;

let work: string;
let fake: string;
let templates: string;
let reference: Reference;
let pythonOnnx: string;
let pythonRawOnnx: string;

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'from-checkpoint-gram-'));
  fake = join(work, 'fake');
  templates = join(work, 'templates');
  assertOk(await runPython([join(EXPORT, 'gram.py'), 'fake-checkpoint', '--tiny', '--out', fake, '--bad-key', BAD_KEY]), 'gram.py fake-checkpoint');
  assertOk(await runPython(['-c', VARIANTS_PY, fake, work]), 'variants of the official files');
  const [tpl, exp, raw] = await Promise.all([
    runPython([join(EXPORT, 'template.py'), MODEL, '--tiny', '--gzip', '--out', templates]),
    runExport([MODEL, '--tiny', '--checkpoint', join(fake, 'generator.pth'), '--out', join(work, 'python'), '--dump-reference', join(work, 'reference.json')]),
    runExport([MODEL, '--tiny', '--checkpoint', join(work, 'noema', 'generator.pth'), '--out', join(work, 'python-raw')]),
  ]);
  assertOk(tpl, 'template.py');
  assertOk(exp, 'export.py --tiny --checkpoint');
  assertOk(raw, 'export.py --tiny --checkpoint (no ema.pth)');
  assert.match(raw.stderr, /no EMA file at .*ema\.pth: using the raw generator weights/, 'gram.py warns without ema.pth');
  reference = readReference(join(work, 'reference.json'));
  pythonOnnx = readCheckedCard(join(work, 'python'), `${MODEL}-tiny`).onnxPath;
  pythonRawOnnx = readCheckedCard(join(work, 'python-raw'), `${MODEL}-tiny`).onnxPath;
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

type Outputs = { rgb: Float32Array; depth: Float32Array };

async function render(model: string, inputs: Record<string, ort.Tensor>): Promise<Outputs> {
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run(inputs);
    return { rgb: out.rgb.data as Float32Array, depth: out.depth.data as Float32Array };
  } finally {
    await session.release();
  }
}

const feeds = (run: Reference['runs'][number]) => Object.fromEntries(Object.entries(run.inputs).map(([k, t]) => [k, toOrtTensor(t)]));
const untruncated = () => {
  const run = reference.runs.find((r) => r.inputs.truncation.data[0] === 1);
  assert.ok(run, 'the exporter checks one run at ψ = 1');
  return run;
};
const worst = (a: Outputs, b: Outputs) => Math.max(maxAbsDiff(a.rgb, b.rgb), maxAbsDiff(a.depth, b.depth));

test('GRAM\'s official files converted in TypeScript compute what the Python exporter\'s conversion computes (EMA weights)', async () => {
  const out = join(work, 'ts');
  const { card, paths, warnings } = await convertFromCheckpoint(MODEL, join(fake, 'generator.pth'), { outDir: out, templatesDir: templates });
  assert.equal(card.id, `${MODEL}-tiny`);
  assert.deepEqual(warnings, [], 'ema.pth beside generator.pth: no warning');
  assert.match(card.files[0].name, new RegExp(`^${MODEL}-tiny\\.[0-9a-f]{16}\\.onnx$`));
  assert.deepEqual(readdirSync(out), [card.files[0].name]);

  const run = untruncated();
  const [ts, py] = await Promise.all([render(paths[0], feeds(run)), render(pythonOnnx, feeds(run))]);
  const torchOut = { rgb: Float32Array.from(run.outputs.rgb.data), depth: Float32Array.from(run.outputs.depth.data) };
  const vsPython = worst(ts, py);
  const vsTorch = worst(ts, torchOut);
  console.log(`GRAM tiny, ψ = 1: |TS − Python conversion| ${vsPython.toExponential(2)}, |TS − PyTorch| ${vsTorch.toExponential(2)}`);
  assert.ok(vsPython <= 1e-5, `TypeScript vs Python conversion: ${vsPython}`);
  assert.ok(vsTorch <= STATED_BOUND, `TypeScript conversion vs PyTorch: ${vsTorch}`);

  // The EMA weights, not the raw ones: the Python export of generator.pth alone (raw weights) renders otherwise, and
  // so does the TypeScript conversion without ema.pth, which says why.
  const raw = await convertFromCheckpoint(MODEL, join(work, 'noema', 'generator.pth'), { outDir: join(work, 'ts-raw'), templatesDir: templates });
  assert.equal(raw.warnings.length, 1);
  assert.match(raw.warnings[0], /No EMA file at .*noema\/ema\.pth: converted the raw generator weights/);
  const [tsRaw, pyRaw] = await Promise.all([render(raw.paths[0], feeds(run)), render(pythonRawOnnx, feeds(run))]);
  assert.ok(worst(tsRaw, pyRaw) <= 1e-5, `raw weights: TypeScript vs Python conversion ${worst(tsRaw, pyRaw)}`);
  assert.ok(worst(ts, tsRaw) > 1e-3, `EMA and raw weights render alike (${worst(ts, tsRaw)}): is the EMA applied?`);

  // DDP's 'module.' prefixes are stripped, and ema.pth may be given instead of generator.pth: the same bytes out.
  const ddp = await convertFromCheckpoint(MODEL, join(work, 'ddp', 'generator.pth'), { outDir: join(work, 'ts-ddp'), templatesDir: templates });
  const viaEma = await convertFromCheckpoint(MODEL, join(fake, 'ema.pth'), { outDir: join(work, 'ts-ema'), templatesDir: templates });
  assert.equal(ddp.card.files[0].sha256, card.files[0].sha256);
  assert.equal(viaEma.card.files[0].sha256, card.files[0].sha256);

  // The two files picked together (as "Install from file…" uploads them: other names, other folders, either first):
  // told apart by what they hold, the same bytes out, no warning.
  const picked = join(work, 'picked');
  mkdirSync(join(picked, 'a'), { recursive: true });
  mkdirSync(join(picked, 'b'));
  copyFileSync(join(fake, 'generator.pth'), join(picked, 'a', 'gram-generator (1).pth'));
  copyFileSync(join(fake, 'ema.pth'), join(picked, 'b', 'download.pth'));
  for (const [first, second] of [['a/gram-generator (1).pth', 'b/download.pth'], ['b/download.pth', 'a/gram-generator (1).pth']]) {
    const together = await convertFromCheckpoint(MODEL, join(picked, first), { outDir: join(work, 'ts-picked'), templatesDir: templates, companions: [join(picked, second)] });
    assert.equal(together.card.files[0].sha256, card.files[0].sha256, `${first} with ${second}`);
    assert.deepEqual(together.warnings, []);
  }
});

test('the truncation averages TypeScript computes are PyTorch\'s mapping (EMA weights) averaged over the same z; at ψ = 0.7 the conversion renders as PyTorch does with them', async () => {
  const template = findTemplate(MODEL, templates)!;
  const recipes = AVG.map((name) => template.meta.computed[name]);
  assert.deepEqual(recipes.map((r) => [r.graph, r.samples, r.outputs]), AVG.map(() => ['mapping', 10_000, AVG]));
  // The converter draws z from Rng(0) in batches of 1000: the same stream, written for PyTorch.
  writeFileSync(join(work, 'z.f32'), new Rng(0).normals(10_000 * 256));
  const r = await runPython(['-c', AVERAGES_PY, join(fake, 'generator.pth'), join(work, 'z.f32'), join(work, 'reference.json')], 120_000);
  assertOk(r, 'averages in PyTorch');
  const expected = JSON.parse(r.stdout) as { freq: number[]; phase: number[]; psi: number; rgb: number[]; depth: number[] };
  assert.equal(expected.psi, Math.fround(0.7));

  const { paths } = await convertFromCheckpoint(MODEL, join(fake, 'generator.pth'), { outDir: join(work, 'ts2'), templatesDir: templates });
  const model = readFileSync(paths[0]);
  const stored = AVG.map((name) => new Float32Array(new Uint8Array(readInitializer(model, name)!).buffer));
  const diffs = [maxAbsDiff(stored[0], expected.freq), maxAbsDiff(stored[1], expected.phase)];
  console.log(`GRAM tiny averages, TS vs PyTorch over the same 10k z: frequencies ${diffs[0].toExponential(2)}, phase shifts ${diffs[1].toExponential(2)}`);
  for (const d of diffs) assert.ok(d <= 1e-5, `average TS vs PyTorch ${d}`);
  assert.ok(maxAbsDiff(stored[0], new Float32Array(stored[0].length)) > 0.01, 'the averages are not zeros');

  const ts = await render(paths[0], feeds(reference.runs[0]));
  const vsTorch = worst(ts, { rgb: Float32Array.from(expected.rgb), depth: Float32Array.from(expected.depth) });
  console.log(`GRAM tiny, ψ = 0.7: |TS − PyTorch with the same averages| ${vsTorch.toExponential(2)}`);
  assert.ok(vsTorch <= STATED_BOUND, `ψ = 0.7: TypeScript conversion vs PyTorch ${vsTorch}`);
});

test('GRAM files that do not fit are refused by name; nothing is left behind', async () => {
  const out = join(work, 'bad');
  const convert = (file: string) => convertFromCheckpoint(MODEL, file, { outDir: out, templatesDir: templates });
  const wrong = (pattern: RegExp) => (e: unknown) => e instanceof ConvertError && e.code === 'wrong-checkpoint' && pattern.test(e.message);
  await assert.rejects(convert(join(work, 'partial', 'generator.pth')), wrong(/partial\/generator\.pth does not fit gram-ffhq-256: 1 tensors missing \(representation\.rf_network\.output_color\.3\.bias\)/));
  await assert.rejects(convert(join(fake, 'bad', 'generator.pth')), wrong(/1 tensors missing \(representation\.sample_network\.network\.0\.weight\)/));
  // ema.pth alone: its tensors have no names.
  const lonely = join(work, 'lonely');
  mkdirSync(lonely);
  copyFileSync(join(fake, 'ema.pth'), join(lonely, 'ema.pth'));
  await assert.rejects(convert(join(lonely, 'ema.pth')), wrong(/ema\.pth is a GRAM EMA file \(weights without names\): give generator\.pth too/));
  // Two EMA files picked together.
  await assert.rejects(convertFromCheckpoint(MODEL, join(lonely, 'ema.pth'), { outDir: out, templatesDir: templates, companions: [join(fake, 'ema.pth')] }), wrong(/Give GRAM's generator\.pth and ema\.pth once each \(got 2 EMA files and 0 others/));
  // An EMA of another generator (one tensor fewer).
  const short = join(work, 'short');
  assertOk(await runPython(['-c', `import sys, torch, gram
orig = torch.save
def save(obj, path):
    if hasattr(obj, 'shadow_params'):
        obj.shadow_params = obj.shadow_params[:-1]
    orig(obj, path)
torch.save = save
gram.write_fake_checkpoint(sys.argv[1], tiny=True)
`, short]), 'short EMA');
  await assert.rejects(convert(join(short, 'generator.pth')), wrong(/short\/ema\.pth: 61 EMA tensors, the generator has 62 parameters/));
  // A file of another family.
  const styleswin = join(work, 'styleswin.pt');
  assertOk(await runPython(['-c', `import sys, torch
torch.save({'g_ema': {'style.1.weight': torch.zeros(2, 2), 'layers.0.blocks.0.attn.0.relative_position_bias_table': torch.zeros(2, 2)}, 'args': None}, sys.argv[1])`, styleswin]), 'StyleSwin-like file');
  await assert.rejects(convert(styleswin), wrong(/styleswin\.pt is a StyleSwin checkpoint, not GRAM's generator\.pth/));
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no file written');
});

test('the committed GRAM template is current, holds no weights, and its slots are the official layout (+ the two averages)', () => {
  const committed = listTemplates().filter((t) => Object.keys(t.meta.cards).some((id) => id.startsWith('gram-')));
  assert.deepEqual(committed.map((t) => Object.keys(t.meta.cards)), [[MODEL]]);
  const [t] = committed;
  assert.deepEqual(staleSources(t), [], `${t.name} was made from other exporter sources: run npm run templates`);
  const official = readFileSync(join(EXPORT, 'keys', `${MODEL}.txt`), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' '));
  assert.deepEqual(gramParameterOrder(), official.map(([name]) => name), 'from-checkpoint.ts\'s EMA order is the official parameters() order');
  const graph = readTemplateGraph(t, t.meta.file, t.meta.sha256);
  const slots = templateSlots(graph);
  assert.deepEqual(slots.filter((s) => s.kind === 'checkpoint').map((s) => [s.name, s.dims.join('x')]).sort(), official.map(([n, s]) => [n, s]).sort());
  assert.deepEqual(slots.filter((s) => s.kind === 'computed').map((s) => [s.name, s.dims]), AVG.map((n) => [n, [1, 9 * 256]]));
  // Every weight is a slot, so no weight is in the file: 1.95M float32 parameters would be 7.8 MB; the graph (its
  // constants are the renderer's depths, levels and indices) is far smaller.
  const weightBytes = slots.filter((s) => s.kind === 'checkpoint').reduce((n, s) => n + s.byteLength, 0);
  assert.equal(weightBytes, 1_950_621 * 4);
  assert.ok(graph.byteLength < 400_000, `the template is ${graph.byteLength} bytes`);
  const recipe = t.meta.computed[AVG[0]];
  assert.deepEqual([recipe.samples, recipe.outputs, recipe.inputs], [10_000, AVG, ['z']]);
  assert.equal(t.meta.cards[MODEL].license.includes('no redistribution'), true);
});
