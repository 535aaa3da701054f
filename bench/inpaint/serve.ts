// The speed bench page (as bench/generation/serve.ts serves its own): the bundled bench script (page + worker),
// onnxruntime-web's wasm, the exported models and the input files; outputs come back by POST
// /outputs/<target>/<name> into `outputsDir`/<target>/<name>.f32. `/coi/` pages are cross-origin isolated
// (COOP/COEP), so wasm can use threads there.
import * as esbuild from 'esbuild';
import { createServer, type Server } from 'node:http';
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import { ORT_MJS_FILE, ORT_WASM_FILE } from '../../worker/runtime/ort-web.ts';

async function bundle(): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [join(REPO_ROOT, 'bench', 'inpaint', 'browser-entry.ts')],
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

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;
/** A file in the models folder or one folder below it (no dot-only segments). */
const MODEL_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)?[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export async function benchServer(dirs: { models: string; feeds: string; outputs: string }): Promise<{ url: string; server: Server }> {
  const js = await bundle();
  const ortDir = join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const isolated = path.startsWith('/coi/');
    const rel = isolated ? path.slice(4) : path;
    const headers: Record<string, string> = { 'Cross-Origin-Resource-Policy': 'same-origin' };
    // onnxruntime's pthread workers start from /ort/*.mjs: a worker in an isolated page needs COEP itself.
    if (isolated || rel.startsWith('/ort/')) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    if (req.method === 'POST' && rel.startsWith('/outputs/')) {
      const [target, name] = rel.slice('/outputs/'.length).split('/');
      if (!SAFE_NAME.test(target ?? '') || !SAFE_NAME.test(name ?? '')) return res.writeHead(400).end();
      mkdirSync(join(dirs.outputs, target), { recursive: true });
      const out = createWriteStream(join(dirs.outputs, target, `${name}.f32`));
      req.pipe(out);
      out.on('finish', () => res.writeHead(204, headers).end());
      out.on('error', () => res.writeHead(500).end());
      return;
    }
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
    if (rel.startsWith('/models/') && MODEL_PATH.test(rel.slice('/models/'.length))) file = join(dirs.models, rel.slice('/models/'.length));
    else if (rel.startsWith('/feeds/')) file = join(dirs.feeds, basename(rel));
    else if (rel === `/ort/${ORT_WASM_FILE}` || rel === `/ort/${ORT_MJS_FILE}`) file = join(ortDir, basename(rel));
    if (!file || !existsSync(file)) return res.writeHead(404).end();
    const type = file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.mjs') ? 'text/javascript' : 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}
