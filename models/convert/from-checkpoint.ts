// Official checkpoint → ONNX in TypeScript, on the machine that installs the model (no Python): read the PyTorch file
// (torch-checkpoint.ts), take the family's weights out of it, check them against the template's slots by name and
// shape, compute the buffers no checkpoint holds (StyleSwin's mean latent: the mapping graph run on onnxruntime-node),
// and fill the committed template (onnx-template.ts). The result is content-addressed like every other model file.
//
// One family object per model family says where its weights live in the official files; the template says
// everything else (graph, slot names, shapes, cards). The Python exporters (models/export/) stay the reference:
// test/convert/from-checkpoint.test.ts converts the same fake official file both ways and compares outputs.
import '../../worker/runtime/no-telemetry.mjs';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard, ModelFile } from '../../worker/models/card.ts';
import { Rng } from '../../worker/random.ts';
import { PyDict, flattenTensors, pyGet, readCheckpoint, type PyValue, type TorchCheckpoint, type TorchTensor } from './torch-checkpoint.ts';
import { externalLayout, fillExternal, fillInline, type TemplateSlot, templateSlots } from './onnx-template.ts';
import { findTemplate, readTemplateGraph, type ComputedMeta, type Template } from './templates.ts';

/** Where a family's weights are inside an official file, and how to recognise a file of that family. */
export interface CheckpointFamily {
  prefix: string;
  label: string;
  /** A key only this family's weights have (to say "this is a <label> checkpoint" when the wrong one is given). */
  marker: string;
  /** The weights, by the names the template's slots use. */
  weights(checkpoint: TorchCheckpoint): Map<string, TorchTensor>;
}

const keysOf = (v: PyValue): string => (v instanceof PyDict ? [...v.keys()].slice(0, 12).map(String).join(', ') : typeof v);

const STYLESWIN: CheckpointFamily = {
  prefix: 'styleswin',
  label: 'StyleSwin',
  marker: 'layers.0.blocks.0.attn.0.relative_position_bias_table',
  weights(checkpoint) {
    // The official files hold the whole training state ('g', 'd', 'g_ema', optimisers…): generation uses g_ema.
    // A bare generator state_dict is accepted too.
    const root = checkpoint.value;
    const gEma = pyGet(root, 'g_ema');
    if (gEma instanceof PyDict) return flattenTensors(gEma);
    if (root instanceof PyDict && root.has('style.1.weight')) return flattenTensors(root);
    throw new ConvertError('wrong-checkpoint', `${checkpoint.file} holds neither g_ema nor a StyleSwin generator state_dict (top-level keys: ${keysOf(root)}).`);
  },
};

const FAMILIES: CheckpointFamily[] = [STYLESWIN];

export type ConvertErrorCode = 'no-template' | 'wrong-checkpoint' | 'cancelled';

export class ConvertError extends Error {
  constructor(readonly code: ConvertErrorCode, message: string) {
    super(message);
    this.name = 'ConvertError';
  }
}

export interface ConvertProgress {
  stage: 'read' | 'compute' | 'write';
  done: number;
  total: number;
  message: string;
}

export interface ConvertOptions {
  /** Where the model files go (content-addressed names). */
  outDir: string;
  templatesDir?: string;
  onProgress?: (p: ConvertProgress) => void;
  signal?: AbortSignal;
  /** Graphs above this many bytes keep their weights in one external data file (protobuf's limit is 2 GiB). */
  externalAbove?: number;
}

export interface Converted {
  card: ModelCard;
  /** Absolute paths of the files written, in the card's order. */
  paths: string[];
}

const familyOf = (cardId: string): CheckpointFamily | undefined => FAMILIES.find((f) => cardId.startsWith(`${f.prefix}-`));

/** The slot's bytes from a checkpoint tensor: same element type as the graph wants (float widths converted). */
function slotBytes(slot: TemplateSlot, tensor: TorchTensor): Uint8Array {
  if (slot.dtype === 'float32') {
    const f = tensor.dtype === 'float32' ? tensor.data() as Float32Array : tensor.toFloat32();
    return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  }
  if (slot.dtype === 'int64') {
    const v = tensor.toBigInt64();
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  if (slot.dtype === tensor.dtype) return tensor.bytes();
  throw new ConvertError('wrong-checkpoint', `${slot.name} is ${tensor.dtype} in the checkpoint; the graph needs ${slot.dtype}.`);
}

/** Checks every checkpoint slot has a tensor of its shape; says which family the file is from when it is not this one. */
function checkWeights(slots: TemplateSlot[], weights: Map<string, TorchTensor>, family: CheckpointFamily, cardId: string, file: string): void {
  const missing = slots.filter((s) => s.kind === 'checkpoint' && !weights.has(s.name)).map((s) => s.name);
  const misshaped = slots
    .filter((s) => s.kind === 'checkpoint' && weights.has(s.name) && weights.get(s.name)!.shape.join('x') !== s.dims.join('x'))
    .map((s) => `${s.name} [${weights.get(s.name)!.shape}] (needs [${s.dims}])`);
  if (!missing.length && !misshaped.length) return;
  const other = FAMILIES.find((f) => f !== family && weights.has(f.marker));
  const list = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, … (${xs.length - 8} more)` : '');
  const why = [missing.length ? `${missing.length} tensors missing (${list(missing)})` : '', misshaped.length ? `${misshaped.length} of another shape (${list(misshaped)})` : ''].filter(Boolean).join('; ');
  throw new ConvertError('wrong-checkpoint', other
    ? `${file} is a ${other.label} checkpoint, not one for ${cardId}: pick the ${cardId} file.`
    : `${file} does not fit ${cardId}: ${why}. Is it the checkpoint of another ${family.label} model or size?`);
}

/** A computed buffer: the mean of a graph's output over `samples` N(0, 1) inputs (StyleSwin's mean latent). */
async function computeMean(template: Template, recipe: ComputedMeta, weights: Map<string, TorchTensor>, slot: TemplateSlot, options: ConvertOptions): Promise<Uint8Array> {
  const graph = readTemplateGraph(template, recipe.file, recipe.sha256);
  const filled = fillInline(graph, (s) => slotBytes(s, weights.get(s.name)!));
  const session = await ort.InferenceSession.create(filled, { intraOpNumThreads: 1 });
  try {
    const width = slot.dims[slot.dims.length - 1];
    const sum = new Float64Array(width);
    const rng = new Rng(0);
    const batch = 1000;
    for (let done = 0; done < recipe.samples; done += batch) {
      if (options.signal?.aborted) throw new ConvertError('cancelled', 'Conversion cancelled.');
      const n = Math.min(batch, recipe.samples - done);
      const z = rng.normals(n * width);
      const out = await session.run({ [recipe.inputs[0]]: new ort.Tensor('float32', z, [n, width]) });
      const w = out[recipe.outputs[0]].data as Float32Array;
      for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) sum[j] += w[i * width + j];
      options.onProgress?.({ stage: 'compute', done: done + n, total: recipe.samples, message: `Averaging the style of ${done + n} / ${recipe.samples} random faces` });
    }
    const mean = Float32Array.from(sum, (v) => v / recipe.samples);
    return new Uint8Array(mean.buffer);
  } finally {
    await session.release();
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function writeContentAddressed(dir: string, stem: string, ext: string, bytes: Uint8Array): ModelFile & { path: string } {
  const hash = sha256(bytes);
  const name = `${stem}.${hash.slice(0, 16)}${ext}`;
  const path = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return { name, sha256: hash, bytes: bytes.length, path };
}

/**
 * Converts the official checkpoint at `file` into model `cardId` with its committed template; writes the files into
 * `options.outDir` and returns the card (not yet registered anywhere).
 */
export async function convertFromCheckpoint(cardId: string, file: string, options: ConvertOptions): Promise<Converted> {
  const template = findTemplate(cardId, options.templatesDir);
  const family = familyOf(cardId);
  if (!template || !family) throw new ConvertError('no-template', `${cardId} cannot be installed from a checkpoint in this version of Frontier yet (no graph template): use npm run convert -- ${cardId} --checkpoint FILE, which needs Python.`);
  const progress = options.onProgress ?? (() => {});
  progress({ stage: 'read', done: 0, total: 1, message: 'Reading the checkpoint' });
  const checkpoint = readCheckpoint(file);
  try {
    const weights = family.weights(checkpoint);
    const graph = readTemplateGraph(template, template.meta.file, template.meta.sha256);
    const slots = templateSlots(graph);
    checkWeights(slots, weights, family, cardId, file);

    const computed = new Map<string, Uint8Array>();
    for (const slot of slots.filter((s) => s.kind === 'computed')) {
      const recipe = template.meta.computed[slot.name];
      if (!recipe) throw new Error(`template ${template.name} has no recipe for ${slot.name}`);
      computed.set(slot.name, await computeMean(template, recipe, weights, slot, options));
    }
    const value = (slot: TemplateSlot): Uint8Array => computed.get(slot.name) ?? slotBytes(slot, weights.get(slot.name)!);

    const base = template.meta.cards[cardId];
    mkdirSync(options.outDir, { recursive: true });
    const total = slots.reduce((n, s) => n + s.byteLength, 0);
    const paths: string[] = [];
    const files: ModelFile[] = [];
    if (total <= (options.externalAbove ?? 1.5 * 2 ** 30)) {
      progress({ stage: 'write', done: 0, total, message: 'Writing the model' });
      const model = writeContentAddressed(options.outDir, base.id, '.onnx', fillInline(graph, value));
      files.push({ name: model.name, sha256: model.sha256, bytes: model.bytes });
      paths.push(model.path);
    } else {
      // One external data file (its name is its hash), then the graph that points into it.
      const { placements, bytes } = externalLayout(slots);
      const data = new Uint8Array(bytes);
      let written = 0;
      for (const p of placements) {
        if (options.signal?.aborted) throw new ConvertError('cancelled', 'Conversion cancelled.');
        data.set(value(p.slot), p.offset);
        written += p.slot.byteLength;
        progress({ stage: 'write', done: written, total, message: 'Writing the weights' });
      }
      const dataFile = writeContentAddressed(options.outDir, base.id, '.onnx.data', data);
      const model = writeContentAddressed(options.outDir, base.id, '.onnx', fillExternal(graph, dataFile.name, placements));
      files.push({ name: model.name, sha256: model.sha256, bytes: model.bytes }, { name: dataFile.name, sha256: dataFile.sha256, bytes: dataFile.bytes, kind: 'onnx-external-data' });
      paths.push(model.path, dataFile.path);
    }
    progress({ stage: 'write', done: total, total, message: 'Written' });
    const card: ModelCard = {
      ...base,
      files,
      source: { ...base.source, converter: `models/convert/from-checkpoint.ts (template ${template.meta.file})` },
    } as ModelCard;
    return { card, paths };
  } catch (err) {
    if (options.signal?.aborted && !(err instanceof ConvertError && err.code === 'cancelled')) throw new ConvertError('cancelled', 'Conversion cancelled.');
    throw err;
  } finally {
    checkpoint.close();
  }
}

/** Removes files a failed or cancelled conversion may have left (content-addressed names never clash). */
export function removeFiles(paths: string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}
