// CORS and isolation headers. Figma's plugin iframe (and the playground's sandboxed iframe) has origin "null";
// loopback pages (the playground, dev servers) are echoed; every other origin gets no CORS grant.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, OPTIONS';
export const ALLOWED_HEADERS = 'Authorization, Content-Type, Range';
export const EXPOSED_HEADERS = 'Content-Length, Content-Range, Accept-Ranges, ETag';

const LOOPBACK_ORIGIN = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/;

/** The Access-Control-Allow-Origin value for `origin`, or null when that origin is not admitted. */
export function allowedOrigin(origin: string | undefined): string | null {
  if (origin === undefined) return null;
  if (origin === 'null') return 'null';
  return LOOPBACK_ORIGIN.test(origin) ? origin : null;
}

/** Headers every response carries. */
export function applyCommonHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Vary', 'Origin');
  // Lets every resource load into a cross-origin-isolated page (the playground with ?coi=1).
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const allow = allowedOrigin(req.headers.origin);
  if (allow) {
    res.setHeader('Access-Control-Allow-Origin', allow);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  }
}

/** Answers an OPTIONS preflight. Returns the status sent. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): number {
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedOrigin(origin)) {
    const body = JSON.stringify({
      error: `Origin ${origin} may not call this server: only the Figma plugin (origin null) and loopback pages are allowed.`,
    });
    res.writeHead(403, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return 403;
  }
  res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
  res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
  res.setHeader('Access-Control-Max-Age', '600');
  // Chrome's Private Network Access: a public page (figma.com) reaching loopback must be granted explicitly.
  if (req.headers['access-control-request-private-network'] === 'true') {
    res.setHeader('Access-Control-Allow-Private-Network', 'true');
  }
  res.writeHead(204, { 'Content-Length': 0 });
  res.end();
  return 204;
}
