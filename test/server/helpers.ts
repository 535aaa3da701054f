// Shared setup for the server tests: a throwaway root folder shaped like the repository, the playground bundle,
// raw HTTP requests (fetch cannot send Origin or malformed paths), and a headless Chromium.
import { build } from 'esbuild';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STANDIN_UI = join(REPO, 'test', 'server', 'standin-ui.html');

export interface TempRoot {
  root: string;
  remove(): Promise<void>;
}

/** A root with models/, dist/ and test/fixtures/images, filled with `files` (path → contents). */
export async function tempRoot(files: Record<string, string | Uint8Array> = {}): Promise<TempRoot> {
  const root = await mkdtemp(join(tmpdir(), 'frontier-server-'));
  await mkdir(join(root, 'test', 'fixtures', 'images'), { recursive: true });
  for (const name of ['astronaut.png', 'chelsea.png']) {
    await copyFile(join(REPO, 'test', 'fixtures', 'images', name), join(root, 'test', 'fixtures', 'images', name));
  }
  for (const [path, contents] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), contents);
  }
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

/** Bundles the playground into <root>/dist/playground/playground.js, as `npm run build` does. */
export async function bundlePlayground(root: string): Promise<void> {
  await build({
    entryPoints: [join(REPO, 'server', 'playground', 'playground.ts')],
    outfile: join(root, 'dist', 'playground', 'playground.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP request with the path and headers sent exactly as given. */
export function raw(base: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`request ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export { findChromium as chromiumPath } from '../browser.ts';
