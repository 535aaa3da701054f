// Model files over HTTP from the model host (the local companion server or any static host).
// Streams with byte progress, resumes an interrupted download with a Range request, and keeps verified files
// in the Cache API where the context allows it (Figma's null-origin iframe may not: then the HTTP cache, fed by
// content-addressed immutable URLs, does the caching).
import { FrontierError } from '../job.ts';
import type { ModelFile } from './card.ts';
import type { ByteProgress, ModelSource } from './loader.ts';

const CACHE_NAME = 'frontier-models-v1';
/** The `code` a Frontier server answers for a model file that fails its own size or sha256 check (server/routes/models.ts). */
export const DAMAGED_MODEL_FILE = 'model-file-damaged';
const MAX_RESUMES = 3;

export async function openModelCache(): Promise<Cache | null> {
  try {
    if (typeof caches === 'undefined') return null;
    return await caches.open(CACHE_NAME);
  } catch {
    return null; // SecurityError in opaque origins
  }
}

export class HttpModelSource implements ModelSource {
  constructor(
    private readonly baseUrl: string,
    private readonly token = '',
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  get where(): string {
    return this.baseUrl;
  }

  url(file: ModelFile): string {
    return `${this.baseUrl}/models/files/${encodeURIComponent(file.name)}`;
  }

  async read(file: ModelFile, onProgress: ByteProgress): Promise<{ bytes: Uint8Array; fromCache: boolean }> {
    const cache = await openModelCache();
    const hit = await cache?.match(this.url(file)).catch(() => undefined);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      onProgress(bytes.length, file.bytes);
      return { bytes, fromCache: true };
    }
    const bytes = await this.download(file, onProgress);
    // Store only when complete; the loader verifies the hash and evicts a bad copy.
    if (cache && bytes.length === file.bytes) {
      await cache
        .put(this.url(file), new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/octet-stream', 'X-Frontier-Bytes': String(bytes.length) } }))
        .catch(() => undefined);
    }
    return { bytes, fromCache: false };
  }

  async evict(file: ModelFile): Promise<void> {
    const cache = await openModelCache();
    await cache?.delete(this.url(file)).catch(() => false);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { ...extra, Authorization: `Bearer ${this.token}` } : extra;
  }

  private async download(file: ModelFile, onProgress: ByteProgress): Promise<Uint8Array> {
    const out = new Uint8Array(file.bytes);
    let received = 0;
    let resumes = 0;
    let rangeOk = true;
    for (;;) {
      const resuming = received > 0;
      let response: Response;
      try {
        response = await this.fetchImpl(this.url(file), { headers: this.headers(resuming ? { Range: `bytes=${received}-` } : {}) });
      } catch {
        if (resuming && resumes < MAX_RESUMES) {
          resumes++;
          continue;
        }
        throw new FrontierError('download-failed', `Cannot reach the model host at ${this.baseUrl}. Is the local server running? Start it with "npm start", or check the server URL in Settings.`);
      }
      if (response.status === 404) {
        throw new FrontierError('download-failed', `The model host at ${this.baseUrl} has no file ${file.name} (404). Run "npm run build" on the server to convert the models, then retry.`);
      }
      if (response.status === 401 || response.status === 403) {
        throw new FrontierError('download-failed', `The model host at ${this.baseUrl} refused access (${response.status}). Check the token in Settings.`);
      }
      if (resuming && response.status !== 206) {
        rangeOk = false; // server ignored Range: start over from byte 0
        received = 0;
      } else if (!response.ok) {
        const said = await serverError(response);
        if (said.code === DAMAGED_MODEL_FILE) {
          throw new FrontierError('hash-mismatch', `The model file ${file.name} is corrupt on the server at ${this.baseUrl}: its sha256 does not match its card. Run "npm run build" on the server, then retry.`);
        }
        throw new FrontierError('download-failed', `The model host answered ${response.status} for ${file.name}${said.error ? ` (${said.error})` : ''}. Retry; if it persists, check the server's log.`);
      }
      if (!response.body) throw new FrontierError('download-failed', 'The model download has no body. Retry.');
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (received + value.length > out.length) {
            throw new FrontierError('hash-mismatch', `The model file ${file.name} is larger than its card says (${file.bytes} bytes): the server has a different file. Rebuild the models with "npm run build".`);
          }
          out.set(value, received);
          received += value.length;
          onProgress(received, file.bytes);
        }
      } catch (err) {
        if (err instanceof FrontierError) throw err;
        // The connection dropped mid-stream: resume with a Range request where the server allows it.
        if (rangeOk && resumes < MAX_RESUMES) {
          resumes++;
          continue;
        }
        throw new FrontierError('download-failed', `The download of ${file.name} stopped at ${received} of ${file.bytes} bytes. Check the connection and retry.`);
      }
      if (received === file.bytes) return out;
      if (rangeOk && resumes < MAX_RESUMES) {
        resumes++;
        continue;
      }
      return out.subarray(0, received); // the loader reports it as truncated
    }
  }
}

/** Bytes of each model file in the Cache API (by URL), for the model manager. */
export async function cachedFiles(urls: string[]): Promise<Map<string, number>> {
  const cache = await openModelCache();
  const sizes = new Map<string, number>();
  if (!cache) return sizes;
  for (const url of urls) {
    const hit = await cache.match(url).catch(() => undefined);
    if (hit) sizes.set(url, Number(hit.headers.get('X-Frontier-Bytes')) || (await hit.arrayBuffer()).byteLength);
  }
  return sizes;
}

/** The `{ error, code }` a Frontier server sends with a refusal (other hosts may send anything: then nothing). */
async function serverError(response: Response): Promise<{ error?: string; code?: string }> {
  try {
    const body = (await response.json()) as { error?: unknown; code?: unknown };
    return { error: typeof body.error === 'string' ? body.error.slice(0, 300) : undefined, code: typeof body.code === 'string' ? body.code : undefined };
  } catch {
    return {};
  }
}
