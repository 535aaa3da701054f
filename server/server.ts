// The local companion server: node:http and a small route table (server/routes/*). Loopback only unless a bearer
// token is configured (server/security.ts); the Open Inference Protocol v2 API lives under /v2.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_PORT } from '../plugin/messages.ts';
import { answerPreflight, applyCommonHeaders } from './cors.ts';
import { discardBody, HttpError, sendError } from './http-util.ts';
import { JobService, type JobOptions } from './jobs/service.ts';
import { OipService, type OipOptions } from './oip/service.ts';
import { serverPaths, type ServerPaths } from './paths.ts';
import { jobRoutes } from './routes/jobs.ts';
import { modelRoutes } from './routes/models.ts';
import { oipRoutes } from './routes/oip.ts';
import { playgroundRoutes } from './routes/playground.ts';
import type { Method, Route } from './routes/route.ts';
import { staticRoutes } from './routes/static.ts';
import { assertBindAllowed, BearerAuth, isLoopbackHost, isProtectedPath, parseOrigin, type LimiterStats } from './security.ts';

export { isLoopbackHost } from './security.ts';

export interface ServerOptions extends OipOptions {
  /** 127.0.0.1 (default), ::1 or localhost; any other address (e.g. 0.0.0.0) needs `token`. */
  host?: string;
  /** 0 picks a free port. Defaults to DEFAULT_PORT. */
  port?: number;
  /** Folder holding dist/, models/ and test/fixtures/images (defaults to this repository). */
  root?: string;
  /** Bearer token required on the API routes (/v2, /models, /jobs). Never logged. */
  token?: string;
  /** Origins admitted by CORS besides "null" (Figma) and loopback pages, e.g. "https://app.example.com". */
  allowOrigins?: string[];
  /** Jobs under /jobs — video clips (uploaded) and whole engine tasks such as text-to-image: job folder, retention,
   *  ffmpeg paths, limits (server/jobs/service.ts). */
  jobs?: JobOptions;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Inference admission counts, for monitoring and tests. */
  inferStats(): LimiterStats;
  close(): Promise<void>;
}

/** The host name in a Host header ("127.0.0.1:8740", "[::1]:8740", "localhost"). */
function hostnameOf(hostHeader: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(hostHeader);
  return (m ? m[1] : hostHeader).toLowerCase();
}

export function buildRoutes(oip: OipService, jobs: JobService): Route[] {
  // Order matters only for overlapping patterns.
  return [...playgroundRoutes(), ...staticRoutes(), ...modelRoutes(), ...oipRoutes(oip), ...jobRoutes(jobs)];
}

interface Guard {
  auth: BearerAuth | null;
  allowOrigins: readonly string[];
}

async function dispatch(routes: Route[], paths: ServerPaths, guard: Guard, req: IncomingMessage, res: ServerResponse): Promise<void> {
  applyCommonHeaders(req, res, guard.allowOrigins);

  // DNS-rebinding guard for token-less (loopback) serving: a page on evil.example resolved to 127.0.0.1 still sends
  // Host: evil.example. With a token it is moot (such a page cannot know the token) and remote names are expected.
  const hostHeader = req.headers.host;
  if (!guard.auth && hostHeader && !isLoopbackHost(hostnameOf(hostHeader))) {
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
    // Preflights carry no credentials by design: answer them before the token check.
    answerPreflight(req, res, guard.allowOrigins);
    return;
  }
  if (guard.auth && isProtectedPath(url.pathname)) guard.auth.check(req);

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
    `Nothing at ${url.pathname}. This server serves / (playground), /dist/…, /ort/…, /models/registry.json, /models/files/<name>, /samples/<name>, ` +
      'and the Open Inference Protocol under /v2 (/v2/health/ready, /v2/models/<model>, /v2/models/<model>/infer).',
  );
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  assertBindAllowed(host, opts.token);
  const guard: Guard = {
    auth: opts.token ? new BearerAuth(opts.token) : null,
    allowOrigins: (opts.allowOrigins ?? []).map(parseOrigin),
  };
  const paths = serverPaths(opts.root);
  const oip = new OipService(paths, opts);
  // The job runner sends frame windows to this server's own /v2 (with its token), like any OIP client.
  const jobs = new JobService(paths, { ...opts.jobs, token: opts.token });
  const routes = buildRoutes(oip, jobs);

  const server = createServer((req, res) => {
    dispatch(routes, paths, guard, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : `Internal error: ${(err as Error)?.message ?? String(err)}`;
      if (status === 500) console.error(`[frontier] ${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}:`, err);
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      try {
        sendError(res, status, message, err instanceof HttpError ? err.headers : {});
        discardBody(req); // an unread body (413, 401, 503) must not block the connection
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
  jobs.setServerUrl(`http://${urlHost}:${address.port}`);
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    inferStats: () => oip.limiter.stats,
    close: async () => {
      await jobs.close(); // first: running jobs still call this server's /v2
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      await oip.close();
    },
  };
}
