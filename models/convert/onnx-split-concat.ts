// Splits a Concat with many inputs into a chain of Concats along the same axis, each small enough for one WebGPU
// kernel. onnxruntime-web's WebGPU Concat (lib/wasm/jsep/webgpu/ops/concat.ts) binds every input and the output as
// storage buffers (its sizes go in the uniform buffer, which is not a storage buffer), so N inputs need N + 1 storage
// buffers; an adapter may allow only 8 per shader stage (WebGPU's default limit; SwiftShader has exactly 8), and a
// larger Concat there computes garbage instead of failing. A Concat of Concats along one axis is the same copy, so
// outputs stay identical byte for byte on every backend.

import type { NodeSpec } from './onnx-proto.ts';

/** WebGPU's default maxStorageBuffersPerShaderStage: the limit every adapter must at least offer. */
export const WEBGPU_STORAGE_BUFFERS = 8;
/** The most inputs one Concat kernel may take under that limit (one buffer is the output). */
export const MAX_CONCAT_INPUTS = WEBGPU_STORAGE_BUFFERS - 1;

/**
 * Returns the nodes with every Concat of more than `maxInputs` inputs replaced by a chain: the last Concat takes the
 * one before's result and the last `maxInputs − 1` inputs, and so on towards the first, which takes what is left.
 * The first inputs are copied once more per link; starting the chain with the fewest inputs keeps that small.
 */
export function splitWideConcats(nodes: readonly NodeSpec[], maxInputs = MAX_CONCAT_INPUTS): { nodes: NodeSpec[]; split: number } {
  if (!Number.isInteger(maxInputs) || maxInputs < 2) throw new Error(`splitWideConcats: maxInputs must be an integer ≥ 2, got ${maxInputs}`);
  const out: NodeSpec[] = [];
  let split = 0;
  for (const node of nodes) {
    if (node.opType !== 'Concat' || node.inputs.length <= maxInputs) {
      out.push(node);
      continue;
    }
    split++;
    out.push(...chain(node, node.inputs, node.outputs[0], maxInputs, 0));
  }
  return { nodes: out, split };
}

/** The Concats that join `inputs` into `output`, producers first (the graph stays topologically sorted). */
function chain(node: NodeSpec, inputs: string[], output: string, maxInputs: number, part: number): NodeSpec[] {
  const link = (ins: string[], out: string, name: string): NodeSpec => ({ ...node, name, inputs: ins, outputs: [out] });
  if (inputs.length <= maxInputs) return [link(inputs, output, part === 0 ? node.name : `${node.name}/part${part}`)];
  const head = inputs.slice(0, inputs.length - (maxInputs - 1));
  const headOutput = `${node.outputs[0]}/part${part + 1}`;
  return [...chain(node, head, headOutput, maxInputs, part + 1), link([headOutput, ...inputs.slice(head.length)], output, part === 0 ? node.name : `${node.name}/part${part}`)];
}
