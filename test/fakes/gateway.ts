// A minimal API gateway as the README tells users to put in front of Triton/KServe (which have no CORS and no auth):
// it answers CORS preflights for the plugin's origin (`null`), checks a bearer token, exposes
// Inference-Header-Content-Length, and forwards everything else to the upstream unchanged. Like nginx or Envoy
// configured per the README, and nothing more, so a test through it shows the README's recipe is enough.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGateway {
  url: string;
  /** Every request seen: method, path, Origin, whether it carried the right token. */
  seen: { method: string; path: string; origin: string | undefined; authorized: boolean }[];
  close(): Promise<void>;
}

const ALLOW_HEADERS = 'Authorization, Content-Type, Inference-Header-Content-Length';

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeGateway(opts: { upstream: string; token: string; allowOrigin?: string }): Promise<FakeGateway> {
  const seen: FakeGateway['seen'] = [];
  const allowOrigin = opts.allowOrigin ?? 'null';
  const server = createServer(async (req, res) => {
    const authorized = req.headers.authorization === `Bearer ${opts.token}`;
    seen.push({ method: req.method ?? '', path: req.url ?? '', origin: req.headers.origin, authorized });
    res.setHeader('Access-Control-Allow-Origin', allowOrigin);
    res.setHeader('Access-Control-Expose-Headers', 'Inference-Header-Content-Length');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS', 'Access-Control-Allow-Headers': ALLOW_HEADERS, 'Access-Control-Max-Age': '600' });
      res.end();
      return;
    }
    if (!authorized) {
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' });
      res.end(JSON.stringify({ error: 'missing or wrong bearer token' }));
      return;
    }
    try {
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'inference-header-content-length', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const payload = req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(await body(req));
      const upstream = await fetch(opts.upstream + (req.url ?? '/'), { method: req.method, headers, body: payload });
      const out: Record<string, string> = {};
      for (const name of ['content-type', 'inference-header-content-length']) {
        const value = upstream.headers.get(name);
        if (value !== null) out[name] = value;
      }
      res.writeHead(upstream.status, out);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch (err) {
      res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `upstream failed: ${(err as Error).message}` }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
