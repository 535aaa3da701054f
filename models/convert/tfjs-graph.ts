// TF.js GRAPH model (a frozen GraphDef as JSON + weight shards) → ONNX, specialised to one input shape.
//
// The MAXIM graphs were exported by jax2tf with free batch/height/width, so most of their ≈43,000 nodes compute
// shapes at run time. Specialising to a fixed input shape makes every shape known here: each node whose inputs
// are all known is evaluated now (constant folding, tf-values.ts), and only the nodes that depend on the image
// become ONNX nodes (tfjs-graph-ops.ts). What is left is a static graph of convolutions, matmuls and elementwise
// ops that every onnxruntime backend (CPU, WASM, WebGPU, CUDA) runs without shape arithmetic.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attr, type Attribute, type InitializerData, type InitializerSpec, type ModelSpec, type NodeSpec } from './onnx-proto.ts';
import { decodeWeights, readWeightShards, type WeightsManifestGroup } from './tfjs-weights.ts';
import { isConst, sizeOf, type DType, type Value, type ValueData } from './tf-values.ts';
import { OPS, type OpContext } from './tfjs-graph-ops.ts';
import { fuseLayerNorms } from './onnx-fuse.ts';
import { gatingWithoutTransposes, geluAsPow } from './onnx-fuse-mlp.ts';

// ---- The TF.js files ------------------------------------------------------------------------------

/** One node of the GraphDef as TF.js writes it (attr values in protobuf JSON form). */
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

export interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { i?: (string | number)[]; s?: string[]; f?: number[]; type?: string[] };
  shape?: { dim?: { size: string | number }[]; unknownRank?: boolean };
  tensor?: unknown;
}

export interface GraphModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: {
    inputs?: Record<string, { name: string; dtype: string }>;
    outputs?: Record<string, { name: string; dtype: string }>;
  };
  modelTopology: { node: TfNode[]; library?: unknown; versions?: unknown };
  weightsManifest: WeightsManifestGroup[];
}

export interface GraphModel {
  json: GraphModelJson;
  /** Const node values by node name. */
  weights: Map<string, Value>;
}

export function readGraphModel(modelJsonPath: string): GraphModel {
  let json: GraphModelJson;
  try {
    json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as GraphModelJson;
  } catch (err) {
    throw new Error(`${modelJsonPath} cannot be read as JSON (${(err as Error).message}); reinstall the package (npm install)`);
  }
  if (json.format !== 'graph-model') {
    throw new Error(`${modelJsonPath}: format "${json.format}" is not a TF.js graph model (layers models: models/convert/tfjs-layers.ts)`);
  }
  const decoded = decodeWeights(readWeightShards(join(modelJsonPath, '..'), json.weightsManifest), ['float32', 'int32']);
  const weights = new Map<string, Value>();
  for (const [name, w] of decoded) weights.set(name, { dtype: w.dtype, shape: w.shape, data: w.data });
  return { json, weights };
}

// ---- Attributes -----------------------------------------------------------------------------------

const base64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

export const attrs = {
  string(node: TfNode, key: string): string {
    const a = node.attr?.[key];
    if (a?.s === undefined) throw new Error(`${describe(node)}: attribute ${key} is missing`);
    return base64(a.s);
  },
  int(node: TfNode, key: string, fallback?: number): number {
    const a = node.attr?.[key];
    if (a?.i === undefined) {
      if (fallback !== undefined) return fallback;
      throw new Error(`${describe(node)}: attribute ${key} is missing`);
    }
    return Number(a.i);
  },
  ints(node: TfNode, key: string): number[] {
    return (node.attr?.[key]?.list?.i ?? []).map(Number);
  },
  bool(node: TfNode, key: string): boolean {
    return node.attr?.[key]?.b === true;
  },
  dtype(node: TfNode, key: string): DType {
    const t = node.attr?.[key]?.type;
    const map: Record<string, DType> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool' };
    const d = t ? map[t] : undefined;
    if (!d) throw new Error(`${describe(node)}: dtype ${t ?? '(none)'} of attribute ${key} is not supported (float32, int32, bool)`);
    return d;
  },
};

export const describe = (node: TfNode): string => `${node.op} node ${node.name}`;

// ---- Conversion -----------------------------------------------------------------------------------

export interface GraphConvertOptions {
  /** ONNX graph name and doc string. */
  name: string;
  docString?: string;
  metadata?: Record<string, string>;
  /** The fixed shape of the model's single input (NHWC for image models). */
  inputShape: number[];
  /** ONNX input and output names (default 'input', 'output'). */
  inputName?: string;
  outputName?: string;
  /** Convert up to this node instead of the signature's output (to check a part of a graph). */
  outputNode?: string;
  /** Called now and then with the share of nodes done (0..1). */
  onProgress?: (done: number) => void;
}

export interface GraphConvertResult {
  model: ModelSpec;
  /** Counts for the log and the bench: TF nodes in, nodes folded, ONNX nodes out. */
  stats: {
    tfNodes: number; folded: number; onnxNodes: number; initializers: number; ops: Record<string, number>;
    /** How many of each pattern onnx-fuse*.ts rewrote. */
    fused: { layerNorm: number; gelu: number; gating: number };
  };
}

/** Largest constant (elements) that folding may create when it is bigger than every input it came from. */
const MAX_GROWN_CONSTANT = 1 << 16;

class Emitter implements OpContext {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  /** The shape of every tensor a node emitted (the gating rewrite needs some). */
  readonly shapes = new Map<string, number[]>();
  private readonly constNames = new WeakMap<ValueData, string>();
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(private readonly prefix: (node: string) => string) {}

  /** A fresh tensor name derived from the TF node name. */
  name(tfNode: string, suffix = ''): string {
    const base = `${this.prefix(tfNode)}${suffix}`;
    let name = base;
    while (this.used.has(name)) name = `${base}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  emit(tfNode: string, opType: string, inputs: string[], shape: number[], dtype: DType, attributes: Attribute[] = [], suffix = ''): Value {
    const output = this.name(tfNode, suffix);
    this.nodes.push({ opType, name: output, inputs, outputs: [output], attributes });
    this.shapes.set(output, shape);
    return { dtype, shape, onnx: output };
  }

  tensor(v: Value, hint = 'const'): string {
    if (v.onnx) return v.onnx;
    const data = v.data!;
    const known = this.constNames.get(data);
    if (known) return known;
    const name = this.name(hint);
    this.initializers.push({ name, dims: v.shape, data: data as InitializerData });
    this.constNames.set(data, name);
    return name;
  }

  int64(values: readonly number[], hint = 'shape'): string {
    const name = this.name(hint);
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  mayFold(outShape: readonly number[], inputs: readonly Value[]): boolean {
    if (!inputs.every(isConst)) return false;
    const out = sizeOf(outShape);
    return out <= MAX_GROWN_CONSTANT || out <= Math.max(...inputs.map((v) => sizeOf(v.shape)));
  }
}

export function convertGraphModel(model: GraphModel, options: GraphConvertOptions): GraphConvertResult {
  const nodes = model.json.modelTopology.node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const placeholders = nodes.filter((n) => n.op === 'Placeholder');
  if (placeholders.length !== 1) throw new Error(`expected one input (Placeholder), found ${placeholders.length}`);
  const outputRef = model.json.signature?.outputs ? Object.values(model.json.signature.outputs) : [];
  if (outputRef.length !== 1) throw new Error(`expected one output in the signature, found ${outputRef.length}`);
  const outputNode = options.outputNode ?? outputRef[0].name.replace(/:0$/, '');
  if (!byName.has(outputNode)) throw new Error(`output node ${outputNode} is not in the graph`);

  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const shortName = (tf: string): string => tf.replace(/^StatefulPartitionedCall\/(jax2tf_apply_\/)?(Wrapper\/)?/, '');
  const emitter = new Emitter(shortName);
  const values = new Map<string, Value>();
  const input = placeholders[0];
  values.set(input.name, { dtype: attrs.dtype(input, 'dtype'), shape: options.inputShape, onnx: inputName });

  const order = topologicalOrder(byName, outputNode);
  let folded = 0;
  const opCounts: Record<string, number> = {};
  order.forEach((node, index) => {
    if (values.has(node.name)) return;
    if (node.op === 'Const') {
      const w = model.weights.get(node.name);
      if (!w) throw new Error(`${describe(node)}: no value in the weights manifest`);
      values.set(node.name, w);
      return;
    }
    const handler = OPS[node.op];
    if (!handler) throw new Error(`${describe(node)}: TF op ${node.op} is not supported by models/convert/tfjs-graph-ops.ts (add it there)`);
    const inputs = dataInputs(node).map((name) => {
      const v = values.get(name);
      if (!v) throw new Error(`${describe(node)}: input ${name} was not computed`);
      return v;
    });
    let out: Value;
    try {
      out = handler(node, inputs, emitter);
    } catch (err) {
      throw new Error(`${describe(node)} (inputs ${inputs.map((v) => `${v.dtype}[${v.shape}]${v.data ? ' const' : ''}`).join(', ')}): ${(err as Error).message}`);
    }
    if (isConst(out)) folded++;
    else opCounts[node.op] = (opCounts[node.op] ?? 0) + 1;
    values.set(node.name, out);
    if (options.onProgress && index % 2000 === 0) options.onProgress(index / order.length);
  });

  let result = values.get(outputNode)!;
  if (isConst(result)) throw new Error('the output does not depend on the input (the whole graph folded to a constant)');
  if (result.dtype !== 'float32') throw new Error(`the output is ${result.dtype}, not float32`);
  // Name the output: an Identity when the last node is also used elsewhere, else rename the last node's output.
  const last = emitter.nodes.find((n) => n.outputs[0] === result.onnx);
  if (last && result.onnx !== inputName) {
    renameTensor(emitter.nodes, result.onnx!, outputName);
  } else {
    result = emitter.emit('output', 'Identity', [result.onnx!], result.shape, 'float32');
    renameTensor(emitter.nodes, result.onnx!, outputName);
  }
  const simplified = simplify(emitter.nodes, inputName, outputName);
  const usedInitializers = new Set(simplified.flatMap((n) => n.inputs));
  const withLayerNorms = fuseLayerNorms({ nodes: simplified, initializers: emitter.initializers.filter((t) => usedInitializers.has(t.name)) });
  const gelus = geluAsPow(withLayerNorms, [outputName]);
  const gating = gatingWithoutTransposes(gelus.graph, [outputName], emitter.shapes);
  const { nodes: onnxNodes, initializers } = gating.graph;
  options.onProgress?.(1);

  const ops: Record<string, number> = {};
  for (const n of onnxNodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  return {
    model: {
      producerName: 'frontier models/convert/tfjs-graph.ts',
      producerVersion: '1',
      docString: options.docString,
      metadata: options.metadata,
      graph: {
        name: options.name,
        nodes: onnxNodes,
        initializers,
        inputs: [{ name: inputName, elemType: 'float32', shape: options.inputShape }],
        outputs: [{ name: outputName, elemType: 'float32', shape: result.shape }],
      },
    },
    stats: {
      tfNodes: nodes.length, folded, onnxNodes: onnxNodes.length, initializers: initializers.length, ops,
      fused: { layerNorm: withLayerNorms.fused, gelu: gelus.rewritten, gating: gating.rewritten },
    },
  };
}

/** Inputs that carry data (control dependencies, written ^name, only order execution in TF). */
function dataInputs(node: TfNode): string[] {
  return (node.input ?? []).filter((i) => !i.startsWith('^')).map((i) => {
    if (/:\d+$/.test(i) && !i.endsWith(':0')) throw new Error(`${describe(node)}: input ${i} is a secondary output (multi-output ops are not supported)`);
    return i.replace(/:0$/, '');
  });
}

/** Nodes the output depends on, inputs before users (iterative: the graph is thousands of nodes deep). */
function topologicalOrder(byName: Map<string, TfNode>, output: string): TfNode[] {
  const order: TfNode[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: { name: string; expanded: boolean }[] = [{ name: output, expanded: false }];
  while (stack.length) {
    const top = stack.pop()!;
    const node = byName.get(top.name);
    if (!node) throw new Error(`node ${top.name} is referenced but not in the graph`);
    if (top.expanded) {
      state.set(top.name, 'done');
      order.push(node);
      continue;
    }
    const s = state.get(top.name);
    if (s === 'done') continue;
    if (s === 'open') throw new Error(`the graph has a cycle through ${top.name}`);
    state.set(top.name, 'open');
    stack.push({ name: top.name, expanded: true });
    for (const i of dataInputs(node)) if (state.get(i) !== 'done') stack.push({ name: i, expanded: false });
  }
  return order;
}

function renameTensor(nodes: NodeSpec[], from: string, to: string): void {
  for (const n of nodes) {
    n.inputs = n.inputs.map((i) => (i === from ? to : i));
    n.outputs = n.outputs.map((o) => (o === from ? to : o));
  }
}

/**
 * Removes what the output does not need and collapses chains the op mapping leaves behind:
 * Reshape∘Reshape, Transpose∘Transpose (identity perms vanish).
 */
function simplify(nodes: NodeSpec[], inputName: string, outputName: string): NodeSpec[] {
  const producer = new Map<string, NodeSpec>();
  for (const n of nodes) producer.set(n.outputs[0], n);
  const permOf = (n: NodeSpec): number[] => (n.attributes?.find((a) => a.name === 'perm')?.value as number[]) ?? [];
  for (const n of nodes) {
    // Reshape of a Reshape: reshape the original.
    if (n.opType === 'Reshape') {
      let src = producer.get(n.inputs[0]);
      while (src?.opType === 'Reshape') {
        n.inputs = [src.inputs[0], n.inputs[1]];
        src = producer.get(n.inputs[0]);
      }
    }
    if (n.opType === 'Transpose') {
      let src = producer.get(n.inputs[0]);
      while (src?.opType === 'Transpose') {
        const inner = permOf(src);
        const outer = permOf(n);
        n.inputs = [src.inputs[0]];
        n.attributes = [attr.ints('perm', outer.map((p) => inner[p]))];
        src = producer.get(n.inputs[0]);
      }
    }
  }
  // Identity transposes become aliases.
  const alias = new Map<string, string>();
  const resolve = (t: string): string => {
    let x = t;
    while (alias.has(x)) x = alias.get(x)!;
    return x;
  };
  for (const n of nodes) {
    if (n.opType === 'Transpose' && permOf(n).every((p, i) => p === i) && n.outputs[0] !== outputName) alias.set(n.outputs[0], n.inputs[0]);
  }
  for (const n of nodes) n.inputs = n.inputs.map((i) => (i ? resolve(i) : i));
  // Dead code: walk back from the output.
  const needed = new Set<string>([outputName]);
  const kept: NodeSpec[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!n.outputs.some((o) => needed.has(o))) continue;
    if (alias.has(n.outputs[0])) continue;
    kept.push(n);
    for (const input of n.inputs) if (input && input !== inputName) needed.add(input);
  }
  return kept.reverse();
}
