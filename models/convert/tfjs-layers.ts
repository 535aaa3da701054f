// TF.js LAYERS model (Keras functional JSON + weight shards) → ONNX graph.
//
// The ONNX model takes NHWC float32 [1, H, W, 3] and returns NHWC [1, H*s, W*s, 3]; inside, it transposes
// to NCHW once, runs ONNX Conv/Relu/Concat/... in NCHW, and transposes back once at the end.
// Only the layers the UpscalerJS ESRGAN models use are supported; anything else fails with the layer's name.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attr, type Attribute, type InitializerSpec, type ModelSpec, type NodeSpec } from './onnx-proto.ts';
import { subpixelUpsampleConvs } from './onnx-subpixel.ts';
import { decodeWeights, readWeightShards, type ShardedWeights, type WeightsManifestGroup } from './tfjs-weights.ts';

export type { WeightSpec } from './tfjs-weights.ts';

// ---- The TF.js files -----------------------------------------------------------------------------

export interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  /** One entry per call of the layer; each is a list of [layerName, nodeIndex, tensorIndex, kwargs]. */
  inbound_nodes: [string, number, number, Record<string, unknown>][][];
}

export interface LayersModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: {
    keras_version?: string;
    backend?: string;
    model_config: {
      class_name: string;
      config: {
        name: string;
        layers: KerasLayer[];
        input_layers: [string, number, number][];
        output_layers: [string, number, number][];
      };
    };
  };
  weightsManifest: WeightsManifestGroup[];
}

export interface LayersModelFiles extends ShardedWeights {
  json: LayersModelJson;
}

/** Reads model.json and its weight shards from a directory. */
export function readLayersModel(modelJsonPath: string): LayersModelFiles {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as LayersModelJson;
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new Error(`${modelJsonPath}: format "${json.format}" is not a TF.js layers model (graph models: models/convert/tfjs-graph.ts)`);
  }
  return { json, ...readWeightShards(join(modelJsonPath, '..'), json.weightsManifest) };
}

interface Weight {
  shape: number[];
  data: Float32Array;
}

/** Splits the concatenated weight bytes into named float32 arrays. */
export function splitWeights(files: LayersModelFiles): Map<string, Weight> {
  const weights = new Map<string, Weight>();
  for (const [name, w] of decodeWeights(files, ['float32'])) weights.set(name, { shape: w.shape, data: w.data as Float32Array });
  return weights;
}

// ---- Conversion ----------------------------------------------------------------------------------

export interface ConvertOptions {
  /** Graph name and doc string written into the ONNX file. */
  name: string;
  docString?: string;
  metadata?: Record<string, string>;
  /**
   * Value range the Keras model itself expects and returns. The ONNX model always takes and returns [0,255];
   * for a [0,1] model the graph divides the input by 255 and multiplies the output by 255.
   */
  modelRange: [0, 1] | [0, 255];
  /** Name of the symbolic output dims' suffix, e.g. the scale ("x4" → height_x4). */
  outputDimSuffix: string;
  /**
   * Write nearest UpSampling2D → Conv2D as one low-resolution Conv → DepthToSpace (models/convert/onnx-subpixel.ts):
   * the same function, faster (default true; false gives the layer-by-layer graph, for comparison).
   */
  subpixelUpsampling?: boolean;
}

type Inbound = KerasLayer['inbound_nodes'][number][number];

/** Builds the ONNX graph. Internal tensors are named after the Keras layers that produce them (NCHW). */
export function convertLayersModel(files: LayersModelFiles, options: ConvertOptions): ModelSpec {
  const weights = splitWeights(files);
  const usedWeights = new Set<string>();
  const { config } = files.json.modelTopology.model_config;
  const nodes: NodeSpec[] = [];
  const initializers: InitializerSpec[] = [];
  /** Keras layer name → ONNX tensor name holding its (NCHW) output. */
  const tensorOf = new Map<string, string>();

  const constant = (name: string, dims: number[], values: number[] | Float32Array): string => {
    initializers.push({ name, dims, data: Float32Array.from(values) });
    return name;
  };
  const takeWeight = (layer: KerasLayer, suffix: string): Weight => {
    const key = `${layer.name}/${suffix}`;
    const w = weights.get(key);
    if (!w) throw new Error(`layer ${layer.name} (${layer.class_name}): weight "${key}" is missing from the weights manifest`);
    usedWeights.add(key);
    return w;
  };

  if (config.input_layers.length !== 1 || config.output_layers.length !== 1) {
    throw new Error(`expected one input and one output layer, got ${config.input_layers.length} and ${config.output_layers.length}`);
  }

  // Model input: NHWC [0,255] → NCHW in the model's own range.
  nodes.push({ opType: 'Transpose', name: 'input_to_nchw', inputs: ['input'], outputs: ['input_nchw'], attributes: [attr.ints('perm', [0, 3, 1, 2])] });
  let modelInput = 'input_nchw';
  if (options.modelRange[1] === 1) {
    nodes.push({ opType: 'Div', name: 'input_to_unit_range', inputs: [modelInput, constant('const_255_in', [], [255])], outputs: ['input_unit'] });
    modelInput = 'input_unit';
  }

  for (const layer of config.layers) {
    const inbound = inboundOf(layer);
    const inputs = inbound.map(([source]) => {
      const t = tensorOf.get(source);
      if (!t) throw new Error(`layer ${layer.name}: input layer ${source} has not been converted yet (layers out of topological order?)`);
      return t;
    });
    const out = layer.name;
    const cfg = layer.config;
    switch (layer.class_name) {
      case 'InputLayer': {
        const shape = cfg.batch_input_shape as (number | null)[] | undefined;
        if (!shape || shape.length !== 4 || shape[3] !== 3) {
          throw new Error(`input layer ${layer.name}: expected NHWC with 3 channels, got batch_input_shape ${JSON.stringify(shape)}`);
        }
        tensorOf.set(layer.name, modelInput);
        break;
      }
      case 'Conv2D': {
        expectOneInput(layer, inputs);
        const conv = convAttributes(layer);
        const kernel = takeWeight(layer, 'kernel');
        const [kh, kw, cin, cout] = kernel.shape;
        if (kh !== conv.kernel[0] || kw !== conv.kernel[1] || cout !== cfg.filters) {
          throw new Error(`layer ${layer.name}: kernel shape [${kernel.shape}] does not match kernel_size ${conv.kernel} / filters ${cfg.filters}`);
        }
        const convInputs = [inputs[0], constant(`${layer.name}/kernel`, [cout, cin, kh, kw], kerasKernelToOnnx(kernel))];
        if (cfg.use_bias !== false) convInputs.push(constant(`${layer.name}/bias`, [cout], takeWeight(layer, 'bias').data));
        const activation = String(cfg.activation ?? 'linear');
        const convOut = activation === 'linear' ? out : `${out}/preactivation`;
        nodes.push({ opType: 'Conv', name: layer.name, inputs: convInputs, outputs: [convOut], attributes: conv.attributes });
        if (activation !== 'linear') nodes.push(activationNode(layer, activation, convOut, out));
        tensorOf.set(layer.name, out);
        break;
      }
      case 'Activation': {
        expectOneInput(layer, inputs);
        const activation = String(cfg.activation);
        if (activation === 'linear') tensorOf.set(layer.name, inputs[0]);
        else {
          nodes.push(activationNode(layer, activation, inputs[0], out));
          tensorOf.set(layer.name, out);
        }
        break;
      }
      case 'Concatenate': {
        const axis = Number(cfg.axis ?? -1);
        if (axis !== -1 && axis !== 3) {
          throw new Error(`layer ${layer.name}: Concatenate on axis ${axis} is not supported (only the channel axis, -1 or 3)`);
        }
        nodes.push({ opType: 'Concat', name: layer.name, inputs, outputs: [out], attributes: [attr.int('axis', 1)] });
        tensorOf.set(layer.name, out);
        break;
      }
      case 'Add': {
        if (inputs.length < 2) throw new Error(`layer ${layer.name}: Add needs at least two inputs, got ${inputs.length}`);
        nodes.push({ opType: inputs.length === 2 ? 'Add' : 'Sum', name: layer.name, inputs, outputs: [out] });
        tensorOf.set(layer.name, out);
        break;
      }
      case 'UpSampling2D': {
        expectOneInput(layer, inputs);
        if ((cfg.interpolation ?? 'nearest') !== 'nearest') {
          throw new Error(`layer ${layer.name}: UpSampling2D interpolation "${cfg.interpolation}" is not supported (only nearest)`);
        }
        expectChannelsLast(layer);
        const [sh, sw] = cfg.size as [number, number];
        // TF.js UpSampling2D = resizeNearestNeighbor(alignCorners=false, halfPixelCenters=false):
        // src = floor(dst * in/out), i.e. ONNX asymmetric + floor.
        nodes.push({
          opType: 'Resize', name: layer.name,
          inputs: [inputs[0], '', constant(`${layer.name}/scales`, [4], [1, 1, sh, sw])],
          outputs: [out],
          attributes: [
            attr.string('coordinate_transformation_mode', 'asymmetric'),
            attr.string('mode', 'nearest'),
            attr.string('nearest_mode', 'floor'),
          ],
        });
        tensorOf.set(layer.name, out);
        break;
      }
      case 'MultiplyBeta': {
        // UpscalerJS's MultiplyBeta (dist/.../esrgan.js) ignores its config and multiplies by a fixed 0.2;
        // refuse a config that says otherwise rather than guess which one the weights were trained with.
        expectOneInput(layer, inputs);
        const beta = 0.2;
        if (cfg.beta !== undefined && cfg.beta !== beta) {
          throw new Error(`layer ${layer.name}: MultiplyBeta config has beta=${cfg.beta}, but the UpscalerJS layer always uses ${beta}`);
        }
        nodes.push({ opType: 'Mul', name: layer.name, inputs: [inputs[0], constant(`${layer.name}/beta`, [], [beta])], outputs: [out] });
        tensorOf.set(layer.name, out);
        break;
      }
      default: {
        const shuffle = /^PixelShuffle(\d+)x$/.exec(layer.class_name);
        if (!shuffle) {
          throw new Error(`layer ${layer.name}: layer type ${layer.class_name} is not supported by models/convert/tfjs-layers.ts (add a case for it)`);
        }
        expectOneInput(layer, inputs);
        const blockSize = Number(shuffle[1]);
        if (cfg.scale !== undefined && cfg.scale !== blockSize) {
          throw new Error(`layer ${layer.name}: ${layer.class_name} has scale ${cfg.scale} in its config`);
        }
        // tf.depthToSpace(x, s, 'NHWC') reads channel (i*s + j)*C + c for output pixel (i, j): ONNX mode DCR.
        nodes.push({ opType: 'DepthToSpace', name: layer.name, inputs, outputs: [out], attributes: [attr.int('blocksize', blockSize), attr.string('mode', 'DCR')] });
        tensorOf.set(layer.name, out);
      }
    }
  }

  const unused = [...weights.keys()].filter((k) => !usedWeights.has(k));
  if (unused.length) throw new Error(`weights not used by any layer: ${unused.join(', ')} (unsupported layer weights?)`);

  const outputLayer = config.output_layers[0][0];
  let result = tensorOf.get(outputLayer);
  if (!result) throw new Error(`output layer ${outputLayer} not found among the model's layers`);
  if (options.modelRange[1] === 1) {
    nodes.push({ opType: 'Mul', name: 'output_to_255_range', inputs: [result, constant('const_255_out', [], [255])], outputs: ['output_nchw_255'] });
    result = 'output_nchw_255';
  }
  nodes.push({ opType: 'Transpose', name: 'output_to_nhwc', inputs: [result], outputs: ['output'], attributes: [attr.ints('perm', [0, 2, 3, 1])] });

  const graph = options.subpixelUpsampling === false ? { nodes, initializers } : subpixelUpsampleConvs({ nodes, initializers });
  const s = options.outputDimSuffix;
  return {
    producerName: 'frontier models/convert/tfjs-layers.ts',
    producerVersion: '1',
    docString: options.docString,
    metadata: options.metadata,
    graph: {
      name: options.name,
      nodes: graph.nodes,
      initializers: graph.initializers,
      inputs: [{ name: 'input', elemType: 'float32', shape: [1, 'height', 'width', 3] }],
      outputs: [{ name: 'output', elemType: 'float32', shape: [1, `height_${s}`, `width_${s}`, 3] }],
    },
  };
}

function inboundOf(layer: KerasLayer): Inbound[] {
  if (layer.inbound_nodes.length === 0) return [];
  if (layer.inbound_nodes.length > 1) {
    throw new Error(`layer ${layer.name} is called ${layer.inbound_nodes.length} times (shared layers are not supported)`);
  }
  const inbound = layer.inbound_nodes[0];
  for (const entry of inbound) {
    if (!Array.isArray(entry)) throw new Error(`layer ${layer.name}: inbound_nodes in an unknown (non Keras 2) format`);
    const [, nodeIndex, tensorIndex, kwargs] = entry;
    if (nodeIndex !== 0 || tensorIndex !== 0 || (kwargs && Object.keys(kwargs).length)) {
      throw new Error(`layer ${layer.name}: input ${JSON.stringify(entry)} uses a shared layer, a multi-output layer or call kwargs (not supported)`);
    }
  }
  return inbound;
}

function expectOneInput(layer: KerasLayer, inputs: string[]): void {
  if (inputs.length !== 1) throw new Error(`layer ${layer.name} (${layer.class_name}): expected one input, got ${inputs.length}`);
}

function expectChannelsLast(layer: KerasLayer): void {
  const format = layer.config.data_format ?? 'channels_last';
  if (format !== 'channels_last') throw new Error(`layer ${layer.name}: data_format ${format} is not supported (only channels_last)`);
}

function activationNode(layer: KerasLayer, activation: string, input: string, output: string): NodeSpec {
  const ops: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' };
  const opType = ops[activation];
  if (!opType) throw new Error(`layer ${layer.name}: activation "${activation}" is not supported (relu, sigmoid, tanh, linear)`);
  return { opType, name: `${layer.name}/${activation}`, inputs: [input], outputs: [output] };
}

function pair(value: unknown, what: string, layer: KerasLayer): [number, number] {
  const v = typeof value === 'number' ? [value, value] : (value as number[] | undefined);
  if (!v || v.length !== 2 || !v.every(Number.isInteger)) throw new Error(`layer ${layer.name}: bad ${what} ${JSON.stringify(value)}`);
  return [v[0], v[1]];
}

function convAttributes(layer: KerasLayer): { kernel: [number, number]; attributes: Attribute[] } {
  const cfg = layer.config;
  expectChannelsLast(layer);
  if ((cfg.groups ?? 1) !== 1) throw new Error(`layer ${layer.name}: grouped Conv2D (groups=${cfg.groups}) is not supported`);
  const kernel = pair(cfg.kernel_size, 'kernel_size', layer);
  const strides = pair(cfg.strides ?? 1, 'strides', layer);
  const dilations = pair(cfg.dilation_rate ?? 1, 'dilation_rate', layer);
  const attributes = [attr.ints('kernel_shape', kernel), attr.ints('strides', strides), attr.ints('dilations', dilations)];
  if (cfg.padding === 'same') {
    if (strides[0] === 1 && strides[1] === 1) {
      // TF 'same' pads (k-1)*d in total, the odd pixel at the end; with stride 1 this does not depend on the input size.
      const total = kernel.map((k, i) => (k - 1) * dilations[i]);
      const begin = total.map((t) => Math.floor(t / 2));
      attributes.push(attr.ints('pads', [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]]));
    } else {
      attributes.push(attr.string('auto_pad', 'SAME_UPPER')); // TF puts the extra pixel at the end, as SAME_UPPER does
    }
  } else if (cfg.padding === 'valid') {
    attributes.push(attr.ints('pads', [0, 0, 0, 0]));
  } else {
    throw new Error(`layer ${layer.name}: padding "${cfg.padding}" is not supported (same, valid)`);
  }
  return { kernel, attributes };
}

/** Keras [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
function kerasKernelToOnnx(kernel: Weight): Float32Array {
  const [kh, kw, cin, cout] = kernel.shape;
  const out = new Float32Array(kernel.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = kernel.data[((y * kw + x) * cin + i) * cout + o];
  return out;
}
