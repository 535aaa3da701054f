// The seven MAXIM restoration models (CVPR 2022) shipped as TF.js graph models in @upscalerjs/maxim-* packages:
// where they are, what their package definitions say, and their conversion to ONNX (tfjs-graph.ts).

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

export function describeMaximModel(mode: MaximMode): MaximModel {
  const name = maximPackage(mode);
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
