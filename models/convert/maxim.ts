// The seven MAXIM restoration models (CVPR 2022) shipped as TF.js graph models in @upscalerjs/maxim-* packages:
// where they are, what their package definitions say, and their conversion to ONNX (tfjs-graph.ts).

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ModelCard } from '../../worker/models/card.ts';
import { encodeModel } from './onnx-proto.ts';
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

/** Converts one model for input tiles of `size`×`size` (a multiple of the package's divisibility factor). */
export function convertMaxim(model: MaximModel, size: number, onProgress?: (done: number) => void): { bytes: Uint8Array; stats: GraphConvertResult['stats'] } {
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
  return { bytes: encodeModel(spec), stats };
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
}

/**
 * 128-px tiles: every target runs the same file. A 128² tile peaks at ≈1 GB in onnxruntime-node (256²: 2.3 GB, too
 * much for a browser tab's WASM heap) and costs about the same per pixel as 256²; the 32-px overlap hides seams.
 */
const TILE = { size: 128, overlap: 32 };
/** Dehazing, brightening and retouching estimate haze or exposure from what a tile sees: each 128-px tile of one
 *  sky settled on its own tone (visible bands in bench/results/restore-dehaze-outdoor.png before this). */
const GLOBAL_TILE = { ...TILE, harmonize: true };

export const MAXIM_MODELS: MaximCardSpec[] = [
  { id: 'maxim-denoise', mode: 'denoise', package: 'denoising', label: 'Denoise', description: 'Removes sensor noise and grain from photos (MAXIM trained on SIDD smartphone photos).', tile: TILE,
    // Noise has zero mean, so the input's local averages are right, and MAXIM drifts off them on noise unlike SIDD's
    // (+6 to +22 levels in one channel at σ 25–50). σ 4 px: tried 2–32 on the bench photos, within 0.3 dB of the best
    // for every noise level, and the blur leaves ≤ 4 levels of σ-50 noise.
    localMeanFromInput: 4 },
  { id: 'maxim-deblur', mode: 'deblur', package: 'deblurring', label: 'Deblur', description: 'Sharpens photos blurred by camera shake or motion (MAXIM trained on GoPro motion blur).', tile: TILE },
  { id: 'maxim-derain', mode: 'derain', package: 'deraining', label: 'Remove rain', description: 'Removes rain streaks from photos (MAXIM trained on Rain13k).', tile: TILE },
  { id: 'maxim-dehaze-indoor', mode: 'dehaze-indoor', package: 'dehazing-indoor', label: 'Remove haze (indoor)', description: 'Clears haze from indoor scenes (MAXIM trained on RESIDE indoor).', tile: GLOBAL_TILE },
  { id: 'maxim-dehaze-outdoor', mode: 'dehaze-outdoor', package: 'dehazing-outdoor', label: 'Remove haze (outdoor)', description: 'Clears haze and fog from outdoor scenes and landscapes (MAXIM trained on RESIDE outdoor).', tile: GLOBAL_TILE },
  { id: 'maxim-low-light', mode: 'low-light', package: 'enhancement', label: 'Brighten dark photo', description: 'Brightens photos taken in low light and recovers their colours (MAXIM trained on LOL).', tile: GLOBAL_TILE },
  { id: 'maxim-retouch', mode: 'retouch', package: 'retouching', label: 'Retouch colours', description: 'Adjusts exposure and colour the way a photo editor would (MAXIM trained on MIT-Adobe FiveK expert retouching).', tile: GLOBAL_TILE },
];

export function maximCard(spec: MaximCardSpec, model: MaximModel, file: ModelCard['files'][number]): ModelCard {
  const { size } = spec.tile;
  return {
    id: spec.id,
    task: 'restore',
    mode: spec.mode,
    label: spec.label,
    description: spec.description,
    variant: 'full',
    files: [file],
    io: {
      inputs: [{ name: 'input', dtype: 'float32', shape: [1, size, size, 3] }],
      outputs: [{ name: 'output', dtype: 'float32', shape: [1, size, size, 3] }],
      image: { layout: 'NHWC', range: [0, 1] },
      scale: 1,
      tile: spec.tile,
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
