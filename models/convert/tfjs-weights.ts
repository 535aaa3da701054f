// Reading TF.js weight shards: shared by the layers-model converter (ESRGAN) and the graph-model converter (MAXIM).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface ShardedWeights {
  weightSpecs: WeightSpec[];
  /** All shards of all manifest groups, concatenated in manifest order. */
  weightData: ArrayBuffer;
}

/** Reads every shard a manifest names (relative to `dir`), in manifest order. */
export function readWeightShards(dir: string, manifest: WeightsManifestGroup[]): ShardedWeights {
  const shards: Uint8Array[] = [];
  const weightSpecs: WeightSpec[] = [];
  for (const group of manifest) {
    for (const path of group.paths) {
      try {
        shards.push(readFileSync(join(dir, path)));
      } catch (err) {
        throw new Error(`weight shard ${join(dir, path)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); reinstall the package (npm install)`);
      }
    }
    weightSpecs.push(...group.weights);
  }
  const total = shards.reduce((n, s) => n + s.length, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const s of shards) {
    weightData.set(s, offset);
    offset += s.length;
  }
  return { weightSpecs, weightData: weightData.buffer };
}

export type WeightArray = Float32Array | Int32Array;

export interface DecodedWeight {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: WeightArray;
}

/**
 * Splits the concatenated weight bytes into named arrays (little-endian, as TF.js writes them).
 * `dtypes` are the ones the caller accepts; quantised weights are refused.
 */
export function decodeWeights(files: ShardedWeights, dtypes: readonly ('float32' | 'int32')[] = ['float32']): Map<string, DecodedWeight> {
  const view = new DataView(files.weightData);
  const weights = new Map<string, DecodedWeight>();
  let offset = 0;
  for (const spec of files.weightSpecs) {
    const dtype = spec.dtype as 'float32' | 'int32';
    if (!dtypes.includes(dtype) || spec.quantization) {
      throw new Error(`weight ${spec.name}: only unquantised ${dtypes.join(' and ')} weights are supported (got ${spec.dtype}${spec.quantization ? ', quantised' : ''})`);
    }
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + count * 4 > view.byteLength) {
      throw new Error(`weight ${spec.name}: the shards hold ${view.byteLength} bytes, fewer than the manifest lists; are all group*-shard*.bin files present?`);
    }
    const data = dtype === 'float32' ? new Float32Array(count) : new Int32Array(count);
    if (dtype === 'float32') for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + i * 4, true);
    else for (let i = 0; i < count; i++) data[i] = view.getInt32(offset + i * 4, true);
    weights.set(spec.name, { dtype, shape: spec.shape, data });
    offset += count * 4;
  }
  if (offset !== view.byteLength) {
    throw new Error(`weight shards hold ${view.byteLength} bytes but the manifest describes ${offset}: the manifest and shards do not match`);
  }
  return weights;
}

/** The model.json fields TF.js's loaders read back, besides the weights. */
export interface TfjsModelJson {
  modelTopology: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: unknown;
}

/**
 * What `tf.loadLayersModel` / `tf.loadGraphModel` take from a custom IOHandler (tf.io.ModelArtifacts), built from
 * files already read: the reference runs that check the converters load the packages' own models this way.
 */
export function tfjsArtifacts(json: TfjsModelJson, weights: ShardedWeights) {
  const { modelTopology, format, generatedBy, convertedBy, signature } = json;
  return { modelTopology, format, generatedBy, convertedBy, signature, weightSpecs: weights.weightSpecs, weightData: weights.weightData };
}
