// Builds everything the hosts load, with esbuild:
//   dist/figma/main.js     Figma main thread
//   dist/figma/ui.html     ONE self-contained file: the Preact UI, its CSS, and the engine worker inlined as a string
//   dist/playground/playground.js   the playground's simulated host
//   dist/photoshop/        the UXP panel (manifest, panel.js, webview/index.html = the same UI)
// and converts the ESRGAN weights shipped in npm packages to ONNX (models/build/files/).
import * as esbuild from 'esbuild';
import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
const skipModels = process.argv.includes('--skip-models');

const common: esbuild.BuildOptions = {
  bundle: true,
  minify: !watch,
  sourcemap: false,
  target: 'es2022',
  logLevel: 'warning',
  absWorkingDir: root,
  legalComments: 'none',
};

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The engine worker, bundled as a classic (iife) script so it can start from a blob: or data: URL. */
async function buildWorker(): Promise<string> {
  const result = await esbuild.build({
    ...common,
    entryPoints: ['worker/worker.ts'],
    // onnxruntime-web's build that loads its wasm glue by URL (see worker/runtime/ort-web.ts ORT_MJS_FILE).
    conditions: ['onnxruntime-web-use-extern-wasm'],
    format: 'iife',
    platform: 'browser',
    write: false,
    // onnxruntime-web's bundle references node modules behind runtime checks; they are never reached in a browser.
    external: ['worker_threads', 'fs', 'path', 'url', 'module', 'os', 'crypto', 'perf_hooks'],
  });
  return result.outputFiles[0].text;
}

async function buildUi(workerSource: string): Promise<void> {
  const result = await esbuild.build({
    ...common,
    entryPoints: ['ui/main.tsx'],
    format: 'iife',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    write: false,
    outdir: join(dist, 'figma'),
    define: { __WORKER_SOURCE__: JSON.stringify(workerSource) },
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  // `</script` inside the bundle would end the inline script early.
  const safeJs = js.replace(/<\/script/gi, '<\\/script');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Frontier</title><style>${css}</style></head>
<body><div id="app"></div><script>${safeJs}</script></body></html>
`;
  await mkdir(join(dist, 'figma'), { recursive: true });
  await writeFile(join(dist, 'figma', 'ui.html'), html);
}

async function buildFigmaMain(): Promise<void> {
  await esbuild.build({
    ...common,
    entryPoints: ['plugin/figma/main.ts'],
    format: 'iife',
    platform: 'neutral',
    // Figma's main-thread sandbox runs ES2017-level syntax most reliably.
    target: 'es2017',
    outfile: join(dist, 'figma', 'main.js'),
  });
}

async function buildPlayground(): Promise<void> {
  await esbuild.build({
    ...common,
    entryPoints: ['server/playground/playground.ts'],
    format: 'iife',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outfile: join(dist, 'playground', 'playground.js'),
  });
}

export async function build(): Promise<void> {
  const started = Date.now();
  const workerSource = await buildWorker();
  await buildUi(workerSource);
  if (await exists(join(root, 'plugin/figma/main.ts'))) await buildFigmaMain();
  if (await exists(join(root, 'server/playground/playground.ts'))) await buildPlayground();
  // The Photoshop panel hosts the very same ui.html in its webview (the transport is chosen at run time).
  const { buildPhotoshop } = await import('./build-photoshop.ts');
  await buildPhotoshop({ uiHtmlPath: join(dist, 'figma', 'ui.html') });
  const uiBytes = (await readFile(join(dist, 'figma', 'ui.html'))).length;
  console.log(`built dist/figma (ui.html ${(uiBytes / 1e6).toFixed(2)} MB, worker ${(workerSource.length / 1e6).toFixed(2)} MB) in ${Date.now() - started} ms`);
  if (!skipModels) {
    const { buildModels } = await import('../models/convert/build-models.ts');
    await buildModels({});
    const { installTinyModels } = await import('../models/tiny.ts');
    installTinyModels({ log: console.log });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  build().catch((err) => {
    console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
