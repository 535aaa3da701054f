// The inputs and outputs an ONNX model really declares, read by onnxruntime-node (inputMetadata/outputMetadata),
// and the check that they are what the model card promises: a config built from a card that drifted from its
// model would load in Triton and then reject every request.
import '../../worker/runtime/no-telemetry.mjs'; // first: before onnxruntime-node initialises
import * as ort from 'onnxruntime-node';
import type { ModelCard, TensorSpec } from '../../worker/models/card.ts';

export interface ModelTensor {
  name: string;
  /** onnxruntime's element type name: float32, uint8, … */
  dtype: string;
  /** -1 for every dynamic (symbolic or unknown) dimension, as Triton writes them. */
  dims: number[];
}

export interface ModelIo {
  inputs: ModelTensor[];
  outputs: ModelTensor[];
}

function toTensor(meta: ort.InferenceSession.ValueMetadata, where: string): ModelTensor {
  if (!meta.isTensor) throw new Error(`${where} "${meta.name}" is not a tensor: Triton's ONNX backend takes tensors only.`);
  if (meta.shape.length === 0) {
    throw new Error(`${where} "${meta.name}" declares no shape: Triton needs its rank. Re-export the model with shape information.`);
  }
  const dims = meta.shape.map((d) => (typeof d === 'number' && Number.isInteger(d) && d >= 0 ? d : -1));
  return { name: meta.name, dtype: meta.type, dims };
}

/** Loads the model on the CPU, without graph optimizations (only its signature is needed), and reads its I/O. */
export async function readModelIo(model: Uint8Array | string): Promise<ModelIo> {
  let session: ort.InferenceSession;
  try {
    // A path for graphs with external weights (onnxruntime finds them beside it); bytes otherwise.
    const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' } as const;
    session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (err) {
    throw new Error(`onnxruntime-node could not load the model: ${(err as Error).message}`);
  }
  try {
    return {
      inputs: session.inputMetadata.map((m) => toTensor(m, 'Input')),
      outputs: session.outputMetadata.map((m) => toTensor(m, 'Output')),
    };
  } finally {
    await session.release();
  }
}

/** Card dims as Triton writes them: named or negative dims are dynamic. */
export function cardDims(spec: TensorSpec): number[] {
  return spec.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
}

function formatDims(dims: number[]): string {
  return `[${dims.join(',')}]`;
}

function compareSide(kind: 'input' | 'output', card: TensorSpec[], model: ModelTensor[]): string[] {
  const problems: string[] = [];
  const byName = new Map(model.map((t) => [t.name, t]));
  for (const spec of card) {
    const real = byName.get(spec.name);
    if (!real) {
      problems.push(`the card's ${kind} "${spec.name}" is not in the model (its ${kind}s: ${model.map((t) => t.name).join(', ') || 'none'})`);
      continue;
    }
    if (real.dtype !== spec.dtype) problems.push(`${kind} "${spec.name}" is ${real.dtype} in the model, ${spec.dtype} on the card`);
    const want = cardDims(spec);
    if (want.length !== real.dims.length || want.some((d, i) => d !== real.dims[i])) {
      problems.push(`${kind} "${spec.name}" has dims ${formatDims(real.dims)} in the model, ${formatDims(want)} on the card (-1 = dynamic)`);
    }
  }
  const named = new Set(card.map((s) => s.name));
  for (const t of model) if (!named.has(t.name)) problems.push(`the model's ${kind} "${t.name}" is missing from the card`);
  return problems;
}

/** Throws, listing every difference, when the model's signature is not the card's. */
export function checkAgainstCard(card: ModelCard, io: ModelIo): void {
  const problems = [...compareSide('input', card.io.inputs, io.inputs), ...compareSide('output', card.io.outputs, io.outputs)];
  if (problems.length) {
    throw new Error(
      `${card.id}: the model file does not match its card in models/registry.json:\n  - ${problems.join('\n  - ')}\n` +
        'Fix the card (or rebuild the model with "npm run build"), then export again.',
    );
  }
}
