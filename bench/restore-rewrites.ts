// EXPERIMENTAL graph rewrites of the converter's MAXIM ONNX graphs, applied in the bench (bench/restore.ts) to measure
// what the converter (models/convert/tfjs-graph*.ts) would gain by emitting these forms itself. geluPow and
// gatingMatMul paid on both runtimes and are now the converter's own (models/convert/onnx-fuse-mlp.ts): here they
// call it, and on graphs converted since then they match nothing. Each rewrite takes the decoded model
// (bench/restore-onnx.ts readModel), replaces the nodes of a matched pattern by the new form, leaves the old nodes
// for dead-code removal, and says how many it matched and how many it could not.
//
//   layerNorm   jax's LayerNorm as the graph spells it:
//                 mean = ReduceSum(x)·(1/C); var = Max(0, ReduceSum(x·x)·(1/C) − mean·mean);
//                 y = (x − mean) · (Reciprocal(Sqrt(var + eps)) · gamma) + beta
//               → LayerNormalization(x, gamma, beta, axis −1, epsilon) (opset 17).
//   geluPow     jax's tanh GELU  0.5x · (1 + tanh(0.79788 · (x + (0.044715x)·(x·x))))
//               → the Pow(x, 3) form onnxruntime's FastGeluFusion recognises (its second formula), which
//                 onnxruntime then fuses into one com.microsoft FastGelu node where that kernel exists.
//   geluSigmoid the same GELU as x · Sigmoid(1.59577 · (x + 0.044715·x³)) (0.5·(1 + tanh z) = sigmoid(2z), exact),
//               plain opset 17 ops.
//   sigmoid     Reciprocal(1 + Exp(−v)) → Sigmoid(v).
//   gatingMatMul  MAXIM's spatial gating (gMLP grid and block units) as the graph spells it: Transpose (swap the
//               mixed axis to the end) → MatMul(W) → Add(bias) → Transpose back. Written instead as one MatMul with the
//               weight on the left, which contracts the axis where it is: for perm [0,1,3,2] (block: mix axis 2)
//               MatMul(Wᵀ, x) broadcast over [n, A]; for perm [0,3,2,1] (grid: mix axis 1) Reshape x to [n, A, B·C],
//               MatMul(Wᵀ, ·), Reshape back. Two transposes fewer per unit; the bias becomes a column.
//   layerNormUnfused  the reverse of layerNorm, for a graph whose converter already emits LayerNormalization:
//               ReduceMean → Sub → Mul(d,d) → ReduceMean → +eps → Sqrt → Reciprocal → ·d → ·gamma → +beta (no Pow or
//               Div, so onnxruntime's LayerNormFusion leaves it alone): what the fused op gains or costs per runtime.
import type { InitializerSpec, ModelSpec, NodeSpec } from '../models/convert/onnx-proto.ts';
import { attr } from '../models/convert/onnx-proto.ts';
import { GELU_C, GELU_K, GraphIndex as FuseIndex, gatingWithoutTransposes, geluAsPow, matchGelu } from '../models/convert/onnx-fuse-mlp.ts';

export type RewriteName = 'layerNorm' | 'geluPow' | 'geluSigmoid' | 'sigmoid' | 'layerNormUnfused' | 'gatingMatMul';

export interface RewriteReport {
  name: RewriteName;
  matched: number;
  /** Anchors (Sqrt, Tanh, Exp nodes) whose surroundings did not match. */
  unmatched: number;
  nodesBefore: number;
  nodesAfter: number;
}

class GraphIndex {
  readonly producer = new Map<string, NodeSpec>();
  readonly consumers = new Map<string, NodeSpec[]>();
  readonly inits: Map<string, InitializerSpec>;
  private counter = 0;

  constructor(readonly model: ModelSpec) {
    this.inits = new Map(model.graph.initializers.map((i) => [i.name, i]));
    for (const n of model.graph.nodes) {
      for (const o of n.outputs) this.producer.set(o, n);
      for (const i of n.inputs) {
        if (!this.consumers.has(i)) this.consumers.set(i, []);
        this.consumers.get(i)!.push(n);
      }
    }
  }

  op(t: string | undefined, type: string): NodeSpec | undefined {
    const n = t === undefined ? undefined : this.producer.get(t);
    return n?.opType === type ? n : undefined;
  }

  /** The value of a one-element float initializer. */
  scalar(t: string): number | undefined {
    const i = this.inits.get(t);
    return i && i.data instanceof Float32Array && i.data.length === 1 ? i.data[0] : undefined;
  }

  floatConst(t: string): InitializerSpec | undefined {
    const i = this.inits.get(t);
    return i && i.data instanceof Float32Array ? i : undefined;
  }

  /** For a binary node: [the operand that is a scalar equal to `value` (±rel), the other operand]. */
  withScalar(n: NodeSpec, value?: number): [number, string] | undefined {
    for (const k of [0, 1]) {
      const v = this.scalar(n.inputs[k]);
      if (v !== undefined && (value === undefined || Math.abs(v - value) <= Math.abs(value) * 1e-6)) return [v, n.inputs[1 - k]];
    }
    return undefined;
  }

  only(t: string): NodeSpec | undefined {
    const c = this.consumers.get(t) ?? [];
    return c.length === 1 ? c[0] : undefined;
  }

  fresh(hint: string): string {
    return `${hint}/rw${++this.counter}`;
  }

  constant(hint: string, data: Float32Array | BigInt64Array, dims: number[]): string {
    const name = this.fresh(hint);
    const init = { name, dims, data };
    this.model.graph.initializers.push(init);
    this.inits.set(name, init);
    return name;
  }
}

const other = (n: NodeSpec, t: string) => (n.inputs[0] === t ? n.inputs[1] : n.inputs[0]);

/** Replaces `last`'s place in the node list by `nodes` (same final output name), keeping topological order. */
function replaceAt(nodes: NodeSpec[], last: NodeSpec, replacement: NodeSpec[]): NodeSpec[] {
  const i = nodes.indexOf(last);
  return [...nodes.slice(0, i), ...replacement, ...nodes.slice(i + 1)];
}

function layerNorm(g: GraphIndex): { matched: number; unmatched: number; nodes: NodeSpec[] } {
  let nodes = g.model.graph.nodes;
  let matched = 0;
  let unmatched = 0;
  for (const sqrt of g.model.graph.nodes.filter((n) => n.opType === 'Sqrt')) {
    const m = (() => {
      const addEps = g.op(sqrt.inputs[0], 'Add');
      const eps = addEps && g.withScalar(addEps);
      const reshape = eps && g.op(eps[1], 'Reshape');
      const max = reshape && g.op(reshape.inputs[0], 'Max');
      const zero = max && g.withScalar(max, 0);
      const sub = zero && g.op(zero[1], 'Sub');
      if (!eps || !reshape || !zero || !sub || zero[0] !== 0) return undefined;
      const meanSq = g.op(sub.inputs[0], 'Mul');
      const sqMean = g.op(sub.inputs[1], 'Mul');
      if (!meanSq || !sqMean || sqMean.inputs[0] !== sqMean.inputs[1]) return undefined;
      const mean = g.op(sqMean.inputs[0], 'Mul');
      const invC1 = mean && g.withScalar(mean);
      const invC2 = g.withScalar(meanSq);
      const sumX = invC1 && g.op(invC1[1], 'ReduceSum');
      const sumSq = invC2 && g.op(invC2[1], 'ReduceSum');
      const sq = sumSq && g.op(sumSq.inputs[0], 'Mul');
      if (!mean || !invC1 || !invC2 || !sumX || !sumSq || !sq || sq.inputs[0] !== sq.inputs[1]) return undefined;
      const x = sumX.inputs[0];
      if (sq.inputs[0] !== x || invC1[0] !== invC2[0]) return undefined;
      const shape = g.inits.get(reshape.inputs[1])?.data;
      const axes = g.inits.get(sumX.inputs[1])?.data;
      const axesSq = g.inits.get(sumSq.inputs[1])?.data;
      if (!(shape instanceof BigInt64Array) || !(axes instanceof BigInt64Array) || axes.length !== 1 || axesSq?.length !== 1 || axesSq[0] !== axes[0]) return undefined;
      const rank = shape.length;
      const axis = Number(axes[0]);
      if ((axis !== rank - 1 && axis !== -1) || Number(shape[rank - 1]) !== 1) return undefined;
      const channels = Math.round(1 / invC1[0]);
      if (Math.abs(1 / channels - invC1[0]) > 1e-9) return undefined;
      // Forward: Reciprocal → Mul(gamma) → Mul(x − mean, ·) → Add(beta).
      const recip = g.only(sqrt.outputs[0]);
      if (recip?.opType !== 'Reciprocal') return undefined;
      const scale = g.only(recip.outputs[0]);
      const gamma = scale?.opType === 'Mul' ? g.floatConst(other(scale, recip.outputs[0])) : undefined;
      if (!scale || !gamma || gamma.data.length !== channels) return undefined;
      const norm = g.only(scale.outputs[0]);
      if (norm?.opType !== 'Mul') return undefined;
      const centered = g.op(other(norm, scale.outputs[0]), 'Sub');
      const meanShaped = centered && g.op(centered.inputs[1], 'Reshape');
      if (!centered || centered.inputs[0] !== x || meanShaped?.inputs[0] !== mean.outputs[0]) return undefined;
      const shift = g.only(norm.outputs[0]);
      const beta = shift?.opType === 'Add' ? g.floatConst(other(shift, norm.outputs[0])) : undefined;
      if (!shift || !beta || beta.data.length !== channels) return undefined;
      return { x, epsilon: eps[0], gamma, beta, last: shift };
    })();
    if (!m) {
      unmatched++;
      continue;
    }
    matched++;
    const gamma = g.constant(`${m.last.name}/gamma`, m.gamma.data as Float32Array, [m.gamma.data.length]);
    const beta = g.constant(`${m.last.name}/beta`, m.beta.data as Float32Array, [m.beta.data.length]);
    nodes = replaceAt(nodes, m.last, [{
      opType: 'LayerNormalization',
      name: `${m.last.name}/LayerNormalization`,
      inputs: [m.x, gamma, beta],
      outputs: [m.last.outputs[0]],
      attributes: [attr.int('axis', -1), attr.float('epsilon', m.epsilon)],
    }]);
  }
  return { matched, unmatched, nodes };
}

/** GELU as x · Sigmoid(2k · (x + c·x³)) (0.5·(1 + tanh z) = sigmoid(2z), exact), plain opset 17 ops. */
function geluSigmoid(g: GraphIndex): { matched: number; unmatched: number; nodes: NodeSpec[] } {
  let nodes = g.model.graph.nodes;
  let matched = 0;
  let unmatched = 0;
  const three = g.constant('gelu/three', Float32Array.of(3), []);
  const c = g.constant('gelu/c', Float32Array.of(GELU_C), []);
  const k2 = g.constant('gelu/2k', Float32Array.of(2 * GELU_K), []);
  const fuse = new FuseIndex(g.model.graph);
  for (const tanh of g.model.graph.nodes.filter((n) => n.opType === 'Tanh')) {
    const m = matchGelu(fuse, tanh);
    if (!m) {
      unmatched++;
      continue;
    }
    matched++;
    const t = (s: string) => `${m.last.name}/${s}`;
    const mk = (opType: string, inputs: string[], output: string): NodeSpec => ({ opType, name: output, inputs, outputs: [output] });
    nodes = replaceAt(nodes, m.last, [
      mk('Pow', [m.x, three], t('pow')),
      mk('Mul', [t('pow'), c], t('mul_c')),
      mk('Add', [m.x, t('mul_c')], t('add_x')),
      mk('Mul', [t('add_x'), k2], t('mul_2k')),
      mk('Sigmoid', [t('mul_2k')], t('sigmoid')),
      mk('Mul', [m.x, t('sigmoid')], m.last.outputs[0]),
    ]);
  }
  return { matched, unmatched, nodes };
}

/** The converter's own rewrites (models/convert/onnx-fuse-mlp.ts), for graphs converted before it made them. */
function converterRewrite(g: GraphIndex, which: 'geluPow' | 'gatingMatMul'): { matched: number; unmatched: number; nodes: NodeSpec[] } {
  const { graph } = g.model;
  const outputs = graph.outputs.map((o) => o.name);
  const r = which === 'geluPow' ? geluAsPow(graph, outputs) : gatingWithoutTransposes(graph, outputs, inferShapes(g.model));
  graph.initializers = r.graph.initializers;
  return { matched: r.rewritten, unmatched: 0, nodes: r.graph.nodes };
}

function sigmoid(g: GraphIndex): { matched: number; unmatched: number; nodes: NodeSpec[] } {
  let nodes = g.model.graph.nodes;
  let matched = 0;
  let unmatched = 0;
  for (const exp of g.model.graph.nodes.filter((n) => n.opType === 'Exp')) {
    const neg = g.op(exp.inputs[0], 'Neg');
    const add = g.only(exp.outputs[0]);
    const recip = add?.opType === 'Add' && g.withScalar(add, 1)?.[1] === exp.outputs[0] ? g.only(add.outputs[0]) : undefined;
    if (!neg || recip?.opType !== 'Reciprocal' || (g.consumers.get(neg.outputs[0]) ?? []).length !== 1) {
      unmatched++;
      continue;
    }
    matched++;
    nodes = replaceAt(nodes, recip, [{ opType: 'Sigmoid', name: `${recip.name}/Sigmoid`, inputs: [neg.inputs[0]], outputs: [recip.outputs[0]] }]);
  }
  return { matched, unmatched, nodes };
}

function layerNormUnfused(g: GraphIndex): { matched: number; unmatched: number; nodes: NodeSpec[] } {
  let nodes = g.model.graph.nodes;
  let matched = 0;
  let unmatched = 0;
  for (const ln of g.model.graph.nodes.filter((n) => n.opType === 'LayerNormalization')) {
    // The converter emits LayerNormalization only over the last axis (models/convert/onnx-fuse.ts), so normalising
    // "from axis to the end" is a reduction over that one axis.
    const axis = (ln.attributes?.find((a) => a.name === 'axis')?.value as number | undefined) ?? -1;
    const epsilon = (ln.attributes?.find((a) => a.name === 'epsilon')?.value as number | undefined) ?? 1e-5;
    const [x, gamma, beta] = ln.inputs;
    if (ln.outputs.length !== 1 || !gamma || !beta) {
      unmatched++;
      continue;
    }
    matched++;
    const t = (s: string) => `${ln.name}/unfused/${s}`;
    const eps = g.constant(t('eps'), Float32Array.of(epsilon), []);
    const mk = (opType: string, inputs: string[], output: string, attributes: NodeSpec['attributes'] = []): NodeSpec => ({ opType, name: output, inputs, outputs: [output], attributes });
    const mean = [attr.ints('axes', [axis]), attr.int('keepdims', 1)];
    nodes = replaceAt(nodes, ln, [
      mk('ReduceMean', [x], t('mean'), mean),
      mk('Sub', [x, t('mean')], t('d')),
      mk('Mul', [t('d'), t('d')], t('d2')),
      mk('ReduceMean', [t('d2')], t('var'), mean),
      mk('Add', [t('var'), eps], t('var_eps')),
      mk('Sqrt', [t('var_eps')], t('std')),
      mk('Reciprocal', [t('std')], t('inv')),
      mk('Mul', [t('d'), t('inv')], t('norm')),
      mk('Mul', [t('norm'), gamma], t('scaled')),
      mk('Add', [t('scaled'), beta], ln.outputs[0]),
    ]);
  }
  return { matched, unmatched, nodes };
}

// ---- Shapes (the ops the converter emits; enough for the gating rewrite) --------------------------------------------

function broadcast(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'Where', 'Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'And']);
const SAME_SHAPE = new Set(['Tanh', 'Neg', 'Exp', 'Reciprocal', 'Sqrt', 'Sigmoid', 'Abs', 'Floor', 'Sign', 'Not', 'Cast', 'Identity', 'LayerNormalization']);

/** Every tensor's shape, from the graph input's and the initializers' (throws on an op it does not know). */
export function inferShapes(model: ModelSpec): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const i of model.graph.inputs) shapes.set(i.name, i.shape.map(Number));
  for (const t of model.graph.initializers) shapes.set(t.name, t.dims);
  const ints = (name: string) => Array.from(model.graph.initializers.find((t) => t.name === name)!.data as BigInt64Array, Number);
  const intsOf = new Map<string, number[]>();
  const constInts = (name: string) => {
    if (!intsOf.has(name)) intsOf.set(name, ints(name));
    return intsOf.get(name)!;
  };
  const a = (n: NodeSpec, key: string) => n.attributes?.find((x) => x.name === key)?.value;
  for (const n of model.graph.nodes) {
    const ins = n.inputs.map((i) => shapes.get(i));
    const x = ins[0]!;
    let out: number[];
    if (ELEMENTWISE.has(n.opType)) out = ins.reduce<number[]>((acc, s) => broadcast(acc, s!), []);
    else if (SAME_SHAPE.has(n.opType)) out = [...x];
    else if (n.opType === 'Transpose') out = (a(n, 'perm') as number[]).map((p) => x[p]);
    else if (n.opType === 'Reshape') {
      const target = constInts(n.inputs[1]).map((d, i) => (d === 0 ? x[i] : d));
      const known = target.filter((d) => d !== -1).reduce((p, q) => p * q, 1);
      const total = x.reduce((p, q) => p * q, 1);
      out = target.map((d) => (d === -1 ? total / known : d));
    } else if (n.opType === 'MatMul') {
      const b = ins[1]!;
      const batch = broadcast(x.slice(0, -2), b.slice(0, -2));
      out = [...batch, x[x.length - 2], b[b.length - 1]];
    } else if (n.opType === 'Conv' || n.opType === 'ConvTranspose') {
      const w = ins[1]!;
      const k = a(n, 'kernel_shape') as number[];
      const st = (a(n, 'strides') as number[]) ?? [1, 1];
      const d = (a(n, 'dilations') as number[]) ?? [1, 1];
      const p = (a(n, 'pads') as number[]) ?? [0, 0, 0, 0];
      const op = (a(n, 'output_padding') as number[]) ?? [0, 0];
      const spatial = [0, 1].map((i) => n.opType === 'Conv'
        ? Math.floor((x[2 + i] + p[i] + p[i + 2] - ((k[i] - 1) * d[i] + 1)) / st[i]) + 1
        : st[i] * (x[2 + i] - 1) + op[i] + ((k[i] - 1) * d[i] + 1) - p[i] - p[i + 2]);
      out = [x[0], n.opType === 'Conv' ? w[0] : w[1], ...spatial];
    } else if (n.opType === 'Concat') {
      const axis = ((a(n, 'axis') as number) + x.length) % x.length;
      out = [...x];
      out[axis] = ins.reduce((sum, s) => sum + s![axis], 0);
    } else if (n.opType === 'Slice') {
      const [starts, ends, axes, steps] = n.inputs.slice(1).map(constInts);
      out = [...x];
      axes.forEach((ax, i) => {
        const axis = (ax + x.length) % x.length;
        const clamp = (v: number) => Math.max(0, Math.min(x[axis], v < 0 ? v + x[axis] : v));
        out[axis] = Math.max(0, Math.ceil((clamp(ends[i]) - clamp(starts[i])) / (steps?.[i] ?? 1)));
      });
    } else if (n.opType === 'ReduceSum' || n.opType === 'ReduceMean') {
      const axes = (n.inputs[1] ? constInts(n.inputs[1]) : (a(n, 'axes') as number[])).map((v) => (v + x.length) % x.length);
      const keep = (a(n, 'keepdims') ?? 1) === 1;
      out = keep ? x.map((dim, i) => (axes.includes(i) ? 1 : dim)) : x.filter((_, i) => !axes.includes(i));
    } else if (n.opType === 'Gather') {
      const axis = (((a(n, 'axis') as number) ?? 0) + x.length) % x.length;
      out = [...x.slice(0, axis), ...ins[1]!, ...x.slice(axis + 1)];
    } else if (n.opType === 'Expand') out = broadcast(x, constInts(n.inputs[1]));
    else throw new Error(`shape inference: ${n.opType} (${n.name}) is not supported`);
    shapes.set(n.outputs[0], out);
  }
  return shapes;
}

/** Drops nodes and initializers the outputs no longer need. */
function deadCode(model: ModelSpec): void {
  const needed = new Set(model.graph.outputs.map((o) => o.name));
  const kept: NodeSpec[] = [];
  for (let i = model.graph.nodes.length - 1; i >= 0; i--) {
    const n = model.graph.nodes[i];
    if (!n.outputs.some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const input of n.inputs) if (input) needed.add(input);
  }
  model.graph.nodes = kept.reverse();
  model.graph.initializers = model.graph.initializers.filter((t) => needed.has(t.name));
}

/** Applies `names` in order to `model` (changed in place); one report per rewrite. */
export function rewrite(model: ModelSpec, names: RewriteName[]): RewriteReport[] {
  const reports: RewriteReport[] = [];
  for (const name of names) {
    const nodesBefore = model.graph.nodes.length;
    const g = new GraphIndex(model);
    const r = name === 'layerNorm' ? layerNorm(g) : name === 'layerNormUnfused' ? layerNormUnfused(g) : name === 'sigmoid' ? sigmoid(g) : name === 'geluSigmoid' ? geluSigmoid(g) : converterRewrite(g, name);
    model.graph.nodes = r.nodes;
    deadCode(model);
    reports.push({ name, matched: r.matched, unmatched: r.unmatched, nodesBefore, nodesAfter: model.graph.nodes.length });
  }
  return reports;
}
