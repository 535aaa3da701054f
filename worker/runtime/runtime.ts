// The runtime contract: where a model runs. Task code sees only this.
import type { DType, ModelCard } from '../models/card.ts';

/** Runtime-neutral tensor: tasks never see onnxruntime's own Tensor class. */
export interface Tensor {
  dtype: DType;
  dims: number[];
  data: Float32Array | Uint8Array | BigInt64Array | Uint16Array;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** How many runs it computes at once (a pool of workers, each with its own copy of the model): tiled tasks keep
   *  that many runs in flight. Absent: one at a time (further runs queue). */
  readonly concurrency?: number;
  /** `signal` aborts a remote call (OIP) and a run on a WASM pool worker (the worker is stopped); the other local
   *  runtimes finish the current run (cancel is between tiles). */
  run(feeds: Record<string, Tensor>, options?: { signal?: AbortSignal }): Promise<Record<string, Tensor>>;
  /** Runs `feeds` (tiny inputs) once wherever this session computes, outputs discarded: the browser compiles the
   *  runtime's code on its first runs (seconds of V8 work for onnxruntime's wasm), so doing it before the first job
   *  spares the designer that wait. A pool runs them once on every worker it may use. Absent: one run() does it. */
  warmUp?(feeds: Record<string, Tensor>): Promise<void>;
  dispose(): Promise<void>;
}

export interface Runtime {
  /** e.g. 'ort-web/webgpu', 'ort-web/wasm', 'ort-node/cpu', 'oip'. */
  readonly name: string;
  /**
   * A session for `card`. Local runtimes call `loadBytes()` (download with progress + sha256 check by the model
   * loader); a remote runtime (Open Inference Protocol) never needs the bytes: the server has the model.
   */
  createSession(card: ModelCard, loadBytes: () => Promise<Uint8Array>, more?: ModelExtras): Promise<Session>;
}

/** What a graph above 2 GB needs besides its bytes (ONNX external data). */
export interface ModelExtras {
  /** The graph's external weight files, verified, named as the graph refers to them (onnxruntime-web). */
  externalData?(): Promise<{ path: string; data: Uint8Array }[]>;
  /** A verified path of the graph on disk, its weight files beside it (onnxruntime-node loads those by path). */
  localPath?(): Promise<string>;
}
