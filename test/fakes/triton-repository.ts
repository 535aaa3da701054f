// Serves a Triton model repository (<repo>/<model>/config.pbtxt + <repo>/<model>/1/model.onnx) the way Triton's
// ONNX backend does, as far as a client can see, through the Triton-like fake OIP server (oip-server.ts): one model
// per folder under the name its config gives (which must be the folder's), model metadata from config.pbtxt (the
// batch dim prepended as -1 when max_batch_size > 0, as Triton reports it), inputs checked against the config's
// names, types and dims, and the graph run by onnxruntime-node. As Triton does on load, a config whose tensors are not
// the graph's (names, types, dims where both are fixed) is refused. No real Triton runs on this machine.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parsePbtxt, type PbtxtIdent, type PbtxtMessage, type PbtxtValue } from '../../server/triton/pbtxt-parse.ts';
import type { FakeDatatype, FakeModel, FakeTensor } from './oip-server.ts';

const OIP_OF_TRITON: Record<string, FakeDatatype> = { TYPE_FP32: 'FP32', TYPE_FP16: 'FP16', TYPE_UINT8: 'UINT8', TYPE_INT64: 'INT64' };
const ORT_OF_OIP: Record<FakeDatatype, 'float32' | 'float16' | 'uint8' | 'int64'> = { FP32: 'float32', FP16: 'float16', UINT8: 'uint8', INT64: 'int64' };

const list = (v: PbtxtValue | undefined): PbtxtValue[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

interface ConfigTensor {
  name: string;
  datatype: FakeDatatype;
  shape: number[];
}

function configTensors(config: PbtxtMessage, side: 'input' | 'output', batched: boolean, where: string): ConfigTensor[] {
  return list(config[side]).map((entry) => {
    const t = entry as PbtxtMessage;
    const type = (t.data_type as PbtxtIdent).ident;
    const datatype = OIP_OF_TRITON[type];
    if (!datatype) throw new Error(`${where}: ${side} ${String(t.name)} has data_type ${type}, which this fake does not serve`);
    const dims = list(t.dims).map(Number);
    return { name: String(t.name), datatype, shape: batched ? [-1, ...dims] : dims };
  });
}

/** Triton's load-time check: the config's tensors are the graph's. */
function checkAgainstGraph(side: 'input' | 'output', tensors: ConfigTensor[], metas: readonly ort.InferenceSession.ValueMetadata[], where: string): void {
  const names = (xs: { name: string }[]) => xs.map((x) => x.name).sort().join(', ');
  if (names(tensors) !== names([...metas])) throw new Error(`${where}: the config's ${side}s (${names(tensors)}) are not the model's (${names([...metas])})`);
  for (const t of tensors) {
    const m = metas.find((x) => x.name === t.name)!;
    if (!m.isTensor) throw new Error(`${where}: ${t.name} is not a tensor`);
    if (m.type !== ORT_OF_OIP[t.datatype]) throw new Error(`${where}: ${side} ${t.name} is ${m.type} in the model, ${t.datatype} in the config`);
    const clash = m.shape.length !== t.shape.length || m.shape.some((d, i) => typeof d === 'number' && d >= 0 && t.shape[i] >= 0 && d !== t.shape[i]);
    if (clash) throw new Error(`${where}: ${side} ${t.name} has dims [${m.shape}] in the model, [${t.shape}] in the config`);
  }
}

function toOrt(t: FakeTensor): ort.Tensor {
  const type = ORT_OF_OIP[t.datatype];
  const bytes = t.bytes.slice();
  const data = type === 'float32' ? new Float32Array(bytes.buffer) : type === 'uint8' ? bytes : type === 'int64' ? new BigInt64Array(bytes.buffer) : new Uint16Array(bytes.buffer);
  return new ort.Tensor(type, data, t.shape);
}

function fromOrt(name: string, datatype: FakeDatatype, t: ort.Tensor): FakeTensor {
  const data = t.data as ArrayBufferView;
  return { name, datatype, shape: [...t.dims], bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() };
}

export interface TritonRepositoryModels {
  models: FakeModel[];
  release(): Promise<void>;
}

/** Every model folder of `repo` as a fake model, its graph loaded by onnxruntime-node. */
export async function loadTritonRepository(repo: string): Promise<TritonRepositoryModels> {
  const sessions: ort.InferenceSession[] = [];
  const models: FakeModel[] = [];
  try {
    for (const entry of (await readdir(repo, { withFileTypes: true })).filter((e) => e.isDirectory())) {
      const where = `${repo}/${entry.name}`;
      const config = parsePbtxt(await readFile(join(repo, entry.name, 'config.pbtxt'), 'utf8'));
      if (config.name !== entry.name) throw new Error(`${where}: config name ${String(config.name)} is not the folder's`);
      if (config.platform !== 'onnxruntime_onnx') throw new Error(`${where}: platform ${String(config.platform)}`);
      const batched = Number(config.max_batch_size ?? 0) > 0;
      const inputs = configTensors(config, 'input', batched, where);
      const outputs = configTensors(config, 'output', batched, where);
      const session = await ort.InferenceSession.create(join(repo, entry.name, '1', 'model.onnx'), { executionProviders: ['cpu'] });
      sessions.push(session);
      checkAgainstGraph('input', inputs, session.inputMetadata, where);
      checkAgainstGraph('output', outputs, session.outputMetadata, where);
      models.push({
        name: entry.name,
        platform: 'onnxruntime_onnx',
        inputs,
        outputs,
        async compute(given) {
          const feeds = Object.fromEntries(inputs.map((i) => [i.name, toOrt(given[i.name])]));
          const result = await session.run(feeds);
          return outputs.map((o) => fromOrt(o.name, o.datatype, result[o.name]));
        },
      });
    }
  } catch (err) {
    await Promise.all(sessions.map((s) => s.release()));
    throw err;
  }
  return { models, release: () => Promise.all(sessions.map((s) => s.release())).then(() => {}) };
}
