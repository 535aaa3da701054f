// The config.pbtxt reader and writer, and the config builder's batching rules on signatures our models do not have.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTritonConfig } from '../../server/triton/config.ts';
import { parsePbtxt } from '../../server/triton/pbtxt-parse.ts';
import { pbEnum, pbMessage, writePbtxt } from '../../server/triton/pbtxt.ts';

test('the reader takes the text format of Triton’s own examples', () => {
  const text = `# a comment
name: "densenet_onnx"   # trailing comment
platform: 'onnxruntime_onnx'
max_batch_size : 0
input [
  {
    name: "data_0",
    data_type: TYPE_FP32
    dims: [ 1, 3, -224, 224 ]
  },
  { name: "second" data_type: TYPE_UINT8 dims: [ -1 ] }
]
output { name: "out" data_type: TYPE_FP16 dims: [ 1000 ] }
output { name: "out2" data_type: TYPE_FP16 dims: [ 2 ] }
instance_group [ { count: 2, kind: KIND_GPU, gpus: [ 0, 1 ] } ]
optimization { execution_accelerators {
  gpu_execution_accelerator : [ {
    name : "tensorrt"
    parameters { key: "precision_mode" value: "FP16" }
  } ]
}}
dynamic_batching { }
parameters: { key: "esc" value: { string_value: "a\\"b\\\\c\\x41\\101\\n" } }
`;
  const parsed = parsePbtxt(text);
  assert.deepEqual(parsed, {
    name: 'densenet_onnx',
    platform: 'onnxruntime_onnx',
    max_batch_size: 0,
    input: [
      { name: 'data_0', data_type: { ident: 'TYPE_FP32' }, dims: [1, 3, -224, 224] },
      { name: 'second', data_type: { ident: 'TYPE_UINT8' }, dims: [-1] },
    ],
    output: [
      { name: 'out', data_type: { ident: 'TYPE_FP16' }, dims: [1000] },
      { name: 'out2', data_type: { ident: 'TYPE_FP16' }, dims: [2] },
    ],
    instance_group: [{ count: 2, kind: { ident: 'KIND_GPU' }, gpus: [0, 1] }],
    optimization: {
      execution_accelerators: {
        gpu_execution_accelerator: [{ name: 'tensorrt', parameters: { key: 'precision_mode', value: 'FP16' } }],
      },
    },
    dynamic_batching: {},
    parameters: { key: 'esc', value: { string_value: 'a"b\\cAA\n' } },
  });
});

test('the reader rejects malformed text with the line of the problem', () => {
  assert.throws(() => parsePbtxt('name: "a"\nmax_batch_size 0\n'), /line 2: expected ":" after max_batch_size/);
  assert.throws(() => parsePbtxt('input [ { name: "x" }\n'), /missing "]"|missing "}"/);
  assert.throws(() => parsePbtxt('name: "unterminated\n'), /line 1: unterminated string/);
  assert.throws(() => parsePbtxt('dims: [ 1 2 ]'), /expected "," or "]"/);
  assert.throws(() => parsePbtxt('name: @'), /unexpected character "@"/);
});

test('the writer quotes strings, leaves enums bare and round-trips through the reader', () => {
  const text = writePbtxt(
    pbMessage([
      { key: 'name', value: 'he said "hi"\\\n' },
      { key: 'count', value: -3, comment: 'two\nlines' },
      { key: 'kind', value: pbEnum('KIND_CPU') },
      { key: 'dims', value: [1, -1, 3] },
      { key: 'empty', value: pbMessage([]) },
      { key: 'group', value: [pbMessage([{ key: 'a', value: 1 }]), pbMessage([{ key: 'a', value: 2 }])] },
    ]),
    'header',
  );
  assert.match(text, /^# header\n/);
  assert.match(text, /# two\n# lines\ncount: -3\n/);
  assert.match(text, /^kind: KIND_CPU$/m);
  assert.deepEqual(parsePbtxt(text), {
    name: 'he said "hi"\\\n',
    count: -3,
    kind: { ident: 'KIND_CPU' },
    dims: [1, -1, 3],
    empty: {},
    group: [{ a: 1 }, { a: 2 }],
  });
  assert.throws(() => pbEnum('not an enum'), /not a valid protobuf enum identifier/);
  assert.throws(() => writePbtxt(pbMessage([{ key: 'x', value: Number.NaN }])), /Cannot write NaN/);
});

const dynamicBatchIo = {
  inputs: [{ name: 'images', dtype: 'uint8', dims: [-1, 3, -1, -1] }],
  outputs: [{ name: 'logits', dtype: 'float16', dims: [-1, 1000] }],
};

test('a model with a dynamic batch dim gets max_batch_size, dims without the batch dim, and dynamic batching', () => {
  const cfg = buildTritonConfig({ name: 'm', io: dynamicBatchIo, gpu: true, tensorrt: false, maxBatchSize: 16 });
  assert.equal(cfg.maxBatchSize, 16);
  const parsed = parsePbtxt(cfg.text);
  assert.equal(parsed.max_batch_size, 16);
  assert.deepEqual(parsed.input, [{ name: 'images', data_type: { ident: 'TYPE_UINT8' }, dims: [3, -1, -1] }]);
  assert.deepEqual(parsed.output, [{ name: 'logits', data_type: { ident: 'TYPE_FP16' }, dims: [1000] }]);
  assert.deepEqual(parsed.dynamic_batching, {});

  const off = parsePbtxt(buildTritonConfig({ name: 'm', io: dynamicBatchIo, gpu: true, tensorrt: false, maxBatchSize: 0 }).text);
  assert.equal(off.max_batch_size, 0);
  assert.deepEqual(off.input, [{ name: 'images', data_type: { ident: 'TYPE_UINT8' }, dims: [-1, 3, -1, -1] }]);
  assert.equal('dynamic_batching' in off, false);
});

test('the config builder refuses what Triton would refuse', () => {
  const io = { inputs: [{ name: 'x', dtype: 'float32', dims: [1, 4] }], outputs: [{ name: 'y', dtype: 'complex64', dims: [1, 4] }] };
  assert.throws(() => buildTritonConfig({ name: 'm', io, gpu: true, tensorrt: false, maxBatchSize: 0 }), /no data type for ONNX tensors of complex64/);
  assert.throws(() => buildTritonConfig({ name: 'm', io: dynamicBatchIo, gpu: false, tensorrt: true, maxBatchSize: 0 }), /TensorRT runs on the GPU only/);
  assert.throws(() => buildTritonConfig({ name: 'm', io: dynamicBatchIo, gpu: true, tensorrt: false, maxBatchSize: 1.5 }), /whole number/);
});
