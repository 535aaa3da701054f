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
import { parseCli } from '../server/cli-args.ts';
import { buildUiHtml, buildWorker, commonOptions } from './build-ui.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const USAGE = 'npx tsx plugin/build.ts [--skip-models] [--watch] (--skip-models: no model conversion; --watch: unminified, for development)';

export interface BuildOptions {
  /** Leave the bundles unminified (development). */
  watch?: boolean;
  /** Do not convert the npm packages' weights to ONNX nor install the tiny test models. */
  skipModels?: boolean;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** dist/figma/ui.html; returns the worker's source (its size is reported). */
async function buildUi(minify: boolean): Promise<string> {
  const workerSource = await buildWorker(minify);
  await mkdir(join(dist, 'figma'), { recursive: true });
  await writeFile(join(dist, 'figma', 'ui.html'), await buildUiHtml(minify, workerSource));
  return workerSource;
}

async function buildFigmaMain(minify: boolean): Promise<void> {
  await esbuild.build({
    ...commonOptions(minify),
    entryPoints: ['plugin/figma/main.ts'],
    format: 'iife',
    platform: 'neutral',
    // Figma's main-thread sandbox runs ES2017-level syntax most reliably.
    target: 'es2017',
    outfile: join(dist, 'figma', 'main.js'),
  });
}

async function buildPlayground(minify: boolean): Promise<void> {
  await esbuild.build({
    ...commonOptions(minify),
    entryPoints: ['server/playground/playground.ts'],
    format: 'iife',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outfile: join(dist, 'playground', 'playground.js'),
  });
}

export async function build({ watch = false, skipModels = false }: BuildOptions = {}): Promise<void> {
  const started = Date.now();
  const minify = !watch;
  const workerSource = await buildUi(minify);
  if (await exists(join(root, 'plugin/figma/main.ts'))) await buildFigmaMain(minify);
  if (await exists(join(root, 'server/playground/playground.ts'))) await buildPlayground(minify);
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
  const values = parseCli(USAGE, { watch: { type: 'boolean' }, 'skip-models': { type: 'boolean' } });
  build({ watch: values.watch ?? false, skipModels: values['skip-models'] ?? false }).catch((err) => {
    console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
