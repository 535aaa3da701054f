// Model files from a local folder (the CLI and server use models/build/files).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FrontierError } from '../job.ts';
import type { ModelCard, ModelFile } from './card.ts';
import { checkFile, type ByteProgress, type ModelSource } from './loader.ts';

export class FileModelSource implements ModelSource {
  constructor(readonly dir: string) {}

  get where(): string {
    return this.dir;
  }

  async read(file: ModelFile, onProgress: ByteProgress): Promise<{ bytes: Uint8Array; fromCache: boolean }> {
    try {
      const buf = await readFile(join(this.dir, file.name));
      onProgress(buf.length, file.bytes);
      return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), fromCache: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new FrontierError('model-not-found', `Model file ${file.name} is missing from ${this.dir}. Run "npm run build" to convert the models.`);
      }
      throw err;
    }
  }

  /** Checks size and sha256 by streaming (multi-GB weights never sit in memory), then returns the path. */
  async localPath(card: ModelCard, file: ModelFile): Promise<string> {
    const path = join(this.dir, file.name);
    const size = await stat(path).then((s) => s.size, () => -1);
    if (size < 0) throw new FrontierError('model-not-found', `Model file ${file.name} is missing from ${this.dir}. Run "npm run build" to convert the models.`);
    // A wrong size is reported without reading the file through.
    checkFile(card, file, size, size === file.bytes ? await sha256OfFile(path) : '');
    return path;
  }
}

/** sha256 of a file, streamed: weight files of a large model (5 GB) never sit in memory at once. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
