// The seven MAXIM restoration models (CVPR 2022) shipped as TF.js graph models in @upscalerjs/maxim-* packages:
// where they are, what their package definitions say, and their conversion to ONNX (tfjs-graph.ts).

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ModelCard } from '../../worker/models/card.ts';
import { createHash } from 'node:crypto';
import { encodeModel, initializerBytes, type InitializerSpec, type ModelSpec } from './onnx-proto.ts';
import { convertGraphModel, readGraphModel, type GraphConvertResult } from './tfjs-graph.ts';

export const MAXIM_MODES = ['denoising', 'deblurring', 'deraining', 'dehazing-indoor', 'dehazing-outdoor', 'enhancement', 'retouching'] as const;
export type MaximMode = (typeof MAXIM_MODES)[number];

/** The package's own model definition (CommonJS build). */
export interface MaximPackageDefinition {
  inputRange: [number, number];
  outputRange: [number, number];
  modelType: string;
  divisibilityFactor: number;
  meta: { dataset?: string };
  _internals: { path: string; name: string; version: string };
  setup?: (tf: unknown) => void;
}

export interface MaximModel {
  mode: MaximMode;
  packageName: string;
  packageVersion: string;
  modelJsonPath: string;
  definition: MaximPackageDefinition;
}

const requireFromHere = createRequire(import.meta.url);

export const maximPackage = (mode: MaximMode): string => `@upscalerjs/maxim-${mode}`;

/** `name` overrides the package (tests: a package that is not installed). */
export function describeMaximModel(mode: MaximMode, name = maximPackage(mode)): MaximModel {
  let definition: MaximPackageDefinition;
  let packageDir: string;
  try {
    definition = requireFromHere(name) as MaximPackageDefinition;
    packageDir = packageRoot(requireFromHere.resolve(name), name);
  } catch (err) {
    throw new Error(`the ${mode} model comes from the npm package ${name}, which cannot be loaded (${(err as Error).message.split('\n')[0]}). Install it with: npm install`);
  }
  const d = definition;
  if (d.modelType !== 'graph' || d.inputRange.join() !== '0,1' || d.outputRange.join() !== '0,1') {
    throw new Error(`${name}: expected a graph model with range [0,1] → [0,1], the package says ${d.modelType} ${d.inputRange} → ${d.outputRange}`);
  }
  return { mode, packageName: d._internals.name, packageVersion: d._internals.version, modelJsonPath: join(packageDir, d._internals.path), definition };
}

/** The folder of the package that `entry` belongs to (its package.json is not exported). */
function packageRoot(entry: string, name: string): string {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
  }
  throw new Error(`no package.json of ${name} above ${entry}`);
}

function convertMaximSpec(model: MaximModel, size: number, onProgress?: (done: number) => void): { spec: ModelSpec; stats: GraphConvertResult['stats'] } {
  const factor = model.definition.divisibilityFactor;
  if (size % factor !== 0) throw new Error(`${model.packageName}: tile size ${size} is not a multiple of ${factor}`);
  const source = `${model.packageName}@${model.packageVersion}`;
  const { model: spec, stats } = convertGraphModel(readGraphModel(model.modelJsonPath), {
    name: `maxim-${model.mode}-${size}`,
    docString: `MAXIM ${model.mode} (${model.definition.meta.dataset ?? 'unknown dataset'}) from ${source}, specialised to ${size}×${size} tiles by models/convert/tfjs-graph.ts. Input/output NHWC float32 in [0,1] (output not clamped).`,
    metadata: { source, converter: 'models/convert/tfjs-graph.ts', range: '0-1', layout: 'NHWC', tile: String(size) },
    inputShape: [1, size, size, 3],
    onProgress,
  });
  return { spec, stats };
}

/** Converts one model for input tiles of `size`×`size` (a multiple of the package's divisibility factor): one
 *  self-contained ONNX file. */
export function convertMaxim(model: MaximModel, size: number, onProgress?: (done: number) => void): { bytes: Uint8Array; stats: GraphConvertResult['stats'] } {
  const { spec, stats } = convertMaximSpec(model, size, onProgress);
  return { bytes: encodeModel(spec), stats };
}

/** Initializers at least this large go to the shared weights file; smaller ones (shapes, scalars) stay inline. */
const EXTERNAL_MIN_BYTES = 4096;
/** Offsets in the weights file are page-aligned, as onnxruntime maps it (the same as models/convert/onnx-template.ts). */
const EXTERNAL_ALIGN = 4096;

export interface MaximSizes {
  /** The weights every size shares: `<baseId>.<sha256 prefix>.onnx.data`. */
  weights: { name: string; bytes: Uint8Array };
  /** One graph per size, in the order asked, each pointing into the weights file (tensors that differ stay inline). */
  graphs: { size: number; bytes: Uint8Array }[];
}

/**
 * Converts one model at several tile sizes whose graphs share one weights file, so a larger size for the server costs
 * only its graph (≈ 5 MB) rather than a second copy of the 89 MB of weights. A tensor goes to the shared file when it
 * is large and byte-identical in every size (the weights are; shape constants folded per size are not).
 */
export function convertMaximSizes(model: MaximModel, baseId: string, sizes: number[]): MaximSizes {
  if (!sizes.length) throw new Error('convertMaximSizes: no tile size asked');
  const specs = sizes.map((size) => convertMaximSpec(model, size).spec);
  const key = (t: InitializerSpec, bytes: Uint8Array) => `${t.name}|${t.dims.join('x')}|${createHash('sha256').update(bytes).digest('hex')}`;
  const inEvery = specs.slice(1).map((s) => new Set(s.graph.initializers.map((t) => key(t, initializerBytes(t)))));
  const shared: { key: string; bytes: Uint8Array; offset: number }[] = [];
  let end = 0;
  for (const t of specs[0].graph.initializers) {
    const bytes = initializerBytes(t);
    if (bytes.length < EXTERNAL_MIN_BYTES) continue;
    const k = key(t, bytes);
    if (!inEvery.every((set) => set.has(k))) continue;
    end += (EXTERNAL_ALIGN - (end % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
    shared.push({ key: k, bytes, offset: end });
    end += bytes.length;
  }
  const data = new Uint8Array(end);
  for (const s of shared) data.set(s.bytes, s.offset);
  const name = `${baseId}.${createHash('sha256').update(data).digest('hex').slice(0, 16)}.onnx.data`;
  const at = new Map(shared.map((s) => [s.key, s]));
  const graphs = specs.map((spec, i) => {
    const initializers = spec.graph.initializers.map((t): InitializerSpec => {
      const bytes = initializerBytes(t);
      const place = bytes.length >= EXTERNAL_MIN_BYTES ? at.get(key(t, bytes)) : undefined;
      return place ? { ...t, external: { location: name, offset: place.offset, length: bytes.length } } : t;
    });
    return { size: sizes[i], bytes: encodeModel({ ...spec, graph: { ...spec.graph, initializers } }) };
  });
  return { weights: { name, bytes: data }, graphs };
}

// ---- The registry cards ----------------------------------------------------------------------------------

/** One restoration mode as designers see it, and the package that provides it. */
export interface MaximCardSpec {
  id: string;
  /** The restore task's `mode` value (also the CLI's --mode). */
  mode: string;
  package: MaximMode;
  label: string;
  description: string;
  /** Tile edge the graph is specialised to, the overlap between tiles (input pixels), and whether tiles need one
   *  whole-image estimate of tone (haze, exposure) to agree. */
  tile: { size: number; overlap: number; harmonize?: boolean };
  /** Gaussian σ (px) of the local mean colour the output takes from the input, for degradations that keep it. */
  localMeanFromInput?: number;
  /** Whether Node and the server run a 256-px build (LARGE_TILE), unharmonised. */
  largeTiles: boolean;
}

/**
 * 128-px tiles in the browser: a 128² tile peaks at ≈1 GB in onnxruntime-node (256²: 2.3 GB, too much for a browser
 * tab's WASM heap) and costs about the same per pixel as 256²; the 32-px overlap hides seams.
 */
const TILE = { size: 128, overlap: 32 };
/**
 * 256-px tiles on onnxruntime-node and the server, which have the memory: MAXIM mixes over a grid whose cells grow
 * with its input, so a larger tile sees more of the picture and comes closer to one call on the whole image (on a
 * 512² photo: derain 28.69 → 29.49 dB of one call's 29.78, dehaze 25.3 → 29.8 dB of 31.4; bench/results/restore-tiling.md).
 */
export const LARGE_TILE = { size: 256, overlap: 64 };
const GLOBAL_TILE = { ...TILE, harmonize: true };

export const MAXIM_MODELS: MaximCardSpec[] = [
  { id: 'maxim-denoise', mode: 'denoise', package: 'denoising', label: 'Denoise', description: 'Removes sensor noise and grain from photos (MAXIM trained on SIDD smartphone photos).', tile: TILE, largeTiles: true,
    // Noise has zero mean, so the input's local averages are right, and MAXIM drifts off them on noise unlike SIDD's
    // (+6 to +22 levels in one channel at σ 25–50). σ 4 px: tried 2–32 on the bench photos, within 0.3 dB of the best
    // for every noise level, and the blur leaves ≤ 4 levels of σ-50 noise.
    localMeanFromInput: 4 },
  { id: 'maxim-deblur', mode: 'deblur', package: 'deblurring', label: 'Deblur', description: 'Sharpens photos blurred by camera shake or motion (MAXIM trained on GoPro motion blur).', tile: TILE, largeTiles: true },
  { id: 'maxim-derain', mode: 'derain', package: 'deraining', label: 'Remove rain', description: 'Removes rain streaks from photos (MAXIM trained on Rain13k).', tile: TILE, largeTiles: true },
  { id: 'maxim-dehaze-indoor', mode: 'dehaze-indoor', package: 'dehazing-indoor', label: 'Remove haze (indoor)', description: 'Clears haze from indoor scenes (MAXIM trained on RESIDE indoor).', tile: GLOBAL_TILE,
    // Unharmonised 256-px tiles did worse than harmonised 128-px ones on both bench photos (coffee 14.90 vs 15.99 dB,
    // rocket 15.39 vs 16.05; bench/results/restore-quality.md runs of 2026-12-06 and -05): no larger build.
    largeTiles: false },
  { id: 'maxim-dehaze-outdoor', mode: 'dehaze-outdoor', package: 'dehazing-outdoor', label: 'Remove haze (outdoor)', description: 'Clears haze and fog from outdoor scenes and landscapes (MAXIM trained on RESIDE outdoor).', tile: GLOBAL_TILE, largeTiles: true },
  // Brightening and retouching keep 128-px tiles everywhere, harmonised (as indoor dehazing does): without the whole-picture run (at either tile
  // size) the low-light model paints wavy streaks and halos into a dark sky (rocket, bench/results/restore-low-light.png),
  // which the 128-px whole-picture run evens out; a 256-px build did not help (13.08 dB harmonised vs 13.44 at 128).
  { id: 'maxim-low-light', mode: 'low-light', package: 'enhancement', label: 'Brighten dark photo', description: 'Brightens photos taken in low light and recovers their colours (MAXIM trained on LOL).', tile: GLOBAL_TILE, largeTiles: false },
  { id: 'maxim-retouch', mode: 'retouch', package: 'retouching', label: 'Retouch colours', description: 'Adjusts exposure and colour the way a photo editor would (MAXIM trained on MIT-Adobe FiveK expert retouching).', tile: GLOBAL_TILE, largeTiles: false },
];

/** The id of a mode's larger-tile build (`maxim-derain-256`). */
export const largeTilesId = (spec: MaximCardSpec): string => `${spec.id}-${LARGE_TILE.size}`;

/** A mode's card for the browser's tile size; `files` are its graph and the weights file it shares with its
 *  larger-tile build, where it has one. */
export function maximCard(spec: MaximCardSpec, model: MaximModel, files: ModelCard['files']): ModelCard {
  const card = maximCardAt(spec, spec.tile, model, files);
  return spec.largeTiles ? { ...card, largeTiles: largeTilesId(spec) } : card;
}

/**
 * A mode's larger-tile build, for onnxruntime-node and the server only (too large for the browser). Its tiles are not
 * harmonised: on the 512² astronaut photo the whole-picture run (shrunk to 256 px) pulled dehazed tiles away from one
 * call on the whole image and from the clean photo (29.71 → 26.89 dB; one call 31.41; bench/results/restore-tiling.md),
 * and on the 320² bench photos unharmonised 256-px tiles dehaze coffee to 25.3 dB (20.1 harmonised at 128) and leave
 * rocket's sky one even blue, with no tile bands (bench/results/restore-quality.md).
 */
export function maximLargeTilesCard(spec: MaximCardSpec, model: MaximModel, files: ModelCard['files']): ModelCard {
  const card = maximCardAt(spec, { size: LARGE_TILE.size, overlap: LARGE_TILE.overlap }, model, files);
  return {
    ...card,
    id: largeTilesId(spec),
    role: 'large-tiles',
    label: `${spec.label} (${LARGE_TILE.size}-px tiles)`,
    description: `${spec.description} Built for ${LARGE_TILE.size}-px tiles, which see more of the picture: used on the server and in Node; same weights as ${spec.id}.`,
    targets: ['node', 'server'],
  };
}

function maximCardAt(spec: MaximCardSpec, tile: MaximCardSpec['tile'], model: MaximModel, files: ModelCard['files']): ModelCard {
  const { size } = tile;
  return {
    id: spec.id,
    task: 'restore',
    mode: spec.mode,
    label: spec.label,
    description: spec.description,
    variant: 'full',
    files,
    io: {
      inputs: [{ name: 'input', dtype: 'float32', shape: [1, size, size, 3] }],
      outputs: [{ name: 'output', dtype: 'float32', shape: [1, size, size, 3] }],
      image: { layout: 'NHWC', range: [0, 1] },
      scale: 1,
      tile,
      ...(spec.localMeanFromInput ? { localMeanFromInput: spec.localMeanFromInput } : {}),
    },
    license: 'MIT (package); weights Apache-2.0 upstream (google-research/maxim)',
    source: {
      paper: 'MAXIM: Multi-Axis MLP for Image Processing (Tu et al., CVPR 2022)',
      checkpoint: `${model.packageName}@${model.packageVersion} (${model.definition.meta.dataset ?? 'unknown dataset'})`,
      converter: 'models/convert/tfjs-graph.ts',
    },
    targets: ['webgpu', 'wasm', 'node', 'server'],
  };
}
