// Official checkpoint → ONNX in TypeScript, on the machine that installs the model (no Python): read the PyTorch file
// (torch-checkpoint.ts), take the family's weights out of it, check them against the template's slots by name and
// shape, compute the buffers no checkpoint holds (StyleSwin's mean latent, GRAM's truncation averages: a graph of the
// same weights run on onnxruntime-node over random latents), and fill the committed template (onnx-template.ts). The
// result is content-addressed like every other model file.
//
// One family object per model family says where its weights live in the official files (and how they are
// transformed: GRAM's EMA weights replace the raw ones); the template says everything else (graph, slot names,
// shapes, cards). The Python exporters (models/export/) stay the reference: test/convert/from-checkpoint*.test.ts
// convert the same fake official file both ways and compare outputs.
import '../../worker/runtime/no-telemetry.mjs';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelCard, ModelFile } from '../../worker/models/card.ts';
import { Rng } from '../../worker/random.ts';
import { PyDict, PyObject, TorchStorage, TorchTensor, describeValue, flattenTensors, pyGet, readCheckpoint, type PyValue, type TorchCheckpoint } from './torch-checkpoint.ts';
import { externalLayout, fillExternal, fillInline, type ExternalPlacement, type TemplateSlot, templateSlots } from './onnx-template.ts';
import { REPO_ROOT, findTemplate, readTemplateGraph, type ComputedMeta, type Template, type TemplateFileMeta } from './templates.ts';

/** What a family's `weights` may use besides the checkpoint it was given. */
export interface WeightsContext {
  /** The card being made (a family whose file holds several graphs picks this one's part). */
  cardId: string;
  /** The path the user gave (files that belong beside it are looked for next to it). */
  file: string;
  /** Other files the user gave with it (GRAM's ema.pth picked together with generator.pth), in any order. */
  companions: string[];
  /** Something the user should know about the result (Converted.warnings), e.g. GRAM without its EMA file. */
  warn(message: string): void;
  /** Opens another checkpoint (e.g. GRAM's ema.pth beside generator.pth); it is closed when the conversion ends. */
  open(path: string): TorchCheckpoint;
  /** Checks tensors against the template's slots (names and shapes) as the conversion does with what `weights`
   *  returns: for checking the file's own names before a transform replaces their values (GRAM's EMA). */
  check(weights: Map<string, TorchTensor>): void;
}

/** Where a family's weights are inside an official file, and how to recognise a file of that family. */
export interface CheckpointFamily {
  prefix: string;
  label: string;
  /** A key only this family's weights have (to say "this is a <label> checkpoint" when the wrong one is given). */
  marker: string;
  /** The weights, by the names the template's slots use. */
  weights(checkpoint: TorchCheckpoint, context: WeightsContext): Map<string, TorchTensor>;
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

/** True when `weights` has `marker` as a key or as the end of one (a state_dict nested under e.g. 'model'). */
const hasMarker = (weights: Map<string, TorchTensor>, marker: string): boolean =>
  weights.has(marker) || [...weights.keys()].some((k) => k.endsWith(`.${marker}`));

/** The family another file's tensors belong to, if it is not `family`. */
const otherFamily = (weights: Map<string, TorchTensor>, family: CheckpointFamily): CheckpointFamily | undefined =>
  FAMILIES.find((f) => f !== family && hasMarker(weights, f.marker));

// ── GRAM (microsoft/GRAM; models/export/gram.py load_checkpoint + apply_ema) ──────────────────────────────────────
// generator.pth is a bare state_dict (generator.state_dict()); the weights used are the EMA's: ema.pth beside it is a
// pickled torch_ema ExponentialMovingAverage (read as an inert placeholder) whose shadow_params list follows
// generator.parameters() order. ema.pth may be given instead (generator.pth beside it names the tensors).

const GRAM_EMA_CLASSES = new Set(['torch_ema.ema.ExponentialMovingAverage', 'torch_ema.ExponentialMovingAverage']);

/** gram.py official_keys(): GramGenerator's parameters in registration order (= parameters() = shadow_params order);
 *  the same names at every width. test/convert/from-checkpoint-gram.test.ts checks it against keys/gram-ffhq-256.txt. */
export function gramParameterOrder(): string[] {
  const linear = (name: string) => [`${name}.weight`, `${name}.bias`];
  const rf = 'representation.rf_network';
  return [
    ...[0, 2, 4].flatMap((i) => linear(`representation.sample_network.network.${i}`)),
    ...linear('representation.sample_network.output_layer'),
    ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => linear(`${rf}.network.${i}.layer`)),
    ...linear(`${rf}.color_layer.0.layer`),
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((i) => linear(`${rf}.output_sigma.${i}`)),
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((i) => linear(`${rf}.output_color.${i}`)),
    ...[0, 2, 4, 6].flatMap((i) => linear(`${rf}.mapping_network.network.${i}`)),
  ];
}

const isGramEma = (v: PyValue): v is PyObject => v instanceof PyObject && GRAM_EMA_CLASSES.has(v.$class);

/** render_multiview_images.py finds ema.pth as the generator file's name with 'generator' replaced by 'ema'. */
const sibling = (path: string, from: string, to: string): string => join(dirname(path), basename(path).replaceAll(from, to));

function applyGramEma(state: Map<string, TorchTensor>, ema: TorchCheckpoint, emaFile: string): void {
  const root = ema.value;
  const shadow = pyGet(root, 'shadow_params');
  if (!isGramEma(root) || !Array.isArray(shadow)) {
    throw new ConvertError('wrong-checkpoint', `${emaFile}: expected a pickled torch_ema ExponentialMovingAverage (with shadow_params), got ${root instanceof PyObject ? root.$class : describeValue(root)}.`);
  }
  const order = gramParameterOrder();
  if (shadow.length !== order.length) throw new ConvertError('wrong-checkpoint', `${emaFile}: ${shadow.length} EMA tensors, the generator has ${order.length} parameters.`);
  order.forEach((name, index) => {
    const tensor = shadow[index];
    const want = state.get(name)!.shape;
    if (!(tensor instanceof TorchTensor) || tensor.shape.join('x') !== want.join('x')) {
      const got = tensor instanceof TorchTensor ? `shape [${tensor.shape}]` : describeValue(tensor);
      throw new ConvertError('wrong-checkpoint', `${emaFile}: EMA tensor #${index} (for ${name}) has ${got}, expected [${want}].`);
    }
    state.set(name, tensor);
  });
}

const GRAM: CheckpointFamily = {
  prefix: 'gram',
  label: 'GRAM',
  marker: 'representation.rf_network.mapping_network.network.0.weight',
  weights(checkpoint, context) {
    // The files given together are told apart by what they hold (an EMA object or a state_dict), not by name; a file
    // not given is looked for beside the other under its official name, as render_multiview_images.py does.
    const given = [{ file: context.file, opened: checkpoint }, ...context.companions.map((file) => ({ file, opened: context.open(file) }))];
    const emas = given.filter((g) => isGramEma(g.opened.value));
    const generators = given.filter((g) => !isGramEma(g.opened.value));
    if (emas.length > 1 || generators.length > 1) {
      throw new ConvertError('wrong-checkpoint', `Give GRAM's generator.pth and ema.pth once each (got ${emas.length} EMA files and ${generators.length} others: ${given.map((g) => basename(g.file)).join(', ')}).`);
    }
    let generator: TorchCheckpoint;
    let generatorFile: string;
    let ema: TorchCheckpoint | undefined = emas[0]?.opened;
    let emaFile: string;
    if (generators.length) {
      ({ file: generatorFile, opened: generator } = generators[0]);
      emaFile = emas[0]?.file ?? sibling(generatorFile, 'generator', 'ema');
    } else {
      emaFile = emas[0].file;
      generatorFile = sibling(emaFile, 'ema', 'generator');
      if (generatorFile === emaFile || !existsSync(generatorFile)) {
        throw new ConvertError('wrong-checkpoint', `${emaFile} is a GRAM EMA file (weights without names): give generator.pth too (with ema.pth beside it, or both together; looked for ${generatorFile}).`);
      }
      generator = context.open(generatorFile);
    }
    const root = generator.value;
    if (!(root instanceof PyDict) || ![...root.values()].every((v) => v instanceof TorchTensor)) {
      const other = otherFamily(flattenTensors(root), GRAM);
      throw new ConvertError('wrong-checkpoint', other
        ? `${generatorFile} is a ${other.label} checkpoint, not GRAM's generator.pth.`
        : `${generatorFile}: expected a GRAM generator state_dict (name → tensor), got a ${describeValue(root)}${root instanceof PyDict ? ` (top-level keys: ${keysOf(root)})` : ''}.`);
    }
    let state = flattenTensors(root);
    if (state.size && [...state.keys()].every((k) => k.startsWith('module.'))) { // saved from the DDP wrapper
      state = new Map([...state].map(([k, v]) => [k.slice('module.'.length), v]));
    }
    context.check(state);
    if (!ema && emaFile !== generatorFile && existsSync(emaFile)) ema = context.open(emaFile);
    if (ema) applyGramEma(state, ema, emaFile);
    else context.warn(`No EMA file at ${emaFile}: converted the raw generator weights of ${generatorFile}. The official demos and FID numbers use the EMA weights (install again with ema.pth and generator.pth together).`);
    return state;
  },
};

// ── SimMIM (microsoft/SimMIM; models/export/simmim.py pick_state, from_hf_layout) ─────────────────────────────────
// The pretraining file is {'model': state_dict, 'optimizer', 'lr_scheduler', 'max_accuracy', 'epoch', 'config'}
// ('config' a yacs CfgNode, read as an inert placeholder); a bare state_dict is accepted too, and Hugging Face's
// SwinForMaskedImageModeling layout (microsoft/swin-base-simmim-window6-192's pytorch_model.bin: renamed, query/key/
// value split). Architecture buffers (relative_position_index, attn_mask) have no slot: the template holds them as
// graph constants, so their values in a file are never used (simmim.py warns when they differ; this does not look).

/** Hugging Face names → official names, applied in order (simmim.py _HF_RENAMES). */
const SIMMIM_HF_RENAMES: [string, string][] = [
  ['swin.embeddings.mask_token', 'encoder.mask_token'],
  ['swin.embeddings.patch_embeddings.projection.', 'encoder.patch_embed.proj.'],
  ['swin.embeddings.norm.', 'encoder.patch_embed.norm.'],
  ['swin.layernorm.', 'encoder.norm.'],
  ['swin.encoder.layers.', 'encoder.layers.'],
  ['.layernorm_before.', '.norm1.'],
  ['.layernorm_after.', '.norm2.'],
  ['.attention.output.dense.', '.attn.proj.'],
  ['.attention.self.', '.attn.'],
  ['.intermediate.dense.', '.mlp.fc1.'],
  ['.output.dense.', '.mlp.fc2.'],
];

/** Tensors joined along their first dimension (same dtype and trailing shape), read when asked for, like any other. */
function concatRows(parts: TorchTensor[], key: string): TorchTensor {
  const [first] = parts;
  const rest = first.shape.slice(1);
  if (parts.some((p) => p.dtype !== first.dtype || p.shape.slice(1).join('x') !== rest.join('x'))) {
    throw new ConvertError('wrong-checkpoint', `${key}: query, key and value differ in type or shape (${parts.map((p) => `${p.dtype} [${p.shape}]`).join(', ')}).`);
  }
  const nbytes = parts.reduce((n, p) => n + p.numel * p.itemSize, 0);
  const storage = new TorchStorage(key, first.dtype, nbytes, 'cpu', (offset, length) => {
    const all = new Uint8Array(nbytes);
    let at = 0;
    for (const p of parts) {
      const b = p.bytes();
      all.set(b, at);
      at += b.length;
    }
    return all.slice(offset, offset + length);
  });
  const shape = [parts.reduce((n, p) => n + p.shape[0], 0), ...rest];
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return new TorchTensor(storage, first.dtype, shape, stride, 0);
}

/** simmim.py from_hf_layout: the official names, query/key/value joined into qkv. */
function fromSimmimHfLayout(state: Map<string, TorchTensor>): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  const qkv = new Map<string, Partial<Record<'query' | 'key' | 'value', TorchTensor>>>();
  for (const [hfName, tensor] of state) {
    if (!hfName.startsWith('swin.') && !hfName.startsWith('decoder.')) continue; // not SimMIM's (Python reports them)
    let name = hfName;
    for (const [from, to] of SIMMIM_HF_RENAMES) name = name.replaceAll(from, to);
    const m = /^(.*\.attn)\.(query|key|value)\.(weight|bias)$/.exec(name);
    if (!m) {
      out.set(name, tensor);
      continue;
    }
    const key = `${m[1]}.qkv.${m[3]}`;
    const pieces = qkv.get(key) ?? {};
    pieces[m[2] as 'query' | 'key' | 'value'] = tensor;
    qkv.set(key, pieces);
  }
  for (const [key, { query, key: k, value }] of qkv) {
    if (!query || !k || !value) throw new ConvertError('wrong-checkpoint', `Hugging Face checkpoint: ${key} lacks ${[!query && 'query', !k && 'key', !value && 'value'].filter(Boolean).join(', ')}.`);
    out.set(key, concatRows([query, k, value], key));
  }
  return out;
}

const SIMMIM: CheckpointFamily = {
  prefix: 'simmim',
  label: 'SimMIM',
  marker: 'encoder.mask_token',
  weights(checkpoint) {
    const root = checkpoint.value;
    const model = pyGet(root, 'model');
    const state = model instanceof PyDict ? model : root;
    if (state instanceof PyDict && state.has('encoder.mask_token')) return flattenTensors(state);
    if (state instanceof PyDict && state.has('swin.embeddings.mask_token')) return fromSimmimHfLayout(flattenTensors(state));
    if (model instanceof PyDict) return flattenTensors(model); // checked against the slots: missing tensors are listed
    const other = otherFamily(flattenTensors(root), SIMMIM);
    throw new ConvertError('wrong-checkpoint', other
      ? `${checkpoint.file} is a ${other.label} checkpoint, not a SimMIM one.`
      : `${checkpoint.file} holds neither 'model' nor a SimMIM state_dict (top-level keys: ${keysOf(root)}).`);
  },
};

// ── VQ-Diffusion (microsoft/VQ-Diffusion; models/export/vqdiffusion.py select_state) ───────────────────────────────
// One official file makes three cards: ithq_learnable.pth is {'model': DALLE.state_dict(), 'ema':
// DiffusionTransformer.state_dict(), …}. Each part is a sub-dict with a prefix; 'ema' wins where it has the part, as in
// the official inference script. The decoder also comes from ithq_vqvae.pth ('model' = PatchVQGAN, whose decoder.*,
// post_quant_conv.* and quantize.* are the graph's names as they are).

type VqPart = 'text' | 'transformer' | 'decoder';
const VQ_SOURCES: Record<VqPart, [dict: 'ema' | 'model', prefix: string][]> = {
  text: [['ema', 'condition_emb.'], ['model', 'transformer.condition_emb.']],
  transformer: [['ema', ''], ['model', 'transformer.']],
  decoder: [['model', 'content_codec.dec.'], ['model', '']],
};
const VQ_MARKERS: Record<VqPart, string> = { text: 'token_embedding.weight', transformer: 'transformer.to_logits.1.weight', decoder: 'post_quant_conv.weight' };
const VQ_DECODER_FILE_KEYS = ['decoder.', 'post_quant_conv.', 'quantize.'];

function vqPart(cardId: string): VqPart {
  const m = /-(text|transformer|decoder)$/.exec(cardId);
  if (!m) throw new ConvertError('no-template', `${cardId} is not a VQ-Diffusion part (text, transformer or decoder).`);
  return m[1] as VqPart;
}

const VQDIFFUSION: CheckpointFamily = {
  prefix: 'vqdiffusion',
  label: 'VQ-Diffusion',
  marker: 'post_quant_conv.weight',
  weights(checkpoint, context) {
    const part = vqPart(context.cardId);
    const root = checkpoint.value;
    if (!(root instanceof PyDict)) throw new ConvertError('wrong-checkpoint', `${checkpoint.file} holds a ${describeValue(root)}, not a checkpoint dict.`);
    const dicts = new Map<string, PyDict>();
    for (const key of ['model', 'ema']) {
      const d = root.get(key);
      if (d instanceof PyDict) dicts.set(key, d);
    }
    if (!dicts.size) dicts.set('model', root).set('ema', root); // a bare state_dict: the prefixes apply to it directly
    const marker = VQ_MARKERS[part];
    for (const [key, prefix] of VQ_SOURCES[part]) {
      const dict = dicts.get(key);
      if (!dict || !(dict.get(prefix + marker) instanceof TorchTensor)) continue;
      const picked = new Map<string, TorchTensor>();
      for (const [name, tensor] of flattenTensors(dict)) {
        if (!name.startsWith(prefix)) continue;
        const own = name.slice(prefix.length);
        if (part === 'transformer' && own.startsWith('condition_emb.')) continue; // the text encoder's, not the step's
        if (part === 'decoder' && prefix === '' && !VQ_DECODER_FILE_KEYS.some((k) => own.startsWith(k))) continue; // ithq_vqvae.pth's encoder half
        picked.set(own, tensor);
      }
      return picked;
    }
    const other = otherFamily(flattenTensors(root), VQDIFFUSION);
    if (other) throw new ConvertError('wrong-checkpoint', `${checkpoint.file} is a ${other.label} checkpoint, not a VQ-Diffusion one.`);
    const looked = VQ_SOURCES[part].map(([k, p]) => `'${k}' ${p}${marker}`).join(' or ');
    throw new ConvertError('wrong-checkpoint', `${checkpoint.file} holds no VQ-Diffusion ${part} weights (looked for ${looked}; top-level keys: ${keysOf(root)}).${part === 'text' || part === 'transformer' ? ' The text encoder and the transformer are in ithq_learnable.pth, not in ithq_vqvae.pth.' : ''}`);
  },
};

// ── TTVSR (researchmm/TTVSR; models/export/ttvsr.py select_state, load_checkpoint) ──────────────────────────────────
// TTVSR_REDS.pth and TTVSR_Vimeo90K.pth are mmcv checkpoints: {'meta', 'state_dict': the TTVSR restorer's (its buffer
// step_counter, then generator.*), 'optimizer'}. One file makes the five part cards (flow, features, align, refine,
// reconstruct). Each part's template names its slots by the part module's keys, which are the generator's own
// (spynet.*, feat_extractor.*, LTAM.*, resblocks.*, fusion.*, upsample1/2.*, conv_hr.*, conv_last.*): the 'generator.'
// prefix is stripped. step_counter (training iterations), meta and optimizer are not used. A bare generator state_dict
// (no prefix) is accepted too, as ttvsr.py's load does. SPyNet's mean/std buffers are slots: the file's values are used,
// as the official code and ttvsr.py do (with a warning when they are not ImageNet's).

const TTVSR_PREFIX = 'generator.';
/** A key only TTVSR's generator has (other mmedit video models, e.g. BasicVSR, share its SPyNet keys). */
const TTVSR_MARKER = 'LTAM.fusion.weight';
const TTVSR_SPYNET = 'spynet.basic_module.0.basic_module.0.conv.weight';
const IMAGENET: Record<string, number[]> = { 'spynet.mean': [0.485, 0.456, 0.406], 'spynet.std': [0.229, 0.224, 0.225] };

const TTVSR: CheckpointFamily = {
  prefix: 'ttvsr',
  label: 'TTVSR',
  marker: TTVSR_MARKER,
  weights(checkpoint, context) {
    const root = checkpoint.value;
    if (!(root instanceof PyDict)) throw new ConvertError('wrong-checkpoint', `${checkpoint.file} holds a ${describeValue(root)}, not a checkpoint dict.`);
    const stateDict = root.get('state_dict');
    const state = flattenTensors(stateDict instanceof PyDict ? stateDict : root);
    let weights: Map<string, TorchTensor> | undefined;
    if (state.has(TTVSR_PREFIX + TTVSR_MARKER)) {
      weights = new Map([...state].filter(([k]) => k.startsWith(TTVSR_PREFIX)).map(([k, v]) => [k.slice(TTVSR_PREFIX.length), v]));
    } else if (state.has(TTVSR_MARKER)) {
      weights = state;
    }
    if (!weights) {
      const other = otherFamily(state, TTVSR);
      if (other) throw new ConvertError('wrong-checkpoint', `${checkpoint.file} is a ${other.label} checkpoint, not a TTVSR one.`);
      const spynetOnly = state.has(TTVSR_PREFIX + TTVSR_SPYNET) || state.has(TTVSR_SPYNET);
      throw new ConvertError('wrong-checkpoint', `${checkpoint.file} is not a TTVSR checkpoint: no ${TTVSR_PREFIX}${TTVSR_MARKER} in its 'state_dict' (mmcv layout) nor a bare generator state_dict${spynetOnly ? ' (it has a SPyNet but no trajectory attention: another mmedit video model, e.g. BasicVSR?)' : ''}; top-level keys: ${keysOf(root)}.`);
    }
    if (/-flow$/.test(context.cardId)) {
      for (const [name, want] of Object.entries(IMAGENET)) {
        const tensor = weights.get(name);
        if (!tensor || tensor.numel !== want.length) continue; // checked against the slots afterwards
        const got = tensor.toFloat32();
        if (want.some((v, i) => Math.abs(got[i] - v) > 1e-6)) {
          context.warn(`${basename(checkpoint.file)}: SPyNet's ${name.slice('spynet.'.length)} is [${[...got].map((v) => v.toPrecision(4)).join(', ')}], not ImageNet's [${want.join(', ')}]; the conversion uses the file's values, as the official code does. Is it an official TTVSR file?`);
        }
      }
    }
    return weights;
  },
};

const FAMILIES: CheckpointFamily[] = [STYLESWIN, GRAM, SIMMIM, VQDIFFUSION, TTVSR];

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
  /** Other files of the same checkpoint the user gave (GRAM: generator.pth and ema.pth picked together). */
  companions?: string[];
}

export interface Converted {
  card: ModelCard;
  /** Absolute paths of the files written, in the card's order. */
  paths: string[];
  /** What the user should know about the result (e.g. GRAM converted without its EMA weights). */
  warnings: string[];
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
  const other = otherFamily(weights, family);
  const list = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, … (${xs.length - 8} more)` : '');
  const why = [missing.length ? `${missing.length} tensors missing (${list(missing)})` : '', misshaped.length ? `${misshaped.length} of another shape (${list(misshaped)})` : ''].filter(Boolean).join('; ');
  throw new ConvertError('wrong-checkpoint', other
    ? `${file} is a ${other.label} checkpoint, not one for ${cardId}: pick the ${cardId} file.`
    : `${file} does not fit ${cardId}: ${why}. Is it the checkpoint of another ${family.label} model or size?`);
}

/**
 * The computed buffers (template.py's compute_graphs): each is the mean, over `samples` latents z ~ N(0, 1) drawn from
 * Rng(0) in batches of 1000, of the output of its recipe's graph (filled with the same weights) that is named like the
 * buffer, or of the graph's only output. Buffers made by one graph share one pass over the same z (GRAM's average FiLM
 * frequencies and phase shifts; StyleSwin's mean latent is the mapping network's only output).
 */
async function computeBuffers(template: Template, slots: TemplateSlot[], weights: Map<string, TorchTensor>, options: ConvertOptions): Promise<Map<string, Uint8Array>> {
  const byGraph = new Map<string, { recipe: ComputedMeta; slots: TemplateSlot[] }>();
  for (const slot of slots.filter((s) => s.kind === 'computed')) {
    const recipe = template.meta.computed[slot.name];
    if (!recipe) throw new Error(`template ${template.name} has no recipe for ${slot.name}`);
    const group = byGraph.get(recipe.file) ?? { recipe, slots: [] };
    if (group.recipe.samples !== recipe.samples || group.recipe.outputs.join() !== recipe.outputs.join()) throw new Error(`template ${template.name}: the recipes of ${recipe.file} disagree`);
    group.slots.push(slot);
    byGraph.set(recipe.file, group);
  }
  const out = new Map<string, Uint8Array>();
  for (const { recipe, slots: made } of byGraph.values()) {
    const output = (slot: TemplateSlot): string => {
      if (recipe.outputs.includes(slot.name)) return slot.name;
      if (recipe.outputs.length === 1) return recipe.outputs[0];
      throw new Error(`template ${template.name}: ${recipe.file} has no output named ${slot.name} (outputs: ${recipe.outputs.join(', ')})`);
    };
    const graph = readTemplateGraph(template, recipe.file, recipe.sha256);
    const filled = fillInline(graph, (s) => slotBytes(s, weights.get(s.name)!));
    const session = await ort.InferenceSession.create(filled, { intraOpNumThreads: 1 });
    try {
      const input = session.inputMetadata.find((m) => m.name === recipe.inputs[0]);
      const dim = input && input.isTensor ? input.shape.at(-1) : undefined;
      if (typeof dim !== 'number') throw new Error(`template ${template.name}: ${recipe.file}'s input ${recipe.inputs[0]} has no fixed width`);
      const width = dim;
      const sums = made.map((slot) => new Float64Array(slot.byteLength / 4));
      const rng = new Rng(0);
      const batch = 1000;
      for (let done = 0; done < recipe.samples; done += batch) {
        if (options.signal?.aborted) throw new ConvertError('cancelled', 'Conversion cancelled.');
        const n = Math.min(batch, recipe.samples - done);
        const z = rng.normals(n * width);
        const result = await session.run({ [recipe.inputs[0]]: new ort.Tensor('float32', z, [n, width]) });
        made.forEach((slot, k) => {
          const sum = sums[k];
          const y = result[output(slot)].data as Float32Array;
          const m = sum.length;
          if (y.length !== n * m) throw new Error(`template ${template.name}: ${recipe.file} gave ${y.length / n} values per latent for ${slot.name}, which holds ${m}`);
          for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) sum[j] += y[i * m + j];
        });
        options.onProgress?.({ stage: 'compute', done: done + n, total: recipe.samples, message: `Working out the model's average look (${done + n} / ${recipe.samples})` });
      }
      made.forEach((slot, k) => out.set(slot.name, new Uint8Array(Float32Array.from(sums[k], (v) => v / recipe.samples).buffer)));
    } finally {
      await session.release();
    }
  }
  return out;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Writes the slots' bytes at their placements (zero padding between) into a content-addressed file. */
function writeStreamed(
  dir: string, stem: string, ext: string, placements: ExternalPlacement[], value: (slot: TemplateSlot) => Uint8Array,
  signal: AbortSignal | undefined, onWritten: (bytes: number) => void,
): ModelFile & { path: string } {
  const tmp = join(dir, `.${stem}${ext}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  let offset = 0;
  let written = 0;
  try {
    for (const p of placements) {
      if (signal?.aborted) throw new ConvertError('cancelled', 'Conversion cancelled.');
      const pad = new Uint8Array(p.offset - offset);
      const bytes = value(p.slot);
      for (const chunk of [pad, bytes]) {
        if (!chunk.length) continue;
        writeSync(fd, chunk);
        hash.update(chunk);
      }
      offset = p.offset + bytes.length;
      written += bytes.length;
      onWritten(written);
    }
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  const sha256 = hash.digest('hex');
  const name = `${stem}.${sha256.slice(0, 16)}${ext}`;
  renameSync(tmp, join(dir, name));
  return { name, sha256, bytes: offset, path: join(dir, name) };
}

/** Writes `bytes` as `dir/name` whole or not at all (a temporary file renamed into place). */
function writeWhole(dir: string, name: string, bytes: Uint8Array, hash = sha256(bytes)): ModelFile & { path: string } {
  const path = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return { name, sha256: hash, bytes: bytes.length, path };
}

function writeContentAddressed(dir: string, stem: string, ext: string, bytes: Uint8Array): ModelFile & { path: string } {
  const hash = sha256(bytes);
  return writeWhole(dir, `${stem}.${hash.slice(0, 16)}${ext}`, bytes, hash);
}

/** The checkpoint tensors a card ships as files of their own (VQ-Diffusion's null text embedding) are there, in shape. */
function checkFileTensors(extras: TemplateFileMeta[], weights: Map<string, TorchTensor>, cardId: string, file: string): void {
  for (const extra of extras) {
    if (!('tensor' in extra)) continue;
    const tensor = weights.get(extra.tensor);
    if (!tensor) throw new ConvertError('wrong-checkpoint', `${file} does not fit ${cardId}: it has no ${extra.tensor}.`);
    if (tensor.shape.join('x') !== extra.dims.join('x')) throw new ConvertError('wrong-checkpoint', `${file} does not fit ${cardId}: ${extra.tensor} is [${tensor.shape}], needs [${extra.dims}].`);
  }
}

/** Writes one of the template's files (a committed file's copy, or a checkpoint tensor's raw bytes), content-addressed. */
function writeTemplateFile(extra: TemplateFileMeta, dir: string, cardId: string, weights: Map<string, TorchTensor>): ModelFile & { path: string } {
  if ('copy' in extra) {
    const bytes = readFileSync(join(REPO_ROOT, extra.copy));
    if (sha256(bytes) !== extra.sha256) throw new Error(`${extra.copy} is damaged (its sha256 is not ${extra.sha256.slice(0, 16)}…): reinstall Frontier`);
    return writeWhole(dir, basename(extra.copy), bytes, extra.sha256);
  }
  const f = weights.get(extra.tensor)!.toFloat32();
  return writeContentAddressed(dir, `${cardId}${extra.suffix}`, extra.ext, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
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
  progress({ stage: 'read', done: 0, total: 1, message: 'Reading the model file' });
  const checkpoint = readCheckpoint(file);
  const opened: TorchCheckpoint[] = [checkpoint];
  const warnings: string[] = [];
  try {
    const graph = readTemplateGraph(template, template.meta.file, template.meta.sha256);
    const slots = templateSlots(graph);
    const check = (w: Map<string, TorchTensor>) => checkWeights(slots, w, family, cardId, file);
    const weights = family.weights(checkpoint, {
      cardId,
      file,
      companions: options.companions ?? [],
      warn: (message) => warnings.push(message),
      open: (path) => {
        const other = readCheckpoint(path);
        opened.push(other);
        return other;
      },
      check,
    });
    check(weights);
    checkFileTensors(template.meta.files ?? [], weights, cardId, file);

    const computed = await computeBuffers(template, slots, weights, options);
    const value = (slot: TemplateSlot): Uint8Array => computed.get(slot.name) ?? slotBytes(slot, weights.get(slot.name)!);

    const base = template.meta.cards[cardId];
    mkdirSync(options.outDir, { recursive: true });
    const total = slots.reduce((n, s) => n + s.byteLength, 0);
    const paths: string[] = [];
    const files: ModelFile[] = [];
    if (total <= (options.externalAbove ?? 1.5 * 2 ** 30)) {
      progress({ stage: 'write', done: 0, total, message: 'Saving the model' });
      const model = writeContentAddressed(options.outDir, base.id, '.onnx', fillInline(graph, value));
      files.push({ name: model.name, sha256: model.sha256, bytes: model.bytes });
      paths.push(model.path);
    } else {
      // One external data file (its name is its hash), then the graph that points into it. Streamed tensor by
      // tensor: a multi-GB model never sits in memory whole.
      const { placements } = externalLayout(slots);
      const dataFile = writeStreamed(options.outDir, base.id, '.onnx.data', placements, value, options.signal, (written) =>
        progress({ stage: 'write', done: written, total, message: 'Saving the model' }));
      const model = writeContentAddressed(options.outDir, base.id, '.onnx', fillExternal(graph, dataFile.name, placements));
      files.push({ name: model.name, sha256: model.sha256, bytes: model.bytes }, { name: dataFile.name, sha256: dataFile.sha256, bytes: dataFile.bytes, kind: 'onnx-external-data' });
      paths.push(model.path, dataFile.path);
    }
    for (const extra of template.meta.files ?? []) {
      const written = writeTemplateFile(extra, options.outDir, base.id, weights);
      files.push({ name: written.name, sha256: written.sha256, bytes: written.bytes, kind: extra.kind });
      paths.push(written.path);
    }
    progress({ stage: 'write', done: total, total, message: 'Written' });
    const card: ModelCard = {
      ...base,
      files,
      source: { ...base.source, converter: `models/convert/from-checkpoint.ts (template ${template.meta.file})` },
    } as ModelCard;
    return { card, paths, warnings };
  } catch (err) {
    if (options.signal?.aborted && !(err instanceof ConvertError && err.code === 'cancelled')) throw new ConvertError('cancelled', 'Conversion cancelled.');
    throw err;
  } finally {
    for (const c of opened) c.close();
  }
}

/** Removes files a failed or cancelled conversion may have left (content-addressed names never clash). */
export function removeFiles(paths: string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}
