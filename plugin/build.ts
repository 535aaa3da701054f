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
import { buildUiHtml, buildWorker, commonOptions } from './build-ui.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
const skipModels = process.argv.includes('--skip-models');

const common = commonOptions(!watch);

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** dist/figma/ui.html; returns the worker's source (its size is reported). */
async function buildUi(): Promise<string> {
  const workerSource = await buildWorker(!watch);
  await mkdir(join(dist, 'figma'), { recursive: true });
  await writeFile(join(dist, 'figma', 'ui.html'), await buildUiHtml(!watch, workerSource));
  return workerSource;
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
  const workerSource = await buildUi();
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
