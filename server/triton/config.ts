// The Triton model configuration (config.pbtxt) for one ONNX model, from its real inputs and outputs.
import type { ModelIo, ModelTensor } from './model-io.ts';
import { pbEnum, pbMessage, writePbtxt, type PbField, type PbMessage } from './pbtxt.ts';

/** onnxruntime element type → Triton data_type. */
const TRITON_TYPES: Record<string, string> = {
  bool: 'TYPE_BOOL',
  uint8: 'TYPE_UINT8',
  uint16: 'TYPE_UINT16',
  uint32: 'TYPE_UINT32',
  uint64: 'TYPE_UINT64',
  int8: 'TYPE_INT8',
  int16: 'TYPE_INT16',
  int32: 'TYPE_INT32',
  int64: 'TYPE_INT64',
  float16: 'TYPE_FP16',
  float32: 'TYPE_FP32',
  float64: 'TYPE_FP64',
  bfloat16: 'TYPE_BF16',
  string: 'TYPE_STRING',
};

export function tritonType(dtype: string): string {
  const t = TRITON_TYPES[dtype];
  if (!t) throw new Error(`Triton has no data type for ONNX tensors of ${dtype}.`);
  return t;
}

export interface TritonConfigOptions {
  /** The model's name in Triton: also its folder name and the {m} of /v2/models/{m}/infer. */
  name: string;
  io: ModelIo;
  /** KIND_GPU (default) or KIND_CPU instances. */
  gpu: boolean;
  /** Let onnxruntime hand the graph to TensorRT (GPU only). */
  tensorrt: boolean;
  /** Largest batch Triton may form, for models whose first dim is dynamic. Ignored when the batch dim is fixed. */
  maxBatchSize: number;
  /** Comment lines at the top of the file. */
  header?: string;
  /**
   * Why this model must not be batched, if it must not: Triton then gets max_batch_size 0 and the full dims (a step
   * of a recurrence the client drives sends one clip's tensors per call, and its graph is exported for batch 1).
   */
  noBatching?: string;
}

export interface TritonConfig {
  text: string;
  maxBatchSize: number;
  /** Why max_batch_size has its value, in a few words (printed by the exporter). */
  batchReason: string;
}

const allDims = (io: ModelIo) => [...io.inputs, ...io.outputs].map((t) => t.dims);

function batching(io: ModelIo, requested: number): { maxBatchSize: number; reason: string } {
  const dims = allDims(io);
  if (dims.every((d) => d.length > 0 && d[0] === -1)) {
    return requested > 0
      ? { maxBatchSize: requested, reason: `batch dim is dynamic: Triton may batch up to ${requested}` }
      : { maxBatchSize: 0, reason: 'batching turned off (--max-batch-size 0)' };
  }
  return { maxBatchSize: 0, reason: dims.every((d) => d[0] === 1) ? 'batch dim fixed at 1 in the model' : 'no common batch dim' };
}

function tensorEntry(t: ModelTensor, stripBatch: boolean): PbMessage {
  return pbMessage([
    { key: 'name', value: t.name },
    { key: 'data_type', value: pbEnum(tritonType(t.dtype)) },
    { key: 'dims', value: stripBatch ? t.dims.slice(1) : t.dims },
  ]);
}

export function buildTritonConfig(opts: TritonConfigOptions): TritonConfig {
  if (opts.tensorrt && !opts.gpu) throw new Error('TensorRT runs on the GPU only: drop --cpu or --tensorrt.');
  if (!Number.isInteger(opts.maxBatchSize) || opts.maxBatchSize < 0) {
    throw new Error(`The max batch size must be a whole number ≥ 0, got ${opts.maxBatchSize}.`);
  }
  const { maxBatchSize, reason } = opts.noBatching ? { maxBatchSize: 0, reason: opts.noBatching } : batching(opts.io, opts.maxBatchSize);
  const batched = maxBatchSize > 0;
  const fields: PbField[] = [
    { key: 'name', value: opts.name },
    { key: 'platform', value: 'onnxruntime_onnx' },
    {
      key: 'max_batch_size',
      value: maxBatchSize,
      // Triton treats max_batch_size > 0 as "the first dim is a batch dim I own": it leaves that dim out of `dims`
      // and expects the model to accept any batch size there. Our models' first dim is a fixed 1, so Triton would
      // refuse such a config; with 0 the dims below are the model's full shape, batch dim included.
      comment: batched
        ? `${reason}. The dims below leave out that batch dim, as Triton requires when max_batch_size > 0.`
        : `0: ${reason}, so Triton does not batch requests and the dims below are the model's full shape.`,
    },
    { key: 'input', value: opts.io.inputs.map((t) => tensorEntry(t, batched)) },
    { key: 'output', value: opts.io.outputs.map((t) => tensorEntry(t, batched)) },
    {
      key: 'instance_group',
      value: [pbMessage([
        { key: 'count', value: 1 },
        { key: 'kind', value: pbEnum(opts.gpu ? 'KIND_GPU' : 'KIND_CPU') },
      ])],
    },
  ];
  // Requests of equal shape can be merged into one run only when Triton owns a batch dim.
  if (batched) fields.push({ key: 'dynamic_batching', value: pbMessage([]) });
  if (opts.tensorrt) {
    fields.push({
      key: 'optimization',
      comment: 'TensorRT (re)builds its engine when a request brings a shape outside those it has seen: first requests of new sizes are slow.',
      value: pbMessage([
        {
          key: 'execution_accelerators',
          value: pbMessage([{ key: 'gpu_execution_accelerator', value: [pbMessage([{ key: 'name', value: 'tensorrt' }])] }]),
        },
      ]),
    });
  }
  return { text: writePbtxt(pbMessage(fields), opts.header), maxBatchSize, batchReason: reason };
}
