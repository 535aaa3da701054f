// Builds the Photoshop (UXP) panel into dist/photoshop/, ready for the UXP Developer Tool (Add Plugin → manifest.json):
//   manifest.json          plugin/photoshop/manifest.json, plus any --domain servers in its network/webview lists
//   index.html, panel.js   the panel: a <webview> on the UI and the host bridge (plugin/photoshop/panel.ts)
//   webview/index.html     the same self-contained Preact UI + inlined engine worker as dist/figma/ui.html; it picks
//                          the UXP transport itself when window.uxpHost exists
//   icons/*.png            drawn here (panel and plugin-list icons, dark and light themes, @1x and @2x)
// With --package it also writes dist/frontier-photoshop.ccx (a zip of dist/photoshop, as Creative Cloud installs it).
//   npx tsx plugin/build-photoshop.ts [--package] [--reuse-ui] [--domain https://gpu.example.com]…
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync, type Zippable } from 'fflate';
import { PNG } from 'pngjs';
import { parseCli } from '../server/cli-args.ts';
import { buildUiHtml, commonOptions } from './build-ui.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface PhotoshopBuildOptions {
  /** Output folder (default dist/photoshop). */
  outDir?: string;
  /** Extra servers the panel may reach (e.g. a remote GPU endpoint), added to the manifest's network and webview domains. */
  domains?: string[];
  /** Use this UI page instead of building it (dist/figma/ui.html is the same page: the transport is chosen at run time). */
  uiHtmlPath?: string;
  /** Also write a .ccx next to the output folder; returns its path. */
  packagePath?: string;
  minify?: boolean;
}

async function buildPanelJs(minify: boolean): Promise<string> {
  const result = await esbuild.build({
    ...commonOptions(minify),
    entryPoints: ['plugin/photoshop/panel.ts'],
    format: 'iife',
    platform: 'browser',
    // UXP's panel engine is V8 but not a browser's: stay a step behind on syntax.
    target: 'es2020',
    write: false,
  });
  return result.outputFiles[0].text;
}

/** The panel page: a full-size <webview> on the local UI, and the bridge script. */
export const PANEL_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Frontier</title>
<style>html, body { margin: 0; padding: 0; width: 100%; height: 100%; overflow: hidden; background: transparent; }
#frontier-ui { display: block; width: 100%; height: 100%; border: 0; }</style></head>
<body><webview id="frontier-ui" src="plugin:/webview/index.html" uxpAllowInspector="true"></webview>
<script src="panel.js"></script></body></html>
`;

// ---------------------------------------------------------------------------------------------- manifest

interface Manifest {
  requiredPermissions: { network: { domains: string[] }; webview: { domains: string[] } };
  [key: string]: unknown;
}

/** A server origin as UXP wants it in `domains`: scheme://host[:port], no path. */
export function normalizeDomain(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--domain ${value} is not a URL: write it like https://gpu.example.com or http://192.168.1.20:8740.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--domain ${value}: only http and https servers can be reached.`);
  return url.origin;
}

export async function manifestWith(domains: string[]): Promise<Manifest> {
  const manifest = JSON.parse(await readFile(join(root, 'plugin', 'photoshop', 'manifest.json'), 'utf8')) as Manifest;
  const add = (list: string[]) => [...new Set([...list, ...domains.map(normalizeDomain)])];
  manifest.requiredPermissions.network.domains = add(manifest.requiredPermissions.network.domains);
  manifest.requiredPermissions.webview.domains = add(manifest.requiredPermissions.webview.domains);
  return manifest;
}

// ---------------------------------------------------------------------------------------------- icons

type Rgb = [number, number, number];

/** The Frontier glyph (an F with a pixel), anti-aliased, on a transparent square of `size` px. */
export function drawIcon(size: number, color: Rgb): Uint8Array {
  const rects: [number, number, number, number][] = [
    [0.2, 0.14, 0.37, 0.86], // stem
    [0.2, 0.14, 0.8, 0.31], // top bar
    [0.2, 0.45, 0.66, 0.6], // middle bar
    [0.62, 0.69, 0.8, 0.86], // the pixel
  ];
  const samples = 4;
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const u = (x + (sx + 0.5) / samples) / size;
          const v = (y + (sy + 0.5) / samples) / size;
          if (rects.some(([l, t, r, b]) => u >= l && u < r && v >= t && v < b)) hits++;
        }
      }
      const i = (y * size + x) * 4;
      data.set(color, i);
      data[i + 3] = Math.round((255 * hits) / (samples * samples));
    }
  }
  const png = new PNG({ width: size, height: size });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}

const LIGHT_GLYPH: Rgb = [0xe6, 0xe6, 0xe6]; // on dark themes
const DARK_GLYPH: Rgb = [0x32, 0x32, 0x32]; // on light themes

/** icons/<name>.png and <name>@2x.png, as the manifest's `scale: [1, 2]` entries expect. */
export function iconFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const [name, size] of [['panel', 23], ['plugin', 24]] as const) {
    for (const [theme, color] of [['dark', LIGHT_GLYPH], ['light', DARK_GLYPH]] as const) {
      files.set(`icons/${name}-${theme}.png`, drawIcon(size, color));
      files.set(`icons/${name}-${theme}@2x.png`, drawIcon(size * 2, color));
    }
  }
  return files;
}

// ---------------------------------------------------------------------------------------------- zip (.ccx)

export interface ZipEntry {
  path: string;
  data: Uint8Array;
}

/** A fixed stamp keeps packages reproducible. */
const STAMP = new Date(2024, 0, 1);

/** A zip archive written by fflate (deflated, UTF-8 names, no directory entries). */
export function writeZip(entries: ZipEntry[]): Uint8Array {
  const files: Zippable = {};
  for (const entry of entries) files[entry.path.split(sep).join('/')] = entry.data;
  return zipSync(files, { level: 9, mtime: STAMP });
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** Zips the built folder into a .ccx (manifest.json at the archive's root). */
export async function packageFolder(folder: string, ccxPath: string): Promise<void> {
  const entries: ZipEntry[] = [];
  for (const path of await filesUnder(folder)) entries.push({ path: relative(folder, path), data: new Uint8Array(await readFile(path)) });
  if (!entries.some((e) => e.path === 'manifest.json')) throw new Error(`${folder} has no manifest.json: build it first.`);
  await mkdir(dirname(ccxPath), { recursive: true });
  await writeFile(ccxPath, writeZip(entries));
}

// ---------------------------------------------------------------------------------------------- build

export async function buildPhotoshop(options: PhotoshopBuildOptions = {}): Promise<{ outDir: string; ccx?: string }> {
  const outDir = options.outDir ?? join(root, 'dist', 'photoshop');
  const minify = options.minify ?? true;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'webview'), { recursive: true });
  await mkdir(join(outDir, 'icons'), { recursive: true });
  const [manifest, panelJs] = await Promise.all([manifestWith(options.domains ?? []), buildPanelJs(minify)]);
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(outDir, 'index.html'), PANEL_HTML);
  await writeFile(join(outDir, 'panel.js'), panelJs);
  for (const [path, bytes] of iconFiles()) await writeFile(join(outDir, path), bytes);
  if (options.uiHtmlPath) await copyFile(options.uiHtmlPath, join(outDir, 'webview', 'index.html'));
  else await writeFile(join(outDir, 'webview', 'index.html'), await buildUiHtml(minify));
  if (options.packagePath) await packageFolder(outDir, options.packagePath);
  return { outDir, ...(options.packagePath ? { ccx: options.packagePath } : {}) };
}

const USAGE = 'npx tsx plugin/build-photoshop.ts [--package] [--reuse-ui] [--domain <url>]… (servers also from FRONTIER_PS_DOMAINS)';

/** The build's options from its command line (and FRONTIER_PS_DOMAINS); a usage error exits with code 2. */
export function parseBuildArgs(argv: string[], env: Record<string, string | undefined> = process.env): PhotoshopBuildOptions {
  const values = parseCli(USAGE, { package: { type: 'boolean' }, 'reuse-ui': { type: 'boolean' }, domain: { type: 'string', multiple: true } }, argv);
  const domains = [...(env.FRONTIER_PS_DOMAINS ?? '').split(/[\s,]+/).filter(Boolean), ...(values.domain ?? [])];
  return {
    domains,
    ...(values.package ? { packagePath: join(root, 'dist', 'frontier-photoshop.ccx') } : {}),
    ...(values['reuse-ui'] ? { uiHtmlPath: join(root, 'dist', 'figma', 'ui.html') } : {}),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  (async () => {
    const { outDir, ccx } = await buildPhotoshop(parseBuildArgs(process.argv.slice(2)));
    const ui = (await readFile(join(outDir, 'webview', 'index.html'))).length;
    console.log(`built ${relative(root, outDir)} (webview ${(ui / 1e6).toFixed(2)} MB) in ${Date.now() - started} ms`);
    if (ccx) console.log(`packaged ${relative(root, ccx)} (${((await readFile(ccx)).length / 1e6).toFixed(2)} MB)`);
  })().catch((err: unknown) => {
    console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
