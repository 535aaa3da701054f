// models/export/vqdiffusion.py through export.py: the three tiny graphs (cards, sha256, ONNX on onnxruntime-node vs
// PyTorch within the stated bounds, behaviour), the files they ship with (finish(): CLIP vocabulary, null text
// embedding, one external data file above a threshold), and the official ithq_learnable.pth / ithq_vqvae.pth layouts
// at full width (strict loads, ema preferred, clear key-mismatch errors). Needs Debian's python3-torch +
// python3-onnx; fails (never skips) without them.
//
//   node --import tsx --test test/export/vqdiffusion.test.ts

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from '../../worker/models/card.ts';
import {
  EXPORT_DIR, type ProcessResult, assertOk, maxAbsDiff, readReference, requireTorch, runExport, runPython,
  sha256File, toOrtTensor,
} from './export-util.ts';

const PIPELINE = 'vqdiffusion-ithq';
const PARTS = ['text', 'transformer', 'decoder'] as const;
type Part = (typeof PARTS)[number];
const ROLE: Record<Part, string> = { text: 'text-encoder', transformer: 'transformer', decoder: 'decoder' };
// The bounds vqdiffusion.py states (TOLERANCE).
const STATED_BOUND: Record<Part, number> = { text: 1e-4, transformer: 2e-3, decoder: 2e-3 };
// vqdiffusion.TINY
const TINY = { textWidth: 12, latent: 8, codes: 64, size: 64 };
const BPE_SHA256 = '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a';

type VqCard = Omit<ModelCard, 'files' | 'io'> & {
  role: string;
  pipeline: { id: string; textEncoder: string; transformer: string; decoder: string };
  files: (ModelCard['files'][number] & { kind?: string })[];
  io: ModelCard['io'] & { tokenizer?: Record<string, unknown>; diffusion?: Record<string, unknown> };
};

let work: string;
interface TinyExport { card: VqCard; onnxPath: string; referencePath: string; result: ProcessResult }
const exports = new Map<Part, Promise<TinyExport>>();

before(() => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'vqdiffusion-export-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function id(part: Part): string {
  return `${PIPELINE}-${part}`;
}

/** Reads DIR/<id>.card.json: files[0] is the content-addressed ONNX; any further files (export.py with the finish
 * hook) must exist with their sha256 and size. */
function readCard(dir: string, cardId: string): { card: VqCard; onnxPath: string } {
  const card = JSON.parse(readFileSync(join(dir, `${cardId}.card.json`), 'utf8')) as VqCard;
  assert.equal(card.id, cardId);
  assert.ok(card.files.length >= 1);
  for (const [i, file] of card.files.entries()) {
    assert.match(file.sha256, /^[0-9a-f]{64}$/);
    assert.ok(file.name.includes(file.sha256.slice(0, 16)), `${file.name} is not content-addressed`);
    const path = join(dir, file.name);
    assert.ok(existsSync(path), `card lists ${file.name}, missing from ${dir}`);
    assert.equal(statSync(path).size, file.bytes);
    assert.equal(sha256File(path), file.sha256);
    if (i > 0) assert.ok(file.kind, `${file.name}: extra files say what they are`);
  }
  assert.equal(card.files[0].name, `${cardId}.${card.files[0].sha256.slice(0, 16)}.onnx`);
  return { card, onnxPath: join(dir, card.files[0].name) };
}

/** The seed-0 tiny export of one part, run once and shared. */
function tinyExport(part: Part) {
  let pending = exports.get(part);
  if (!pending) {
    pending = (async () => {
      const out = join(work, 'tiny');
      const referencePath = join(work, `reference-${part}.json`);
      const result = await runExport(
        [id(part), '--tiny', '--out', out, '--seed', '0', '--dump-reference', referencePath]);
      assertOk(result, `tiny ${part} export`);
      assert.match(result.stdout, /max \|ONNX − PyTorch\|/, 'export.py reports its ONNX-vs-PyTorch check');
      return { ...readCard(out, `${id(part)}-tiny`), referencePath, result };
    })();
    exports.set(part, pending);
  }
  return pending;
}

async function session(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, { intraOpNumThreads: 2 });
}

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
}

test('tiny exports: three content-addressed graphs under 3 MB with text-to-image cards tied by role and pipeline',
  async (t) => {
    for (const part of PARTS) {
      const { card, result } = await tinyExport(part);
      t.diagnostic(`${part}: ${card.files[0].bytes} bytes, ${(result.ms / 1000).toFixed(1)} s`);
      assert.ok(result.ms < 90_000, `${part} export took ${result.ms.toFixed(0)} ms`);
      assert.ok(card.files[0].bytes < 3 * 1024 * 1024, `${part} ONNX is ${card.files[0].bytes} bytes`);
      assert.equal(card.task, 'text-to-image');
      assert.equal(card.role, ROLE[part]);
      assert.deepEqual(card.pipeline, {
        id: `${PIPELINE}-tiny`, textEncoder: `${PIPELINE}-text-tiny`, transformer: `${PIPELINE}-transformer-tiny`,
        decoder: `${PIPELINE}-decoder-tiny`,
      });
      assert.equal(card.variant, 'tiny');
      assert.match(card.label, /random-weight test model/);
      assert.equal(card.license, 'MIT (code); random weights, no training data');
      assert.deepEqual(card.source, {
        paper: 'Vector Quantized Diffusion Model for Text-to-Image Synthesis (CVPR 2022)', checkpoint: 'random (tiny)',
        converter: 'models/export/vqdiffusion.py',
      });
      assert.deepEqual(card.targets, ['webgpu', 'wasm', 'node', 'server']);
      // The registry contract every card meets (test/unit/contracts.test.ts).
      assert.deepEqual(card.io.image, { layout: 'NCHW', range: [-1, 1] });
      assert.ok(card.io.tile.size > card.io.tile.overlap);
    }
    const text = (await tinyExport('text')).card;
    assert.deepEqual(text.io.inputs, [{ name: 'tokens', dtype: 'int64', shape: ['batch', 77] }]);
    assert.deepEqual(text.io.outputs, [{ name: 'text', dtype: 'float32', shape: ['batch', 77, TINY.textWidth] }]);
    assert.deepEqual(text.io.tokenizer, {
      type: 'clip-bpe', vocabularyKind: 'clip-bpe-vocabulary', contextLength: 77, startToken: 49406, endToken: 49407,
      padToken: 0, truncate: 'keep the first 76 tokens, then the end token',
    });
    const transformer = (await tinyExport('transformer')).card;
    const tokens = TINY.latent ** 2;
    assert.deepEqual(transformer.io.inputs, [
      { name: 'tokens', dtype: 'int64', shape: ['batch', tokens] },
      { name: 'timestep', dtype: 'int64', shape: ['batch'] },
      { name: 'text', dtype: 'float32', shape: ['batch', 77, TINY.textWidth] },
    ]);
    assert.deepEqual(transformer.io.outputs,
      [{ name: 'log_probs', dtype: 'float32', shape: ['batch', TINY.codes, tokens] }]);
    assert.deepEqual(transformer.io.diffusion, {
      steps: 100, classes: TINY.codes, maskToken: TINY.codes, latent: { height: TINY.latent, width: TINY.latent },
      schedule: { type: 'alpha1', att1: 0.99999, attT: 0.000009, ctt1: 0.000009, cttT: 0.99999 },
      guidance: {
        scale: 5, nullTextKind: 'null-text-embedding', nullTextDtype: 'float32', nullTextShape: [77, TINY.textWidth],
      },
      truncation: 1, logProbFloor: -70,
    });
    const decoder = (await tinyExport('decoder')).card;
    assert.deepEqual(decoder.io.inputs, [{ name: 'tokens', dtype: 'int64', shape: ['batch', tokens] }]);
    assert.deepEqual(decoder.io.outputs,
      [{ name: 'image', dtype: 'float32', shape: ['batch', 3, TINY.size, TINY.size] }]);
    assert.equal(decoder.io.size, TINY.size);
  });

test('ONNX on onnxruntime-node equals the exporter\'s PyTorch outputs within each stated bound', async (t) => {
  for (const part of PARTS) {
    const { onnxPath, card, referencePath } = await tinyExport(part);
    const reference = readReference(referencePath);
    assert.equal(reference.model, card.files[0].name);
    assert.equal(reference.tolerance, STATED_BOUND[part]);
    assert.ok(reference.runs.length >= 2, 'at least two batch sizes');
    const s = await session(onnxPath);
    try {
      let worst = 0;
      for (const run of reference.runs) {
        const feeds = Object.fromEntries(Object.entries(run.inputs).map(([name, v]) => [name, toOrtTensor(v)]));
        const outputs = await s.run(feeds);
        for (const [name, want] of Object.entries(run.outputs)) {
          assert.deepEqual(outputs[name].dims, want.shape);
          const diff = maxAbsDiff(outputs[name].data as Float32Array, want.data);
          assert.ok(diff <= reference.tolerance, `${part}: max |ONNX − PyTorch| = ${diff} > ${reference.tolerance}`);
          worst = Math.max(worst, diff);
        }
      }
      t.diagnostic(`${part}: max |ONNX − PyTorch| ${worst.toExponential(2)} (bound ${reference.tolerance})`);
    } finally {
      await s.release();
    }
  }
});

test('text encoder: unit-norm features per token, causal (later tokens never change earlier features)', async () => {
  const { onnxPath } = await tinyExport('text');
  const s = await session(onnxPath);
  try {
    const a = [49406, 320, 1125, 539, 320, 2368, 49407, ...new Array(70).fill(0)];
    const b = [...a];
    b[5] = 1929; // "dog" for "cat"
    const { text } = await s.run({ tokens: int64([...a, ...b], [2, 77]) });
    const w = TINY.textWidth;
    const data = text.data as Float32Array;
    for (let i = 0; i < 2 * 77; i++) {
      const norm = Math.hypot(...data.subarray(i * w, (i + 1) * w));
      assert.ok(Math.abs(norm - 1) < 1e-5, `token ${i}: |feature| = ${norm}`);
    }
    const before = maxAbsDiff(data.subarray(0, 5 * w), data.subarray(77 * w, 77 * w + 5 * w));
    const changed = maxAbsDiff(data.subarray(5 * w, 77 * w), data.subarray(82 * w, 154 * w));
    assert.ok(before < 1e-6, `positions before the change moved by ${before}`);
    assert.ok(changed > 1e-3, 'positions from the change on differ');
  } finally {
    await s.release();
  }
});

test('transformer: log-probabilities over the codes; timestep, text and null text all matter; batch rows independent',
  async () => {
    const { onnxPath } = await tinyExport('transformer');
    const s = await session(onnxPath);
    const length = TINY.latent ** 2;
    const textSize = 77 * TINY.textWidth;
    try {
      // A third of the positions masked; a smooth made-up condition.
      const tokens = Array.from({ length }, (_, i) => (i % 3 === 0 ? TINY.codes : (i * 7) % TINY.codes));
      const scale = 1 / Math.sqrt(TINY.textWidth / 2);
      const text = Float32Array.from({ length: textSize }, (_, i) => Math.sin(i * 0.37) * scale);
      const step = async (t: number, txt: Float32Array, batch = 1) => (await s.run({
        tokens: int64(Array.from({ length: batch }, () => tokens).flat(), [batch, length]),
        timestep: int64(new Array(batch).fill(t), [batch]),
        text: new ort.Tensor('float32', Float32Array.from({ length: batch * textSize }, (_, i) => txt[i % textSize]),
          [batch, 77, TINY.textWidth]),
      })).log_probs;
      const out = await step(50, text);
      assert.deepEqual(out.dims, [1, TINY.codes, length]);
      const lp = out.data as Float32Array;
      for (const position of [0, 1, length - 1]) {
        let sum = 0;
        for (let c = 0; c < TINY.codes; c++) sum += Math.exp(lp[c * length + position]);
        assert.ok(Math.abs(sum - 1) < 1e-4, `position ${position}: Σ p = ${sum}`);
      }
      const other = (await step(10, text)).data as Float32Array;
      assert.ok(maxAbsDiff(lp, other) > 1e-2, 'the timestep changes the prediction');
      const nullText = new Float32Array(textSize); // an unrelated condition
      const unconditioned = (await step(50, nullText)).data as Float32Array;
      assert.ok(maxAbsDiff(lp, unconditioned) > 1e-2, 'the text changes the prediction');
      const pair = (await step(50, text, 2)).data as Float32Array;
      assert.ok(maxAbsDiff(pair.subarray(0, lp.length), lp) < 1e-5, 'batch 2 row 0 = batch 1');
      assert.ok(maxAbsDiff(pair.subarray(lp.length), lp) < 1e-5, 'batch 2 row 1 = batch 1');
    } finally {
      await s.release();
    }
  });

test('decoder: a deterministic image in [-1, 1]; different codes, different pixels', async () => {
  const { onnxPath } = await tinyExport('decoder');
  const s = await session(onnxPath);
  try {
    const length = TINY.latent ** 2;
    const a = Array.from({ length }, (_, i) => (i * 13) % TINY.codes);
    const b = Array.from({ length }, (_, i) => (i * 29 + 5) % TINY.codes);
    const run = async () => (await s.run({ tokens: int64([...a, ...b], [2, length]) })).image;
    const image = await run();
    assert.deepEqual(image.dims, [2, 3, TINY.size, TINY.size]);
    const data = image.data as Float32Array;
    assert.ok(data.every((v) => v >= -1 && v <= 1), 'clamped to [-1, 1]');
    assert.deepEqual((await run()).data, data, 'same codes, same image');
    const half = data.length / 2;
    assert.ok(maxAbsDiff(data.subarray(0, half), data.subarray(half)) > 0.1, 'codes shape the image');
  } finally {
    await s.release();
  }
});

test('same seed → byte-identical ONNX and card', async () => {
  const { card } = await tinyExport('transformer');
  const out = join(work, 'again');
  assertOk(await runExport([id('transformer'), '--tiny', '--out', out, '--seed', '0']), 'second export');
  assert.deepEqual(readCard(out, `${id('transformer')}-tiny`).card, card);
});

// ---------------------------------------------------------------------------------------------------------------
// finish(): the files each part ships with (export.py calls it once the proposed hook is in; here it is called
// directly on the tiny exports).

const FINISH_PY = `
import json, os, shutil, sys
import onnx, torch
import vqdiffusion as v
model_id, onnx_in, out_dir, threshold, scatter = sys.argv[1:6]
torch.manual_seed(0)
model = v.build(model_id, True)
os.makedirs(out_dir, exist_ok=True)
card_id = model_id + '-tiny'
onnx_path = os.path.join(out_dir, '.' + card_id + '.onnx')
if scatter == '1':  # one file per tensor next to the graph, as torch.onnx.export writes models above 2 GB
    onnx.save_model(onnx.load(onnx_in), onnx_path, save_as_external_data=True, all_tensors_to_one_file=False,
                    size_threshold=1024)
else:
    shutil.copyfile(onnx_in, onnx_path)
if threshold != '-':
    os.environ[v.EXTERNAL_DATA_ENV] = threshold
files = v.finish(model, model_id, True, onnx_path, out_dir, card_id)
null = model.empty_text_embed.detach().flatten().tolist() if hasattr(model, 'empty_text_embed') else None
print(json.dumps({'files': files, 'onnx': onnx_path, 'listing': sorted(os.listdir(out_dir)), 'null': null}))
`;

interface Finished {
  files: { name: string; sha256: string; bytes: number; kind: string }[];
  onnx: string;
  listing: string[];
  null: number[] | null;
}

async function finish(part: Part, out: string, options: { threshold?: number; scatter?: boolean } = {}):
Promise<Finished> {
  const { onnxPath } = await tinyExport(part);
  const result = await runPython(['-c', FINISH_PY, id(part), onnxPath, out, String(options.threshold ?? '-'),
    options.scatter ? '1' : '0']);
  assertOk(result, `finish ${part}`);
  const finished = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Finished;
  for (const file of finished.files) {
    assert.ok(file.name.includes(file.sha256.slice(0, 16)), `${file.name} is not content-addressed`);
    assert.equal(sha256File(join(out, file.name)), file.sha256);
    assert.equal(statSync(join(out, file.name)).size, file.bytes);
  }
  return finished;
}

test('finish: the text encoder ships CLIP\'s vocabulary (sha256-pinned), the transformer its null text embedding',
  async () => {
    const text = await finish('text', join(work, 'finish-text'));
    assert.deepEqual(text.files.map((f) => [f.kind, f.name]), [
      ['clip-bpe-vocabulary', `clip-bpe-simple-vocab-16e6.${BPE_SHA256.slice(0, 16)}.txt.gz`],
    ]);
    assert.equal(text.files[0].sha256, BPE_SHA256);

    const transformer = await finish('transformer', join(work, 'finish-transformer'));
    assert.deepEqual(transformer.files.map((f) => f.kind), ['null-text-embedding']);
    const [file] = transformer.files;
    assert.match(file.name, /^vqdiffusion-ithq-transformer-tiny-null-text\.[0-9a-f]{16}\.f32$/);
    assert.equal(file.bytes, 77 * TINY.textWidth * 4);
    const bytes = readFileSync(join(work, 'finish-transformer', file.name));
    const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    assert.deepEqual([...values], transformer.null?.map((v) => Math.fround(v)), 'raw float32 LE = the parameter');

    const decoder = await finish('decoder', join(work, 'finish-decoder'));
    assert.deepEqual(decoder.files, [], 'the decoder ships nothing else');
  });

test('finish: above the external-data threshold the weights move to one content-addressed file, outputs unchanged',
  async () => {
    const { onnxPath, referencePath } = await tinyExport('transformer');
    const run = readReference(referencePath).runs[0];
    const feeds = Object.fromEntries(Object.entries(run.inputs).map(([name, v]) => [name, toOrtTensor(v)]));
    const internal = await session(onnxPath);
    const want = (await internal.run(feeds)).log_probs.data as Float32Array;
    await internal.release();
    const size = statSync(onnxPath).size;

    // Just over a small artificial threshold, from a single-file graph and from torch-style per-tensor files.
    for (const scatter of [false, true]) {
      const out = join(work, `external-${scatter ? 'scattered' : 'single'}`);
      const finished = await finish('transformer', out, { threshold: size - 1, scatter });
      const data = finished.files.find((f) => f.kind === 'onnx-external-data');
      assert.ok(data, 'an external data file');
      assert.match(data.name, /^vqdiffusion-ithq-transformer-tiny\.[0-9a-f]{16}\.onnx\.data$/);
      assert.ok(statSync(finished.onnx).size < 64 * 1024, 'the graph keeps only small tensors');
      assert.deepEqual(readdirSync(out).sort(), [...finished.listing].sort());
      assert.deepEqual(finished.listing.filter((n) => !n.startsWith('.') && !finished.files.some((f) => f.name === n)),
        [], `no per-tensor files left: ${finished.listing.join(', ')}`);
      const s = await session(finished.onnx);
      try {
        const got = (await s.run(feeds)).log_probs.data as Float32Array;
        assert.deepEqual(got, want, 'same weights, same outputs');
      } finally {
        await s.release();
      }
    }
    // Below the threshold nothing moves.
    const small = await finish('transformer', join(work, 'external-none'), { threshold: size + 1 });
    assert.deepEqual(small.files.map((f) => f.kind), ['null-text-embedding']);
  });

// ---------------------------------------------------------------------------------------------------------------
// Official checkpoint layouts at full width. Fake files carry one constant per tensor (a broadcast view, so they stay
// small): 'model' tensor i of a part holds i + 1, 'ema' tensor i holds −(i + 1), so a load shows where it read from.

const FAKE_PY = `
import json, sys
import torch
import vqdiffusion as v
kind, path, drop, extra, misshape = sys.argv[1:6]
layouts = {p: v.official_layout('vqdiffusion-ithq-' + p) for p in ('text', 'transformer', 'decoder')}
def const(value, shape, dtype):
    return torch.full((1,), float(value), dtype=getattr(torch, dtype)).expand(shape)
if kind == 'vqvae':  # ithq_vqvae.pth: PatchVQGAN with the encoder half in front
    model = {'encoder.conv_in.weight': torch.zeros(64, 3, 3, 3), 'quant_conv.weight': torch.zeros(128, 256, 1, 1)}
    model.update({n: const(i + 1, s, d) for i, (n, s, d) in enumerate(layouts['decoder'])})
    obj = {'model': model}
else:
    model, ema = {'content_codec.enc.encoder.conv_in.weight': torch.zeros(64, 3, 3, 3)}, {}
    for part, pm, pe in (('text', 'transformer.condition_emb.', 'condition_emb.'), ('transformer', 'transformer.', ''),
                         ('decoder', 'content_codec.dec.', None)):
        for i, (n, s, d) in enumerate(layouts[part]):
            model[pm + n] = const(i + 1, s, d)
            if pe is not None:
                ema[pe + n] = const(-(i + 1), s, d)
    obj = {'last_epoch': 7, 'model': model}
    if kind == 'learnable':
        obj['ema'] = ema
target = obj.get('ema', obj['model'])
if drop != '-':
    del target[drop]
if extra != '-':
    target[extra] = torch.zeros(3)
if misshape != '-':
    target[misshape] = torch.zeros((target[misshape].shape[0] + 1,) + tuple(target[misshape].shape[1:]))
torch.save(obj, path)
print(json.dumps({p: len(l) for p, l in layouts.items()}))
`;

async function fakeCheckpoint(kind: 'learnable' | 'model-only' | 'vqvae', path: string,
  options: { drop?: string; extra?: string; misshape?: string } = {}): Promise<Record<Part, number>> {
  const result = await runPython(['-c', FAKE_PY, kind, path, options.drop ?? '-', options.extra ?? '-',
    options.misshape ?? '-']);
  assertOk(result, 'fake checkpoint');
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Record<Part, number>;
}

// Loads every part through load_checkpoint (the transformer's 1.36 B parameters on the meta device: the strict key
// and shape check without 5.4 GB of copies; its values are checked on the selected state instead) and reports
// whether build()'s layout is the official one and which constant each tensor received.
const ROUND_TRIP_PY = `
import json, sys
import torch
import common, vqdiffusion as v
path, parts = sys.argv[1], sys.argv[2].split(',')
report = {}
for part in parts:
    model_id = 'vqdiffusion-ithq-' + part
    model = v.build(model_id, False)
    layout = [(k, list(t.shape)) for k, t in model.state_dict().items()]
    official = [(k, list(s)) for k, s in v.official_keys(model_id)]
    if part == 'transformer':
        model = model.to('meta')
        state, where = v.select_state(common.read_checkpoint(path), model_id, path)
        common.load_strict(model, state, model_id, path)
        tags = [float(state[k].flatten()[0]) for k, _ in official]
    else:
        v.load_checkpoint(model, model_id, path)
        loaded = model.state_dict()
        tags = [float(loaded[k].flatten()[0]) for k, _ in official]
        assert all(float(loaded[k].flatten()[-1]) == t for (k, _), t in zip(official, tags))
    report[part] = {'layoutIsOfficial': layout == official, 'tensors': len(layout), 'tags': tags,
                    'parameters': sum(p.numel() for p in model.parameters())}
print(json.dumps(report))
`;

async function roundTrip(path: string, parts: Part[]) {
  const result = await runPython(['-c', ROUND_TRIP_PY, path, parts.join(',')]);
  assertOk(result, 'round trip');
  return {
    report: JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as
      Record<Part, { layoutIsOfficial: boolean; tensors: number; tags: number[]; parameters: number }>,
    stderr: result.stderr,
  };
}

const counting = (n: number, sign: 1 | -1) => Array.from({ length: n }, (_, i) => sign * (i + 1));

test('official ithq_learnable.pth layout: all three parts load with strict=True, ema preferred, counts official',
  async () => {
    const path = join(work, 'ithq_learnable.pth');
    const counts = await fakeCheckpoint('learnable', path);
    assert.deepEqual(counts, { text: 149, transformer: 1062, decoder: 175 });
    const { report, stderr } = await roundTrip(path, [...PARTS]);
    for (const part of PARTS) {
      assert.equal(report[part].layoutIsOfficial, true, `${part}: build() names, shapes and order = official`);
      assert.equal(report[part].tensors, counts[part]);
    }
    assert.deepEqual(report.text.tags, counting(149, -1), 'text encoder from ema condition_emb.*');
    assert.deepEqual(report.transformer.tags, counting(1062, -1), 'transformer from ema');
    assert.deepEqual(report.decoder.tags, counting(175, 1), 'decoder from model content_codec.dec.*');
    // Parameter counts of the official classes (keys/vqdiffusion-ithq-*.txt headers); + 77·512 null embedding.
    assert.equal(report.text.parameters, 63_428_096);
    assert.equal(report.transformer.parameters, 1_359_274_624 + 77 * 512);
    assert.equal(report.decoder.parameters, 37_727_875);
    assert.equal(stderr, '');

    for (const part of ['text', 'decoder'] as const) {
      const check = await runExport([id(part), '--checkpoint', path, '--load-only']);
      assertOk(check, `${part} --load-only`);
      const parameters = report[part].parameters.toLocaleString('en-US');
      assert.match(check.stdout, new RegExp(`strict=True: ${counts[part]} tensors, ${parameters} parameters`));
    }
  });

test('without ema the text encoder and transformer come from model transformer.*; ithq_vqvae.pth feeds the decoder',
  async () => {
    const modelOnly = join(work, 'model-only.pth');
    await fakeCheckpoint('model-only', modelOnly);
    const { report } = await roundTrip(modelOnly, ['text', 'transformer']);
    assert.deepEqual(report.text.tags, counting(149, 1));
    assert.deepEqual(report.transformer.tags, counting(1062, 1));

    const vqvae = join(work, 'ithq_vqvae.pth');
    await fakeCheckpoint('vqvae', vqvae);
    const decoder = (await roundTrip(vqvae, ['decoder'])).report.decoder;
    assert.deepEqual(decoder.tags, counting(175, 1), 'decoder.*, post_quant_conv.*, quantize.*; the encoder ignored');
    const wrong = await runExport([id('text'), '--checkpoint', vqvae, '--load-only']);
    assert.notEqual(wrong.code, 0);
    assert.ok(wrong.stderr.includes('holds no VQ-Diffusion text weights (looked for '
      + '\'ema\' condition_emb.token_embedding.weight or \'model\' transformer.condition_emb.token_embedding.weight); '
      + 'its top-level entries: model (177 tensors)'),
    wrong.stderr);
  });

// load_checkpoint with real values on the tiny architectures (the transformer's full-size copy is what the meta
// device spares above): every tensor lands where its name says; odd schedule buffers are reported.
const TINY_TRIP_PY = `
import json, sys
import torch
import vqdiffusion as v
part, path = sys.argv[1:3]
model_id = 'vqdiffusion-ithq-' + part
torch.manual_seed(1)
state = {k: torch.randn(t.shape) for k, t in v.build(model_id, True).state_dict().items()}
prefix = {'text': 'condition_emb.', 'transformer': '', 'decoder': 'content_codec.dec.'}[part]
key = 'model' if part == 'decoder' else 'ema'
torch.save({key: {prefix + k: t for k, t in state.items()}}, path)
model = v.build(model_id, True)
v.load_checkpoint(model, model_id, path)
loaded = model.state_dict()
print(json.dumps({'tensors': len(state), 'differ': [k for k in state if not torch.equal(loaded[k], state[k])]}))
`;

test('tiny round trips through load_checkpoint: values land by name; odd schedule buffers are reported', async () => {
  for (const part of PARTS) {
    const result = await runPython(['-c', TINY_TRIP_PY, part, join(work, `tiny-${part}.pth`)]);
    assertOk(result, `tiny ${part} round trip`);
    const trip = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { tensors: number; differ: string[] };
    assert.ok(trip.tensors > 10);
    assert.deepEqual(trip.differ, [], `${part}: every tensor equals the file's`);
    if (part === 'transformer') assert.match(result.stderr, /schedule\/mask buffers .* differ .*the ITHQ model/);
    else assert.equal(result.stderr, '');
  }
});

test('a key mismatch fails with a message naming the missing, the unexpected and the mis-shaped key', async () => {
  const path = join(work, 'bad.pth');
  const missing = 'transformer.blocks.7.attn2.key.bias';
  const unexpected = 'transformer.blocks.7.attn3.key.bias';
  const misshapen = 'transformer.to_logits.1.bias';
  await fakeCheckpoint('learnable', path, { drop: missing, extra: unexpected, misshape: misshapen });
  const result = await runExport([id('transformer'), '--checkpoint', path, '--out', join(work, 'bad')]);
  assert.notEqual(result.code, 0, 'a mismatching checkpoint must fail');
  assert.match(result.stderr, /does not match vqdiffusion-ithq-transformer \('ema'\)/);
  assert.ok(result.stderr.includes(`missing keys (1): ${missing}`), result.stderr);
  assert.ok(result.stderr.includes(`unexpected keys (1): ${unexpected}`), result.stderr);
  assert.ok(result.stderr.includes(`shape mismatches (1): ${misshapen} (4097,) (expected (4096,))`), result.stderr);
  assert.doesNotMatch(result.stderr, /Traceback/, 'a clear message, not a stack trace');
});

test('unknown ids fail with the list of known ones; the exporter folder has its key layouts', async () => {
  const result = await runExport(['vqdiffusion-coco-transformer', '--tiny', '--out', join(work, 'x')]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /unknown model id 'vqdiffusion-coco-transformer'.*vqdiffusion-ithq-text, /);
  assert.match(result.stderr, /vqdiffusion-ithq-transformer, vqdiffusion-ithq-decoder/);
  for (const part of PARTS) assert.ok(existsSync(join(EXPORT_DIR, 'keys', `${id(part)}.txt`)));
});
