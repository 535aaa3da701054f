// The bench page server shared by every browser bench: the bundled bench script (page + worker) at /bench.js,
// onnxruntime-web's wasm under /ort/, and whatever files the bench maps in. `/coi/` pages are cross-origin isolated
// (COOP/COEP), so wasm can use threads there.
import * as esbuild from 'esbuild';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import { ORT_MJS_FILE, ORT_WASM_FILE } from '../../worker/runtime/ort-web.ts';

/** Bundles a bench page script (it also runs as the page's Web Worker) for the browser. */
export async function bundleBenchPage(entry: string): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    // The onnxruntime-web build that loads its wasm glue (.mjs) by URL: multi-threaded wasm starts its pthread
    // workers from the glue's own URL, which a bundled glue does not have.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    format: 'esm',
    platform: 'browser',
    write: false,
    minify: true,
    external: ['worker_threads', 'fs', 'path', 'url', 'module', 'os', 'crypto', 'perf_hooks'],
  });
  return r.outputFiles[0].text;
}

export interface BenchRoutes {
  /** The page script's entry (bundled once at start). */
  entry: string;
  /** The file behind a GET path outside /ort/ (path without the /coi prefix), or null for 404. */
  file(rel: string): string | null;
  /** Handles a request before the static routes; true when it answered. */
  handle?(req: IncomingMessage, res: ServerResponse, rel: string, headers: Record<string, string>): boolean;
}

const ORT_DIR = join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist');

function contentType(file: string): string {
  if (file.endsWith('.wasm')) return 'application/wasm';
  if (file.endsWith('.mjs')) return 'text/javascript';
  if (file.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

/** Serves the bench page on a free loopback port. */
export async function serveBenchPage(routes: BenchRoutes): Promise<{ url: string; server: Server }> {
  const js = await bundleBenchPage(routes.entry);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const isolated = path.startsWith('/coi/');
    const rel = isolated ? path.slice(4) : path;
    const headers: Record<string, string> = { 'Cross-Origin-Resource-Policy': 'same-origin' };
    // onnxruntime's pthread workers start from /ort/*.mjs: a worker in an isolated page needs COEP itself.
    if (isolated || rel.startsWith('/ort/')) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    if (routes.handle?.(req, res, rel, headers)) return;
    if (rel === '/' || rel === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' });
      return res.end('<!doctype html><meta charset="utf-8"><script type="module" src="bench.js"></script>');
    }
    if (rel === '/favicon.ico') return res.writeHead(204).end();
    if (rel === '/bench.js') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' });
      return res.end(js);
    }
    const file = rel === `/ort/${ORT_WASM_FILE}` || rel === `/ort/${ORT_MJS_FILE}` ? join(ORT_DIR, basename(rel)) : routes.file(rel);
    if (!file || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { ...headers, 'Content-Type': contentType(file), 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}
