// Weight-less graph templates (models/export/template.py → models/convert/onnx-template.ts), on the tiny StyleSwin:
// the template filled in TypeScript with the same weights the Python exporter used computes what PyTorch computes
// (within the exporter's stated bound) and what the exporter's own ONNX computes (same float32 math up to onnxruntime's
// constant folding); inline and external-data fills give the same output; a wrong or missing tensor is refused.
// Needs Debian's python3-torch + python3-onnx (fails, never skips, without them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { SLOT_CHECKPOINT, externalLayout, fillExternal, fillInline, templateSlots, type TemplateSlot } from '../../models/convert/onnx-template.ts';
import { assertOk, exportTinyWithReference, maxAbsDiff, readReference, requireTorch, runPython, toOrtTensor } from '../export/export-util.ts';

const MODEL = 'styleswin-ffhq-256';
const TEMPLATE_PY = join(import.meta.dirname, '..', '..', 'models', 'export', 'template.py');
/** styleswin.py's TOLERANCE: ONNX vs PyTorch, normalised units (< 0.12 of an 8-bit level). */
const STATED_BOUND = 2e-3;

// The exporter's tiny weights (seed 0, as export.py --tiny --seed 0 makes them) and its mean latent, as raw bytes.
const DUMP_PY = `
import json, sys
import torch
import styleswin
out = sys.argv[1]
torch.manual_seed(0)
model = styleswin.build('${MODEL}', True)
styleswin.prepare(model, '${MODEL}', True)
state = dict(model.state_dict())
state['mean_latent'] = model.mean_latent
index, blob = {}, bytearray()
for name, t in state.items():
    data = t.detach().contiguous().numpy().tobytes()
    index[name] = [len(blob), len(data), list(t.shape)]
    blob += data
open(out + '.bin', 'wb').write(bytes(blob))
json.dump(index, open(out + '.json', 'w'))
`;

let work: string;
let template: Uint8Array;
let weights: Map<string, Uint8Array>;
let exported: Awaited<ReturnType<typeof exportTinyWithReference>>;

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'onnx-template-'));
  const [tpl, dump, exp] = await Promise.all([
    runPython([TEMPLATE_PY, MODEL, '--tiny', '--out', work]),
    runPython(['-c', DUMP_PY, join(work, 'weights')]),
    exportTinyWithReference(MODEL, work),
  ]);
  assertOk(tpl, 'template.py');
  assertOk(dump, 'weights dump');
  exported = exp;
  template = readFileSync(join(work, `${MODEL}-tiny.template.onnx`));
  const blob = readFileSync(join(work, 'weights.bin'));
  const index = JSON.parse(readFileSync(join(work, 'weights.json'), 'utf8')) as Record<string, [number, number, number[]]>;
  weights = new Map(Object.entries(index).map(([name, [offset, length]]) => [name, blob.subarray(offset, offset + length)]));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function outputsOf(model: string | Uint8Array, inputs: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    return (await session.run(inputs)).image.data as Float32Array;
  } finally {
    await session.release();
  }
}

const value = (slot: TemplateSlot) => weights.get(slot.name);

test('the template holds no weights: every state_dict tensor is a checkpoint slot, the mean latent a computed one', () => {
  const slots = templateSlots(template);
  const stateKeys = [...weights.keys()].filter((k) => k !== 'mean_latent');
  const checkpoint = slots.filter((s) => s.kind === 'checkpoint').map((s) => s.name);
  assert.deepEqual(slots.filter((s) => s.kind === 'computed').map((s) => s.name), ['mean_latent']);
  // Every slot is a state_dict entry; the state_dict entries not in the graph are architecture buffers the trace
  // turned into constants (relative position indices, shift masks, blur kernels, the sinusoid table's dummy tensor;
  // styleswin.load_checkpoint checks the checkpoint's copies equal them).
  for (const name of checkpoint) assert.ok(stateKeys.includes(name), `${name} is not a state_dict key`);
  for (const name of stateKeys.filter((k) => !checkpoint.includes(k))) assert.match(name, /relative_position_index|attn_mask2|upsample\.kernel|_float_tensor/, `${name} is not in the template`);
  // No weight's bytes are inside (the tiny graph's shift masks and position tables outweigh its weights, so the
  // file size says nothing).
  for (const name of ['style.1.weight', 'layers.3.blocks.1.qkv.weight', 'to_rgbs.3.conv.weight']) {
    assert.ok(!Buffer.from(template).includes(Buffer.from(weights.get(name)!.subarray(0, 64))), `${name}'s bytes are in the template`);
  }
});

test('filled with the exporter\'s weights, the template computes what PyTorch and the exporter\'s ONNX compute; inline and external data agree', async () => {
  const inline = fillInline(template, value);
  const slots = templateSlots(template);
  const { placements, bytes } = externalLayout(slots);
  const data = new Uint8Array(bytes);
  for (const p of placements) data.set(value(p.slot)!, p.offset);
  writeFileSync(join(work, 'filled.onnx.data'), data);
  writeFileSync(join(work, 'filled.onnx'), fillExternal(template, 'filled.onnx.data', placements));

  const reference = readReference(exported.referencePath);
  assert.ok(reference.runs.length >= 2);
  for (const run of reference.runs) {
    const inputs = Object.fromEntries(Object.entries(run.inputs).map(([k, t]) => [k, toOrtTensor(t)]));
    const want = Float32Array.from(run.outputs.image.data);
    const [fromInline, fromExternal, fromExporter] = await Promise.all([
      outputsOf(inline, inputs), outputsOf(join(work, 'filled.onnx'), inputs), outputsOf(exported.onnxPath, inputs),
    ]);
    const vsTorch = maxAbsDiff(fromInline, want);
    const vsExporter = maxAbsDiff(fromInline, fromExporter);
    assert.ok(vsTorch < STATED_BOUND, `template vs PyTorch ${vsTorch} (ψ ${run.inputs.truncation?.data})`);
    assert.ok(vsExporter < 1e-4, `template vs the exporter's ONNX ${vsExporter}`);
    assert.equal(maxAbsDiff(fromInline, fromExternal), 0, 'inline and external data give the same bytes out');
  }
});

test('a tensor of the wrong size, a missing one, or a layout for another graph is refused by name', () => {
  assert.throws(() => fillInline(template, (s) => (s.name === 'style.1.bias' ? new Uint8Array(3) : value(s))), /style\.1\.bias: 3 bytes given, the graph needs 128 \(float32 \[32\]\)/);
  assert.throws(() => fillInline(template, (s) => (s.name === 'mean_latent' ? undefined : value(s))), /no value for computed tensor mean_latent/);
  const slots = templateSlots(template);
  const stranger: TemplateSlot = { ...slots[0], name: 'not.in.graph', kind: 'checkpoint' };
  assert.throws(() => fillExternal(template, 'x.data', externalLayout([...slots, stranger]).placements), /places tensors the graph does not have: not\.in\.graph/);
  assert.throws(() => templateSlots(Uint8Array.from([0x0a, 0x05, 1, 2])), /protobuf|not an ONNX model/);
  assert.ok(Buffer.from(template).includes(Buffer.from(SLOT_CHECKPOINT)));
});
