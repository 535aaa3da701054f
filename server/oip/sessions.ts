// The registry's models as the inference processes run them: each model's file is read and its sha256 verified once
// (by the model loader), its graph's inputs and outputs read from a real onnxruntime session, its request bounds
// derived from its card (bounds.ts), and every run goes to the process pool. The CUDA execution provider is tried on the first load; when its libraries are missing or it
// fails, every model runs on the CPU and the server says so.
import { availableParallelism } from 'node:os';
import { FrontierError } from '../../worker/job.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { FileModelSource } from '../../worker/models/file-source.ts';
import { loadExternalData, loadModelBytes } from '../../worker/models/loader.ts';
import { HttpError } from '../http-util.ts';
import { servableRegistry } from '../models.ts';
import type { ServerPaths } from '../paths.ts';
import { requestBounds, type RequestBounds } from './bounds.ts';
import { isOrtType, type OrtType } from './datatypes.ts';
import { InferencePool, type ModelBytes, type PlainTensor, type ValueMetadata } from './pool.ts';

export type ExecutionProviderChoice = 'auto' | 'cpu';

export interface ExecutionProviderState {
  /** What runs the models: 'cuda' when the CUDA EP loaded, else 'cpu'; 'unknown' before the first model load. */
  name: 'cpu' | 'cuda' | 'unknown';
  /** Why, in a sentence (e.g. why CUDA is not used). */
  detail: string;
}

export interface TensorInfo {
  name: string;
  type: OrtType;
  /** -1 marks a dynamic dimension. */
  shape: number[];
  /** Dimension names from the graph or the card ("batch", "height"), null where there is none. */
  symbols: (string | null)[];
}

export interface LoadedModel {
  card: ModelCard;
  /** The verified model files (the graph and its weight files), sent to each inference process that runs it. */
  files: ModelBytes;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** What one request may ask of it (bounds.ts). */
  bounds: RequestBounds;
}

export interface SessionOptions {
  executionProvider?: ExecutionProviderChoice;
  /** Inference processes (runs at once). */
  poolSize?: number;
  /** onnxruntime intra-op threads per session; 0 lets onnxruntime choose. */
  threads?: number;
}

/** Dynamic dims (symbolic names, -1, missing) become -1; the card fills in what the graph leaves symbolic. */
function shapeOf(graphShape: readonly (number | string)[], cardShape: readonly (number | string)[] | undefined): number[] {
  return graphShape.map((d, i) => {
    if (typeof d === 'number' && d >= 0) return d;
    const fromCard = cardShape?.[i];
    return typeof fromCard === 'number' && fromCard >= 0 ? fromCard : -1;
  });
}

/** The names of the dims, from the graph (dim_param) or else the card. */
function symbolsOf(graphShape: readonly (number | string)[], cardShape: readonly (number | string)[] | undefined): (string | null)[] {
  return graphShape.map((d, i) => {
    if (typeof d === 'string' && d !== '') return d;
    const fromCard = cardShape?.[i];
    return typeof fromCard === 'string' && fromCard !== '' ? fromCard : null;
  });
}

function tensorInfos(metadata: ValueMetadata[], cardSpecs: ModelCard['io']['inputs'], modelId: string): TensorInfo[] {
  return metadata.map((m) => {
    if (!m.isTensor || !m.type || !isOrtType(m.type)) {
      const type = m.isTensor ? m.type : 'a non-tensor value';
      throw new FrontierError('model-load-failed', `${modelId}: ${m.name} is ${type}, which this server cannot serve (FP32, FP16, UINT8, INT64 only).`);
    }
    const card = cardSpecs.find((s) => s.name === m.name);
    return { name: m.name, type: m.type, shape: shapeOf(m.shape ?? [], card?.shape), symbols: symbolsOf(m.shape ?? [], card?.shape) };
  });
}

/**
 * The inference processes get a model's files as bytes (a process reads nothing from disk), and one file must fit one
 * buffer: weights files up to 2 GiB are served (MAXIM's shared weights, 56–89 MB); larger ones (VQ-Diffusion's
 * 5 GB transformer) run as a whole task on this server, or on Triton.
 */
const MAX_FILE_BYTES = 2 ** 31 - 1;

function refuseTooLarge(card: ModelCard): void {
  if (card.files.some((f) => f.bytes > MAX_FILE_BYTES)) {
    throw new HttpError(503, `Model ${card.id} keeps its weights in a file over 2 GB: this endpoint serves models whose files are smaller. Its task runs on this server as a job (PUT /jobs/{id}), or serve it on Triton (npm run export:triton).`);
  }
}

export class ModelSessions {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();
  private readonly source: FileModelSource;
  private readonly pool: InferencePool;
  private epState: ExecutionProviderState = { name: 'unknown', detail: 'decided when the first model loads' };

  constructor(
    private readonly paths: ServerPaths,
    options: SessionOptions = {},
  ) {
    this.source = new FileModelSource(paths.modelFiles);
    this.pool = new InferencePool({ size: options.poolSize ?? availableParallelism(), threads: options.threads ?? 0 });
    if (options.executionProvider === 'cpu') this.epState = { name: 'cpu', detail: 'CPU chosen by the server configuration (--cpu)' };
  }

  get executionProvider(): ExecutionProviderState {
    return this.epState;
  }

  /** The servable card for `id`, or 404 naming the models there are. */
  async card(id: string): Promise<ModelCard> {
    const { registry, missing } = await servableRegistry(this.paths);
    const card = registry.models.find((m) => m.id === id);
    if (card) return card;
    const notBuilt = missing.find((m) => m.id === id);
    if (notBuilt) throw new HttpError(404, `Model ${id} is in the registry but cannot be served (${notBuilt.reason}): run \`npm run build\` on the server.`);
    const ids = registry.models.map((m) => m.id);
    throw new HttpError(404, `No model named ${id}. Models: ${ids.join(', ') || 'none (run `npm run build` on the server)'}.`);
  }

  /**
   * Throws 503 unless `id` can serve: loaded (or loading) models are awaited; others only have their files checked
   * against the registry's sha256, without a session. Clients probe every model they know (the plugin's Test
   * connection), and loading them all would hold every model in memory — seven MAXIM graphs alone are ≈600 MB.
   */
  async ready(id: string): Promise<void> {
    const loading = this.loaded.get(id);
    if (loading) {
      await loading;
      return;
    }
    const card = await this.card(id);
    refuseTooLarge(card);
    try {
      await loadModelBytes(card, this.source, () => {});
      await loadExternalData(card, this.source, () => {});
    } catch (err) {
      throw new HttpError(503, `Model ${id} is not ready: ${(err as Error).message}`);
    }
  }

  /** The loaded model, loading it on first use. A failed load is forgotten so a rebuilt file is picked up. */
  get(id: string): Promise<LoadedModel> {
    let entry = this.loaded.get(id);
    if (!entry) {
      entry = this.load(id);
      this.loaded.set(id, entry);
      entry.catch(() => this.loaded.delete(id));
    }
    return entry;
  }

  /**
   * Runs the model in an inference process. The caller holds an InferLimiter slot. When `signal` aborts, the run is
   * stopped (its process killed) and this rejects with the signal's reason once it has.
   */
  run(model: LoadedModel, feeds: Record<string, PlainTensor>, fetches: string[], signal?: AbortSignal): Promise<Record<string, PlainTensor>> {
    return this.pool.run(model.card.id, model.files, this.providerForLoads(), feeds, fetches, signal);
  }

  /** Settles the execution provider question by loading the smallest servable model, if none is loaded yet. */
  async probe(): Promise<ExecutionProviderState> {
    if (this.epState.name !== 'unknown') return this.epState;
    const { registry } = await servableRegistry(this.paths);
    const smallest = [...registry.models].sort((a, b) => a.files[0].bytes - b.files[0].bytes)[0];
    if (!smallest) return this.epState;
    try {
      await this.get(smallest.id);
    } catch {
      // That model's own error surfaces when it is used; the provider is decided on the next load.
    }
    return this.epState;
  }

  async dispose(): Promise<void> {
    this.loaded.clear();
    await this.pool.close();
  }

  /** 'auto' until the first load has decided; then the decision, so every process uses the same provider. */
  private providerForLoads(): string {
    return this.epState.name === 'unknown' ? 'auto' : this.epState.name;
  }

  private async load(id: string): Promise<LoadedModel> {
    const card = await this.card(id);
    refuseTooLarge(card);
    let files: ModelBytes;
    try {
      files = { bytes: await loadModelBytes(card, this.source, () => {}), externalData: await loadExternalData(card, this.source, () => {}) };
    } catch (err) {
      // A corrupt or missing file: this model is not ready; the server and the other models keep serving.
      throw new HttpError(503, `Model ${id} is not ready: ${(err as Error).message}`);
    }
    let info;
    try {
      info = await this.pool.load(id, files, this.providerForLoads());
    } catch (err) {
      throw new HttpError(503, `Model ${id} is not ready: onnxruntime-node could not load it (${(err as Error).message}).`);
    }
    if (info.executionProvider && this.epState.name === 'unknown') this.epState = info.executionProvider;
    try {
      const inputs = tensorInfos(info.inputs, card.io.inputs, id);
      return { card, files, inputs, outputs: tensorInfos(info.outputs, card.io.outputs, id), bounds: requestBounds(card, inputs) };
    } catch (err) {
      throw new HttpError(503, `Model ${id} is not ready: ${(err as Error).message}`);
    }
  }
}
