// Helpers for the models/export tests: run the Python exporter (Debian's /usr/bin/python3 with python3-torch),
// check the card it writes, build fake official checkpoints, and run the ONNX on onnxruntime-node.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { ImageIo, ModelCard } from '../../worker/models/card.ts';

export const PYTHON = '/usr/bin/python3';
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EXPORT_DIR = join(REPO_ROOT, 'models', 'export');
export const EXPORT_PY = join(EXPORT_DIR, 'export.py');
export const INSTALL_HINT = 'apt-get install -y python3-torch python3-onnx';

/** A card as export.py writes it for generators: the image io says how to de-normalise, io.latent names z. */
export type ExportedCard = ModelCard & {
  io: ModelCard['io'] & {
    image: ImageIo & { normalize?: { mean: number[]; std: number[] } };
    latent?: { name: string; size: number };
  };
};

/** Fails (never skips) when Debian's PyTorch/ONNX are missing, saying how to install them. */
export function requireTorch(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? String(probe.error.message) : probe.stderr.trim().split('\n').pop();
    assert.fail(`models/export needs PyTorch and ONNX for ${PYTHON} (${why}): ${INSTALL_HINT}`);
  }
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs /usr/bin/python3 with `args` in models/export; resolves when it exits (kills it after timeoutMs). */
export function runPython(args: string[], timeoutMs = 120_000): Promise<ProcessResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: EXPORT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`python ${args.slice(0, 2).join(' ')} timed out after ${timeoutMs} ms\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** `export.py ...args`. */
export function runExport(args: string[], timeoutMs?: number): Promise<ProcessResult> {
  return runPython([EXPORT_PY, ...args], timeoutMs);
}

/** Asserts a zero exit, showing the tail of stderr otherwise. */
export function assertOk(result: ProcessResult, what: string): void {
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${result.stderr.slice(-3000)}`);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file a card lists is in `dir` with its size and sha256. */
export function checkFiles(card: ModelCard, dir: string): void {
  for (const f of card.files) {
    const path = join(dir, f.name);
    assert.ok(existsSync(path), `${card.id} lists ${f.name}, missing from ${dir}`);
    assert.equal(statSync(path).size, f.bytes, f.name);
    assert.equal(sha256File(path), f.sha256, f.name);
  }
}

/** Reads DIR/<id>.card.json and checks what every exported card must have: a content-addressed file whose
 * sha256 and size match, io tensors with dtypes and shapes, license, source, variant and targets. */
export function readCheckedCard(dir: string, id: string): { card: ExportedCard; onnxPath: string } {
  const cardPath = join(dir, `${id}.card.json`);
  assert.ok(existsSync(cardPath), `no card at ${cardPath}`);
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as ExportedCard;
  assert.equal(card.id, id);
  for (const field of ['task', 'label', 'description', 'license'] as const) {
    assert.equal(typeof card[field], 'string', `card.${field}`);
    assert.ok(card[field].length > 0, `card.${field} is empty`);
  }
  assert.ok(card.variant === 'full' || card.variant === 'tiny', `variant ${card.variant}`);
  assert.equal(card.files.length, 1);
  const [file] = card.files;
  assert.match(file.sha256, /^[0-9a-f]{64}$/);
  assert.equal(file.name, `${id}.${file.sha256.slice(0, 16)}.onnx`);
  const onnxPath = join(dir, file.name);
  assert.ok(existsSync(onnxPath), `card names ${file.name}, which is not in ${dir}`);
  assert.equal(statSync(onnxPath).size, file.bytes, 'card bytes');
  assert.equal(sha256File(onnxPath), file.sha256, 'card sha256');
  for (const spec of [...card.io.inputs, ...card.io.outputs]) {
    assert.equal(typeof spec.name, 'string');
    assert.ok(['float32', 'float16', 'uint8', 'int64'].includes(spec.dtype), `${spec.name} dtype ${spec.dtype}`);
    assert.ok(spec.shape.every((d) => (typeof d === 'number' && d > 0) || (typeof d === 'string' && d.length > 0)),
      `${spec.name} shape ${JSON.stringify(spec.shape)}`);
  }
  assert.ok(card.io.image.layout === 'NCHW' || card.io.image.layout === 'NHWC');
  assert.equal(card.io.image.range.length, 2);
  assert.equal(typeof card.source.checkpoint, 'string');
  assert.ok(card.targets.length > 0 && card.targets.every((t) => ['webgpu', 'wasm', 'node', 'server'].includes(t)));
  return { card, onnxPath };
}

// ---------------------------------------------------------------------------------------------------------------
// --dump-reference files: the exporter's check inputs and PyTorch outputs

export interface ReferenceTensor {
  dtype: string;
  shape: number[];
  data: number[];
}

export interface Reference {
  model: string;
  tolerance: number;
  runs: { inputs: Record<string, ReferenceTensor>; outputs: Record<string, ReferenceTensor> }[];
}

export function readReference(path: string): Reference {
  return JSON.parse(readFileSync(path, 'utf8')) as Reference;
}

export function toOrtTensor(t: ReferenceTensor): ort.Tensor {
  switch (t.dtype) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from(t.data), t.shape);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from(t.data.map((v) => BigInt(v))), t.shape);
    case 'int32': return new ort.Tensor('int32', Int32Array.from(t.data), t.shape);
    default: throw new Error(`reference dtype ${t.dtype} not handled`);
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = d; // NaN propagates as the worst
  }
  return worst;
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Fake official checkpoints, built from a family's official_keys() (or official_layout(), which adds dtypes)

/**
 * Python for the official SimMIM file's companions, shared by the tests that write them: `CfgNode` (the official
 * checkpoint pickles a yacs config; yacs is not installed here, so a throwaway yacs/config.py makes one for writing),
 * and `simmim_to_hf(state)`: the same weights in Hugging Face's layout, renamed as transformers'
 * convert_swin_simmim_to_pytorch.py does (query/key/value split, no attn_mask buffers), written independently of
 * simmim.from_hf_layout. Interpolate at column 0 into a script that imports os, sys, tempfile.
 */
export const SIMMIM_FILES_PY = `
_stub = tempfile.mkdtemp()
os.makedirs(os.path.join(_stub, 'yacs'))
open(os.path.join(_stub, 'yacs', '__init__.py'), 'w').close()
with open(os.path.join(_stub, 'yacs', 'config.py'), 'w') as f:
    f.write('class CfgNode(dict):\\n    pass\\n')
sys.path.insert(0, _stub)
from yacs.config import CfgNode

def hf_name(name):
    renames = [('encoder.mask_token', 'embeddings.mask_token'),
               ('encoder.patch_embed.proj', 'embeddings.patch_embeddings.projection'),
               ('encoder.patch_embed.norm', 'embeddings.norm'), ('attn.proj', 'attention.output.dense'),
               ('attn', 'attention.self'), ('norm1', 'layernorm_before'), ('norm2', 'layernorm_after'),
               ('mlp.fc1', 'intermediate.dense'), ('mlp.fc2', 'output.dense')]
    for old, new in renames:
        if old in name:
            name = name.replace(old, new)
    if name in ('encoder.norm.weight', 'encoder.norm.bias'):
        name = 'layernorm.' + name.rsplit('.', 1)[1]
    return name if name.startswith('decoder') else 'swin.' + name

def simmim_to_hf(state):
    hf = {}
    for key, value in state.items():
        if 'attn_mask' in key:
            continue
        if 'qkv' in key:
            block, leaf = hf_name(key.rsplit('.', 2)[0]), key.rsplit('.', 1)[1]  # …attention.self
            for i, part in enumerate(('query', 'key', 'value')):
                hf[f'{block}.{part}.{leaf}'] = value.chunk(3, dim=0)[i].clone()
        else:
            hf[hf_name(key)] = value
    return hf
`;

const FAKE_CHECKPOINT_PY = `
import importlib, json, sys
import torch
module, model_id, path, weights_key, drop, extra, misshape = sys.argv[1:8]
family = importlib.import_module(module)
if hasattr(family, 'official_layout'):
    layout = family.official_layout(model_id)
else:
    layout = [(name, shape, 'float32') for name, shape in family.official_keys(model_id)]
gen = torch.Generator().manual_seed(0)
state = {}
for name, shape, dtype in layout:
    dt = getattr(torch, dtype)
    if dt.is_floating_point:
        state[name] = torch.randn(shape, generator=gen).to(dt) * 0.02
    else:
        state[name] = torch.randint(0, 8, shape, generator=gen).to(dt)
dropped = []
if drop != '-':
    dropped = [drop]
    del state[drop]
if extra != '-':
    state[extra] = torch.zeros(3)
if misshape != '-':  # one more row in the first dimension
    state[misshape] = torch.zeros((state[misshape].shape[0] + 1,) + tuple(state[misshape].shape[1:]))
# Like the official training files: generator, EMA generator, discriminator, options. 'g' is deliberately not a
# generator state_dict, so loading it instead of the EMA weights fails.
torch.save({'g': {'not_the_generator': torch.zeros(1)}, weights_key: state,
            'd': {'convs.0.0.weight': torch.randn(4, 3, 3, 3, generator=gen)}, 'args': {'fake': True}}, path)
print(json.dumps({'keys': [name for name, _, _ in layout], 'dropped': dropped}))
`;

export interface FakeCheckpoint {
  /** Keys of the official layout (before drop/extra). */
  keys: string[];
  dropped: string[];
}

/** Writes a checkpoint file with random tensors in the official key layout of `modelId` under `weightsKey`
 * (e.g. 'g_ema'); optionally without one key (`drop`), with one unexpected key (`extra`) and with one tensor one
 * row too long (`misshape`). */
export async function makeFakeCheckpoint(
  module: string, modelId: string, path: string,
  options: { weightsKey?: string; drop?: string; extra?: string; misshape?: string } = {},
): Promise<FakeCheckpoint> {
  const result = await runPython(['-c', FAKE_CHECKPOINT_PY, module, modelId, path, options.weightsKey ?? 'g_ema',
    options.drop ?? '-', options.extra ?? '-', options.misshape ?? '-']);
  assertOk(result, 'fake checkpoint');
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as FakeCheckpoint;
}

const ROUND_TRIP_PY = `
import importlib, json, sys
import torch
module, model_id, path, weights_key = sys.argv[1:5]
family = importlib.import_module(module)
model = family.build(model_id, False)
layout = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
family.load_checkpoint(model, model_id, path)
saved = torch.load(path, map_location='cpu')[weights_key]
loaded = model.state_dict()
differ = [k for k in saved if k not in loaded or not torch.equal(loaded[k], saved[k])]
official = [(k, tuple(s)) for k, s in family.official_keys(model_id)]
print(json.dumps({'tensors': len(loaded), 'differ': differ, 'layoutIsOfficial': layout == official}))
`;

/** Builds the full model, loads `path` through the family's load_checkpoint and compares every tensor with the
 * file's `weightsKey` dict; also whether build()'s key layout (names, shapes, order) equals official_keys(). */
export async function roundTripCheckpoint(module: string, modelId: string, path: string, weightsKey = 'g_ema'):
Promise<{ tensors: number; differ: string[]; layoutIsOfficial: boolean; stderr: string }> {
  const result = await runPython(['-c', ROUND_TRIP_PY, module, modelId, path, weightsKey]);
  assertOk(result, 'checkpoint round trip');
  return { ...JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}'), stderr: result.stderr };
}

/** The seed-0 tiny export of `modelId` into `work`/seed0 with its check inputs and PyTorch outputs dumped beside it;
 *  asserts that export.py ran its ONNX-vs-PyTorch check and that the card matches the file. */
export async function exportTinyWithReference(modelId: string, work: string): Promise<{ card: ExportedCard; onnxPath: string; referencePath: string; ms: number }> {
  const out = join(work, 'seed0');
  const referencePath = join(work, 'reference.json');
  const result = await runExport([modelId, '--tiny', '--out', out, '--seed', '0', '--dump-reference', referencePath]);
  assertOk(result, 'tiny export');
  assert.match(result.stdout, /max \|ONNX − PyTorch\|/, 'export.py reports its ONNX-vs-PyTorch check');
  return { ...readCheckedCard(out, `${modelId}-tiny`), referencePath, ms: result.ms };
}
