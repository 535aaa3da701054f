// The malformed inference requests the server must refuse with a 4xx and a message, while it keeps serving.
// Used by oip-errors.test.ts (which adds the server's token to each); the benchmark imports the list to record
// which bad inputs were tried.
import { binaryRequest, bytesOf, MODEL } from './oip-util.ts';

export interface BadRequest {
  /** What is wrong, in words. */
  name: string;
  /** Path under the server URL. */
  path: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  /** The error message must match this. */
  message: RegExp;
}

const INFER = `/v2/models/${MODEL}/infer`;
const shape = [1, 2, 2, 3];
const twelve = Array.from({ length: 12 }, (_, i) => i * 10);
const input = (over: Record<string, unknown> = {}) => JSON.stringify({ inputs: [{ name: 'input', shape, datatype: 'FP32', data: twelve, ...over }] });
const floats = new Float32Array(12).fill(7);
const DEPTH = 20_000; // thousands of levels: far past what a recursive flatten or JSON.stringify survives
const deepArrays = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const withData = (data: string) => `{"inputs":[{"name":"input","shape":[1,2,2,3],"datatype":"FP32","data":${data}}]}`;

export const BAD_REQUESTS: BadRequest[] = [
  { name: 'not JSON at all', path: INFER, body: 'hello', status: 400, message: /not valid JSON/ },
  { name: 'truncated JSON', path: INFER, body: '{"inputs": [{"name": "input"', status: 400, message: /not valid JSON/ },
  { name: 'JSON array instead of an object', path: INFER, body: '[1, 2]', status: 400, message: /JSON object with an "inputs" array/ },
  { name: 'no inputs', path: INFER, body: '{}', status: 400, message: /"inputs" must be a non-empty array.*input/ },
  { name: 'empty inputs', path: INFER, body: '{"inputs": []}', status: 400, message: /non-empty array/ },
  { name: 'id that is not a string', path: INFER, body: JSON.stringify({ id: 42, inputs: [] }), status: 400, message: /"id" must be a string/ },
  { name: 'input that is not an object', path: INFER, body: '{"inputs": [3]}', status: 400, message: /inputs\[0\] must be an object/ },
  { name: 'unknown input name', path: INFER, body: input({ name: 'image' }), status: 400, message: /no input named image; its inputs: input/ },
  { name: 'input given twice', path: INFER, body: JSON.stringify({ inputs: [JSON.parse(input()).inputs[0], JSON.parse(input()).inputs[0]] }), status: 400, message: /given twice/ },
  { name: 'wrong rank', path: INFER, body: input({ shape: [2, 2, 3] }), status: 400, message: /3 dimensions; the model takes 4/ },
  { name: 'wrong fixed dimension (4 channels)', path: INFER, body: input({ shape: [1, 1, 3, 4] }), status: 400, message: /dimension 3 is 4, the model needs 3/ },
  { name: 'batch of 2 on a batch-1 model', path: INFER, body: input({ shape: [2, 1, 2, 3] }), status: 400, message: /dimension 0 is 2, the model needs 1/ },
  { name: 'zero-size dimension', path: INFER, body: input({ shape: [1, 0, 2, 3], data: [] }), status: 400, message: /dimension 1 is 0/ },
  { name: 'negative dimension', path: INFER, body: input({ shape: [1, -2, 2, 3] }), status: 400, message: /non-negative integers/ },
  { name: 'fractional dimension', path: INFER, body: input({ shape: [1, 2.5, 2, 3] }), status: 400, message: /non-negative integers/ },
  { name: 'shape is not an array', path: INFER, body: input({ shape: '1x2x2x3' }), status: 400, message: /"shape" must be an array/ },
  { name: 'more data than the shape holds', path: INFER, body: input({ data: [...twelve, 1] }), status: 400, message: /holds 12 elements but "data" has 13/ },
  { name: 'less data than the shape holds', path: INFER, body: input({ data: twelve.slice(1) }), status: 400, message: /holds 12 elements but "data" has 11/ },
  { name: 'data is not an array', path: INFER, body: input({ data: 'AAAA' }), status: 400, message: /"data" must be an array/ },
  { name: 'a string among the numbers', path: INFER, body: input({ data: [...twelve.slice(1), 'x'] }), status: 400, message: /data\[11\] is "x", not a finite number/ },
  { name: 'null among the numbers', path: INFER, body: input({ data: [null, ...twelve.slice(1)] }), status: 400, message: /data\[0\] is null/ },
  { name: 'unsupported datatype (BOOL)', path: INFER, body: input({ datatype: 'BOOL' }), status: 400, message: /BOOL is not supported.*FP32, FP16, UINT8/ },
  { name: 'datatype that does not exist', path: INFER, body: input({ datatype: 'FLOAT' }), status: 400, message: /FLOAT is not an Open Inference Protocol datatype/ },
  { name: 'missing datatype', path: INFER, body: input({ datatype: undefined }), status: 400, message: /"datatype" must be a string/ },
  { name: 'UINT8 value out of range', path: INFER, body: input({ datatype: 'UINT8', data: [...twelve.slice(1), 300] }), status: 400, message: /300 is not a UINT8/ },
  { name: 'UINT8 value with a fraction', path: INFER, body: input({ datatype: 'UINT8', data: [...twelve.slice(1), 1.5] }), status: 400, message: /1\.5 is not a UINT8/ },
  { name: 'FP16 as JSON numbers', path: INFER, body: input({ datatype: 'FP16' }), status: 400, message: /FP16 cannot travel as JSON/ },
  { name: 'unknown output requested', path: INFER, body: JSON.stringify({ ...JSON.parse(input()), outputs: [{ name: 'logits' }] }), status: 400, message: /no output named logits; its outputs: output/ },
  { name: 'binary_data that is not a boolean', path: INFER, body: JSON.stringify({ ...JSON.parse(input()), outputs: [{ name: 'output', parameters: { binary_data: 'yes' } }] }), status: 400, message: /binary_data must be true or false/ },
  { name: 'parameters that is not an object', path: INFER, body: JSON.stringify({ ...JSON.parse(input()), parameters: [1] }), status: 400, message: /"parameters" must be an object/ },
  (() => {
    const req = binaryRequest([{ name: 'input', shape, datatype: 'FP32', bytes: bytesOf(floats).subarray(4) }]);
    return { name: 'binary_data_size smaller than the shape needs', path: INFER, ...req, status: 400, message: /binary_data_size is 44 bytes but shape \[1, 2, 2, 3\] of FP32 needs 48/ };
  })(),
  (() => {
    const req = binaryRequest([{ name: 'input', shape, datatype: 'FP32', bytes: bytesOf(floats) }]);
    return { name: 'binary body shorter than binary_data_size', path: INFER, body: req.body.subarray(0, req.body.length - 8), headers: req.headers, status: 400, message: /runs past the binary data/ };
  })(),
  (() => {
    const req = binaryRequest([{ name: 'input', shape, datatype: 'FP32', bytes: bytesOf(floats) }]);
    return { name: 'bytes left over after every input', path: INFER, body: Buffer.concat([req.body, Buffer.alloc(4)]), headers: req.headers, status: 400, message: /4 bytes of binary data that no input/ };
  })(),
  (() => {
    const req = binaryRequest([{ name: 'input', shape, datatype: 'FP32', bytes: bytesOf(floats) }]);
    return { name: 'Inference-Header-Content-Length past the body', path: INFER, body: req.body, headers: { ...req.headers, 'Inference-Header-Content-Length': '999999' }, status: 400, message: /Inference-Header-Content-Length is "999999"/ };
  })(),
  (() => {
    const req = binaryRequest([{ name: 'input', shape, datatype: 'FP32', bytes: bytesOf(floats) }]);
    return { name: 'Inference-Header-Content-Length not a number', path: INFER, body: req.body, headers: { ...req.headers, 'Inference-Header-Content-Length': 'ten' }, status: 400, message: /Inference-Header-Content-Length is "ten"/ };
  })(),
  (() => {
    const req = binaryRequest([{ name: 'input', shape, datatype: 'FP32', bytes: bytesOf(floats) }]);
    return { name: 'binary tensors without Inference-Header-Content-Length', path: INFER, body: req.body, headers: { 'Content-Type': 'application/octet-stream' }, status: 400, message: /not valid JSON.*Inference-Header-Content-Length/ };
  })(),
  { name: 'both data and binary_data_size', path: INFER, body: input({ parameters: { binary_data_size: 48 } }), status: 400, message: /either "data" or parameters.binary_data_size/ },
  { name: `data nested ${DEPTH.toLocaleString('en-US')} levels deep`, path: INFER, body: withData(deepArrays), status: 400, message: /nests arrays deeper than the tensor's 4 dimensions/ },
  { name: `an object nested ${DEPTH.toLocaleString('en-US')} levels deep among the numbers`, path: INFER, body: withData(`[${deepObject},1,2,3,4,5,6,7,8,9,10,11]`), status: 400, message: /data\[0\] is an object, not a finite number/ },
  { name: 'an image larger than one tile (256×256 on a 128 tile)', path: INFER, body: input({ shape: [1, 256, 256, 3], data: [] }), status: 413, message: /height × width is 256 × 256 = 65,536, more than esrgan-slim-x2 takes in one request: 16,384 \(one 128 × 128 tile\)\. Split the image into tiles/ },
  { name: 'a strip as large as two tiles (1×32768)', path: INFER, body: input({ shape: [1, 1, 32768, 3], data: [] }), status: 413, message: /1 × 32768 = 32,768, more than esrgan-slim-x2 takes/ },
  { name: 'a batch over the bound (8 latents)', path: '/v2/models/styleswin-ffhq-256-tiny/infer', body: JSON.stringify({ inputs: [{ name: 'z', shape: [8, 32], datatype: 'FP32', data: [] }] }), status: 413, message: /a batch of 8 is more than styleswin-ffhq-256-tiny takes in one request \(4\)/ },
  { name: 'a token id outside the vocabulary (INT64)', path: '/v2/models/vqdiffusion-ithq-text-tiny/infer', body: JSON.stringify({ inputs: [{ name: 'tokens', shape: [1, 77], datatype: 'INT64', data: [49406, 60000, ...Array(75).fill(0)] }] }), status: 400, message: /element 1 is 60000; vqdiffusion-ithq-text-tiny takes token ids of its vocabulary there, 0\.\.49407/ },
  { name: 'a timestep past the schedule (INT64)', path: '/v2/models/vqdiffusion-ithq-transformer-tiny/infer', body: JSON.stringify({ inputs: [{ name: 'tokens', shape: [1, 64], datatype: 'INT64', data: Array(64).fill(64) }, { name: 'timestep', shape: [1], datatype: 'INT64', data: [100] }, { name: 'text', shape: [1, 77, 12], datatype: 'FP32', data: Array(924).fill(0) }] }), status: 400, message: /element 0 is 100; .* timesteps of its 100-step schedule there, 0\.\.99/ },
  { name: 'inputs that disagree on a named dimension (rays)', path: '/v2/models/gram-ffhq-256-tiny/infer', body: JSON.stringify({ inputs: [{ name: 'z', shape: [1, 256], datatype: 'FP32', data: Array(256).fill(0) }, { name: 'truncation', shape: [1], datatype: 'FP32', data: [0.7] }, { name: 'ray_origins', shape: [1, 10, 3], datatype: 'FP32', data: Array(30).fill(0) }, { name: 'ray_directions', shape: [1, 20, 3], datatype: 'FP32', data: Array(60).fill(1) }] }), status: 400, message: /Input ray_directions: its "rays" dimension is 20 but input ray_origins has 10 there/ },
  { name: 'unknown model', path: '/v2/models/esrgan-huge-x8/infer', body: input(), status: 404, message: /No model named esrgan-huge-x8/ },
  { name: 'unknown version', path: `/v2/models/${MODEL}/versions/2/infer`, body: input(), status: 404, message: /no version 2/ },
  { name: 'malformed percent-encoding in the model name', path: '/v2/models/%E0%A4%A/infer', body: input(), status: 400, message: /percent-encoding/ },
];
