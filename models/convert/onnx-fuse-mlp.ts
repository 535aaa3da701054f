// Rewrites of the converted MAXIM graphs into forms onnxruntime runs faster, measured by `npm run bench:restore`
// (bench/results/restore.md, 128-px tile, same weights): each kept where it paid on both onnxruntime-node and -web.
//
// GELU: jax's tanh GELU reaches the graph as 0.5x·(1 + tanh(k·(x + (c·x)·(x·x)))). onnxruntime's FastGeluFusion
// knows x³ only as Pow(x, 3), so the same function written Pow(x,3)·c + x → ·k → Tanh → +1 → ·(0.5·x) becomes one
// com.microsoft FastGelu kernel in onnxruntime-node and -web (measured: node −10 %, WASM −4 % per tile).
//
// Spatial gating (MAXIM's gMLP grid and block units): Transpose (mixed axis to the end) → MatMul(W) → Add(b) →
// Transpose back. One MatMul with the weight on the left contracts the axis where it is, two transposes fewer per
// unit (measured: node −16 %, WASM −5 %): block units (perm [0,1,3,2], mixing axis 2) MatMul(Wᵀ, x) broadcast over
// [n, A] plus an [f, 1] bias column; grid units (perm [0,3,2,1], mixing axis 1) Reshape [n, A, B·C] → MatMul(Wᵀ, ·)
// → + bias column → Reshape [n, f, B, C]. Both change only the order of float32 sums and products.

import type { InitializerSpec, NodeSpec } from './onnx-proto.ts';

export interface FuseGraph {
  nodes: NodeSpec[];
  initializers: InitializerSpec[];
}

/** Looks up producers, consumers and constants of a graph; adds initializers. */
export class GraphIndex {
  readonly producer = new Map<string, NodeSpec>();
  readonly consumers = new Map<string, NodeSpec[]>();
  readonly inits: Map<string, InitializerSpec>;

  constructor(readonly graph: FuseGraph) {
    this.inits = new Map(graph.initializers.map((i) => [i.name, i]));
    for (const n of graph.nodes) {
      for (const o of n.outputs) this.producer.set(o, n);
      for (const i of new Set(n.inputs)) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    }
  }

  op(t: string | undefined, type: string): NodeSpec | undefined {
    const n = t === undefined ? undefined : this.producer.get(t);
    return n?.opType === type ? n : undefined;
  }

  /** The only consumer of `t`, if it has one. */
  only(t: string): NodeSpec | undefined {
    const c = this.consumers.get(t) ?? [];
    return c.length === 1 ? c[0] : undefined;
  }

  floatConst(t: string): InitializerSpec | undefined {
    const i = this.inits.get(t);
    return i && i.data instanceof Float32Array ? i : undefined;
  }

  /** For a binary node: [the scalar operand's value, the other operand], when one operand equals `value` (±1e-6 rel). */
  withScalar(n: NodeSpec, value?: number): [number, string] | undefined {
    for (const k of [0, 1]) {
      const i = this.floatConst(n.inputs[k]);
      const v = i && i.data.length === 1 ? (i.data as Float32Array)[0] : undefined;
      if (v !== undefined && (value === undefined || Math.abs(v - value) <= Math.abs(value) * 1e-6)) return [v, n.inputs[1 - k]];
    }
    return undefined;
  }

  constant(name: string, data: Float32Array | BigInt64Array, dims: number[]): string {
    const init = { name, dims, data };
    this.graph.initializers.push(init);
    this.inits.set(name, init);
    return name;
  }
}

const other = (n: NodeSpec, t: string): string => (n.inputs[0] === t ? n.inputs[1] : n.inputs[0]);
const node = (opType: string, inputs: string[], output: string): NodeSpec => ({ opType, name: output, inputs, outputs: [output] });

/** Replaces nodes by others in one pass, keeping topological order: each replacement sits where its last node was. */
function splice(nodes: NodeSpec[], replaced: Map<NodeSpec, NodeSpec[]>): NodeSpec[] {
  return nodes.flatMap((n) => replaced.get(n) ?? [n]);
}

/** Drops nodes and initializers the graph's outputs no longer need. */
function dropDead(graph: FuseGraph, outputs: string[]): void {
  const needed = new Set(outputs);
  const kept: NodeSpec[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (!n.outputs.some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const input of n.inputs) if (input) needed.add(input);
  }
  graph.nodes = kept.reverse();
  graph.initializers = graph.initializers.filter((t) => needed.has(t.name));
}

/** float32 values of jax's tanh GELU constants, as the graph stores them. */
export const GELU_C = 0.044714998453855515;
export const GELU_K = 0.7978845834732056;

/** jax's tanh GELU around a Tanh node: its input x and the node whose output is the GELU's result. */
export function matchGelu(g: GraphIndex, tanh: NodeSpec): { x: string; last: NodeSpec } | undefined {
  const mulK = g.op(tanh.inputs[0], 'Mul');
  const k = mulK && g.withScalar(mulK, GELU_K);
  const inner = k && g.op(k[1], 'Add');
  if (!inner || g.only(mulK.outputs[0]) !== tanh || g.only(inner.outputs[0]) !== mulK) return undefined;
  // inner = Add(x, Mul(Mul(c, x), Mul(x, x))), operands in either order.
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

/** Every jax tanh GELU rewritten in the Pow form onnxruntime fuses into FastGelu. */
export function geluAsPow(graph: FuseGraph, outputs: string[]): { graph: FuseGraph; rewritten: number } {
  const g = new GraphIndex({ nodes: graph.nodes, initializers: [...graph.initializers] });
  const replaced = new Map<NodeSpec, NodeSpec[]>();
  let shared: { three: string; c: string; k: string; one: string; half: string } | undefined;
  for (const tanh of graph.nodes.filter((n) => n.opType === 'Tanh')) {
    const m = matchGelu(g, tanh);
    if (!m) continue;
    shared ??= {
      three: g.constant('gelu/three', Float32Array.of(3), []),
      c: g.constant('gelu/c', Float32Array.of(GELU_C), []),
      k: g.constant('gelu/k', Float32Array.of(GELU_K), []),
      one: g.constant('gelu/one', Float32Array.of(1), []),
      half: g.constant('gelu/half', Float32Array.of(0.5), []),
    };
    const t = (s: string) => `${m.last.name}/gelu/${s}`;
    // FastGeluFusion's second formula, in its order: Pow(x,3)·c + x → ·k → Tanh → +1 → ·(0.5·x).
    replaced.set(m.last, [
      node('Pow', [m.x, shared.three], t('pow')),
      node('Mul', [t('pow'), shared.c], t('mul_c')),
      node('Add', [m.x, t('mul_c')], t('add_x')),
      node('Mul', [t('add_x'), shared.k], t('mul_k')),
      node('Tanh', [t('mul_k')], t('tanh')),
      node('Add', [t('tanh'), shared.one], t('add_1')),
      node('Mul', [m.x, shared.half], t('half_x')),
      node('Mul', [t('half_x'), t('add_1')], m.last.outputs[0]),
    ]);
  }
  const out = { nodes: splice(graph.nodes, replaced), initializers: g.graph.initializers };
  dropDead(out, outputs);
  return { graph: out, rewritten: replaced.size };
}

const permOf = (n: NodeSpec): string => JSON.stringify(n.attributes?.find((a) => a.name === 'perm')?.value);
const BLOCK = '[0,1,3,2]';
const GRID = '[0,3,2,1]';

/**
 * Every spatial gating unit (Transpose → MatMul(W) → [Add(b)] → the same Transpose) as one MatMul with Wᵀ on the
 * left; `shapes` gives each run-time tensor's shape (the grid units' reshape needs it).
 */
export function gatingWithoutTransposes(graph: FuseGraph, outputs: string[], shapes: ReadonlyMap<string, readonly number[]>): { graph: FuseGraph; rewritten: number } {
  const g = new GraphIndex({ nodes: graph.nodes, initializers: [...graph.initializers] });
  const replaced = new Map<NodeSpec, NodeSpec[]>();
  for (const t1 of graph.nodes) {
    if (t1.opType !== 'Transpose' || (permOf(t1) !== BLOCK && permOf(t1) !== GRID)) continue;
    const mm = g.only(t1.outputs[0]);
    const w = mm?.opType === 'MatMul' && mm.inputs[0] === t1.outputs[0] ? g.floatConst(mm.inputs[1]) : undefined;
    if (!mm || !w || w.dims.length !== 2) continue;
    let last = g.only(mm.outputs[0]);
    let bias: InitializerSpec | undefined;
    if (last?.opType === 'Add') {
      bias = g.floatConst(other(last, mm.outputs[0]));
      if (!bias || bias.data.length !== w.dims[1] || bias.dims.some((d, i) => d !== 1 && i !== bias!.dims.length - 1)) continue;
      last = g.only(last.outputs[0]);
    }
    const x = t1.inputs[0];
    const xs = shapes.get(x);
    if (last?.opType !== 'Transpose' || permOf(last) !== permOf(t1) || !xs || xs.length !== 4) continue;
    const [k, f] = w.dims;
    const wt = new Float32Array(k * f);
    const wd = w.data as Float32Array;
    for (let i = 0; i < k; i++) for (let j = 0; j < f; j++) wt[j * k + i] = wd[i * f + j];
    const base = `${last.name}/gating`;
    const weight = g.constant(`${base}/weight_t`, wt, [f, k]);
    const column = bias && g.constant(`${base}/bias`, Float32Array.from(bias.data as Float32Array), [f, 1]);
    const out = last.outputs[0];
    const rep: NodeSpec[] = [];
    if (permOf(t1) === BLOCK) {
      // x [n, A, B, C], mixing B: Wᵀ[f, B] · x → [n, A, f, C].
      rep.push(node('MatMul', [weight, x], column ? `${base}/matmul` : out));
      if (column) rep.push(node('Add', [`${base}/matmul`, column], out));
    } else {
      // x [n, A, B, C], mixing A: [n, A, B·C] → Wᵀ[f, A] · → [n, f, B·C] → [n, f, B, C].
      const [n, , b, c] = xs;
      rep.push(node('Reshape', [x, g.constant(`${base}/flat`, BigInt64Array.from([n, k, b * c].map(BigInt)), [3])], `${base}/flat_x`));
      rep.push(node('MatMul', [weight, `${base}/flat_x`], `${base}/matmul`));
      if (column) rep.push(node('Add', [`${base}/matmul`, column], `${base}/biased`));
      rep.push(node('Reshape', [column ? `${base}/biased` : `${base}/matmul`, g.constant(`${base}/unflat`, BigInt64Array.from([n, f, b, c].map(BigInt)), [4])], out));
    }
    replaced.set(last, rep);
  }
  const out = { nodes: splice(graph.nodes, replaced), initializers: g.graph.initializers };
  dropDead(out, outputs);
  return { graph: out, rewritten: replaced.size };
}
