// The playground page: a simulated host that runs the built plugin UI exactly as Figma does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpError, sendFile } from '../http-util.ts';
import type { Route } from './route.ts';
import { exact } from './route.ts';

export function playgroundRoutes(): Route[] {
  return [
    {
      methods: ['GET'],
      access: 'public',
      match: exact('/'),
      async handle({ req, res, url, paths }) {
        const html = await readFile(paths.playgroundHtml);
        const headers: Record<string, string | number> = {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': html.length,
          'Cache-Control': 'no-cache',
          // The page holds the pairing code once paired: no other site may frame it (and trick a click into Run).
          'Content-Security-Policy': "frame-ancestors 'self'",
          'X-Frame-Options': 'SAMEORIGIN',
        };
        if (url.searchParams.get('coi') === '1') {
          // Cross-origin isolation gives SharedArrayBuffer, so onnxruntime-web can run multi-threaded wasm (benchmarks).
          headers['Cross-Origin-Opener-Policy'] = 'same-origin';
          headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
        }
        res.writeHead(200, headers);
        res.end(req.method === 'HEAD' ? undefined : html);
      },
    },
    {
      methods: ['GET'],
      access: 'public',
      match: exact('/playground.js'),
      async handle({ req, res, paths }) {
        try {
          await sendFile(req, res, join(paths.dist, 'playground', 'playground.js'), { cacheControl: 'no-cache' });
        } catch (err) {
          if (err instanceof HttpError && err.status === 404) {
            throw new HttpError(404, 'dist/playground/playground.js is not built: run `npm run build` first.');
          }
          throw err;
        }
      },
    },
  ];
}
