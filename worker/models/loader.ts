// Model loading shared by every platform: get a model's bytes from a source (HTTP with cache, or disk),
// report progress, and verify size and sha256 before anything is handed to a runtime.
import { FrontierError } from '../job.ts';
import type { ModelCard, ModelFile, ModelFileKind } from './card.ts';
import { sha256PureHex } from './sha256.ts';

export interface ByteProgress {
  (done: number, total: number): void;
}

/** Where model files come from. Implementations: worker/models/http-source.ts, worker/models/file-source.ts. */
export interface ModelSource {
  /** Returns the file's bytes; may return cached bytes, which the loader verifies like fresh ones. */
  read(file: ModelFile, onProgress: ByteProgress): Promise<{ bytes: Uint8Array; fromCache: boolean }>;
  /** Forget a cached copy (after it failed verification). */
  evict?(file: ModelFile): Promise<void>;
  /** Human-readable place, for error messages ("http://127.0.0.1:8740", "models/build/files"). */
  readonly where: string;
  /** A verified path on disk (Node): graphs with external data load from a path, their weights beside them. */
  localPath?(card: ModelCard, file: ModelFile): Promise<string>;
}

/** WebCrypto where the context has it; our own SHA-256 where it does not (non-secure contexts, e.g. Figma's worker). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256PureHex(bytes);
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Throws a FrontierError that says what to do when `bytes` is not exactly `file`. */
export async function verifyFile(card: ModelCard, file: ModelFile, bytes: Uint8Array): Promise<void> {
  checkFile(card, file, bytes.length, bytes.length === file.bytes ? await sha256Hex(bytes) : '');
}

/** The same check from a length and a digest computed elsewhere (a file streamed from disk). */
export function checkFile(card: ModelCard, file: ModelFile, length: number, sha256: string): void {
  if (length !== file.bytes) {
    throw new FrontierError(
      'download-failed',
      `The model file for ${card.label} is truncated (${length} of ${file.bytes} bytes). Check the connection and run again; the download resumes where it stopped.`,
    );
  }
  if (sha256 !== file.sha256) {
    throw new FrontierError(
      'hash-mismatch',
      `The model file for ${card.label} is corrupt (sha256 ${sha256.slice(0, 12)}… instead of ${file.sha256.slice(0, 12)}…). Clear the model cache and retry; if it persists, rebuild the models on the server with "npm run build".`,
    );
  }
}

/**
 * Loads and verifies one file of a model. A cached copy that fails verification is evicted and fetched again
 * once, so a corrupt cache heals itself; a fresh copy that fails is reported.
 */
export async function loadModelFile(card: ModelCard, file: ModelFile, source: ModelSource, onProgress: ByteProgress): Promise<Uint8Array> {
  const first = await source.read(file, onProgress);
  try {
    await verifyFile(card, file, first.bytes);
    return first.bytes;
  } catch (err) {
    if (!first.fromCache || !source.evict) throw err;
    await source.evict(file);
    const fresh = await source.read(file, onProgress);
    await verifyFile(card, file, fresh.bytes);
    return fresh.bytes;
  }
}

/** The ONNX graph of a model (files[0]). */
export function graphFile(card: ModelCard): ModelFile {
  const file = card.files[0];
  if (!file || (file.kind && file.kind !== 'onnx')) throw new FrontierError('model-load-failed', `${card.id}: its card lists no ONNX graph first. Rebuild the models ("npm run build").`);
  return file;
}

/** The model's file of `kind` (a vocabulary, a null embedding); throws saying how to fix a card without one. */
export function fileOfKind(card: ModelCard, kind: ModelFileKind): ModelFile {
  const file = card.files.find((f) => f.kind === kind);
  if (!file) throw new FrontierError('model-load-failed', `${card.label} has no ${kind} file in its card. Re-export it with models/export/export.py.`);
  return file;
}

/** Loads and verifies the ONNX graph (files[0]). */
export async function loadModelBytes(card: ModelCard, source: ModelSource, onProgress: ByteProgress): Promise<Uint8Array> {
  return loadModelFile(card, graphFile(card), source, onProgress);
}

/** Loads and verifies the graph's external weight files, named as the graph refers to them. */
export async function loadExternalData(card: ModelCard, source: ModelSource, onProgress: ByteProgress): Promise<{ path: string; data: Uint8Array }[]> {
  const out: { path: string; data: Uint8Array }[] = [];
  for (const file of card.files.filter((f) => f.kind === 'onnx-external-data')) {
    out.push({ path: file.name, data: await loadModelFile(card, file, source, onProgress) });
  }
  return out;
}
