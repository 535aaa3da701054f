// Model files from a local folder (the CLI and server use models/build/files).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FrontierError } from '../job.ts';
import type { ModelFile } from './card.ts';
import type { ByteProgress, ModelSource } from './loader.ts';

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
}
