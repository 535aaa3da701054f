// Fusions on the converted ONNX graph: patterns that jax2tf spells out op by op and ONNX has one op for.
//
// LayerNorm (flax): mean = Σx/C, var = max(Σx²/C − mean², 0), y = (x − mean)·rsqrt(var + ε)·γ + β, over the last
// axis. The TF graph writes it as 16 ops, each a full pass over the activation; ONNX's LayerNormalization (opset 17)
// is one kernel. It computes the variance as E[(x−mean)²] instead of E[x²]−mean², which in float32 is the more
// accurate of the two; the fixture test bounds the difference on the whole model.

import type { InitializerSpec, NodeSpec } from './onnx-proto.ts';
import { attr } from './onnx-proto.ts';

interface Graph {
  nodes: NodeSpec[];
  initializers: InitializerSpec[];
}

export function fuseLayerNorms(graph: Graph): { nodes: NodeSpec[]; initializers: InitializerSpec[]; fused: number } {
  const init = new Map(graph.initializers.map((t) => [t.name, t]));
  const producer = new Map<string, NodeSpec>();
  const consumers = new Map<string, NodeSpec[]>();
  for (const n of graph.nodes) {
    producer.set(n.outputs[0], n);
    for (const i of new Set(n.inputs)) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const uses = (t: string): NodeSpec[] => consumers.get(t) ?? [];
  const scalar = (t: string): number | undefined => {
    const v = init.get(t);
    return v && v.data.length === 1 && v.data instanceof Float32Array ? v.data[0] : undefined;
  };
  const only = (t: string, opType: string): NodeSpec | undefined => {
    const u = uses(t);
    return u.length === 1 && u[0].opType === opType ? u[0] : undefined;
  };
  /** The input of a two-input node that is not `t` (commutative ops). */
  const other = (n: NodeSpec, t: string): string | undefined => (n.inputs[0] === t ? n.inputs[1] : n.inputs[1] === t ? n.inputs[0] : undefined);
  const axesOf = (n: NodeSpec): number[] | undefined => {
    const a = init.get(n.inputs[1]);
    return a && a.data instanceof BigInt64Array ? Array.from(a.data, Number) : undefined;
  };
  const keepdims = (n: NodeSpec): number => (n.attributes?.find((a) => a.name === 'keepdims')?.value as number | undefined) ?? 1;
  /** A constant of shape [1,…,1,C] (or [C]): its values as a fresh 1-D tensor. */
  const channelVector = (t: string | undefined, channels: number): Float32Array | undefined => {
    const v = t ? init.get(t) : undefined;
    if (!v || !(v.data instanceof Float32Array) || v.data.length !== channels) return undefined;
    return v.dims.every((d, i) => d === 1 || i === v.dims.length - 1) ? v.data : undefined;
  };

  const removed = new Set<NodeSpec>();
  const replacements = new Map<NodeSpec, NodeSpec>();
  const added: InitializerSpec[] = [];
  let fused = 0;

  for (const sum1 of graph.nodes) {
    if (sum1.opType !== 'ReduceSum' || keepdims(sum1) !== 0) continue;
    const x = sum1.inputs[0];
    const axes = axesOf(sum1);
    if (!axes || axes.length !== 1) continue;
    // mean = Σx · (1/C)
    const meanMul = only(sum1.outputs[0], 'Mul');
    if (!meanMul) continue;
    const invC = scalar(other(meanMul, sum1.outputs[0]) ?? '');
    const channels = invC ? Math.round(1 / invC) : 0;
    if (!channels || Math.fround(1 / channels) !== Math.fround(invC!)) continue;
    const mean = meanMul.outputs[0];
    const meanUses = uses(mean);
    const meanSq = meanUses.find((n) => n.opType === 'Mul' && n.inputs[0] === mean && n.inputs[1] === mean);
    const meanReshape = meanUses.find((n) => n.opType === 'Reshape');
    if (meanUses.length !== 2 || !meanSq || !meanReshape) continue;
    // LayerNormalization normalises from `axis` to the end: the reduced axis must be the last one.
    const kept = init.get(meanReshape.inputs[1])?.data;
    if (!(kept instanceof BigInt64Array) || kept.length - 1 !== axes[0] || kept[kept.length - 1] !== 1n) continue;
    // E[x²] = Σ(x·x) · (1/C)
    const xSq = uses(x).find((n) => n.opType === 'Mul' && n.inputs[0] === x && n.inputs[1] === x);
    const sum2 = xSq && only(xSq.outputs[0], 'ReduceSum');
    if (!xSq || !sum2 || keepdims(sum2) !== 0 || axesOf(sum2)?.join() !== axes.join()) continue;
    const ex2 = only(sum2.outputs[0], 'Mul');
    if (!ex2 || scalar(other(ex2, sum2.outputs[0]) ?? '') !== invC) continue;
    // var = max(E[x²] − mean², 0), reshaped to keep the axis, + ε, rsqrt (as Sqrt then Reciprocal)
    const sub = only(ex2.outputs[0], 'Sub');
    if (!sub || sub.inputs[0] !== ex2.outputs[0] || sub.inputs[1] !== meanSq.outputs[0] || uses(meanSq.outputs[0]).length !== 1) continue;
    const clamp = only(sub.outputs[0], 'Max');
    if (!clamp || scalar(other(clamp, sub.outputs[0]) ?? '') !== 0) continue;
    const varReshape = only(clamp.outputs[0], 'Reshape');
    const addEps = varReshape && only(varReshape.outputs[0], 'Add');
    const epsilon = addEps && scalar(other(addEps, varReshape.outputs[0]) ?? '');
    const sqrt = addEps && only(addEps.outputs[0], 'Sqrt');
    const recip = sqrt && only(sqrt.outputs[0], 'Reciprocal');
    const scaleMul = recip && only(recip.outputs[0], 'Mul');
    if (!varReshape || !addEps || epsilon === undefined || !sqrt || !recip || !scaleMul) continue;
    const gamma = channelVector(other(scaleMul, recip.outputs[0]), channels);
    // y = (x − mean) · (rsqrt · γ) + β
    const centre = only(meanReshape.outputs[0], 'Sub');
    if (!gamma || !centre || centre.inputs[0] !== x || centre.inputs[1] !== meanReshape.outputs[0]) continue;
    const norm = only(centre.outputs[0], 'Mul');
    if (!norm || other(norm, centre.outputs[0]) !== scaleMul.outputs[0] || uses(scaleMul.outputs[0]).length !== 1) continue;
    const shift = only(norm.outputs[0], 'Add');
    const beta = shift && channelVector(other(shift, norm.outputs[0]), channels);
    if (!shift || !beta) continue;

    const base = shift.outputs[0];
    const scaleName = `${base}/ln_scale`;
    const biasName = `${base}/ln_bias`;
    added.push({ name: scaleName, dims: [channels], data: Float32Array.from(gamma) }, { name: biasName, dims: [channels], data: Float32Array.from(beta) });
    for (const n of [sum1, meanMul, meanSq, meanReshape, xSq, sum2, ex2, sub, clamp, varReshape, addEps, sqrt, recip, scaleMul, centre, norm]) removed.add(n);
    replacements.set(shift, {
      opType: 'LayerNormalization', name: `${base}/layer_norm`, inputs: [x, scaleName, biasName], outputs: [base],
      attributes: [attr.int('axis', axes[0]), attr.float('epsilon', epsilon)],
    });
    fused++;
  }

  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replacements.get(n) ?? n);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...graph.initializers, ...added].filter((t) => used.has(t.name));
  return { nodes, initializers, fused };
}
