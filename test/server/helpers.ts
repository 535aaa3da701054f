// Shared setup for the server tests: a throwaway root folder shaped like the repository, the playground bundle,
// raw HTTP requests (fetch cannot send Origin or malformed paths), and a headless Chromium.
import { build } from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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

/** A real `npm start` (server/main.ts in a process of its own) and what its start banner said. */
export interface MainProcess {
  child: ChildProcess;
  url: string;
  /** The pairing code the banner printed. */
  token: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with its exit code. */
  exit: Promise<number | null>;
}

/**
 * Starts server/main.ts on a free port with Frontier's folder at `home` (never the user's), and waits for its
 * banner. `preload`: modules loaded first (test fault injection); `group`: in a process group of its own, so a test can
 * signal the whole group as a terminal's Ctrl-C does.
 */
export async function startMainProcess(home: string, o: { preload?: string[]; env?: NodeJS.ProcessEnv; group?: boolean; timeoutMs?: number } = {}): Promise<MainProcess> {
  const imports = ['tsx', ...(o.preload ?? [])].flatMap((m) => ['--import', m]);
  const child = spawn(process.execPath, [...imports, join(REPO, 'server', 'main.ts'), '--port', '0'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...(o.env ?? process.env), FRONTIER_HOME: home },
    detached: o.group ?? false,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-500_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-500_000)));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  while (!/Press Ctrl-C to stop/.test(out)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server/main.ts exited before it started:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server/main.ts did not start within ${o.timeoutMs ?? 60_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /Frontier is running at (http:\/\/\S+)/.exec(out)?.[1];
  const token = /Pairing code: +(\S+)/.exec(out)?.[1];
  if (!url || !token) throw new Error(`no URL or pairing code in the banner:\n${out}`);
  return { child, url, token, output: () => out, exit };
}
