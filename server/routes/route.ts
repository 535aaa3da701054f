// The route table's shape. Each feature (static files, models, later the Open Inference Protocol and the job API)
// is a module under server/routes/ that returns its routes; server.ts matches them in order.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerPaths } from '../paths.ts';

/** OPTIONS reaches a route only when it lists it and the request is no CORS preflight (those are answered first). */
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Captures from the route's pattern, e.g. the file name after /models/files/. */
  params: Record<string, string>;
  paths: ServerPaths;
  /** Throws 401/429 unless the request carries the server's token: for public routes that are protected in part. */
  requireToken(): void;
}

/**
 * Who may use a route. 'token' (the default): only requests with the server's token, checked before the handler
 * runs, so nothing is read, computed or changed for anyone else. 'public': files anyone may read (the playground
 * page, the build output, onnxruntime's wasm, sample photos, public model files) and health checks.
 */
export type Access = 'token' | 'public';

export interface Route {
  /** Methods this route answers; HEAD is answered by GET routes automatically. */
  methods: Method[];
  /** Default 'token'. */
  access?: Access;
  /** Headers every answer of this route carries, a refused credential's included (tus: Tus-Resumable). */
  headers?: Record<string, string>;
  /** Returns the captures when `pathname` (still percent-encoded) belongs to this route, else null. */
  match(pathname: string): Record<string, string> | null;
  handle(ctx: RequestContext): Promise<void> | void;
}

/** Matches one exact path. */
export function exact(path: string): Route['match'] {
  return (pathname) => (pathname === path ? {} : null);
}

/** Matches everything under `prefix` and captures the (still encoded) rest as `rest`. */
export function under(prefix: string): Route['match'] {
  return (pathname) => (pathname.startsWith(prefix) ? { rest: pathname.slice(prefix.length) } : null);
}
