// The UI page every host shows (Figma's iframe, Photoshop's webview, the playground): the Preact app, its CSS and the
// engine worker inlined as a string, in ONE self-contained HTML file. Used by plugin/build.ts and build-photoshop.ts.
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild options every Frontier bundle shares. */
export const commonOptions = (minify: boolean): esbuild.BuildOptions => ({
  bundle: true,
  minify,
  sourcemap: false,
  target: 'es2022',
  logLevel: 'warning',
  absWorkingDir: root,
  legalComments: 'none',
});

/** The engine worker, bundled as a classic (iife) script so it can start from a blob: or data: URL. */
export async function buildWorker(minify: boolean): Promise<string> {
  const result = await esbuild.build({
    ...commonOptions(minify),
    entryPoints: ['worker/worker.ts'],
    // onnxruntime-web's build that loads its wasm glue by URL (see worker/runtime/ort-web.ts ORT_MJS_FILE).
    conditions: ['onnxruntime-web-use-extern-wasm'],
    format: 'iife',
    platform: 'browser',
    write: false,
    // onnxruntime-web's bundle references node modules behind runtime checks; they are never reached in a browser.
    external: ['worker_threads', 'fs', 'path', 'url', 'module', 'os', 'crypto', 'perf_hooks'],
  });
  return result.outputFiles![0].text;
}

/** esbuild's options for the UI bundle, with the worker's source defined in it (tests check what it reads). */
export function uiBuildOptions(minify: boolean, workerSource: string): esbuild.BuildOptions & { write: false } {
  return {
    ...commonOptions(minify),
    entryPoints: ['ui/main.tsx'],
    format: 'iife',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    write: false,
    outdir: join(root, 'dist', 'ui'), // names the in-memory .js and .css outputs; nothing is written there
    define: { __WORKER_SOURCE__: JSON.stringify(workerSource) },
  };
}

/** The UI as one HTML page with its JS and CSS inline and the worker's source (built when not given) defined in it. */
export async function buildUiHtml(minify: boolean, workerSource?: string): Promise<string> {
  workerSource ??= await buildWorker(minify);
  const result = await esbuild.build(uiBuildOptions(minify, workerSource));
  const js = result.outputFiles!.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = result.outputFiles!.find((f) => f.path.endsWith('.css'))?.text ?? '';
  // `</script` inside the bundle would end the inline script early.
  const safeJs = js.replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Frontier</title><style>${css}</style></head>
<body><div id="app"></div><script>${safeJs}</script></body></html>
`;
}
