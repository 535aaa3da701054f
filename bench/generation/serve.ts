// The generation bench page, as bench/run.ts serves its own: the bundled bench script (page + worker),
// onnxruntime-web's wasm, and the exported models from the temp folder. `/coi/` pages are cross-origin isolated
// (COOP/COEP), so wasm can use threads there.
import * as esbuild from 'esbuild';
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import { ORT_MJS_FILE, ORT_WASM_FILE } from '../../worker/runtime/ort-web.ts';

async function bundle(): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [join(REPO_ROOT, 'bench', 'generation', 'browser-entry.ts')],
    bundle: true,
    // The onnxruntime-web build that loads its wasm glue (.mjs) by URL: pthread workers start from the glue's URL.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    format: 'esm',
    platform: 'browser',
    write: false,
    minify: true,
    external: ['worker_threads', 'fs', 'path', 'url', 'module', 'os', 'crypto', 'perf_hooks'],
  });
  return r.outputFiles[0].text;
}

/** Serves the page; `/models/<file>` comes from `modelDir`. */
export async function benchServer(modelDir: string): Promise<{ url: string; server: Server }> {
  const js = await bundle();
  const ortDir = join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const isolated = path.startsWith('/coi/');
    const rel = isolated ? path.slice(4) : path;
    const headers: Record<string, string> = { 'Cross-Origin-Resource-Policy': 'same-origin' };
    // onnxruntime's pthread workers start from /ort/*.mjs: a worker in an isolated page needs COEP itself.
    if (isolated || rel.startsWith('/ort/')) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    if (rel === '/' || rel === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' });
      return res.end('<!doctype html><meta charset="utf-8"><script type="module" src="bench.js"></script>');
    }
    if (rel === '/favicon.ico') return res.writeHead(204).end();
    if (rel === '/bench.js') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' });
      return res.end(js);
    }
    let file: string | null = null;
    if (rel.startsWith('/models/') && rel.endsWith('.onnx')) file = join(modelDir, basename(rel));
    else if (rel === `/ort/${ORT_WASM_FILE}` || rel === `/ort/${ORT_MJS_FILE}`) file = join(ortDir, basename(rel));
    if (!file || !existsSync(file)) return res.writeHead(404).end();
    const type = file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.mjs') ? 'text/javascript' : 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}
