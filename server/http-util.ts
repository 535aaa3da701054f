// Small HTTP helpers: JSON errors, bounded request bodies, safe path resolution and file streaming with Range support.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, isAbsolute, join, sep } from 'node:path';

/** An error with the HTTP status to answer; its message goes to the client as `{ "error": message }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers, e.g. Retry-After on 503 or WWW-Authenticate on 401. */
    readonly headers: Record<string, string> = {},
    /** A stable name for the error, sent as `code` beside `error`, for clients that act on it. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code?: string): void {
  sendJson(res, status, { error: message, ...(code ? { code } : {}) }, headers);
}

/** A byte count as people read it in a message: "12.3 MB". */
export function megabytes(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MB`;
}

/**
 * Reads a request body of at most `limit` bytes. A larger body (declared or actually sent) is a 413 (saying
 * `tooLargeMessage`) before it is buffered; `signal` (a timeout, the client leaving) stops the read. The caller's error response then lets node
 * discard the rest of the body (see `discardBody`).
 */
export function readBody(req: IncomingMessage, limit: number, signal?: AbortSignal, tooLargeMessage = `The request body is larger than this server's ${megabytes(limit)} limit: send a smaller tensor (e.g. tile the image) or raise --max-body-mb.`): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, tooLargeMessage);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  signal?.throwIfAborted();

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        fail(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => fail(new HttpError(400, `The request body could not be read: ${err.message}.`));
    const onClose = () => {
      if (!req.complete) fail(new HttpError(400, 'The request body was cut off before its end.'));
    };
    const onAbort = () => fail(signal?.reason);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * After an early answer (413, 401, …) to a request whose body was not read: discard the rest so the connection
 * stays usable, but close it if the client keeps sending for more than `graceMs`. The timer must not touch
 * `req.socket`: once the answer is out, node detaches the socket from the request and that property is null (the
 * crash of issue 11: a TypeError from this timer ended the process ten seconds after an aborted upload).
 */
export function discardBody(req: IncomingMessage, graceMs = 10_000): void {
  if (req.complete || req.destroyed) return;
  const socket = req.socket; // captured now, while it is still attached
  req.resume();
  const timer = setTimeout(() => {
    if (!req.complete) (socket ?? req).destroy();
  }, graceMs);
  (timer as unknown as { unref(): void }).unref(); // never keeps the process alive
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.zip': 'application/zip',
  '.ccx': 'application/zip',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Resolves an encoded URL sub-path (e.g. "figma/ui.html") inside `base`, refusing anything that could leave it:
 * "..", ".", empty segments, encoded slashes or backslashes, NUL bytes, absolute paths.
 */
export function resolveInside(base: string, encodedPath: string): string {
  if (encodedPath === '') throw new HttpError(404, 'No file named: directory listings are not served.');
  const segments = encodedPath.split('/').map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, `Malformed percent-encoding in path segment "${segment}".`);
    }
    if (decoded === '' || decoded === '.' || decoded === '..' || /[\\/\0]/.test(decoded) || isAbsolute(decoded) || /^[a-zA-Z]:/.test(decoded)) {
      throw new HttpError(400, `Path segment "${segment}" is not allowed (no "..", ".", empty segments, slashes or drive letters).`);
    }
    return decoded;
  });
  const full = join(base, ...segments);
  if (!full.startsWith(base.endsWith(sep) ? base : base + sep)) throw new HttpError(400, 'Path leaves the served folder.');
  return full;
}

export interface FileOptions {
  cacheControl: string;
  /** Strong ETag value without quotes; defaults to a weak one from size and modification time. */
  etag?: string;
  contentType?: string;
  /** Extra headers for this response. */
  headers?: Record<string, string>;
}

type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/** Parses a single-range `Range: bytes=…` header. null = ignore it and send the whole file (allowed by RFC 9110). */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // malformed or multi-range: send everything
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null; // invalid range: ignore it
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** Streams a file from disk: HEAD, conditional GET (If-None-Match), Range (206/416), exact Content-Length. */
export async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, options: FileOptions): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new HttpError(404, `Not found: ${new URL(req.url ?? '/', 'http://x').pathname}`);
  }
  if (!info.isFile()) throw new HttpError(404, `Not found: ${new URL(req.url ?? '/', 'http://x').pathname} is not a file (directory listings are not served).`);

  const size = info.size;
  const etag = options.etag ? `"${options.etag}"` : `W/"${size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string | number> = {
    'Content-Type': options.contentType ?? contentTypeOf(path),
    'Cache-Control': options.cacheControl,
    ETag: etag,
    'Last-Modified': info.mtime.toUTCString(),
    'Accept-Ranges': 'bytes',
    ...options.headers,
  };

  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return;
  }

  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Type': 'application/json; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ error: `Range ${req.headers.range} is outside the file (${size} bytes).` }));
    return;
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  headers['Content-Length'] = size === 0 ? 0 : end - start + 1;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await new Promise<void>((done) => {
    const stream = createReadStream(path, { start, end });
    stream.on('error', (err) => {
      // Headers are gone already: cut the connection so the client sees a short body, not a silently truncated file.
      res.destroy(err);
      done();
    });
    res.on('close', () => {
      stream.destroy();
      done();
    });
    stream.pipe(res);
  });
}
