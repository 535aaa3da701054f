// The speed bench page (bench/common/serve.ts) with the exported models under /models/ and the input files under
// /feeds/; outputs come back by POST /outputs/<target>/<name> into `outputs`/<target>/<name>.f32.
import type { Server } from 'node:http';
import { createWriteStream, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveBenchPage } from '../serve.ts';

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;
/** A file in the models folder or one folder below it (no dot-only segments). */
const MODEL_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)?[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export function benchServer(dirs: { models: string; feeds: string; outputs: string }): Promise<{ url: string; server: Server }> {
  return serveBenchPage({
    entry: fileURLToPath(new URL('browser-entry.ts', import.meta.url)),
    handle(req, res, rel, headers) {
      if (req.method !== 'POST' || !rel.startsWith('/outputs/')) return false;
      const [target, name] = rel.slice('/outputs/'.length).split('/');
      if (!SAFE_NAME.test(target ?? '') || !SAFE_NAME.test(name ?? '')) {
        res.writeHead(400).end();
        return true;
      }
      mkdirSync(join(dirs.outputs, target), { recursive: true });
      const out = createWriteStream(join(dirs.outputs, target, `${name}.f32`));
      req.pipe(out);
      out.on('finish', () => res.writeHead(204, headers).end());
      out.on('error', () => res.writeHead(500).end());
      return true;
    },
    file(rel) {
      if (rel.startsWith('/models/') && MODEL_PATH.test(rel.slice('/models/'.length))) return join(dirs.models, rel.slice('/models/'.length));
      if (rel.startsWith('/feeds/')) return join(dirs.feeds, basename(rel));
      return null;
    },
  });
}
