// The local companion server: node:http and a small route table (server/routes/*). Every route that computes,
// changes state or shows a user's data needs the server's token, also on loopback (server/access.ts); the Open
// Inference Protocol v2 API lives under /v2. Each request runs in its own async context, so an error that escapes
// its handler (a timer, an event listener) is answered with 500 for that request instead of ending the process
// (installCrashGuard, used by server/main.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_PORT } from '../plugin/messages.ts';
import { answerPreflight, applyCommonHeaders } from './cors.ts';
import { discardBody, HttpError, sendError } from './http-util.ts';
import { Installer, type InstallOptions } from './install/installer.ts';
import { JobService, type JobOptions } from './jobs/service.ts';
import { OipService, type OipOptions } from './oip/service.ts';
import { serverPaths, type ServerPaths } from './paths.ts';
import { installRoutes } from './routes/install.ts';
import { jobRoutes } from './routes/jobs.ts';
import { modelRoutes } from './routes/models.ts';
import { oipRoutes } from './routes/oip.ts';
import { playgroundRoutes } from './routes/playground.ts';
import type { Method, Route } from './routes/route.ts';
import { staticRoutes } from './routes/static.ts';
import { redactPaths } from './redact.ts';
import { AccessGate, BearerAuth, generateToken, type BackoffOptions } from './access.ts';
import { assertBindAllowed, isLoopbackHost, parseOrigin, type LimiterStats } from './security.ts';

export { isLoopbackHost } from './security.ts';

export interface ServerOptions extends OipOptions {
  /** 127.0.0.1 (default), ::1 or localhost; any other address (e.g. 0.0.0.0) needs `token`. */
  host?: string;
  /** 0 picks a free port. Defaults to DEFAULT_PORT. */
  port?: number;
  /** Folder holding dist/, models/ and test/fixtures/images (defaults to this repository). */
  root?: string;
  /**
   * Bearer token required on every route that computes, changes state or shows a user's data (/v2 but its health
   * checks, /jobs, models converted on this machine). Never logged. Without one the server makes up a random token
   * (RunningServer.token) and binds to loopback only; npm start passes the pairing token (server/pairing.ts).
   */
  token?: string;
  /** Where a user finds the token, said in every 401 (default: the pairing code printed by npm start). */
  tokenHint?: string;
  /** Lockout of remote addresses that keep sending wrong tokens (server/access.ts WrongTokenBackoff). */
  backoff?: BackoffOptions;
  /** Origins admitted by CORS besides "null" (Figma) and loopback pages, e.g. "https://app.example.com". */
  allowOrigins?: string[];
  /** Jobs under /jobs — video clips (uploaded) and whole engine tasks such as text-to-image: job folder, retention,
   *  ffmpeg paths, limits (server/jobs/service.ts). */
  jobs?: JobOptions;
  /** Installing official models (GET /models/catalogue, install jobs, DELETE /models/installed/{id}): the catalogue,
   *  the disk-space probe, download policy (server/install/installer.ts). Tests point the catalogue at a local host. */
  install?: InstallOptions;
}

export interface RunningServer {
  url: string;
  port: number;
  /** The token clients must send (the one given, or the one made up for this run). */
  token: string;
  /** Inference admission counts, for monitoring and tests. */
  inferStats(): LimiterStats;
  close(): Promise<void>;
}

/** The host name in a Host header ("127.0.0.1:8740", "[::1]:8740", "localhost"). */
function hostnameOf(hostHeader: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(hostHeader);
  return (m ? m[1] : hostHeader).toLowerCase();
}

export function buildRoutes(oip: OipService, jobs: JobService, installer: Installer): Route[] {
  // Order matters only for overlapping patterns.
  return [...playgroundRoutes(), ...staticRoutes(), ...modelRoutes(), ...installRoutes(installer, jobs), ...oipRoutes(oip), ...jobRoutes(jobs)];
}

interface Guard {
  gate: AccessGate;
  /** Bound to loopback: requests must name a loopback host (DNS rebinding guard). */
  loopbackOnly: boolean;
  allowOrigins: readonly string[];
}

/** What an error escaping a request's handler needs to answer that request. */
interface RequestScope {
  req: IncomingMessage;
  res: ServerResponse;
}

const requestScope = new AsyncLocalStorage<RequestScope>();

/**
 * Runs every listener of `emitter` inside the request's scope. Events that node emits later on its own (body 'data'
 * arriving in another packet, 'close', 'drain') come from the socket's context, not the handler's, so without this
 * an error in such a listener could not be traced to its request.
 */
function bindToScope(emitter: IncomingMessage | ServerResponse, scope: RequestScope): void {
  const emit = emitter.emit;
  emitter.emit = function (this: typeof emitter, ...args: Parameters<typeof emit>) {
    return requestScope.run(scope, () => emit.apply(this, args));
  } as typeof emit;
}

// Body types a web page can send cross-site without a preflight (HTML forms, text/plain). No route that computes or
// changes state takes them: with the token required this is a second lock, not the first.
const SIMPLE_BODY_TYPES = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);

function assertNoFormBody(req: IncomingMessage): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (SIMPLE_BODY_TYPES.has(type)) {
    throw new HttpError(415, `${req.method} does not take ${type} bodies here: send application/json (inference also takes application/octet-stream with the binary tensor extension).`);
  }
}

async function dispatch(routes: Route[], paths: ServerPaths, guard: Guard, req: IncomingMessage, res: ServerResponse): Promise<void> {
  applyCommonHeaders(req, res, guard.allowOrigins);

  // DNS-rebinding guard: a page on evil.example resolved to 127.0.0.1 still sends Host: evil.example. A server bound
  // to a network address expects remote names.
  const hostHeader = req.headers.host;
  if (guard.loopbackOnly && hostHeader && !isLoopbackHost(hostnameOf(hostHeader))) {
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

  if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
    // Preflights carry no credentials by design: answer them before the token check.
    answerPreflight(req, res, guard.allowOrigins);
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
    for (const [name, value] of Object.entries(route.headers ?? {})) res.setHeader(name, value);
    // The credential comes first: nothing is read, parsed, loaded or computed for a request without it.
    if ((route.access ?? 'token') === 'token') guard.gate.check(req);
    assertNoFormBody(req);
    await route.handle({ req, res, url, params, paths, requireToken: () => guard.gate.check(req) });
    return;
  }
  if (req.method === 'OPTIONS') {
    // A plain OPTIONS where no route answers one: what a preflight would be told.
    answerPreflight(req, res, guard.allowOrigins);
    return;
  }
  if (allowed.length > 0) {
    const list = [...new Set([...allowed.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])), 'OPTIONS'])];
    res.setHeader('Allow', list.join(', '));
    throw new HttpError(405, `${req.method} is not supported on ${url.pathname}; use ${list.join(', ')}.`);
  }
  throw new HttpError(
    404,
    `Nothing at ${url.pathname}. This server serves / (playground), /dist/…, /ort/…, /models/registry.json, /models/files/<name>, /samples/<name>, ` +
      'the Open Inference Protocol under /v2 (/v2/health/ready, /v2/models/<model>, /v2/models/<model>/infer), jobs under /jobs/<id>, ' +
      'and official models to install under /models/catalogue (installed ones: DELETE /models/installed/<id>).',
  );
}

/** Answers a request whose handler failed: the HttpError's status, else 500 (logged); never throws. */
function answerFailure(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const status = err instanceof HttpError ? err.status : 500;
  if (status === 500) console.error(`[frontier] ${req.method} ${pathOf(req)}:`, err);
  if (res.headersSent || res.destroyed) {
    // Mid-stream (an event stream, a file): the client sees a cut connection, not a truncated success.
    res.destroy();
    return;
  }
  const message = err instanceof HttpError ? err.message : 'Internal error while answering this request: the server logged it and keeps serving. Try again; if it happens again, report it with the server log.';
  try {
    // After a fault (a handler that failed may have left its body half-read) the connection's state is unknown: the
    // answer closes it, so the client's next request starts on a clean one.
    if (status === 500) res.setHeader('Connection', 'close');
    sendError(res, status, redactPaths(message), err instanceof HttpError ? err.headers : {}, err instanceof HttpError ? err.code : undefined);
    discardBody(req); // an unread body (413, 401, 503) must not block the connection
  } catch {
    res.destroy();
  }
}

function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://x').pathname;
  } catch {
    return '(malformed path)';
  }
}

/**
 * Keeps the process alive when an error escapes a request's async work (a throw in a timer or an event listener the
 * handler set up, a promise nobody awaited): that request is answered with 500 (or its stream cut), the error is
 * logged, and every other request and job goes on. Errors outside any request are logged too. For the server's own
 * process (server/main.ts), not for a library user's.
 */
export function installCrashGuard(log: (message: string, err: unknown) => void = (m, e) => console.error(m, e)): () => void {
  const onError = (kind: string) => (err: unknown) => {
    const scope = requestScope.getStore();
    if (scope) {
      log(`[frontier] ${kind} while answering ${scope.req.method} ${pathOf(scope.req)} (answered 500; the server keeps serving):`, err);
      answerFailure(scope.req, scope.res, new Error('escaped its handler'));
    } else {
      log(`[frontier] ${kind} outside any request (the server keeps serving):`, err);
    }
  };
  const uncaught = onError('uncaught error');
  const unhandled = onError('unhandled rejection');
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', unhandled);
  return () => {
    process.off('uncaughtException', uncaught);
    process.off('unhandledRejection', unhandled);
  };
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  assertBindAllowed(host, opts.token);
  const token = opts.token ?? generateToken();
  const guard: Guard = {
    gate: new AccessGate(new BearerAuth(token), opts.backoff, opts.tokenHint),
    loopbackOnly: isLoopbackHost(host),
    allowOrigins: (opts.allowOrigins ?? []).map(parseOrigin),
  };
  const paths = serverPaths(opts.root);
  const oip = new OipService(paths, opts);
  // The job runner sends frame windows to this server's own /v2 (with its token), like any OIP client.
  const installer = new Installer(paths, opts.install);
  const jobs = new JobService(paths, { ...opts.jobs, token, installer });
  await jobs.open(); // takes the jobs folder and restores its jobs; refused while another server uses it
  const routes = buildRoutes(oip, jobs, installer);

  const server = createServer((req, res) => {
    const scope = { req, res };
    bindToScope(req, scope);
    bindToScope(res, scope);
    requestScope.run(scope, () => {
      dispatch(routes, paths, guard, req, res).catch((err: unknown) => answerFailure(req, res, err));
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

  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(opts.port ?? DEFAULT_PORT, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  } catch (err) {
    // Not listening (port in use): give the jobs folder and the work processes back before saying why.
    await jobs.close();
    await oip.close();
    throw err;
  }
  server.on('error', (err) => console.error('[frontier] server error:', err));

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  jobs.setServerUrl(`http://${urlHost}:${address.port}`);
  let closing: Promise<void> | undefined;
  const stop = async () => {
    await jobs.close(); // first: running jobs still call this server's /v2
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
    await oip.close();
  };
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    token,
    inferStats: () => oip.limiter.stats,
    close: () => (closing ??= stop()), // the same stop for every caller, however many
  };
}
