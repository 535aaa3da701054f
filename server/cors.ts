// CORS and isolation headers. Figma's plugin iframe (and the playground's sandboxed iframe) has origin "null";
// loopback pages (the playground, dev servers) are echoed, and so are the origins configured with --allow-origin;
// every other origin gets no CORS grant.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
// Authorization: the bearer token; Inference-Header-Content-Length: OIP's binary tensor extension;
// Upload-*/Tus-Resumable: resumable uploads of the job API (tus 1.0, whose OPTIONS answers Tus-Version);
// Last-Event-ID: resuming server-sent progress.
export const ALLOWED_HEADERS =
  'Authorization, Content-Type, Range, Inference-Header-Content-Length, Upload-Offset, Upload-Length, Upload-Metadata, Tus-Resumable, Last-Event-ID';
export const EXPOSED_HEADERS =
  'Content-Length, Content-Range, Accept-Ranges, ETag, Inference-Header-Content-Length, Retry-After, WWW-Authenticate, Location, Upload-Offset, Upload-Length, Tus-Resumable, Tus-Version';

const LOOPBACK_ORIGIN = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/;

/** The Access-Control-Allow-Origin value for `origin`, or null when that origin is not admitted. */
export function allowedOrigin(origin: string | undefined, configured: readonly string[] = []): string | null {
  if (origin === undefined) return null;
  if (origin === 'null') return 'null';
  if (configured.includes(origin)) return origin;
  return LOOPBACK_ORIGIN.test(origin) ? origin : null;
}

/** Headers every response carries. */
export function applyCommonHeaders(req: IncomingMessage, res: ServerResponse, configured: readonly string[] = []): void {
  res.setHeader('Vary', 'Origin');
  // Lets every resource load into a cross-origin-isolated page (the playground with ?coi=1).
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const allow = allowedOrigin(req.headers.origin, configured);
  if (allow) {
    res.setHeader('Access-Control-Allow-Origin', allow);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  }
}

/** Answers an OPTIONS preflight. Returns the status sent. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, configured: readonly string[] = []): number {
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedOrigin(origin, configured)) {
    const body = JSON.stringify({
      error:
        `Origin ${origin} may not call this server: only the Figma plugin (origin null), loopback pages and origins ` +
        'configured with --allow-origin are allowed.',
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
