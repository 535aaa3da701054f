// models/export/simmim.py through export.py: the tiny export (card, sha256, ONNX on onnxruntime-node vs PyTorch,
// what the mask does), and the official Swin-B pretrain checkpoint layout (strict load round trip, the official
// file's yacs config, the Hugging Face layout, clear key-mismatch errors). Needs Debian's python3-torch +
// python3-onnx; fails (never skips) without them.
//
//   node --import tsx --test test/export/simmim.test.ts

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  SIMMIM_FILES_PY, type ExportedCard, assertOk, exportTinyWithReference, makeFakeCheckpoint, maxAbsDiff, meanAbsDiff, readCheckedCard, readReference,
  requireTorch, roundTripCheckpoint, runExport, runPython, toOrtTensor,
} from './export-util.ts';

const MODEL = 'simmim-swin-base-192';
const TINY = `${MODEL}-tiny`;
const SIZE = 192;
const TOKENS = 48; // 4-px patches
const CELL = 32; // the mask generator's cell: 8×8 tokens
const PIXELS = 3 * SIZE * SIZE;
// The bound simmim.py states (TOLERANCE): < 0.12 of an 8-bit level after de-normalising.
const STATED_BOUND = 2e-3;
// Official checkpoint['model']: 365 tensors (24 relative_position_index and 11 attn_mask buffers among them).
const OFFICIAL_TENSORS = 365;
const OFFICIAL_PARAMETERS = '89,874,104';

type InpaintCard = ExportedCard & {
  io: ExportedCard['io'] & { mask: { name: string; grid: number; tokens: number; patch: number } };
};

let work: string;
let tiny: Promise<{ card: InpaintCard; onnxPath: string; referencePath: string; ms: number }> | undefined;
let fake: Promise<{ path: string; keys: string[] }> | undefined;

before(() => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'simmim-export-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The seed-0 tiny export, run once and shared by the tests below. */
function tinyExport() {
  tiny ??= exportTinyWithReference(MODEL, work).then((r) => ({ ...r, card: r.card as InpaintCard }));
  return tiny;
}

/** A full-width fake of the official file ({'model': …} among other entries), written once (≈360 MB). */
function fakeOfficial() {
  fake ??= (async () => {
    const path = join(work, 'fake-official.pth');
    const { keys } = await makeFakeCheckpoint('simmim', MODEL, path, { weightsKey: 'model' });
    return { path, keys };
  })();
  return fake;
}

async function session(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, { intraOpNumThreads: 2 });
}

/** A deterministic smooth-ish test image, ImageNet-normalised: gradients plus LCG noise. */
function image(seed: number): Float32Array {
  const out = new Float32Array(PIXELS);
  let state = seed >>> 0;
  const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const phase = uniform() * 6;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const pixel = 0.5 + 0.3 * Math.sin((x + 2 * y) / 23 + phase + c) + 0.1 * (uniform() - 0.5);
        out[(c * SIZE + y) * SIZE + x] = (pixel - mean[c]) / std[c];
      }
    }
  }
  return out;
}

/** Token mask [48, 48] hiding the given 32-px cells (row, col on the 6×6 grid), as the card says to build it. */
function cellMask(cells: [number, number][]): Float32Array {
  const mask = new Float32Array(TOKENS * TOKENS);
  const per = CELL / 4;
  for (const [row, col] of cells) {
    for (let r = row * per; r < (row + 1) * per; r++) {
      mask.fill(1, r * TOKENS + col * per, r * TOKENS + (col + 1) * per);
    }
  }
  return mask;
}

async function inpaint(s: ort.InferenceSession, images: Float32Array[], masks: Float32Array[]): Promise<Float32Array> {
  const batch = images.length;
  const concat = (parts: Float32Array[], size: number) => {
    const all = new Float32Array(batch * size);
    parts.forEach((p, i) => all.set(p, i * size));
    return all;
  };
  const { reconstruction } = await s.run({
    image: new ort.Tensor('float32', concat(images, PIXELS), [batch, 3, SIZE, SIZE]),
    mask: new ort.Tensor('float32', concat(masks, TOKENS * TOKENS), [batch, TOKENS, TOKENS]),
  });
  assert.deepEqual(reconstruction.dims, [batch, 3, SIZE, SIZE]);
  return reconstruction.data as Float32Array;
}

test('tiny export: content-addressed ONNX under 2 MB and a well-formed inpaint card', async (t) => {
  const { card, ms } = await tinyExport();
  t.diagnostic(`tiny export: ${(ms / 1000).toFixed(1)} s, ${card.files[0].bytes} bytes`);
  assert.ok(ms < 90_000, `tiny export took ${ms.toFixed(0)} ms`);
  assert.equal(card.task, 'inpaint');
  assert.equal(card.variant, 'tiny');
  assert.match(card.label, /random.weight/i, 'a tiny card must say it is a random-weight test model');
  assert.match(card.description, /random-weight test model/i);
  assert.ok(card.files[0].bytes < 2 * 1024 * 1024, `ONNX is ${card.files[0].bytes} bytes`);
  assert.deepEqual(card.io.inputs, [
    { name: 'image', dtype: 'float32', shape: ['batch', 3, SIZE, SIZE] },
    { name: 'mask', dtype: 'float32', shape: ['batch', TOKENS, TOKENS] },
  ]);
  assert.deepEqual(card.io.outputs, [{ name: 'reconstruction', dtype: 'float32', shape: ['batch', 3, SIZE, SIZE] }]);
  assert.deepEqual(card.io.image, {
    layout: 'NCHW', range: [0, 1], normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  });
  assert.equal(card.io.scale, 1);
  assert.equal(card.io.tile.size, SIZE);
  assert.ok(card.io.tile.overlap > 0 && card.io.tile.overlap % CELL === 0 && card.io.tile.overlap < SIZE,
    `overlap ${card.io.tile.overlap} must be a positive multiple of the ${CELL}-px mask grid`);
  assert.deepEqual(card.io.mask, { name: 'mask', grid: CELL, tokens: TOKENS, patch: 4 });
  assert.deepEqual(card.targets, ['webgpu', 'wasm', 'node', 'server']);
  assert.equal(card.license, 'MIT (code); random weights, no training data');
  assert.equal(card.source.checkpoint, 'random (tiny)');
  assert.equal(card.source.converter, 'models/export/simmim.py');
  assert.equal(card.source.paper, 'SimMIM: A Simple Framework for Masked Image Modeling (CVPR 2022)');
  assert.match(card.notes ?? '', /1 = hidden/);
});

test('ONNX on onnxruntime-node equals the exporter\'s PyTorch outputs within the stated bound', async () => {
  const { onnxPath, card, referencePath } = await tinyExport();
  const reference = readReference(referencePath);
  assert.equal(reference.model, card.files[0].name);
  assert.equal(reference.tolerance, STATED_BOUND);
  assert.deepEqual(reference.runs.map((r) => r.inputs.image.shape[0]), [2, 1, 1], 'batch 2 (traced) and batch 1');
  const maskSums = reference.runs.map((r) => r.inputs.mask.data.reduce((a, b) => a + b, 0));
  assert.equal(maskSums[0], 2 * 22 * 64, 'training-like masks: ceil(0.6·36) = 22 cells of 64 tokens each');
  assert.deepEqual(maskSums.slice(1), [0, TOKENS * TOKENS], 'then nothing hidden, everything hidden');
  const s = await session(onnxPath);
  try {
    for (const run of reference.runs) {
      const feeds = Object.fromEntries(Object.entries(run.inputs).map(([name, t]) => [name, toOrtTensor(t)]));
      const { reconstruction } = await s.run(feeds);
      const want = run.outputs.reconstruction;
      assert.deepEqual(reconstruction.dims, want.shape);
      const diff = maxAbsDiff(reconstruction.data as Float32Array, want.data);
      assert.ok(diff <= reference.tolerance, `max |ONNX − PyTorch| = ${diff} > ${reference.tolerance}`);
    }
  } finally {
    await s.release();
  }
});

test('the mask: hidden pixels are never seen, visible ones are; nothing vs everything hidden differ', async () => {
  const { onnxPath } = await tinyExport();
  const s = await session(onnxPath);
  try {
    const a = image(1);
    const b = image(2);
    const none = new Float32Array(TOKENS * TOKENS);
    const all = new Float32Array(TOKENS * TOKENS).fill(1);
    const some = cellMask([[1, 1], [2, 4], [4, 2], [5, 5]]);

    const visible = await inpaint(s, [a], [none]);
    const hidden = await inpaint(s, [a], [all]);
    assert.ok(meanAbsDiff(visible, hidden) > 0.05, `mask all 0 vs all 1: mean |Δ| ${meanAbsDiff(visible, hidden)}`);
    assert.deepEqual(await inpaint(s, [b], [all]), hidden, 'everything hidden: the image does not matter');
    const partly = await inpaint(s, [a], [some]);
    assert.ok(meanAbsDiff(partly, visible) > 1e-3, 'hiding 4 cells changes the output');

    // Scribble over the hidden cells (and only there): the output stays bit-identical, since hidden patches are
    // replaced by the mask token right after the patch embedding.
    const scribbled = a.slice();
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const token = Math.floor(y / 4) * TOKENS + Math.floor(x / 4);
          if (some[token]) scribbled[(c * SIZE + y) * SIZE + x] = 3 * Math.sin(x * y + c);
        }
      }
    }
    assert.deepEqual(await inpaint(s, [scribbled], [some]), partly, 'pixels under the mask must not matter');
    // The same scribble is seen where nothing is hidden.
    assert.ok(meanAbsDiff(await inpaint(s, [scribbled], [none]), visible) > 1e-3, 'visible pixels matter');
    // One pixel of a visible 4-px patch changed: the output changes.
    const onePatch = a.slice();
    onePatch[4 * SIZE + 4] += 1; // red channel, pixel (4, 4): token (1, 1) in cell (0, 0), which `some` leaves visible
    assert.ok(maxAbsDiff(await inpaint(s, [onePatch], [some]), partly) > 1e-4, 'a visible patch matters');

    // Dynamic batch: a batch of two equals the two single runs.
    const pair = await inpaint(s, [a, b], [some, all]);
    assert.ok(maxAbsDiff(pair.subarray(0, PIXELS), partly) < 1e-5, 'batch item 0');
    assert.ok(maxAbsDiff(pair.subarray(PIXELS), hidden) < 1e-5, 'batch item 1');
  } finally {
    await s.release();
  }
});

test('same seed → byte-identical ONNX and card', async () => {
  const { card } = await tinyExport();
  assertOk(await runExport([MODEL, '--tiny', '--out', join(work, 'seed0-again'), '--seed', '0']), 'second export');
  assert.deepEqual(readCheckedCard(join(work, 'seed0-again'), TINY).card, card, 'same seed, same bytes, same card');
});

test('official layout: a fake checkpoint[\'model\'] loads strictly, round-trips; --load-only accepts it', async () => {
  const { path, keys } = await fakeOfficial();
  assert.equal(keys.length, OFFICIAL_TENSORS, 'keys/simmim-swin-base-192.txt lists the official tensors');
  assert.equal(keys[0], 'encoder.mask_token');
  assert.ok(keys.includes('encoder.layers.0.blocks.1.attn_mask'), 'shifted blocks save their attn_mask buffer');
  assert.ok(!keys.includes('encoder.layers.3.blocks.1.attn_mask'), 'the 6×6 stage is one window: no shift');
  assert.deepEqual(keys.slice(-2), ['decoder.0.weight', 'decoder.0.bias']);
  const trip = await roundTripCheckpoint('simmim', MODEL, path, 'model');
  assert.equal(trip.layoutIsOfficial, true, 'build() state_dict (names, shapes, order) = official_keys()');
  assert.equal(trip.tensors, OFFICIAL_TENSORS);
  assert.deepEqual(trip.differ, [], 'every loaded tensor equals the file\'s tensor');
  // Random values in the architecture buffers (relative position index, shift masks) are reported, not used.
  assert.match(trip.stderr, /architecture buffers .* differ/);

  const check = await runExport([MODEL, '--checkpoint', path, '--load-only']);
  assertOk(check, 'export.py --load-only');
  assert.ok(check.stdout.includes(`strict=True: ${OFFICIAL_TENSORS} tensors, ${OFFICIAL_PARAMETERS} parameters`),
    check.stdout);
});

// The official file as utils.save_checkpoint writes it ('config' is a yacs CfgNode) and the HF layout with separate
// query/key/value (both written by SIMMIM_FILES_PY).
const VARIANTS_PY = `
import json, os, struct, sys, tempfile
import torch
official_path, out_dir = sys.argv[1:3]
state = torch.load(official_path, map_location='cpu')['model']

${SIMMIM_FILES_PY}
config = CfgNode(MODEL=CfgNode(TYPE='swin', NAME='simmim_pretrain'), DATA=CfgNode(IMG_SIZE=192))
torch.save({'model': state, 'optimizer': {'state': {}}, 'lr_scheduler': {'last_epoch': 99}, 'max_accuracy': 0.0,
            'epoch': 99, 'config': config}, os.path.join(out_dir, 'official-with-config.pth'))

hf = simmim_to_hf(state)
torch.save(hf, os.path.join(out_dir, 'hf-pytorch_model.bin'))

# safetensors without relative_position_index (newer transformers keep it out of the file)
names = [k for k in hf if not k.endswith('relative_position_index')]
header, offset, blobs = {}, 0, []
for k in names:
    data = hf[k].contiguous().numpy().tobytes()
    header[k] = {'dtype': 'F32', 'shape': list(hf[k].shape), 'data_offsets': [offset, offset + len(data)]}
    offset += len(data)
    blobs.append(data)
head = json.dumps(header).encode()
with open(os.path.join(out_dir, 'hf-model.safetensors'), 'wb') as f:
    f.write(struct.pack('<Q', len(head)) + head + b''.join(blobs))
print(json.dumps({'hf_tensors': len(hf), 'safetensors_tensors': len(names)}))
`;

const LOAD_VARIANT_PY = `
import json, sys
import torch
import simmim
official_path, variant = sys.argv[1:3]
state = torch.load(official_path, map_location='cpu')['model']
model = simmim.build('${MODEL}', False)
simmim.load_checkpoint(model, '${MODEL}', variant)
loaded = model.state_dict()
# Parameters equal the official-layout file's; attn_mask (never in HF files) holds the recomputed values.
fresh = simmim.build('${MODEL}', False).state_dict()
differ = [k for k in state if not k.endswith(simmim.ARCHITECTURE_BUFFERS) and not torch.equal(loaded[k], state[k])]
filled = [k for k in state if k.endswith('attn_mask') and torch.equal(loaded[k], fresh[k])]
print(json.dumps({'tensors': len(loaded), 'differ': differ, 'filled': len(filled)}))
`;

test('the official file with its yacs config and the Hugging Face layout (.bin, .safetensors) load', async () => {
  const { path } = await fakeOfficial();
  const dir = join(work, 'variants');
  mkdirSync(dir, { recursive: true });
  const made = await runPython(['-c', VARIANTS_PY, path, dir]);
  assertOk(made, 'writing checkpoint variants');
  // HF: 365 − 11 attn_mask − 48 qkv + 144 query/key/value = 450; the safetensors file also lacks the 24
  // relative_position_index buffers.
  assert.deepEqual(JSON.parse(made.stdout.trim().split('\n').pop() ?? '{}'),
    { hf_tensors: 450, safetensors_tensors: 426 });

  // yacs is missing here (as on most machines): the config is read as a placeholder, the weights load.
  const withConfig = await runExport([MODEL, '--checkpoint', join(dir, 'official-with-config.pth'), '--load-only']);
  assertOk(withConfig, 'official file with a yacs config');
  assert.match(withConfig.stderr, /yacs\.config\.CfgNode/, 'says which classes were read as placeholders');
  assert.ok(withConfig.stdout.includes(`strict=True: ${OFFICIAL_TENSORS} tensors`), withConfig.stdout);

  for (const name of ['hf-pytorch_model.bin', 'hf-model.safetensors']) {
    const result = await runPython(['-c', LOAD_VARIANT_PY, path, join(dir, name)]);
    assertOk(result, `loading ${name}`);
    const { tensors, differ, filled } = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as
      { tensors: number; differ: string[]; filled: number };
    assert.equal(tensors, OFFICIAL_TENSORS, name);
    assert.deepEqual(differ, [], `${name}: weights equal the official-layout file's (qkv re-joined)`);
    assert.equal(filled, 11, `${name}: the 11 attn_mask buffers are filled with the computed values`);
  }
});

test('a key mismatch fails with a message naming the missing, unexpected and misshapen key', async () => {
  const path = join(work, 'fake-bad.pth');
  const missing = 'encoder.layers.2.blocks.7.attn.relative_position_bias_table';
  const unexpected = 'encoder.layers.2.blocks.7.attn.relative_position_bias_tabel';
  const misshapen = 'decoder.0.bias';
  await makeFakeCheckpoint('simmim', MODEL, path,
    { weightsKey: 'model', drop: missing, extra: unexpected, misshape: misshapen });
  const result = await runExport([MODEL, '--checkpoint', path, '--load-only']);
  rmSync(path, { force: true });
  assert.notEqual(result.code, 0, 'a mismatching checkpoint must fail');
  assert.match(result.stderr, /does not match simmim-swin-base-192/);
  assert.ok(result.stderr.includes(`missing keys (1): ${missing}`), result.stderr);
  assert.ok(result.stderr.includes(`unexpected keys (1): ${unexpected}`), result.stderr);
  assert.ok(result.stderr.includes(`shape mismatches (1): ${misshapen} (3073,) (expected (3072,))`), result.stderr);
  assert.doesNotMatch(result.stderr, /Traceback/, 'a clear message, not a stack trace');
});

test('a file that is not a SimMIM checkpoint says what it holds', async () => {
  const path = join(work, 'not-simmim.pth');
  const save = 'import sys, torch; torch.save({"g_ema": {"style.1.weight": torch.zeros(2)}}, sys.argv[1])';
  const made = await runPython(['-c', save, path]);
  assertOk(made, 'writing a foreign checkpoint');
  const result = await runExport([MODEL, '--checkpoint', path, '--load-only']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /neither the official SimMIM file .* top-level keys: g_ema/);
  assert.doesNotMatch(result.stderr, /Traceback/);
});
