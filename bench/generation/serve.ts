// The generation bench page (bench/common/serve.ts) with the exported models from the temp folder under /models/.
import type { Server } from 'node:http';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import { serveBenchPage } from '../common/serve.ts';

/** Serves the page; `/models/<file>` comes from `modelDir`. */
export function benchServer(modelDir: string): Promise<{ url: string; server: Server }> {
  return serveBenchPage({
    entry: join(REPO_ROOT, 'bench', 'generation', 'browser-entry.ts'),
    file: (rel) => (rel.startsWith('/models/') && rel.endsWith('.onnx') ? join(modelDir, basename(rel)) : null),
  });
}
