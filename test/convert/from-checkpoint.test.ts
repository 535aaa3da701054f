// Installing an official checkpoint without Python (models/convert/from-checkpoint.ts) against the Python exporter's
// conversion of the very same file. The file is a fake in the official StyleSwin layout (a training-state dict whose
// 'g_ema' holds the generator, beside 'g', 'd' and an argparse Namespace) at tiny width, written by torch.save; the
// template is made by template.py for the same tiny architecture. Bounds: with truncation 1 the two ONNX graphs
// compute the same float32 function from the same weights (≤ 1e-5, onnxruntime's folding order aside) and both stay
// within the exporter's stated bound of PyTorch. The mean latent is a computed buffer: TypeScript averages the mapping
// graph over its own z, and PyTorch's mapping over those same z gives the same mean (≤ 1e-5).
// Also: a checkpoint of another family is named, a missing tensor is listed, and the committed StyleSwin templates
// are current and fit the official key layouts. Needs Debian's python3-torch + python3-onnx (fails, never skips).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ConvertError, convertFromCheckpoint, type ConvertProgress } from '../../models/convert/from-checkpoint.ts';
import { readInitializer, templateSlots } from '../../models/convert/onnx-template.ts';
import { REPO_ROOT, findTemplate, listTemplates, readTemplateGraph, staleSources } from '../../models/convert/templates.ts';
import { Rng } from '../../worker/random.ts';
import { assertOk, maxAbsDiff, readCheckedCard, readReference, requireTorch, runExport, runPython, toOrtTensor } from '../export/export-util.ts';

const MODEL = 'styleswin-ffhq-256';
const TEMPLATE_PY = join(REPO_ROOT, 'models', 'export', 'template.py');
/** styleswin.py's TOLERANCE (ONNX vs PyTorch, normalised units). */
const STATED_BOUND = 2e-3;

// The official file's layout: the training script saves {'g', 'd', 'g_ema', 'g_optim', 'd_optim', 'args'}; generation
// uses g_ema. 'g' gets other weights, so picking the wrong one shows.
const FAKE_PY = `
import argparse, sys
import torch
import styleswin
path, other = sys.argv[1], sys.argv[2]
torch.manual_seed(5)
g_ema = styleswin.build('${MODEL}', True)
g = styleswin.build('${MODEL}', True)
torch.save({'g': g.state_dict(), 'd': {'convs.0.0.weight': torch.randn(4, 3, 1, 1)}, 'g_ema': g_ema.state_dict(),
            'g_optim': {'state': {}, 'param_groups': [{'lr': 0.0002}]}, 'args': argparse.Namespace(size=32, lr=0.0002)}, path)
# A file of another family: SimMIM keeps its weights under 'model'.
torch.save({'model': {'encoder.mask_token': torch.zeros(1, 1, 8), 'layers.0.blocks.0.attn.0.relative_position_bias_table': torch.zeros(2, 2)}}, other)
`;

// PyTorch's mapping network of g_ema over the z TypeScript used (raw float32 file), averaged.
const MEAN_PY = `
import sys
import numpy as np, torch
import styleswin
path, zpath, width = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = styleswin.build('${MODEL}', True)
model.load_state_dict(torch.load(path, map_location='cpu')['g_ema'], strict=True)
z = torch.from_numpy(np.fromfile(zpath, dtype=np.float32).reshape(-1, width))
with torch.no_grad():
    w = model.style(z).double().mean(dim=0)
print(' '.join(repr(float(v)) for v in w))
`;

let work: string;
let checkpoint: string;
let otherFamily: string;
let templates: string;
let pythonExport: { onnxPath: string; referencePath: string };

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'from-checkpoint-'));
  checkpoint = join(work, 'FFHQ_256-fake.pt');
  otherFamily = join(work, 'simmim-fake.pth');
  templates = join(work, 'templates');
  assertOk(await runPython(['-c', FAKE_PY, checkpoint, otherFamily]), 'fake checkpoint');
  const [tpl, exp] = await Promise.all([
    runPython([TEMPLATE_PY, MODEL, '--tiny', '--gzip', '--out', templates]),
    runExport([MODEL, '--tiny', '--checkpoint', checkpoint, '--out', join(work, 'python'), '--dump-reference', join(work, 'reference.json')]),
  ]);
  assertOk(tpl, 'template.py');
  assertOk(exp, 'export.py --tiny --checkpoint');
  pythonExport = { onnxPath: readCheckedCard(join(work, 'python'), `${MODEL}-tiny`).onnxPath, referencePath: join(work, 'reference.json') };
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function image(model: string, z: ort.Tensor, truncation: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  try {
    return (await session.run({ z, truncation: new ort.Tensor('float32', Float32Array.of(truncation), [1]) })).image.data as Float32Array;
  } finally {
    await session.release();
  }
}

test('a StyleSwin checkpoint converted in TypeScript computes what the Python exporter\'s conversion of the same file computes', async () => {
  const progress: ConvertProgress[] = [];
  const out = join(work, 'ts');
  const { card, paths } = await convertFromCheckpoint(MODEL, checkpoint, { outDir: out, templatesDir: templates, onProgress: (p) => progress.push(p) });
  assert.equal(card.id, `${MODEL}-tiny`, 'the tiny template\'s card');
  assert.equal(card.variant, 'tiny');
  assert.equal(paths.length, 1);
  assert.match(card.files[0].name, new RegExp(`^${MODEL}-tiny\\.[0-9a-f]{16}\\.onnx$`));
  assert.deepEqual(readdirSync(out), [card.files[0].name], 'only the content-addressed model is left');
  assert.ok(progress.some((p) => p.stage === 'compute') && progress.at(-1)!.stage === 'write', 'read → compute → write progress');

  const reference = readReference(pythonExport.referencePath);
  const z = toOrtTensor(reference.runs[0].inputs.z);
  const [ts, py] = await Promise.all([image(paths[0], z, 1), image(pythonExport.onnxPath, z, 1)]);
  const torchOut = Float32Array.from(reference.runs[0].outputs.image.data);
  assert.equal(reference.runs[0].inputs.truncation.data[0], 1, 'the reference run is the untruncated one');
  assert.ok(maxAbsDiff(ts, py) <= 1e-5, `TypeScript vs Python conversion: ${maxAbsDiff(ts, py)}`);
  assert.ok(maxAbsDiff(ts, torchOut) < STATED_BOUND, `TypeScript conversion vs PyTorch: ${maxAbsDiff(ts, torchOut)}`);
  // The outputs depend on the weights (a conversion that filled zeros would also agree with itself).
  assert.ok(maxAbsDiff(ts, new Float32Array(ts.length)) > 0.1);
});

test('above the size limit the weights go to one external data file beside the graph; the output is the same', async () => {
  const inline = await convertFromCheckpoint(MODEL, checkpoint, { outDir: join(work, 'inline'), templatesDir: templates });
  const external = await convertFromCheckpoint(MODEL, checkpoint, { outDir: join(work, 'external'), templatesDir: templates, externalAbove: 0 });
  assert.equal(external.paths.length, 2);
  assert.equal(external.card.files[1].kind, 'onnx-external-data');
  assert.match(external.card.files[1].name, new RegExp(`^${MODEL}-tiny\\.[0-9a-f]{16}\\.onnx\\.data$`));
  assert.deepEqual(readdirSync(join(work, 'external')).sort(), external.card.files.map((f) => f.name).sort(), 'no temporary file left');
  const weightBytes = findTemplate(MODEL, templates)!.meta.slots.reduce((n, slot) => n + 4 * slot.dims.reduce((a, d) => a * d, 1), 0);
  assert.ok(external.card.files[1].bytes >= weightBytes, 'every weight is in the data file');
  // (each external tensor names its file, offset and length instead: tens of bytes more per tensor)
  assert.ok(inline.card.files[0].bytes - external.card.files[0].bytes >= 0.9 * weightBytes, 'and none in the graph');
  const reference = readReference(pythonExport.referencePath);
  const z = toOrtTensor(reference.runs[0].inputs.z);
  const [a, b] = await Promise.all([image(inline.paths[0], z, 0.7), image(external.paths[0], z, 0.7)]);
  assert.equal(maxAbsDiff(a, b), 0);
});

test('the mean latent TypeScript computes is PyTorch\'s mapping averaged over the same z', async () => {
  const template = findTemplate(MODEL, templates)!;
  const recipe = template.meta.computed.mean_latent;
  const width = recipe.slots.find((s) => s.name === 'style.1.weight')!.dims[0];
  // The converter draws z from Rng(0) in batches of 1000: the same stream, written for PyTorch.
  const z = new Rng(0).normals(recipe.samples * width);
  writeFileSync(join(work, 'z.f32'), z);
  const r = await runPython(['-c', MEAN_PY, checkpoint, join(work, 'z.f32'), String(width)]);
  assertOk(r, 'mean latent in PyTorch');
  const expected = r.stdout.trim().split(/\s+/).map(Number);
  const { paths } = await convertFromCheckpoint(MODEL, checkpoint, { outDir: join(work, 'ts2'), templatesDir: templates });
  const raw = readInitializer(readFileSync(paths[0]), 'mean_latent');
  assert.ok(raw, 'the converted graph holds the mean latent');
  assert.equal(expected.length, width);
  const stored = new Float32Array(new Uint8Array(raw).buffer);
  assert.ok(maxAbsDiff(stored, expected) <= 1e-5, `mean latent TS vs PyTorch ${maxAbsDiff(stored, expected)}`);
});

test('a checkpoint of another model is named; one with a tensor missing lists it; nothing is left behind', async () => {
  const out = join(work, 'bad');
  await assert.rejects(convertFromCheckpoint(MODEL, otherFamily, { outDir: out, templatesDir: templates }), (e: unknown) => e instanceof ConvertError && e.code === 'wrong-checkpoint' && /holds neither g_ema nor a StyleSwin generator state_dict \(top-level keys: model\)/.test(e.message));
  const partial = join(work, 'partial.pt');
  assertOk(await runPython(['-c', `import torch, sys\nsd = torch.load(sys.argv[1])['g_ema']\ndel sd['to_rgbs.0.conv.weight']\ntorch.save({'g_ema': sd}, sys.argv[2])`, checkpoint, partial]), 'partial checkpoint');
  await assert.rejects(convertFromCheckpoint(MODEL, partial, { outDir: out, templatesDir: templates }), /partial\.pt does not fit styleswin-ffhq-256: 1 tensors missing \(to_rgbs\.0\.conv\.weight\)/);
  await assert.rejects(convertFromCheckpoint('gram-ffhq-256', checkpoint, { outDir: out, templatesDir: templates }), (e: unknown) => e instanceof ConvertError && e.code === 'no-template');
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no file written');
});

test('the committed StyleSwin templates are current, and their slots are the official g_ema layouts', () => {
  const committed = listTemplates().filter((t) => Object.keys(t.meta.cards).some((id) => id.startsWith('styleswin-')));
  assert.deepEqual(committed.flatMap((t) => Object.keys(t.meta.cards)).sort(), ['styleswin-celebahq-1024', 'styleswin-celebahq-256', 'styleswin-church-256', 'styleswin-ffhq-1024', 'styleswin-ffhq-256']);
  for (const t of committed) {
    assert.deepEqual(staleSources(t), [], `${t.name} was made from other exporter sources: run npm run templates`);
    const size = Object.values(t.meta.cards)[0].io.size ?? (Object.values(t.meta.cards)[0].io.outputs[0].shape[3] as number);
    const official = readFileSync(join(REPO_ROOT, 'models', 'export', 'keys', `styleswin-${size}.txt`), 'utf8').split('\n')
      .filter((l) => l && !l.startsWith('#')).map((l) => l.split(' ')).map(([name, shape]) => [name, shape]);
    const slots = templateSlots(readTemplateGraph(t, t.meta.file, t.meta.sha256)).filter((s) => s.kind === 'checkpoint');
    const officialShape = new Map(official.map(([n, s]) => [n, s]));
    for (const s of slots) assert.equal(officialShape.get(s.name), s.dims.join('x') || undefined, `${t.name}: slot ${s.name} [${s.dims}] is not in the official layout`);
    // What the official file has and the template does not: architecture buffers the graph holds as constants.
    const unfilled = official.map(([n]) => n).filter((n) => !slots.some((s) => s.name === n));
    for (const n of unfilled) assert.match(n, /relative_position_index|attn_mask2|upsample\.kernel|sin_pos_embed\._float_tensor/, `${t.name}: official tensor ${n} has no slot`);
  }
});
