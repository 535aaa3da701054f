// The local companion server: node:http and a small route table (server/routes/*). Loopback only for now;
// serving beyond this machine needs a bearer token, which arrives with the Open Inference Protocol routes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_PORT } from '../plugin/messages.ts';
import { answerPreflight, applyCommonHeaders } from './cors.ts';
import { HttpError, sendError } from './http-util.ts';
import { serverPaths, type ServerPaths } from './paths.ts';
import { modelRoutes } from './routes/models.ts';
import { playgroundRoutes } from './routes/playground.ts';
import type { Method, Route } from './routes/route.ts';
import { staticRoutes } from './routes/static.ts';

export interface ServerOptions {
  /** Loopback only: 127.0.0.1 (default), ::1 or localhost. */
  host?: string;
  /** 0 picks a free port. Defaults to DEFAULT_PORT. */
  port?: number;
  /** Folder holding dist/, models/ and test/fixtures/images (defaults to this repository). */
  root?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

/** The host name in a Host header ("127.0.0.1:8740", "[::1]:8740", "localhost"). */
function hostnameOf(hostHeader: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(hostHeader);
  return (m ? m[1] : hostHeader).toLowerCase();
}

export function buildRoutes(): Route[] {
  // Order matters only for overlapping patterns; later: ...oipRoutes(), ...jobRoutes().
  return [...playgroundRoutes(), ...staticRoutes(), ...modelRoutes()];
}

async function dispatch(routes: Route[], paths: ServerPaths, req: IncomingMessage, res: ServerResponse): Promise<void> {
  applyCommonHeaders(req, res);

  // DNS-rebinding guard: a page on evil.example resolved to 127.0.0.1 still sends Host: evil.example.
  const hostHeader = req.headers.host;
  if (hostHeader && !isLoopbackHost(hostnameOf(hostHeader))) {
    throw new HttpError(421, `Host ${hostHeader} is not this server: it answers loopback names only (127.0.0.1, localhost, [::1]).`);
  }

  const rawUrl = req.url ?? '/';
  if (!rawUrl.startsWith('/')) throw new HttpError(400, `Request target ${rawUrl.slice(0, 100)} must be a path starting with "/".`);
  let url: URL;
  try {
    url = new URL(rawUrl, 'http://127.0.0.1');
  } catch {
    throw new HttpError(400, `Malformed request path ${rawUrl.slice(0, 100)}.`);
  }

  if (req.method === 'OPTIONS') {
    answerPreflight(req, res);
    return;
  }

  const method = (req.method === 'HEAD' ? 'GET' : req.method) as Method;
  const allowed: Method[] = [];
  for (const route of routes) {
    const params = route.match(url.pathname);
    if (!params) continue;
    if (!route.methods.includes(method)) {
      allowed.push(...route.methods);
      continue;
    }
    await route.handle({ req, res, url, params, paths });
    return;
  }
  if (allowed.length > 0) {
    const list = [...new Set(allowed.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]))), 'OPTIONS'];
    res.setHeader('Allow', list.join(', '));
    throw new HttpError(405, `${req.method} is not supported on ${url.pathname}; use ${list.join(', ')}.`);
  }
  throw new HttpError(
    404,
    `Nothing at ${url.pathname}. This server serves / (playground), /dist/…, /ort/…, /models/registry.json, /models/files/<name>, /samples/<name>.`,
  );
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new Error(
      `Refusing to listen on ${host}: this server only binds to loopback (127.0.0.1, ::1, localhost) for now. ` +
        'Serving other machines needs a bearer token, which comes with the Open Inference Protocol server; until then use an SSH tunnel.',
    );
  }
  const paths = serverPaths(opts.root);
  const routes = buildRoutes();

  const server = createServer((req, res) => {
    dispatch(routes, paths, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : `Internal error: ${(err as Error)?.message ?? String(err)}`;
      if (status === 500) console.error(`[frontier] ${req.method} ${req.url}:`, err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      try {
        sendError(res, status, message);
      } catch {
        res.destroy();
      }
    });
  });
  // Unparseable requests never reach the handler: answer 400 and keep serving.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: `Bad request: ${err.message}` });
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? DEFAULT_PORT, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => console.error('[frontier] server error:', err));

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
