// Installing SimMIM from its official pretraining file without Python (models/convert/from-checkpoint.ts) against the
// Python exporter's conversion of the very same file. The file is a fake in the official layout at tiny width, as
// SimMIM's utils.save_checkpoint writes it: {'model': state_dict, 'optimizer', 'lr_scheduler', 'max_accuracy',
// 'epoch', 'config'} with 'config' a yacs CfgNode (yacs is not installed: a throwaway stub module writes one; both
// readers take it as an inert placeholder). The weights hold the architecture buffers (relative_position_index,
// attn_mask) as the official file does: they have no slot, the template keeps them as graph constants. The template
// is made by template.py for the same tiny architecture.
// Bounds: the two ONNX graphs compute the same float32 function from the same weights (≤ 1e-5; measured 0 to 1e-6,
// onnxruntime's folding order aside) and both stay within simmim.py's stated bound of PyTorch (2e-3, normalised units).
// SimMIM has no computed buffers. Also: a bare state_dict and Hugging Face's layout of the same weights convert to the
// same bytes, a missing tensor is named, a file of another family is named; the committed full template is current and its slots are
// the official checkpoint['model'] layout apart from the architecture buffers.
// Needs Debian's python3-torch + python3-onnx (fails, never skips).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ConvertError, convertFromCheckpoint } from '../../models/convert/from-checkpoint.ts';
import { templateSlots } from '../../models/convert/onnx-template.ts';
import { REPO_ROOT, listTemplates, readTemplateGraph, staleSources } from '../../models/convert/templates.ts';
import { SIMMIM_FILES_PY, assertOk, maxAbsDiff, readCheckedCard, readReference, requireTorch, runExport, runPython, toOrtTensor, type Reference } from '../export/export-util.ts';

const MODEL = 'simmim-swin-base-192';
const EXPORT = join(REPO_ROOT, 'models', 'export');
/** simmim.py's TOLERANCE (ONNX vs PyTorch, normalised units). */
const STATED_BOUND = 2e-3;
const ARCHITECTURE_BUFFER = /\.(relative_position_index|attn_mask)$/;

// The official file (tiny width, seed 5) with its yacs config; a bare state_dict of the same weights; the same file
// with one tensor missing; the same weights in Hugging Face's layout; a StyleSwin-like file.
const FAKE_PY = `
import os, sys, tempfile
import torch
import simmim
out = sys.argv[1]
${SIMMIM_FILES_PY}
torch.manual_seed(5)
state = simmim.build('${MODEL}', True).state_dict()
config = CfgNode(MODEL=CfgNode(TYPE='swin', NAME='simmim_pretrain'), DATA=CfgNode(IMG_SIZE=192))
def official(model):
    return {'model': model, 'optimizer': {'state': {}, 'param_groups': [{'lr': 8e-4}]}, 'lr_scheduler': {'last_epoch': 99},
            'max_accuracy': 0.0, 'epoch': 99, 'config': config}
torch.save(official(state), os.path.join(out, 'simmim_pretrain__swin_base__img192_window6__100ep.pth'))
torch.save(state, os.path.join(out, 'bare.pth'))
partial = dict(state)
del partial['encoder.layers.1.blocks.1.mlp.fc2.weight']
torch.save(official(partial), os.path.join(out, 'partial.pth'))
# Hugging Face's layout (SIMMIM_FILES_PY's simmim_to_hf)
hf = simmim_to_hf(state)
torch.save(hf, os.path.join(out, 'pytorch_model.bin'))
torch.save({'g_ema': {'style.1.weight': torch.zeros(2, 2), 'layers.0.blocks.0.attn.0.relative_position_bias_table': torch.zeros(2, 2)}}, os.path.join(out, 'styleswin.pt'))
`;

let work: string;
let official: string;
let templates: string;
let reference: Reference;
let pythonOnnx: string;

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'from-checkpoint-simmim-'));
  official = join(work, 'simmim_pretrain__swin_base__img192_window6__100ep.pth');
  templates = join(work, 'templates');
  assertOk(await runPython(['-c', FAKE_PY, work]), 'fake official file');
  const [tpl, exp] = await Promise.all([
    runPython([join(EXPORT, 'template.py'), MODEL, '--tiny', '--gzip', '--out', templates]),
    runExport([MODEL, '--tiny', '--checkpoint', official, '--out', join(work, 'python'), '--dump-reference', join(work, 'reference.json')]),
  ]);
  assertOk(tpl, 'template.py');
  assertOk(exp, 'export.py --tiny --checkpoint');
  assert.match(exp.stderr, /yacs\.config\.CfgNode/, 'the Python reader takes the yacs config as a placeholder too');
  reference = readReference(join(work, 'reference.json'));
  pythonOnnx = readCheckedCard(join(work, 'python'), `${MODEL}-tiny`).onnxPath;
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function reconstruct(model: string, run: Reference['runs'][number]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  try {
    const feeds = Object.fromEntries(Object.entries(run.inputs).map(([k, t]) => [k, toOrtTensor(t)]));
    return (await session.run(feeds)).reconstruction.data as Float32Array;
  } finally {
    await session.release();
  }
}

test('the official SimMIM file converted in TypeScript computes what the Python exporter\'s conversion computes', async () => {
  const out = join(work, 'ts');
  const { card, paths, warnings } = await convertFromCheckpoint(MODEL, official, { outDir: out, templatesDir: templates });
  assert.equal(card.id, `${MODEL}-tiny`);
  assert.equal(card.task, 'inpaint');
  assert.deepEqual(warnings, []);
  assert.deepEqual(readdirSync(out), [card.files[0].name]);
  // Every run of the exporter's check: training-like masks (batch 2), nothing hidden, everything hidden.
  assert.equal(reference.runs.length, 3);
  let vsPython = 0;
  let vsTorch = 0;
  for (const run of reference.runs) {
    const [ts, py] = await Promise.all([reconstruct(paths[0], run), reconstruct(pythonOnnx, run)]);
    vsPython = Math.max(vsPython, maxAbsDiff(ts, py));
    vsTorch = Math.max(vsTorch, maxAbsDiff(ts, Float32Array.from(run.outputs.reconstruction.data)));
    assert.ok(maxAbsDiff(ts, new Float32Array(ts.length)) > 0.1, 'the output depends on the weights');
  }
  console.log(`SimMIM tiny: |TS − Python conversion| ${vsPython.toExponential(2)}, |TS − PyTorch| ${vsTorch.toExponential(2)}`);
  assert.ok(vsPython <= 1e-5, `TypeScript vs Python conversion: ${vsPython}`);
  assert.ok(vsTorch <= STATED_BOUND, `TypeScript conversion vs PyTorch: ${vsTorch}`);

  // A bare state_dict of the same weights, and Hugging Face's layout of them (renamed, query/key/value re-joined):
  // the same bytes out.
  for (const file of ['bare.pth', 'pytorch_model.bin']) {
    const other = await convertFromCheckpoint(MODEL, join(work, file), { outDir: join(work, `ts-${file}`), templatesDir: templates });
    assert.equal(other.card.files[0].sha256, card.files[0].sha256, file);
  }
});

test('SimMIM files that do not fit are refused by name; nothing is left behind', async () => {
  const out = join(work, 'bad');
  const convert = (file: string) => convertFromCheckpoint(MODEL, join(work, file), { outDir: out, templatesDir: templates });
  const wrong = (pattern: RegExp) => (e: unknown) => e instanceof ConvertError && e.code === 'wrong-checkpoint' && pattern.test(e.message);
  await assert.rejects(convert('partial.pth'), wrong(/partial\.pth does not fit simmim-swin-base-192: 1 tensors missing \(encoder\.layers\.1\.blocks\.1\.mlp\.fc2\.weight\)/));
  await assert.rejects(convert('styleswin.pt'), wrong(/styleswin\.pt is a StyleSwin checkpoint, not a SimMIM one/));
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no file written');
});

test('the committed SimMIM template is current, and its slots are the official checkpoint[\'model\'] layout apart from architecture buffers', () => {
  const committed = listTemplates().filter((t) => Object.keys(t.meta.cards).some((id) => id.startsWith('simmim-')));
  assert.deepEqual(committed.map((t) => Object.keys(t.meta.cards)), [[MODEL]]);
  const [t] = committed;
  assert.deepEqual(staleSources(t), [], `${t.name} was made from other exporter sources: run npm run templates`);
  const official = readFileSync(join(EXPORT, 'keys', `${MODEL}.txt`), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' '));
  const slots = templateSlots(readTemplateGraph(t, t.meta.file, t.meta.sha256));
  assert.deepEqual(slots.filter((s) => s.kind === 'computed'), [], 'SimMIM computes nothing after loading');
  const weights = official.filter(([n]) => !ARCHITECTURE_BUFFER.test(n));
  assert.equal(official.length - weights.length, 24 + 11, '24 relative_position_index, 11 attn_mask buffers');
  assert.deepEqual(slots.map((s) => [s.name, s.dims.join('x'), s.dtype]).sort(), weights.map(([n, shape, dtype]) => [n, shape, dtype]).sort());
  assert.equal(slots.reduce((n, s) => n + s.byteLength / 4, 0), 89_874_104, 'every parameter is a slot (export.py counts 89,874,104)');
});
