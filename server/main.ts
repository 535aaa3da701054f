// `npm start`: serve the playground, model files, onnxruntime-web's wasm and the Open Inference Protocol API, and
// say how to use them, with the pairing code. The build runs before this (npm's prestart/start script); nothing is
// built here.
import '../worker/runtime/no-telemetry.mjs'; // first: before anything loads onnxruntime-node
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT } from '../plugin/messages.ts';
import { servableRegistry } from './models.ts';
import { frontierHome, loadOrCreatePairingToken, PAIRING_FILE, readTokenFile, tildePath } from './pairing.ts';
import { REPO_ROOT, serverPaths } from './paths.ts';
import { validateToken } from './access.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_QUEUED, DEFAULT_REQUEST_TIMEOUT_MS, defaultMaxConcurrent, isLoopbackHost, parseOrigin } from './security.ts';
import { installCrashGuard, startServer, type ServerOptions } from './server.ts';

const USAGE = `Usage: npm start -- [--port N] [--host 127.0.0.1] [--token-file F] [options]

  --port N            port to listen on (default ${DEFAULT_PORT}, or the FRONTIER_PORT environment variable; 0 picks a free one)
  --host H            address to bind: 127.0.0.1 (default), ::1 or localhost; any other (e.g. 0.0.0.0) serves other
                      machines, with the token required as always (use HTTPS in front across untrusted networks)
  --token-file F      read the token from the first line of F (or the FRONTIER_TOKEN_FILE environment variable)
                      instead of the pairing code kept in Frontier's folder (FRONTIER_HOME, default ${tildePath(frontierHome())})
  --token T           the token itself, or the FRONTIER_TOKEN environment variable; on the command line it is
                      visible to every user of this machine (ps): prefer --token-file or the environment
  --allow-origin O    also admit this web origin by CORS (repeatable), e.g. https://app.example.com
  --max-body-mb N     largest request body in MB (default ${DEFAULT_MAX_BODY_BYTES / 2 ** 20})
  --concurrency N     inferences run at once (default: ${defaultMaxConcurrent()}, the CPU cores)
  --queue N           inference requests waiting beyond those before 503 + Retry-After (default ${DEFAULT_MAX_QUEUED})
  --timeout S         seconds one inference request may take (default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000})
  --threads N         onnxruntime threads per inference (default: onnxruntime's choice, all cores; 1 gives the most
                      throughput under many concurrent clients, the default the lowest latency for one)
  --cpu               do not try onnxruntime-node's CUDA execution provider
  --help              show this help`;

export function parsePort(value: string, from: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`${from} must be a port number from 0 to 65535, got "${value}".`);
  return port;
}

/** A positive number option (integer unless `fractional`). */
export function parsePositive(value: string, from: string, fractional = false): number {
  const n = Number(value);
  const ok = fractional ? /^\d+(\.\d+)?$/.test(value) : /^\d+$/.test(value);
  if (!ok || !(n > 0)) throw new Error(`${from} must be a positive ${fractional ? 'number' : 'integer'}, got "${value}".`);
  return n;
}

/** Where the token came from, for the start banner. */
type TokenSource = { kind: 'pairing'; file: string; created: boolean; tightened: boolean } | { kind: 'file'; file: string } | { kind: 'env' } | { kind: 'argument' };

type MainOptions = ServerOptions & { port: number; host: string; token: string; tokenSource: TokenSource };

/** The token, from the first of: --token-file, FRONTIER_TOKEN_FILE, FRONTIER_TOKEN, --token, the pairing file. */
function resolveToken(values: { token?: string; 'token-file'?: string }, home: string): { token: string; source: TokenSource } {
  const file = values['token-file'] ?? (process.env.FRONTIER_TOKEN_FILE || undefined);
  if (file !== undefined) {
    try {
      return { token: readTokenFile(file), source: { kind: 'file', file } };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(code ? `Cannot read the token file ${file} (${code}).` : (err as Error).message);
    }
  }
  if (process.env.FRONTIER_TOKEN) return { token: validateToken(process.env.FRONTIER_TOKEN), source: { kind: 'env' } };
  if (values.token !== undefined) return { token: validateToken(values.token), source: { kind: 'argument' } };
  const pairing = loadOrCreatePairingToken(join(home, PAIRING_FILE));
  return { token: pairing.token, source: { kind: 'pairing', file: pairing.file, created: pairing.created, tightened: pairing.tightened } };
}

function options(): MainOptions | null {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'max-body-mb': { type: 'string' },
      concurrency: { type: 'string' },
      queue: { type: 'string' },
      timeout: { type: 'string' },
      threads: { type: 'string' },
      cpu: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const port =
    values.port !== undefined
      ? parsePort(values.port, '--port')
      : process.env.FRONTIER_PORT
        ? parsePort(process.env.FRONTIER_PORT, 'FRONTIER_PORT')
        : DEFAULT_PORT;
  const home = frontierHome();
  const { token, source } = resolveToken(values, home);
  const queue = values.queue;
  if (queue !== undefined && !/^\d+$/.test(queue)) throw new Error(`--queue must be a whole number, got "${queue}".`);
  return {
    port,
    host: values.host ?? '127.0.0.1',
    token,
    tokenSource: source,
    tokenHint:
      source.kind === 'pairing'
        ? `npm start prints it, and the server keeps it in ${tildePath(source.file)}: enter it in the plugin's Settings → Pairing code.`
        : "It is the token this server was started with: enter it in the plugin's Settings → Pairing code.",
    // Jobs are journalled here, so a restart resumes them (or says why not).
    jobs: { dir: join(home, 'jobs') },
    allowOrigins: (values['allow-origin'] ?? []).map(parseOrigin),
    maxBodyBytes: values['max-body-mb'] ? Math.round(parsePositive(values['max-body-mb'], '--max-body-mb', true) * 2 ** 20) : undefined,
    maxConcurrentInfers: values.concurrency ? parsePositive(values.concurrency, '--concurrency') : undefined,
    maxQueuedInfers: queue === undefined ? undefined : Number(queue),
    requestTimeoutMs: values.timeout ? parsePositive(values.timeout, '--timeout', true) * 1000 : undefined,
    threads: values.threads ? parsePositive(values.threads, '--threads') : undefined,
    executionProvider: values.cpu ? 'cpu' : 'auto',
  };
}

/** Where other machines can reach a server bound to `host` (every external IPv4 address for a wildcard). */
function networkUrls(host: string, port: number): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [`http://${host.includes(':') ? `[${host}]` : host}:${port}`];
  const urls: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === 'IPv4') urls.push(`http://${a.address}:${port}`);
    }
  }
  return urls;
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

  // No request (or a job it started) can take the process down: an error that escapes is logged and answered.
  installCrashGuard();
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

  // With a wildcard bind, the server's own URL (http://0.0.0.0:…) is no address to browse: use loopback locally.
  const localUrl = opts.host === '0.0.0.0' ? `http://127.0.0.1:${server.port}` : opts.host === '::' ? `http://[::1]:${server.port}` : server.url;
  const src = opts.tokenSource;
  const pairing = src.kind === 'pairing';
  const credential = pairing
    ? [
        `Pairing code:  ${opts.token}`,
        `  Enter it once in the plugin (Settings → Pairing code). Kept in ${tildePath(src.file)}, readable by you only${src.created ? ' (made on this first start)' : ''}.`,
        ...(src.tightened ? [`  That file was readable by other users: it is now private to you (mode 600). Consider a new code: delete it and restart.`] : []),
        '  Every web page can reach this server, so everything that runs models or touches jobs asks for this code.',
      ]
    : [
        `Token: set from ${src.kind === 'file' ? tildePath(src.file) : src.kind === 'env' ? 'FRONTIER_TOKEN' : '--token'} (not shown). Enter it in the plugin's Settings → Pairing code.`,
        ...(src.kind === 'argument' ? ['  --token on the command line is visible to every user of this machine (ps): prefer --token-file F or FRONTIER_TOKEN.'] : []),
      ];
  const network = isLoopbackHost(opts.host)
    ? []
    : [
        `WARNING: this server is reachable from the network on ${opts.host}. Everything but the public files (playground,`,
        '  onnxruntime, shipped models, health) requires the token. Across untrusted networks put HTTPS in front (a reverse',
        '  proxy): the token travels in plain HTTP otherwise. Remote addresses that send wrong tokens are locked out for a while.',
        ...(opts.token.length < 16 ? ['  The token is short: use 16 or more random characters (e.g. `openssl rand -hex 16`).'] : []),
        ...networkUrls(opts.host, server.port).map((u) => `  Reachable at ${u} — enter it and the token in the plugin's Settings.`),
      ];
  // The link hands the pairing code to the playground page in its fragment, which browsers never send to a server.
  const playgroundLink = pairing ? `${localUrl}/#pair=${opts.token}` : `${localUrl}/`;
  const manifest = join(REPO_ROOT, 'manifest.json');
  const figmaBuilt = existsSync(join(REPO_ROOT, 'dist', 'figma', 'ui.html')) && existsSync(join(REPO_ROOT, 'dist', 'figma', 'main.js'));
  const photoshopBuilt = existsSync(join(REPO_ROOT, 'dist', 'photoshop', 'manifest.json'));
  const lines = [
    '',
    `Frontier is running at ${localUrl}${isLoopbackHost(opts.host) ? '   (this computer only)' : ''}`,
    ...network,
    '',
    ...credential,
    '',
    `Playground:  ${playgroundLink}   (the plugin UI in a simulated host${pairing ? '; this link pairs it' : ''})`,
    `Open Inference Protocol v2:  ${localUrl}/v2   (models at ${localUrl}/v2/models/<model>, infer with POST …/infer)`,
    '',
    'Figma desktop:',
    `  Plugins → Development → Import plugin from manifest… → ${manifest}`,
    `  The plugin talks to this server at ${localUrl} (Settings → Server URL and Pairing code).`,
    ...(server.port === DEFAULT_PORT
      ? []
      : [`  Figma admits only the domains in manifest.json (port ${DEFAULT_PORT}): add ${localUrl} to its networkAccess for this port.`]),
    ...(figmaBuilt ? [] : ['  dist/figma/ is not built yet: run `npm run build` first.']),
    '',
    'Photoshop:',
    photoshopBuilt
      ? `  UXP Developer Tool → Add plugin → ${join(REPO_ROOT, 'dist', 'photoshop', 'manifest.json')} → Load; then Plugins → Frontier (Photoshop 26+)`
      : '  dist/photoshop/ is not built: run npm run build.',
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
