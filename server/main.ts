// `npm start`: serve the playground, model files and onnxruntime-web's wasm on loopback, and say how to use them.
// The build runs before this (npm's prestart/start script); nothing is built here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT } from '../plugin/messages.ts';
import { servableRegistry } from './models.ts';
import { REPO_ROOT, serverPaths } from './paths.ts';
import { startServer } from './server.ts';

const USAGE = `Usage: npm start -- [--port N] [--host 127.0.0.1]

  --port N     port to listen on (default ${DEFAULT_PORT}, or the FRONTIER_PORT environment variable; 0 picks a free one)
  --host H     loopback address to bind: 127.0.0.1 (default), ::1 or localhost
  --help       show this help`;

export function parsePort(value: string, from: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`${from} must be a port number from 0 to 65535, got "${value}".`);
  return port;
}

function options(): { port: number; host: string } | null {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return null;
  const port =
    values.port !== undefined
      ? parsePort(values.port, '--port')
      : process.env.FRONTIER_PORT
        ? parsePort(process.env.FRONTIER_PORT, 'FRONTIER_PORT')
        : DEFAULT_PORT;
  return { port, host: values.host ?? '127.0.0.1' };
}

async function modelLines(): Promise<string[]> {
  const paths = serverPaths();
  try {
    const { registry, missing } = await servableRegistry(paths);
    const lines = registry.models.map((m) => `  ✓ ${m.id} (${m.task}${m.variant === 'tiny' ? ', tiny random weights: for tests only' : ''})`);
    if (lines.length === 0) lines.push('  none yet: `npm run build` converts the models into models/build/files/.');
    if (missing.length) lines.push(`  not built (${missing.length}): ${missing.map((m) => m.id).join(', ')}`);
    return lines;
  } catch (err) {
    return [`  unknown: ${(err as Error).message}`];
  }
}

async function main(): Promise<void> {
  let opts;
  try {
    opts = options();
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (!opts) {
    console.log(USAGE);
    return;
  }

  let server;
  try {
    server = await startServer(opts);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      console.error(`Port ${opts.port} on ${opts.host} is already in use: is another Frontier server running? Stop it, or start this one with --port <another port>.`);
    } else if (e.code === 'EACCES') {
      console.error(`Not allowed to listen on port ${opts.port}: pick a port above 1023 with --port.`);
    } else {
      console.error(e.message);
    }
    process.exit(1);
  }

  const manifest = join(REPO_ROOT, 'manifest.json');
  const figmaBuilt = existsSync(join(REPO_ROOT, 'dist', 'figma', 'ui.html')) && existsSync(join(REPO_ROOT, 'dist', 'figma', 'main.js'));
  const photoshopBuilt = existsSync(join(REPO_ROOT, 'dist', 'photoshop', 'manifest.json'));
  const lines = [
    '',
    `Frontier is running at ${server.url}`,
    '',
    `Playground:  ${server.url}/   (the plugin UI in a simulated host)`,
    '',
    'Figma desktop:',
    `  Plugins → Development → Import plugin from manifest… → ${manifest}`,
    `  The plugin talks to this server at ${server.url} (Settings → Server URL).`,
    ...(server.port === DEFAULT_PORT
      ? []
      : [`  Figma admits only the domains in manifest.json (port ${DEFAULT_PORT}): add ${server.url} to its networkAccess for this port.`]),
    ...(figmaBuilt ? [] : ['  dist/figma/ is not built yet: run `npm run build` first.']),
    '',
    'Photoshop:',
    photoshopBuilt
      ? `  UXP Developer Tool → Add plugin → ${join(REPO_ROOT, 'dist', 'photoshop', 'manifest.json')}`
      : '  the panel is coming: dist/photoshop/ is not built yet.',
    '',
    'Models served:',
    ...(await modelLines()),
    '',
    'Press Ctrl-C to stop.',
  ];
  console.log(lines.join('\n'));

  let closing = false;
  const stop = (signal: string) => {
    if (closing) process.exit(1); // second Ctrl-C: leave now
    closing = true;
    console.log(`\n${signal}: stopping Frontier…`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`Error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();
