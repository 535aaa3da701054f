// EXPERIMENTAL graph rewrites of the converter's MAXIM ONNX graphs, applied in the bench (bench/restore.ts) to measure
// what the converter (models/convert/tfjs-graph*.ts, not changed here) would gain by emitting these forms itself.
// Each rewrite takes the decoded model (bench/restore-onnx.ts readModel), replaces the nodes of a matched pattern by
// the fused form, leaves the old nodes for dead-code removal, and says how many it matched and how many it could not.
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
import type { InitializerSpec, ModelSpec, NodeSpec } from '../models/convert/onnx-proto.ts';
import { attr } from '../models/convert/onnx-proto.ts';

export type RewriteName = 'layerNorm' | 'geluPow' | 'geluSigmoid' | 'sigmoid';

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

const GELU_C = 0.044714998453855515;
const GELU_K = 0.7978845834732056;

/** jax's tanh GELU around each Tanh: its input x, and the node whose output is the GELU's result. */
function matchGelu(g: GraphIndex, tanh: NodeSpec): { x: string; last: NodeSpec } | undefined {
  const mulK = g.op(tanh.inputs[0], 'Mul');
  const k = mulK && g.withScalar(mulK, GELU_K);
  const inner = k && g.op(k[1], 'Add');
  if (!inner) return undefined;
  // inner = Add(x, Mul(Mul(c, x), Mul(x, x))) in either operand order.
  for (const j of [0, 1]) {
    const x = inner.inputs[j];
    const cube = g.op(inner.inputs[1 - j], 'Mul');
    if (!cube) continue;
    const parts = cube.inputs.map((t) => g.producer.get(t));
    const square = parts.find((p) => p?.opType === 'Mul' && p.inputs[0] === x && p.inputs[1] === x);
    const scaled = parts.find((p) => p && p !== square && p.opType === 'Mul' && g.withScalar(p, GELU_C)?.[1] === x);
    if (!square || !scaled) continue;
    const add1 = g.only(tanh.outputs[0]);
    if (add1?.opType !== 'Add' || g.withScalar(add1, 1)?.[1] !== tanh.outputs[0]) return undefined;
    const out = g.only(add1.outputs[0]);
    const half = out?.opType === 'Mul' ? g.op(other(out, add1.outputs[0]), 'Mul') : undefined;
    if (!out || !half || g.withScalar(half, 0.5)?.[1] !== x) return undefined;
    return { x, last: out };
  }
  return undefined;
}

function gelu(g: GraphIndex, form: 'pow' | 'sigmoid'): { matched: number; unmatched: number; nodes: NodeSpec[] } {
  let nodes = g.model.graph.nodes;
  let matched = 0;
  let unmatched = 0;
  const three = g.constant('gelu/three', Float32Array.of(3), []);
  const c = g.constant('gelu/c', Float32Array.of(GELU_C), []);
  const k = g.constant('gelu/k', Float32Array.of(GELU_K), []);
  const k2 = g.constant('gelu/2k', Float32Array.of(2 * GELU_K), []);
  const one = g.constant('gelu/one', Float32Array.of(1), []);
  const half = g.constant('gelu/half', Float32Array.of(0.5), []);
  for (const tanh of g.model.graph.nodes.filter((n) => n.opType === 'Tanh')) {
    const m = matchGelu(g, tanh);
    if (!m) {
      unmatched++;
      continue;
    }
    matched++;
    const base = m.last.name;
    const t = (s: string) => `${base}/${s}`;
    const out = m.last.outputs[0];
    const mk = (opType: string, inputs: string[], output: string): NodeSpec => ({ opType, name: output, inputs, outputs: [output] });
    const replacement = form === 'pow'
      ? [
        // onnxruntime's FastGeluFusion, second formula: Pow(x,3)·c + x → ·k → Tanh → +1 → ·(0.5·x).
        mk('Pow', [m.x, three], t('pow')),
        mk('Mul', [t('pow'), c], t('mul_c')),
        mk('Add', [m.x, t('mul_c')], t('add_x')),
        mk('Mul', [t('add_x'), k], t('mul_k')),
        mk('Tanh', [t('mul_k')], t('tanh')),
        mk('Add', [t('tanh'), one], t('add_1')),
        mk('Mul', [m.x, half], t('half_x')),
        mk('Mul', [t('half_x'), t('add_1')], out),
      ]
      : [
        mk('Pow', [m.x, three], t('pow')),
        mk('Mul', [t('pow'), c], t('mul_c')),
        mk('Add', [m.x, t('mul_c')], t('add_x')),
        mk('Mul', [t('add_x'), k2], t('mul_2k')),
        mk('Sigmoid', [t('mul_2k')], t('sigmoid')),
        mk('Mul', [m.x, t('sigmoid')], out),
      ];
    nodes = replaceAt(nodes, m.last, replacement);
  }
  return { matched, unmatched, nodes };
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
    const r = name === 'layerNorm' ? layerNorm(g) : name === 'sigmoid' ? sigmoid(g) : gelu(g, name === 'geluPow' ? 'pow' : 'sigmoid');
    model.graph.nodes = r.nodes;
    deadCode(model);
    reports.push({ name, matched: r.matched, unmatched: r.unmatched, nodesBefore, nodesAfter: model.graph.nodes.length });
  }
  return reports;
}
