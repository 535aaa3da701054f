// models/export/ttvsr.py through export.py: the five tiny parts of the host-driven recurrence (cards, ONNX ops,
// per-part ONNX vs PyTorch), the parts driven as the recurrence over a whole 7-frame clip from TypeScript on
// onnxruntime-node against PyTorch's official whole-clip forward (within the stated bound, and a control that a
// wrong keyframe schedule breaks it), and the official TTVSR_REDS.pth / TTVSR_Vimeo90K.pth layout at full size
// (strict loads, clear key-mismatch errors). Needs Debian's python3-torch + python3-onnx; fails (never skips)
// without them.
//
//   node --import tsx --test --test-reporter=spec test/export/ttvsr.test.ts

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from '../../worker/models/card.ts';
import {
  EXPORT_DIR, assertOk, makeFakeCheckpoint, maxAbsDiff, readCheckedCard, requireTorch, roundTripCheckpoint, runExport, runPython,
} from './export-util.ts';
import { runWindow, type RunPart } from '../../worker/video/ttvsr.ts';

const TTVSR = join(EXPORT_DIR, 'ttvsr.py');
const PARTS = ['flow', 'features', 'align', 'refine', 'reconstruct'] as const;
type Part = (typeof PARTS)[number];
// The bounds ttvsr.py states: TOLERANCE per part, CLIP_TOLERANCE on a whole clip.
const PART_BOUND: Record<Part, number> = { flow: 1e-3, features: 1e-4, align: 1e-4, refine: 1e-4, reconstruct: 1e-4 };
const CLIP_BOUND = 1e-5;
const TINY_CHANNELS = 8; // ttvsr.TINY['mid']
const TOKENS = ['tokens_s1', 'tokens_s2', 'tokens_s3', 'tokens_index'] as const;
// Ops the parts may use: each has an onnxruntime CPU, CUDA and WebGPU (JSEP) kernel. No Col2Im / Im2Col, no
// adaptive pooling.
const ALLOWED_OPS = new Set([
  'Add', 'ArgMax', 'AveragePool', 'Cast', 'Clip', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'DepthToSpace',
  'Div', 'Equal', 'Expand', 'Gather', 'GatherElements', 'GridSample', 'LeakyRelu', 'Mul', 'Pad', 'Range', 'ReduceMax',
  'ReduceSum', 'Relu', 'Reshape', 'Resize', 'Shape', 'Slice', 'Sqrt', 'Sub', 'Transpose', 'Unsqueeze', 'Where',
]);

type TtvsrCard = ModelCard & {
  role: string;
  pipeline: Record<string, string>;
  io: ModelCard['io'] & { video: { scale: number; keyframeStride: number; tokenSize: number; channels: number; tokenChannels: number } };
};

let work = '';
const tiny = new Map<Part, Promise<{ card: TtvsrCard; onnxPath: string; stdout: string }>>();

before(() => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'frontier-ttvsr-'));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** export.py for a TTVSR part (families.py lists 'ttvsr'). */
function runTtvsrExport(args: string[]) {
  return runExport(args, 300_000);
}

/** The seed-0 tiny export of one part (export.py runs its per-part ONNX-vs-PyTorch check), run once and shared. */
function tinyPart(part: Part) {
  let pending = tiny.get(part);
  if (!pending) {
    pending = (async () => {
      const out = join(work, 'tiny');
      const result = await runTtvsrExport([`ttvsr-reds-${part}`, '--tiny', '--seed', '0', '--out', out]);
      assertOk(result, `tiny export of ${part}`);
      const { card, onnxPath } = readCheckedCard(out, `ttvsr-reds-${part}-tiny`);
      return { card: card as TtvsrCard, onnxPath, stdout: result.stdout };
    })();
    tiny.set(part, pending);
  }
  return pending;
}

// ---------------------------------------------------------------------------------------------------------------
// The recurrence in TypeScript: worker/video/ttvsr.ts (the product's driver; drive() in ttvsr.py is its Python
// twin), here over the whole clip as one window.

type Dims = readonly number[];
interface T { data: Float32Array; dims: Dims }

const size = (dims: Dims) => dims.reduce((a, b) => a * b, 1);

type Sessions = Record<Part, ort.InferenceSession>;

/** runPart over onnxruntime-node sessions, fetching only the outputs the driver reads. */
function sessionRunner(sessions: Sessions): RunPart {
  return async (part, feeds, _signal, outputs) => {
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor('float32', t.data as Float32Array, t.dims)]));
    const out = outputs ? await sessions[part].run(ortFeeds, [...outputs]) : await sessions[part].run(ortFeeds);
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, { dtype: 'float32', dims: [...t.dims], data: t.data as Float32Array }]));
  };
}

/** Runs the clip [N,T,3,H,W] through the parts (runWindow over all T frames): [N,T,3,4H,4W]. */
async function drive(sessions: Sessions, clip: T, keyframeStride = 3): Promise<T> {
  const [n, t, c, h, w] = clip.dims;
  const frameSize = c * h * w;
  const frames = Array.from({ length: t }, (_, i) => {
    const data = new Float32Array(n * frameSize);
    for (let b = 0; b < n; b++) data.set(clip.data.subarray((b * t + i) * frameSize, (b * t + i + 1) * frameSize), b * frameSize);
    return { dtype: 'float32' as const, data, dims: [n, c, h, w] };
  });
  const images: Float32Array[] = [];
  let dims: number[] = [];
  let expect = 0;
  for await (const { index, image } of runWindow(frames, sessionRunner(sessions), { keyframeStride })) {
    assert.equal(index, expect++, 'frames come in clip order');
    images[index] = image.data as Float32Array;
    dims = image.dims;
  }
  assert.equal(images.length, t);
  // Stack the frames: [N,T,3,4H,4W].
  const [, oc, oh, ow] = dims;
  const per = oc * oh * ow;
  const data = new Float32Array(n * t * per);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < t; i++) data.set(images[i].subarray(b * per, (b + 1) * per), (b * t + i) * per);
  }
  return { data, dims: [n, t, oc, oh, ow] };
}

function readF32(path: string, dims: Dims): T {
  const bytes = readFileSync(path);
  assert.equal(bytes.length, size(dims) * 4, `${path}: ${bytes.length} bytes for ${JSON.stringify(dims)}`);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { data, dims };
}

// ---------------------------------------------------------------------------------------------------------------

test('tiny parts: cards (role, pipeline, io), per-part ONNX = PyTorch within the stated bounds', async () => {
  for (const part of PARTS) {
    const { card, stdout } = await tinyPart(part);
    assert.equal(card.task, 'upscale-video');
    assert.equal(card.variant, 'tiny');
    assert.equal(card.role, part);
    assert.match(card.label, /random-weight test model/);
    assert.match(card.description, /random/i);
    assert.deepEqual(card.pipeline, {
      id: 'ttvsr-reds-tiny', flow: 'ttvsr-reds-flow-tiny', features: 'ttvsr-reds-features-tiny',
      align: 'ttvsr-reds-align-tiny', refine: 'ttvsr-reds-refine-tiny', reconstruct: 'ttvsr-reds-reconstruct-tiny',
    });
    assert.deepEqual(card.io.image, { layout: 'NCHW', range: [0, 1] });
    assert.equal(card.io.scale, part === 'reconstruct' ? 4 : 1);
    assert.equal(card.io.video.keyframeStride, 3);
    assert.equal(card.io.video.channels, TINY_CHANNELS);
    assert.equal(card.io.video.tokenChannels, 16 * TINY_CHANNELS);
    assert.equal(card.source.converter, 'models/export/ttvsr.py');
    assert.equal(card.source.checkpoint, 'random (tiny)');
    assert.deepEqual(card.targets, ['node', 'server']);
    assert.ok(card.files[0].bytes < 1_000_000, `${part}: ${card.files[0].bytes} bytes`);
    // export.py ran its check on two sizes (64×72 and 68×64) and reported each output within the bound.
    const diffs = [...stdout.matchAll(/max \|ONNX − PyTorch\| = ([0-9.e+-]+)/g)].map((m) => Number(m[1]));
    assert.ok(diffs.length >= 2, `${part}: the per-part check ran\n${stdout}`);
    for (const d of diffs) assert.ok(d <= PART_BOUND[part], `${part}: ${d} > ${PART_BOUND[part]}`);
    assert.match(stdout, new RegExp(`bound ${PART_BOUND[part]}`));
  }
  const io = (part: Part) => tiny.get(part)!.then(({ card }) => [card.io.inputs, card.io.outputs].map((l) => l.map((s) => [s.name, s.shape])));
  const f = 16 * TINY_CHANNELS;
  assert.deepEqual(await io('align'), [[
    ['feature', ['batch', TINY_CHANNELS, 'height', 'width']], ['propagated', ['batch', TINY_CHANNELS, 'height', 'width']],
    ['flow', ['batch', 2, 'height', 'width']], ['location', ['batch', 'keyframes', 2, 'token_rows', 'token_cols']],
    ...TOKENS.map((name) => [name, ['batch', 'keyframes', f, 'token_rows', 'token_cols']]),
  ], [['aligned', ['batch', TINY_CHANNELS, 'height', 'width']], ['location_out', ['batch', 'keyframes', 2, 'token_rows', 'token_cols']]]]);
  assert.deepEqual(await io('refine'), [
    [['feature', ['batch', TINY_CHANNELS, 'height', 'width']], ['aligned', ['batch', TINY_CHANNELS, 'height', 'width']]],
    [['propagated', ['batch', TINY_CHANNELS, 'height', 'width']], ...TOKENS.map((name) => [name, ['batch', f, 'token_rows', 'token_cols']])],
  ]);
  assert.deepEqual((await io('reconstruct'))[1], [['image', ['batch', 3, 'out_height', 'out_width']]]);
});

test('tiny parts: only ops with CPU, CUDA and WebGPU kernels (no Col2Im, no adaptive pooling)', async () => {
  const paths = await Promise.all(PARTS.map(async (part) => (await tinyPart(part)).onnxPath));
  const result = await runPython(['-c', `
import json, sys, onnx
print(json.dumps({p: sorted({n.op_type for n in onnx.load(p).graph.node}) for p in sys.argv[1:]}))
`, ...paths]);
  assertOk(result, 'op listing');
  const ops = JSON.parse(result.stdout) as Record<string, string[]>;
  for (const [path, list] of Object.entries(ops)) {
    const stray = list.filter((op) => !ALLOWED_OPS.has(op));
    assert.deepEqual(stray, [], `${path} uses ${stray.join(', ')}`);
  }
  const all = new Set(Object.values(ops).flat());
  for (const op of ['GridSample', 'DepthToSpace', 'GatherElements', 'ArgMax']) assert.ok(all.has(op), `${op} expected`);
});

test('whole clip: the ONNX parts driven from TypeScript equal PyTorch\'s official forward within the bound', async () => {
  const ref = join(work, 'clip');
  const result = await runPython([TTVSR, 'reference', '--tiny', '--seed', '0', '--out', ref], 300_000);
  assertOk(result, 'PyTorch whole-clip reference');
  const meta = JSON.parse(readFileSync(join(ref, 'reference.json'), 'utf8')) as {
    clip: number[]; output: number[]; partsDiff: number; tolerance: number;
    margins: { nearest: number; keyframe: number }; outputRange: [number, number];
  };
  assert.deepEqual(meta.clip, [1, 7, 3, 64, 72]);
  assert.deepEqual(meta.output, [1, 7, 3, 256, 288]);
  assert.equal(meta.tolerance, CLIP_BOUND);
  // drive() over the PyTorch parts already equals the official operations (unfold/fold/adaptive pooling).
  assert.ok(meta.partsDiff <= 1e-6, `PyTorch parts vs official forward: ${meta.partsDiff}`);
  // The clip's discrete choices are far from ties (float32 differences are ~1e-6), so the bound is meaningful.
  assert.ok(meta.margins.nearest > 1e-2, `nearest-position margin ${meta.margins.nearest}`);
  assert.ok(meta.margins.keyframe > 1e-6, `keyframe-choice margin ${meta.margins.keyframe}`);
  assert.ok(meta.outputRange[1] - meta.outputRange[0] > 0.5, 'the tiny model makes a varied output');

  const clip = readF32(join(ref, 'clip.f32'), meta.clip);
  const expected = readF32(join(ref, 'output.f32'), meta.output);
  const sessions = Object.fromEntries(await Promise.all(PARTS.map(async (part) =>
    [part, await ort.InferenceSession.create((await tinyPart(part)).onnxPath, { intraOpNumThreads: 2 })]))) as Sessions;
  try {
    const got = await drive(sessions, clip);
    assert.deepEqual(got.dims, expected.dims);
    const diff = maxAbsDiff(got.data, expected.data);
    console.log(`whole clip (7 frames 64×72 → 256×288): max |ONNX recurrence − PyTorch| = ${diff.toExponential(3)} (bound ${CLIP_BOUND})`);
    assert.ok(diff <= CLIP_BOUND, `whole clip: ${diff} > ${CLIP_BOUND}`);

    // Control: the same parts with a wrong keyframe schedule are far outside the bound (the check can fail).
    const wrong = await drive(sessions, clip, 2);
    const wrongDiff = maxAbsDiff(wrong.data, expected.data);
    console.log(`control, keyframe stride 2: ${wrongDiff.toExponential(3)}; margins ${JSON.stringify(meta.margins)}`);
    assert.ok(wrongDiff > 1e-2, `keyframe stride 2 should differ by O(0.1), got ${wrongDiff}`);
  } finally {
    await Promise.all(Object.values(sessions).map((s) => s.release()));
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Full-size official layout (fake weights)

/** Writes mmcv's checkpoint layout: {'meta', 'state_dict' (step_counter, generator.*), 'optimizer'}; `bare` writes a
 *  bare generator state_dict (no prefix, no step_counter) instead. */
async function writeMmcvCheckpoint(path: string, bare = false): Promise<string[]> {
  const result = await runPython(['-c', `
import collections, json, sys
import torch
import ttvsr
path, bare = sys.argv[1], sys.argv[2] == '1'
gen = torch.Generator().manual_seed(3)
state = collections.OrderedDict((name, torch.randn(shape, generator=gen) * 0.02)
                                for name, shape, _ in ttvsr.official_layout('ttvsr-reds-flow'))
if bare:
    torch.save({k[len('generator.'):]: v for k, v in state.items() if k.startswith('generator.')}, path)
else:
    optimizer = {'generator': {'state': {0: {'step': 400000, 'exp_avg': torch.zeros(2)}},
                               'param_groups': [{'lr': 1e-7, 'betas': (0.9, 0.99), 'params': [0]}]}}
    meta = {'mmedit_version': '0.7.0', 'config': 'model = dict(...)', 'iter': 400000, 'epoch': 1,
            'mmcv_version': '1.3.9', 'time': 'Fri Jan 14 2022', 'seed': None, 'exp_name': 'ttvsr_reds4'}
    torch.save({'meta': meta, 'state_dict': state, 'optimizer': optimizer}, path)
print(json.dumps(list(state)))
`, path, bare ? '1' : '0']);
  assertOk(result, 'mmcv-layout checkpoint');
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '[]') as string[];
}

test('official layout at full size: keys file = the modules, mmcv file and bare generator load with strict=True', async () => {
  const file = join(work, 'TTVSR_REDS.pth');
  const keys = await writeMmcvCheckpoint(file);
  assert.equal(keys.length, 339);
  assert.equal(keys[0], 'step_counter');
  assert.equal(keys[1], 'generator.spynet.mean');
  assert.ok(keys.includes('generator.spynet.basic_module.5.basic_module.4.conv.bias'));
  assert.ok(keys.includes('generator.resblocks.main.2.59.conv2.weight'));
  assert.ok(keys.includes('generator.LTAM.fusion.weight'));

  const trip = await roundTripCheckpoint('ttvsr', 'ttvsr-reds-refine', file, 'state_dict');
  assert.equal(trip.tensors, 339);
  assert.deepEqual(trip.differ, []);
  assert.ok(trip.layoutIsOfficial, 'build() lists the keys file\'s names and shapes in its order');

  const counts = await runPython(['-c', `
import ttvsr
m = ttvsr.build('ttvsr-vimeo90k-align', False)
print(sum(p.numel() for p in m.generator.parameters()))
`]);
  assertOk(counts, 'parameter count');
  assert.equal(Number(counts.stdout.trim()), 6_773_615); // ≈ 6.77 M (facts/models.md)

  for (const id of ['ttvsr-reds-flow', 'ttvsr-vimeo90k-reconstruct']) {
    const load = await runTtvsrExport([id, '--checkpoint', file, '--load-only']);
    assertOk(load, `${id} --load-only`);
    assert.match(load.stdout, /strict=True: 339 tensors, 6,773,615 parameters/);
  }
  const bare = join(work, 'generator.pth');
  await writeMmcvCheckpoint(bare, true);
  assertOk(await runTtvsrExport(['ttvsr-reds-align', '--checkpoint', bare, '--load-only']), 'bare generator state_dict');
});

test('official layout: a missing, unexpected or mis-shaped tensor is refused by name', async () => {
  const dropped = 'generator.spynet.basic_module.3.basic_module.2.conv.weight';
  const cases = [
    { name: 'drop', options: { drop: dropped }, expect: new RegExp(`missing keys \\(1\\): ${dropped.replace(/\./g, '\\.')}`) },
    { name: 'extra', options: { extra: 'generator.edvr.weight' }, expect: /unexpected keys \(1\): generator\.edvr\.weight/ },
    { name: 'shape', options: { misshape: 'generator.conv_last.weight' }, expect: /shape mismatches \(1\): generator\.conv_last\.weight \(4, 64, 3, 3\) \(expected \(3, 64, 3, 3\)\)/ },
  ];
  for (const { name, options, expect } of cases) {
    const path = join(work, `broken-${name}.pth`);
    await makeFakeCheckpoint('ttvsr', 'ttvsr-reds-flow', path, { weightsKey: 'state_dict', ...options });
    const result = await runTtvsrExport(['ttvsr-reds-flow', '--checkpoint', path, '--load-only']);
    assert.equal(result.code, 1, `${name}: should fail\n${result.stdout}`);
    assert.match(result.stderr, expect);
  }
  const other = join(work, 'not-ttvsr.pth');
  assertOk(await runPython(['-c', `
import sys, torch
torch.save({'meta': {}, 'state_dict': {'generator.conv_first.weight': torch.zeros(64, 3, 3, 3)}}, sys.argv[1])
`, other]), 'another model\'s file');
  const result = await runTtvsrExport(['ttvsr-reds-flow', '--checkpoint', other, '--load-only']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /not a TTVSR checkpoint/);
});
