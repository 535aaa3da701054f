// Rewrites "nearest Resize ×s → Conv k×k" (ESRGAN slim's and medium's upsampling tail) into "Conv on the
// low-resolution map with Cout·s² outputs → DepthToSpace(s, CRD)". The same function: the upsampled map repeats each
// pixel s×s times, so each of the s² output phases (a, b) is a convolution of the low-resolution map whose taps are
// the original taps summed by the low-resolution pixel they land on. The same multiply-adds, but no s²-times larger
// intermediate and no Resize, and a GEMM with Cout·s² rows instead of Cout (3 for RGB), which MLAS handles far better:
// bench/results/gap-subpixel.md measured −10..14 % in WASM and −21..24 % in onnxruntime-node on slim ×4.
//
// DepthToSpace CRD reads output pixel (y·s + a, x·s + b) of channel c from input channel c·s² + a·s + b, which is how
// the new weights are laid out. Only the exact case is rewritten: Resize nearest, asymmetric coordinates, floor
// rounding (TF.js UpSampling2D), integer scale equal on both axes, read by one Conv with stride 1, dilation 1, one
// group, an odd square kernel and symmetric 'same' padding.

import { attr, type Attribute, type InitializerSpec, type NodeSpec } from './onnx-proto.ts';

interface Graph {
  nodes: NodeSpec[];
  initializers: InitializerSpec[];
}

const attribute = (n: NodeSpec, name: string): Attribute['value'] | undefined => n.attributes?.find((a) => a.name === name)?.value;
const sameInts = (a: unknown, b: number[]): boolean => Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);

export function subpixelUpsampleConvs(graph: Graph): Graph & { rewritten: number } {
  const init = new Map(graph.initializers.map((t) => [t.name, t]));
  const consumers = new Map<string, NodeSpec[]>();
  for (const n of graph.nodes) for (const i of new Set(n.inputs)) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const floats = (name: string | undefined): Float32Array | undefined => {
    const t = name ? init.get(name) : undefined;
    return t?.data instanceof Float32Array ? t.data : undefined;
  };

  const replaced = new Map<NodeSpec, NodeSpec[]>(); // node → what takes its place ([] = removed)
  const added: InitializerSpec[] = [];
  for (const resize of graph.nodes) {
    if (resize.opType !== 'Resize') continue;
    if (attribute(resize, 'mode') !== 'nearest' || attribute(resize, 'coordinate_transformation_mode') !== 'asymmetric' ||
      attribute(resize, 'nearest_mode') !== 'floor' || (resize.inputs[3] ?? '') !== '') continue;
    const scales = floats(resize.inputs[2]);
    if (!scales || scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1 || scales[2] !== scales[3] || !Number.isInteger(scales[2]) || scales[2] < 2) continue;
    const s = scales[2];
    const users = consumers.get(resize.outputs[0]) ?? [];
    if (users.length !== 1 || users[0].opType !== 'Conv' || users[0].inputs[0] !== resize.outputs[0]) continue;
    const conv = users[0];
    const weightInit = init.get(conv.inputs[1]);
    const w = floats(conv.inputs[1]);
    if (!weightInit || !w || weightInit.dims.length !== 4) continue;
    const [cout, cin, kh, kw] = weightInit.dims;
    const p = (kh - 1) / 2;
    if (kh !== kw || kh % 2 === 0 || (attribute(conv, 'group') ?? 1) !== 1 || attribute(conv, 'auto_pad') !== undefined ||
      !sameInts(attribute(conv, 'strides') ?? [1, 1], [1, 1]) || !sameInts(attribute(conv, 'dilations') ?? [1, 1], [1, 1]) ||
      !sameInts(attribute(conv, 'pads'), [p, p, p, p])) continue;
    const bias = conv.inputs[2] ? floats(conv.inputs[2]) : new Float32Array(cout);
    if (!bias || bias.length !== cout) continue;

    // High-resolution tap u ∈ [−p, p] of phase a reads low-resolution offset floor((a + u) / s) ∈ [lo, hi].
    const lo = Math.floor(-p / s), hi = Math.floor((s - 1 + p) / s), k2 = hi - lo + 1;
    const sum = new Float64Array(cout * s * s * cin * k2 * k2); // summed in double, rounded once
    for (let o = 0; o < cout; o++)
      for (let a = 0; a < s; a++)
        for (let b = 0; b < s; b++)
          for (let i = 0; i < cin; i++)
            for (let u = -p; u <= p; u++)
              for (let v = -p; v <= p; v++) {
                const dy = Math.floor((a + u) / s) - lo, dx = Math.floor((b + v) / s) - lo;
                sum[(((((o * s + a) * s + b) * cin + i) * k2 + dy) * k2) + dx] += w[((o * cin + i) * kh + (u + p)) * kw + (v + p)];
              }
    const weights = `${conv.name}/subpixel_kernel`, biases = `${conv.name}/subpixel_bias`, phases = `${conv.outputs[0]}/phases`;
    added.push({ name: weights, dims: [cout * s * s, cin, k2, k2], data: Float32Array.from(sum) });
    added.push({ name: biases, dims: [cout * s * s], data: Float32Array.from({ length: cout * s * s }, (_, j) => bias[Math.floor(j / (s * s))]) });
    replaced.set(resize, []);
    replaced.set(conv, [
      {
        opType: 'Conv', name: `${conv.name}/subpixel`, inputs: [resize.inputs[0], weights, biases], outputs: [phases],
        attributes: [attr.ints('kernel_shape', [k2, k2]), attr.ints('strides', [1, 1]), attr.ints('dilations', [1, 1]), attr.ints('pads', [-lo, -lo, hi, hi])],
      },
      { opType: 'DepthToSpace', name: `${conv.name}/depth_to_space`, inputs: [phases], outputs: conv.outputs, attributes: [attr.int('blocksize', s), attr.string('mode', 'CRD')] },
    ]);
  }

  const nodes = graph.nodes.flatMap((n) => replaced.get(n) ?? [n]);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...graph.initializers, ...added].filter((t) => used.has(t.name));
  return { nodes, initializers, rewritten: replaced.size / 2 };
}
