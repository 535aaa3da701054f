// Builds the UI the way plugin/build.ts does (one self-contained HTML, worker source inlined), but with the
// fake engine worker, plus a fake host page that loads it in a sandboxed srcdoc iframe (opaque origin, as
// in Figma) and plays the host: init, read-image, place-result, theme. Used by test/unit/ui-render.test.ts.
import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskInfo } from '../../../worker/tasks/task.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

/** Keeps inlined code from closing the tag it sits in. */
const escapeClosing = (code: string, tag: 'script' | 'style') => code.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);

/** `workerDefine`: esbuild defines for the worker's bundle (the fake engine's made-up tasks). */
export async function buildUiHtml(workerEntry: string, workerExternal: string[] = [], workerDefine: Record<string, string> = {}): Promise<string> {
  const worker = await build({
    entryPoints: [workerEntry], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
    external: workerExternal, define: workerDefine,
  });
  const ui = await build({
    entryPoints: [join(root, 'ui', 'main.tsx')], bundle: true, format: 'iife', platform: 'browser', target: 'es2022',
    jsx: 'automatic', jsxImportSource: 'preact', outdir: '/virtual', write: false, logLevel: 'silent',
    define: { __WORKER_SOURCE__: JSON.stringify(worker.outputFiles[0].text) },
  });
  const js = ui.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const css = ui.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  return `<!doctype html><html><head><meta charset="utf-8"><style>${escapeClosing(css, 'style')}</style></head>` +
    `<body><div id="app"></div><script>${escapeClosing(js, 'script')}</script></body></html>`;
}

export interface HarnessOptions {
  serverUrl?: string;
  maxImageEdge?: number;
  /** Use the real engine (worker/worker.ts) instead of the fake one. */
  realEngine?: boolean;
  /** Settings the host has stored (merged over the defaults it sends with init). */
  settings?: Record<string, unknown>;
  /** The host's name in init ('figma' unless given) and whether it takes video results (false unless given). */
  hostName?: 'figma' | 'photoshop' | 'playground';
  hostVideo?: boolean;
  /** The host refuses every clip with this message (Figma without a paid plan). */
  videoRefused?: string;
  /** The host answers ui-ready only when the test calls window.sendInit() (a slow host). */
  holdInit?: boolean;
  /** Made-up task rows (plain TaskInfo) the fake engine lists after the real tasks. It runs them as any other task but
   *  sends no run messages of its own, so the UI speaks in the row's words (TaskDisplay). */
  extraTasks?: TaskInfo[];
}

export async function buildHarness(outDir: string, options: HarnessOptions = {}): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const uiHtml = options.realEngine
    ? await buildUiHtml(join(root, 'worker', 'worker.ts'), ['worker_threads', 'fs', 'path', 'url', 'module', 'os', 'crypto', 'perf_hooks'])
    : await buildUiHtml(join(here, 'fake-engine-worker.ts'), [], { __EXTRA_TASKS__: JSON.stringify(options.extraTasks ?? []) });
  const images = join(root, 'test', 'fixtures', 'images');
  const fixtures = {
    astronaut: (await readFile(join(images, 'astronaut.png'))).toString('base64'),
    chelsea: (await readFile(join(images, 'chelsea.png'))).toString('base64'),
  };
  const hostScript = await readFile(join(here, 'fake-host.js'), 'utf8');
  const boot = { uiHtml, fixtures, serverUrl: options.serverUrl ?? 'http://127.0.0.1:8740', maxImageEdge: options.maxImageEdge ?? 4096, settings: options.settings ?? {}, hostName: options.hostName, hostVideo: options.hostVideo ?? false, videoRefused: options.videoRefused, holdInit: options.holdInit ?? false };
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>Frontier UI harness</title>
<style>body{margin:0;background:#888}iframe{border:0;width:320px;height:900px;display:block;background:#fff}</style></head>
<body><iframe id="plugin" sandbox="allow-scripts" title="Frontier"></iframe>
<script>window.HARNESS = ${escapeClosing(JSON.stringify(boot), 'script')};</script>
<script>${escapeClosing(hostScript, 'script')}</script></body></html>`;
  const hostPath = join(outDir, 'host.html');
  await writeFile(hostPath, page);
  await writeFile(join(outDir, 'ui.html'), uiHtml);
  return hostPath;
}
