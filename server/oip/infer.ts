// One inference request: validate it against the loaded model (names, datatypes, shapes, byte sizes, and the
// bounds its card sets: bounds.ts) before any tensor is decoded, build the onnxruntime feeds, and encode the outputs
// as JSON or with the binary tensor data extension.
import { HttpError } from '../http-util.ts';
import type { ServerResponse } from 'node:http';
import { BinaryReader, type SplitBody } from './binary.ts';
import { checkInputBounds, checkIntegerRange, checkSharedDimensions } from './bounds.ts';
import { bytesPerElement, convertTo, fromBytes, fromJson, isOrtType, oipOfOrt, parseDatatype, toBytes, toJson, type TypedData } from './datatypes.ts';
import type { PlainTensor } from './pool.ts';
import type { LoadedModel, TensorInfo } from './sessions.ts';

export const MODEL_VERSION = '1';
/** Beyond this many elements a JSON response gets slow and huge: ask for binary instead. */
const MAX_JSON_OUTPUT_ELEMENTS = 16 * 2 ** 20;

export interface ParsedInfer {
  id?: string;
  feeds: Record<string, PlainTensor>;
  outputs: { name: string; binary: boolean }[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalParameters(v: unknown, where: string): Json {
  if (v === undefined) return {};
  if (!isObject(v)) throw new HttpError(400, `${where}: "parameters" must be an object.`);
  return v;
}

function optionalBoolean(params: Json, key: string, where: string): boolean | undefined {
  const v = params[key];
  if (v === undefined || typeof v === 'boolean') return v;
  throw new HttpError(400, `${where}: parameters.${key} must be true or false.`);
}

function names(list: TensorInfo[]): string {
  return list.map((t) => t.name).join(', ');
}

/** Checks `shape` against the model input's rank and fixed dims; returns the element count. */
function checkShape(shape: unknown, info: TensorInfo, where: string): number[] {
  const expected = `[${info.shape.join(', ')}] (-1 = any size)`;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new HttpError(400, `${where}: "shape" must be an array of non-negative integers; the model takes ${expected}.`);
  }
  if (shape.length !== info.shape.length) {
    throw new HttpError(400, `${where}: shape [${shape.join(', ')}] has ${shape.length} dimensions; the model takes ${info.shape.length}: ${expected}.`);
  }
  shape.forEach((d: number, i) => {
    const want = info.shape[i];
    if (want >= 0 && d !== want) throw new HttpError(400, `${where}: dimension ${i} is ${d}, the model needs ${want}: ${expected}.`);
    if (d === 0) throw new HttpError(400, `${where}: dimension ${i} is 0; the model needs at least 1 there.`);
  });
  return shape as number[];
}

function elementCount(shape: number[], where: string): number {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw new HttpError(400, `${where}: shape [${shape.join(', ')}] is too large.`);
  return count;
}

/** Validates an inference request (already split from its binary part) for `model`. */
export function parseInferRequest(model: LoadedModel, { json, binary }: SplitBody): ParsedInfer {
  if (!isObject(json)) throw new HttpError(400, 'The inference request must be a JSON object with an "inputs" array.');
  const { id, inputs, outputs } = json;
  if (id !== undefined && typeof id !== 'string') throw new HttpError(400, '"id" must be a string.');
  const requestParams = optionalParameters(json.parameters, 'The request');
  const binaryByDefault = optionalBoolean(requestParams, 'binary_data_output', 'The request') ?? false;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new HttpError(400, `"inputs" must be a non-empty array; ${model.card.id} takes: ${names(model.inputs)}.`);
  }

  const reader = new BinaryReader(binary);
  const feeds: Record<string, PlainTensor> = {};
  const shapes = new Map<string, number[]>();
  inputs.forEach((input: unknown, i) => {
    if (!isObject(input) || typeof input.name !== 'string') throw new HttpError(400, `inputs[${i}] must be an object with a "name".`);
    const where = `Input ${input.name}`;
    const info = model.inputs.find((t) => t.name === input.name);
    if (!info) throw new HttpError(400, `${model.card.id} has no input named ${input.name}; its inputs: ${names(model.inputs)}.`);
    if (feeds[info.name]) throw new HttpError(400, `${where} is given twice.`);
    const datatype = parseDatatype(input.datatype, where);
    const shape = checkShape(input.shape, info, where);
    checkInputBounds(model.card.id, model.bounds, info, shape, where); // 413 before any data is decoded
    shapes.set(info.name, shape);
    const count = elementCount(shape, where);
    const params = optionalParameters(input.parameters, where);

    let data: TypedData;
    if (params.binary_data_size !== undefined) {
      const size = params.binary_data_size;
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw new HttpError(400, `${where}: parameters.binary_data_size must be a byte count.`);
      if (input.data !== undefined) throw new HttpError(400, `${where}: give either "data" or parameters.binary_data_size, not both.`);
      const expected = count * bytesPerElement(datatype);
      if (size !== expected) {
        throw new HttpError(400, `${where}: binary_data_size is ${size} bytes but shape [${shape.join(', ')}] of ${datatype} needs ${expected}.`);
      }
      data = fromBytes(datatype, reader.take(size as number, where));
    } else {
      data = fromJson(datatype, input.data, count, where, shape.length);
    }
    checkIntegerRange(model.card.id, model.bounds, info.name, data, where);
    feeds[info.name] = { type: info.type, data: convertTo(info.type, datatype, data, where), dims: shape };
  });
  reader.finish();
  const missing = model.inputs.filter((t) => !feeds[t.name]);
  if (missing.length) throw new HttpError(400, `Missing input(s) ${names(missing)} for ${model.card.id}.`);
  checkSharedDimensions(model.inputs, shapes);

  let wanted: ParsedInfer['outputs'];
  if (outputs === undefined) {
    wanted = model.outputs.map((t) => ({ name: t.name, binary: binaryByDefault }));
  } else {
    if (!Array.isArray(outputs)) throw new HttpError(400, '"outputs" must be an array of { "name": … }.');
    wanted = outputs.map((output: unknown, i) => {
      if (!isObject(output) || typeof output.name !== 'string') throw new HttpError(400, `outputs[${i}] must be an object with a "name".`);
      if (!model.outputs.some((t) => t.name === output.name)) {
        throw new HttpError(400, `${model.card.id} has no output named ${output.name}; its outputs: ${names(model.outputs)}.`);
      }
      const params = optionalParameters(output.parameters, `Output ${output.name}`);
      return { name: output.name, binary: optionalBoolean(params, 'binary_data', `Output ${output.name}`) ?? binaryByDefault };
    });
    if (new Set(wanted.map((o) => o.name)).size !== wanted.length) throw new HttpError(400, '"outputs" names an output twice.');
    if (wanted.length === 0) throw new HttpError(400, '"outputs" is empty: name at least one output, or leave "outputs" out to get them all.');
  }
  return { id: id as string | undefined, feeds, outputs: wanted };
}

export interface EncodedResponse {
  /**
   * The body in pieces: the JSON (the whole body, or the binary extension's header), then each binary output as the
   * inference process sent it. They are written out one after another, never joined into one buffer (a copy of every
   * output byte).
   */
  chunks: Uint8Array[];
  /** Their total length in bytes. */
  length: number;
  headers: Record<string, string>;
}

/** The response body: plain JSON, or a JSON header followed by the binary outputs. */
export function encodeInferResponse(model: LoadedModel, parsed: ParsedInfer, results: Record<string, PlainTensor>): EncodedResponse {
  const binaryChunks: Uint8Array[] = [];
  const outputs = parsed.outputs.map(({ name, binary }) => {
    const tensor = results[name];
    if (!tensor) throw new Error(`onnxruntime returned no ${name} output.`);
    if (!isOrtType(tensor.type)) throw new Error(`output ${name} has type ${tensor.type}, which this server cannot send.`);
    const datatype = oipOfOrt(tensor.type);
    const shape = [...tensor.dims];
    const data = tensor.data as TypedData;
    if (binary) {
      const bytes = toBytes(data);
      binaryChunks.push(bytes);
      return { name, datatype, shape, parameters: { binary_data_size: bytes.length } };
    }
    if (data.length > MAX_JSON_OUTPUT_ELEMENTS) {
      throw new HttpError(400, `Output ${name} has ${data.length} elements, too many for JSON: request it with parameters.binary_data: true.`);
    }
    return { name, datatype, shape, data: toJson(datatype, data, name) };
  });
  const header = {
    model_name: model.card.id,
    model_version: MODEL_VERSION,
    ...(parsed.id !== undefined ? { id: parsed.id } : {}),
    outputs,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (binaryChunks.length === 0) {
    return { chunks: [json], length: json.length, headers: { 'Content-Type': 'application/json; charset=utf-8' } };
  }
  return {
    chunks: [json, ...binaryChunks],
    length: binaryChunks.reduce((n, c) => n + c.length, json.length),
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(json.length) },
  };
}

/** Sends an encoded answer: the status line, the headers and every chunk leave together (corked: one writev). */
export function sendInferResponse(res: ServerResponse, { chunks, length, headers }: EncodedResponse): void {
  res.writeHead(200, { ...headers, 'Content-Length': length, 'Cache-Control': 'no-store' });
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.end(); // uncorks
}
