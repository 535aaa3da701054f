// onnxruntime-web's files for the bench page served by the product's own /ort/ route (server/routes/static.ts, the
// route Figma's iframe fetches the wasm from), so the bench sees the headers the plugin gets: whether Chromium may keep
// the wasm's compiled code depends on them. Each answer is recorded (status, and whether the request revalidated).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../../server/http-util.ts';
import { serverPaths } from '../../server/paths.ts';
import { staticRoutes } from '../../server/routes/static.ts';

export interface OrtRequest {
  path: string;
  status: number;
  /** The request carried If-None-Match (Chromium revalidating its cached copy). */
  revalidated: boolean;
  /** Response headers that decide caching. */
  headers: { contentType?: string; cacheControl?: string; etag?: string; lastModified?: string };
}

/**
 * `cacheControl`: an experiment's Cache-Control in place of the route's own (to see what the headers decide); the
 * route's own when undefined.
 */
export function productOrtRoute(cacheControl?: string): { handle(req: IncomingMessage, res: ServerResponse, rel: string): boolean; requests: OrtRequest[] } {
  const route = staticRoutes().find((r) => r.match('/ort/x.wasm'))!;
  const paths = serverPaths();
  const requests: OrtRequest[] = [];
  return {
    requests,
    handle(req, res, rel) {
      const params = route.match(rel);
      if (!params) return false;
      res.on('finish', () => {
        const h = (n: string) => res.getHeader(n)?.toString();
        requests.push({ path: rel, status: res.statusCode, revalidated: !!req.headers['if-none-match'], headers: { contentType: h('content-type'), cacheControl: h('cache-control'), etag: h('etag'), lastModified: h('last-modified') } });
      });
      if (cacheControl) {
        const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
        res.writeHead = ((...a: unknown[]) => {
          const headers = a.find((x) => typeof x === 'object' && x !== null) as Record<string, unknown> | undefined;
          if (headers && 'Cache-Control' in headers) headers['Cache-Control'] = cacheControl;
          return writeHead(...a);
        }) as typeof res.writeHead;
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      Promise.resolve(route.handle({ req, res, url, params, paths, requireToken() {} })).catch((err: unknown) => {
        res.writeHead(err instanceof HttpError ? err.status : 500).end(String(err));
      });
      return true;
    },
  };
}
