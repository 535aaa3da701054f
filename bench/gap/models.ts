// The models bench:gap measures, one per shipped family (ESRGAN's three widths, MAXIM, StyleSwin, SimMIM, GRAM,
// VQ-Diffusion's three graphs, TTVSR's five parts), and how each is had on this machine:
//  - ESRGAN and MAXIM: the real converted weights in models/build/files (npm run build:models).
//  - StyleSwin, SimMIM, GRAM, VQ-Diffusion text encoder and decoder, TTVSR: the committed full-size graph template
//    (models/templates/, what `frontier models install` fills with an official checkpoint) filled with seeded random
//    weights scaled like trained ones (unit-gain layers), so the graph is exactly the shipped full-size one.
//  - VQ-Diffusion's transformer: 5.2 GB of weights do not fit a 4 GiB wasm heap, so, as bench:text-to-image does,
//    export.py makes ITHQ's transformer with 2 of its 36 (identical) blocks from a random checkpoint.
// Speed does not depend on the weight values (no data-dependent control flow in these graphs) as long as the values
// stay finite and away from subnormals: the bench reports each output's range and non-finite count to show it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { Rng, mulberry32 } from '../../worker/random.ts';
import { cameraRays } from '../../worker/render/camera.ts';
import { tokenGrid } from '../../worker/video/ttvsr.ts';
import { fillInline, type TemplateSlot } from '../../models/convert/onnx-template.ts';
import { REPO_ROOT, findTemplate, readTemplateGraph } from '../../models/convert/templates.ts';
import { exportRandomModel, python } from '../common/export.ts';
import type { FeedFile } from '../common/feed-bench/spec.ts';
import { CHECKPOINT, CHECKPOINT_PY, blocksPatch } from '../text-to-image/parts.ts';

export interface GapModel {
  id: string;
  family: string;
  /** What one run computes, in words. */
  input: string;
  /** Where the weights come from, in words. */
  weights: string;
  /** Full-size graph (false: a reduced one, said in `weights`). */
  fullSize: boolean;
  modelPath: string;
  /** External data files the graph names, with where they are. */
  externalData: { path: string; file: string }[];
  feeds: FeedFile[];
  /** What else the report should say about it (a rewrite's check against the original graph). */
  note?: string;
}

export interface GapCase {
  id: string;
  family: string;
  prepare(dirs: { models: string; feeds: string }, log: (line: string) => void): Promise<GapModel>;
}

const BUILD = join(REPO_ROOT, 'models', 'build', 'files');
const registry = () => JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'registry.json'), 'utf8')) as { models: { id: string; files: { name: string; kind?: string }[] }[] };

function writeFeed(dir: string, feed: FeedFile, data: Float32Array | BigInt64Array): FeedFile {
  writeFileSync(join(dir, feed.file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return feed;
}

/** A crop of test/fixtures/images/astronaut.png, NHWC float32 scaled to `max` (255 for ESRGAN, 1 for MAXIM). */
function photoNhwc(x: number, y: number, size: number, max: number): Float32Array {
  const png = PNG.sync.read(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'images', 'astronaut.png')));
  const out = new Float32Array(size * size * 3);
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) for (let ch = 0; ch < 3; ch++) out[(r * size + c) * 3 + ch] = (png.data[((y + r) * png.width + x + c) * 4 + ch] / 255) * max;
  return out;
}

/** Seeded N(0, scale²) values (Box–Muller on mulberry32: fast enough for 90 M weights; inputs and weights only). */
function normals(seed: number, n: number, scale = 1): Float32Array {
  const uniform = mulberry32(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = scale * Math.sqrt(-2 * Math.log(1 - uniform()));
    const a = 2 * Math.PI * uniform();
    v[i] = r * Math.cos(a);
    if (i + 1 < n) v[i + 1] = r * Math.sin(a);
  }
  return v;
}

function built(id: string): { onnx: string; data: string[] } {
  const card = registry().models.find((m) => m.id === id);
  if (!card) throw new Error(`${id}: not in models/registry.json`);
  const [onnx, ...data] = card.files.map((f) => f.name);
  for (const f of [onnx, ...data]) if (!existsSync(join(BUILD, f))) throw new Error(`${join(BUILD, f)} is missing: run npm run build:models`);
  return { onnx: join(BUILD, onnx), data };
}

const ESRGAN_TILE = 96; // the cards' tile size

function esrgan(variant: 'slim' | 'medium' | 'thick'): GapCase {
  const id = `esrgan-${variant}-x4`;
  return {
    id,
    family: 'ESRGAN',
    async prepare(dirs) {
      const feed = writeFeed(dirs.feeds, { name: 'input', dtype: 'float32', dims: [1, ESRGAN_TILE, ESRGAN_TILE, 3], file: `${id}.f32` }, photoNhwc(200, 80, ESRGAN_TILE, 255));
      return { id, family: 'ESRGAN', input: `one ${ESRGAN_TILE}² tile of astronaut.png (the card's tile), ×4`, weights: 'real (UpscalerJS package, converted)', fullSize: true, modelPath: built(id).onnx, externalData: [], feeds: [feed] };
    },
  };
}

const MAXIM: GapCase = {
  id: 'maxim-denoise',
  family: 'MAXIM',
  async prepare(dirs) {
    const { onnx, data } = built('maxim-denoise');
    const image = photoNhwc(176, 48, 128, 1);
    const rng = new Rng(7);
    for (let i = 0; i < image.length; i++) image[i] = Math.min(1, Math.max(0, image[i] + (25 / 255) * rng.normal()));
    const feed = writeFeed(dirs.feeds, { name: 'input', dtype: 'float32', dims: [1, 128, 128, 3], file: 'maxim-denoise.f32' }, image);
    return { id: 'maxim-denoise', family: 'MAXIM', input: 'one 128² tile of astronaut.png with Gaussian noise σ 25/255 (the browser tile)', weights: 'real (UpscalerJS maxim-denoising, converted)', fullSize: true, modelPath: onnx, externalData: data.map((f) => ({ path: f, file: join(BUILD, f) })), feeds: [feed] };
  },
};

/** Seeded random values for a template slot, scaled like a trained network's so activations stay O(1). */
function slotValues(slot: TemplateSlot, seed: number): Uint8Array {
  const n = slot.dims.reduce((a, b) => a * b, 1);
  const last = slot.name.split('.').pop() ?? '';
  let values: Float32Array;
  if (/^(weight|gamma)$/.test(last) && slot.dims.length === 1) values = new Float32Array(n).fill(1); // norm scales
  else if (/^(bias|beta)$/.test(last)) values = normals(seed, n, 0.01);
  else if (/std$|alpha$/.test(last)) values = new Float32Array(n).fill(1);
  else if (last === 'weight' && slot.dims.length >= 2) values = normals(seed, n, 1 / Math.sqrt(slot.dims.slice(1).reduce((a, b) => a * b, 1)));
  else values = normals(seed, n, 0.02); // embeddings, position tables, mask tokens, computed averages
  if (slot.dtype !== 'float32') throw new Error(`${slot.name}: a ${slot.dtype} slot (only float32 slots are filled)`);
  return new Uint8Array(values.buffer);
}

/** The committed full-size template of `cardId` filled with random weights (cached in the models folder). */
function fromTemplate(cardId: string, dir: string, log: (line: string) => void): string {
  const template = findTemplate(cardId);
  if (!template) throw new Error(`${cardId}: no template in models/templates`);
  const path = join(dir, `${cardId}.random-${template.meta.sha256.slice(0, 12)}.onnx`);
  if (existsSync(path)) return path;
  const t = performance.now();
  let seed = 1;
  const filled = fillInline(readTemplateGraph(template, template.meta.file, template.meta.sha256), (slot) => slotValues(slot, seed++));
  writeFileSync(path, filled);
  log(`${cardId}: template filled with random weights (${(filled.byteLength / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return path;
}

const TEMPLATE_WEIGHTS = 'random (seeded, unit-gain scaling) in the committed full-size template';

function templated(id: string, family: string, input: string, feeds: (dir: string) => FeedFile[]): GapCase {
  return {
    id,
    family,
    async prepare(dirs, log) {
      return { id, family, input, weights: TEMPLATE_WEIGHTS, fullSize: true, modelPath: fromTemplate(id, dirs.models, log), externalData: [], feeds: feeds(dirs.feeds) };
    },
  };
}

const STYLESWIN = templated('styleswin-ffhq-256', 'StyleSwin', 'one 256² face from z ~ N(0,1), truncation 0.7', (dir) => [
  writeFeed(dir, { name: 'z', dtype: 'float32', dims: [1, 512], file: 'styleswin-z.f32' }, normals(11, 512)),
  writeFeed(dir, { name: 'truncation', dtype: 'float32', dims: [1], file: 'styleswin-trunc.f32' }, Float32Array.of(0.7)),
]);

function simmimMask(): Float32Array {
  // 60% of the 6×6 grid of 32-px cells masked (seeded), repeated onto the 48×48 token grid (patch 4).
  const rng = new Rng(13);
  const cells = Array.from({ length: 36 }, (_, i) => ({ i, r: rng.uniform() })).sort((a, b) => a.r - b.r).slice(0, 22).map((c) => c.i);
  const mask = new Float32Array(48 * 48);
  for (const cell of cells) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) mask[(Math.floor(cell / 6) * 8 + y) * 48 + (cell % 6) * 8 + x] = 1;
  return mask;
}

const SIMMIM = templated('simmim-swin-base-192', 'SimMIM', 'one 192² tile of astronaut.png (normalised), 60% of its 32-px cells masked', (dir) => {
  const nhwc = photoNhwc(160, 40, 192, 1);
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const nchw = new Float32Array(3 * 192 * 192);
  for (let p = 0; p < 192 * 192; p++) for (let c = 0; c < 3; c++) nchw[c * 192 * 192 + p] = (nhwc[p * 3 + c] - mean[c]) / std[c];
  return [
    writeFeed(dir, { name: 'image', dtype: 'float32', dims: [1, 3, 192, 192], file: 'simmim-image.f32' }, nchw),
    writeFeed(dir, { name: 'mask', dtype: 'float32', dims: [1, 48, 48], file: 'simmim-mask.f32' }, simmimMask()),
  ];
});

const GRAM_RAYS = 32; // a 32×32 block of a 256² view (the card's tile is 64²: cost is linear in rays)
const GRAM = templated('gram-ffhq-256', 'GRAM', `${GRAM_RAYS}×${GRAM_RAYS} rays of a 256² frontal view (fov 12°), z ~ N(0,1), truncation 0.7`, (dir) => {
  const rays = cameraRays({ yaw: Math.PI / 2, pitch: Math.PI / 2 }, 12, 256, { x: 112, y: 112, width: GRAM_RAYS, height: GRAM_RAYS });
  return [
    writeFeed(dir, { name: 'z', dtype: 'float32', dims: [1, 256], file: 'gram-z.f32' }, normals(17, 256)),
    writeFeed(dir, { name: 'truncation', dtype: 'float32', dims: [1], file: 'gram-trunc.f32' }, Float32Array.of(0.7)),
    writeFeed(dir, { name: 'ray_origins', dtype: 'float32', dims: [1, rays.count, 3], file: 'gram-origins.f32' }, rays.origins),
    writeFeed(dir, { name: 'ray_directions', dtype: 'float32', dims: [1, rays.count, 3], file: 'gram-directions.f32' }, rays.directions),
  ];
});

const CLIP_START = 49406;
const CLIP_END = 49407;
const VQ_TEXT = templated('vqdiffusion-ithq-text', 'VQ-Diffusion', 'one prompt: start token, 12 random word ids, end token, padding to 77', (dir) => {
  const rng = new Rng(19);
  const tokens = new BigInt64Array(77);
  tokens[0] = BigInt(CLIP_START);
  for (let i = 1; i <= 12; i++) tokens[i] = BigInt(1 + Math.floor(rng.uniform() * (CLIP_START - 1)));
  tokens[13] = BigInt(CLIP_END);
  return [writeFeed(dir, { name: 'tokens', dtype: 'int64', dims: [1, 77], file: 'vq-text-tokens.i64' }, tokens)];
});

const VQ_DECODER = templated('vqdiffusion-ithq-decoder', 'VQ-Diffusion', 'one 256² image from 32×32 random codes', (dir) => {
  const rng = new Rng(23);
  const tokens = new BigInt64Array(1024);
  for (let i = 0; i < tokens.length; i++) tokens[i] = BigInt(Math.floor(rng.uniform() * 4096));
  return [writeFeed(dir, { name: 'tokens', dtype: 'int64', dims: [1, 1024], file: 'vq-decoder-tokens.i64' }, tokens)];
});

const VQ_BLOCKS = 2;
const VQ_TRANSFORMER: GapCase = {
  id: 'vqdiffusion-ithq-transformer',
  family: 'VQ-Diffusion',
  async prepare(dirs, log) {
    const dir = join(dirs.models, `transformer-${VQ_BLOCKS}-blocks`);
    mkdirSync(dir, { recursive: true });
    const exported = await exportRandomModel('vqdiffusion-ithq-transformer', CHECKPOINT_PY, CHECKPOINT, dir, log, blocksPatch(VQ_BLOCKS));
    const text = new Float32Array(2 * 77 * 512);
    text.set(normals(29, 2 * 77 * 512, 1 / Math.sqrt(512)));
    const feeds = [
      writeFeed(dirs.feeds, { name: 'tokens', dtype: 'int64', dims: [2, 1024], file: 'vq-transformer-tokens.i64' }, new BigInt64Array(2 * 1024).fill(4096n)),
      writeFeed(dirs.feeds, { name: 'timestep', dtype: 'int64', dims: [2], file: 'vq-transformer-timestep.i64' }, BigInt64Array.of(99n, 99n)),
      writeFeed(dirs.feeds, { name: 'text', dtype: 'float32', dims: [2, 77, 512], file: 'vq-transformer-text.f32' }, text),
    ];
    return {
      id: 'vqdiffusion-ithq-transformer',
      family: 'VQ-Diffusion',
      input: 'one denoising step at batch 2 (guidance: prompt + null text), all 1024 tokens masked, timestep 99',
      weights: `random, export.py of ITHQ's transformer with ${VQ_BLOCKS} of its 36 identical blocks (every size as ITHQ; the full 5.2 GB does not fit a 4 GiB wasm heap)`,
      fullSize: false,
      modelPath: exported.onnxPath,
      externalData: [],
      feeds,
    };
  },
};

const TTVSR_SIZE = 64; // H = W: the smallest the parts take (multiples of 4, ≥ 64); a frame's token grid is H/4
const TTVSR_KEYFRAMES = 3;
function ttvsr(part: 'flow' | 'features' | 'align' | 'refine' | 'reconstruct'): GapCase {
  const id = `ttvsr-reds-${part}`;
  const s = TTVSR_SIZE;
  const t = s / 4;
  const k = TTVSR_KEYFRAMES;
  return templated(id, 'TTVSR', `${s}×${s} frame${part === 'align' ? `, ${k} keyframes of tokens` : ''}`, (dir) => {
    const f = (name: string, dims: number[], seed: number, scale = 1, data?: Float32Array) => writeFeed(dir, { name, dtype: 'float32', dims, file: `${id}-${name}.f32` }, data ?? normals(seed, dims.reduce((a, b) => a * b, 1), scale));
    const frame = (name: string, seed: number) => f(name, [1, 3, s, s], seed, 1, Float32Array.from(normals(seed, 3 * s * s, 0.2), (v) => Math.min(1, Math.max(0, 0.5 + v))));
    const feature = (name: string, seed: number) => f(name, [1, 64, s, s], seed);
    if (part === 'flow') return [frame('reference', 31), frame('supporting', 32)];
    if (part === 'features') return [frame('frame', 33)];
    if (part === 'refine') return [feature('feature', 34), feature('aligned', 35)];
    if (part === 'reconstruct') return [frame('frame', 36), feature('backward', 37), feature('feature', 38), feature('forward', 39)];
    const grid = tokenGrid(1, t, t).data as Float32Array;
    const location = new Float32Array(k * grid.length);
    for (let i = 0; i < k; i++) location.set(grid, i * grid.length);
    return [
      feature('feature', 40),
      feature('propagated', 41),
      f('flow', [1, 2, s, s], 42, 0.5),
      f('location', [1, k, 2, t, t], 0, 1, location),
      ...['tokens_s1', 'tokens_s2', 'tokens_s3', 'tokens_index'].map((name, i) => f(name, [1, k, 1024, t, t], 43 + i)),
    ];
  });
}

// Experiments (not in the default run): graphs written by bench/gap/micro.py, input N(0, 1).
const MICRO_INPUTS: Record<string, number[]> = {
  'micro-conv7-64to32': [1, 64, 64, 64],
  'micro-conv7-32to64': [1, 32, 64, 64],
  'micro-conv7-64to32-dynamic': [1, 64, 64, 64],
  'micro-conv3-64to64': [1, 64, 64, 64],
  'micro-conv7-64to32-s8': [1, 64, 8, 8],
  'micro-conv7-64to32-s16': [1, 64, 16, 16],
  'micro-conv5-64to64': [1, 64, 64, 64],
};

function micro(id: string): GapCase {
  return {
    id,
    family: 'experiment',
    async prepare(dirs) {
      const dir = join(dirs.models, 'micro');
      const path = join(dir, `${id}.onnx`);
      if (!existsSync(path)) {
        mkdirSync(dir, { recursive: true });
        await python([join(REPO_ROOT, 'bench', 'gap', 'micro.py'), dir], 'bench/gap/micro.py', false);
      }
      const dims = MICRO_INPUTS[id];
      const feed = writeFeed(dirs.feeds, { name: 'x', dtype: 'float32', dims, file: `${id}.f32` }, normals(3, dims.reduce((a, b) => a * b, 1)));
      return { id, family: 'experiment', input: `x ~ N(0,1) [${dims}]`, weights: 'random (bench/gap/micro.py)', fullSize: true, modelPath: path, externalData: [], feeds: [feed] };
    },
  };
}

/** SPyNet (ttvsr-reds-flow) cut by bench/gap/cut_flow.py: its last (64-px) level alone, and everything before it. */
async function cutFlow(dirs: { models: string; feeds: string }, log: (line: string) => void): Promise<{ flow: GapModel; dir: string }> {
  const flow = await ttvsr('flow').prepare(dirs, log);
  const dir = join(dirs.models, 'micro');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'micro-flow-pre64.onnx')) || !existsSync(join(dir, 'micro-flow-module64.onnx'))) await python([join(REPO_ROOT, 'bench', 'gap', 'cut_flow.py'), flow.modelPath, dir], 'bench/gap/cut_flow.py', false);
  return { flow, dir };
}

const FLOW_PRE: GapCase = {
  id: 'micro-flow-pre64',
  family: 'experiment',
  async prepare(dirs, log) {
    const { flow, dir } = await cutFlow(dirs, log);
    return { ...flow, id: 'micro-flow-pre64', family: 'experiment', modelPath: join(dir, 'micro-flow-pre64.onnx'), input: `${flow.input}; up to the 64-px level's input` };
  },
};

const FLOW_MODULE: GapCase = {
  id: 'micro-flow-module64',
  family: 'experiment',
  async prepare(dirs, log) {
    const { dir } = await cutFlow(dirs, log);
    const feed = writeFeed(dirs.feeds, { name: 'x', dtype: 'float32', dims: [1, 8, 64, 64], file: 'micro-flow-module64.f32' }, normals(3, 8 * 64 * 64));
    return { id: 'micro-flow-module64', family: 'experiment', input: 'x ~ N(0,1) [1,8,64,64]: the 64-px level alone', weights: TEMPLATE_WEIGHTS, fullSize: true, modelPath: join(dir, 'micro-flow-module64.onnx'), externalData: [], feeds: [feed] };
  },
};

export const EXPERIMENTS: GapCase[] = [...Object.keys(MICRO_INPUTS).map(micro), FLOW_MODULE, FLOW_PRE];

export const CASES: GapCase[] = [
  esrgan('slim'),
  esrgan('medium'),
  esrgan('thick'),
  MAXIM,
  STYLESWIN,
  SIMMIM,
  GRAM,
  VQ_TEXT,
  VQ_TRANSFORMER,
  VQ_DECODER,
  ...(['flow', 'features', 'align', 'refine', 'reconstruct'] as const).map(ttvsr),
];
