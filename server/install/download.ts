// Downloads an official checkpoint's files into an install job's folder: redirects followed (Azure and GitHub release
// links redirect), https only (plain http only to loopback, and only when the server allows it: tests), progress,
// resume with HTTP Range after a dropped connection (and after a server restart: what is on disk plus state.json
// say where each file stopped), a file published in parts joined in order, the size checked against the catalogue
// and against what the host announced, and the sha256 computed on the way (checked against a published one by the
// caller). Errors say what happened in plain words: a host that cannot be reached, 404, a web page instead of the
// file, a size that does not match.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { megabytes } from '../http-util.ts';
import { isLoopbackHost } from '../security.ts';
import { StreamReader } from '../stream-reader.ts';

/** One file to download: its name in the folder, its URLs (several: parts joined in order), what the catalogue knows. */
export interface DownloadFile {
  name: string;
  urls: string[];
  bytes: number | null;
}

export interface DownloadedFile {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
}

export interface DownloadOptions {
  /** The folder the files go to (created); holds state.json beside them. */
  dir: string;
  signal: AbortSignal;
  /** Plain http to 127.0.0.1 / localhost / [::1] (a test's fake host). Never to any other host. */
  allowHttpLoopback?: boolean;
  /** Failed attempts in a row (no byte between them) before giving up (default 5). */
  retries?: number;
  /** First wait before a retry, doubled each time (default 1000 ms). */
  retryDelayMs?: number;
  /** A connection that sends nothing for this long is dropped and resumed (default 60 s). */
  idleTimeoutMs?: number;
  /** Bytes on disk so far and the total (null while unknown), with a message for the user. */
  onProgress(done: number, total: number | null, message: string): void;
  /**
   * Called once the size of what is left becomes known, before more bytes are written: `remaining` bytes still to
   * come, `total` the whole checkpoint as far as known. Throws (not enough disk space) to stop the download.
   */
  reserve(remaining: number, total: number): Promise<void>;
}

/** A failure that retrying will not fix (404, a web page, a size mismatch, a refused scheme). */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

const STATE_FILE = 'state.json';
const MAX_REDIRECTS = 10;

/**
 * Per file: the sizes of the parts finished (a file in one piece has one part), whether it is complete, and the
 * validator (ETag or Last-Modified) of the part in progress, so a resume after a restart still asks for the same file.
 */
interface FileState {
  parts: number[];
  done: boolean;
  validator?: string;
}
type DownloadState = Record<string, FileState>;

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ENETDOWN', 'EHOSTDOWN', 'ECONNABORTED', 'UND_ERR_CONNECT_TIMEOUT']);

/** Errors that say the machine is offline or the host does not exist: retried only briefly. */
const OFFLINE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

/** The plain-words error once the retries are spent: a host that cannot be reached, or one that keeps failing. */
function unreachable(url: string, err: unknown): DownloadError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && NETWORK_CODES.has(code)) return new DownloadError(`can't reach ${hostOf(url)}: check the internet connection (${code}), then install again.`);
  const why = (err as Error)?.message ?? String(err);
  return new DownloadError(`The download from ${hostOf(url)} kept failing (${why}): check the internet connection, or try again later.`);
}

function cancelled(): Error {
  const err = new Error('The install was cancelled.');
  err.name = 'AbortError';
  return err;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function readState(dir: string): Promise<DownloadState> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const state: DownloadState = {};
    for (const [name, s] of Object.entries(parsed as Record<string, unknown>)) {
      const f = s as Partial<FileState>;
      if (Array.isArray(f?.parts) && f.parts.every((n) => Number.isSafeInteger(n) && n >= 0) && typeof f.done === 'boolean') {
        state[name] = { parts: f.parts, done: f.done, ...(typeof f.validator === 'string' ? { validator: f.validator } : {}) };
      }
    }
    return state;
  } catch {
    return {};
  }
}

async function writeState(dir: string, state: DownloadState): Promise<void> {
  const tmp = join(dir, `${STATE_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(state));
  await rename(tmp, join(dir, STATE_FILE));
}

/** sha256 state of a file's first `bytes` bytes (a download resumed after a restart hashes what it has first). */
async function hashPrefix(path: string, bytes: number, signal: AbortSignal): Promise<Hash> {
  const hash = createHash('sha256');
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, signal })) hash.update(chunk as Buffer);
  return hash;
}

interface Response {
  res: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: string;
}

/** A GET that follows redirects (each hop checked against the scheme rules). */
function get(url: string, headers: Record<string, string>, o: Required<Pick<DownloadOptions, 'idleTimeoutMs' | 'allowHttpLoopback'>> & { signal: AbortSignal }, hops = 0): Promise<Response> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new DownloadError(`The download link ${url.slice(0, 200)} is not a URL: the catalogue entry is wrong.`));
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && o.allowHttpLoopback && isLoopbackHost(u.hostname))) {
    return Promise.reject(new DownloadError(`Refused to download from ${u.protocol}//${u.host}: official checkpoints are downloaded over https only.`));
  }
  if (u.username || u.password) return Promise.reject(new DownloadError(`Refused to download from ${u.host}: a link with a user name or password is not followed.`));
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const req = request(u, {
      method: 'GET',
      headers: { 'User-Agent': 'Frontier model installer', Accept: '*/*', 'Accept-Encoding': 'identity', ...headers },
      signal: o.signal,
    });
    req.setTimeout(o.idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no answer from ${u.host} for ${Math.round(o.idleTimeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        res.resume();
        if (hops >= MAX_REDIRECTS) return reject(new DownloadError(`${u.host} redirected the download more than ${MAX_REDIRECTS} times: the link is broken.`));
        let next: string;
        try {
          next = new URL(location, u).href;
        } catch {
          return reject(new DownloadError(`${u.host} redirected the download to a malformed address.`));
        }
        resolve(get(next, headers, o, hops + 1));
        return;
      }
      resolve({ res, url: u.href });
    });
    req.end();
  });
}

/** `bytes a-b/total` of a 206 (or `bytes * /total` of a 416). */
function contentRange(res: IncomingMessage): { start: number | null; total: number | null } {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(String(res.headers['content-range'] ?? '').trim());
  if (!m) return { start: null, total: null };
  return { start: m[1] !== undefined ? Number(m[1]) : null, total: m[2] === '*' ? null : Number(m[2]) };
}

/** A refusal that retrying will not fix, in plain words; null for statuses worth retrying (429, 5xx). */
function statusError(status: number, name: string, url: string): DownloadError | null {
  const host = hostOf(url);
  if (status === 404 || status === 410) return new DownloadError(`${host} says ${name} is not there (HTTP ${status}): the download link may have moved. Download the file from the model's page yourself and install it from the file.`);
  if (status === 401 || status === 403) return new DownloadError(`${host} refused the download of ${name} (HTTP ${status}): the link may have expired or need a sign-in. Download the file from the model's page yourself and install it from the file.`);
  if (status === 429 || status >= 500) return null;
  return new DownloadError(`${host} answered HTTP ${status} instead of sending ${name}.`);
}

/** A web page where a checkpoint should be (a sign-in, a virus-scan notice, an error page). */
function webPageError(name: string, url: string, head: Buffer): DownloadError {
  const title = /<title[^>]*>([^<]{0,120})/i.exec(head.toString('latin1'))?.[1]?.trim();
  return new DownloadError(`${hostOf(url)} sent a web page${title ? ` ("${title}")` : ''} instead of ${name}, so this is not the checkpoint: the download link may need a browser. Download the file from the model's page yourself and install it from the file.`);
}

const looksLikeHtml = (head: Buffer): boolean => /^\s*<(!doctype|html|head|body|\?xml|!--)/i.test(head.subarray(0, 512).toString('latin1'));

/** A sha256 in progress that a restarted part can replace. */
interface HashRef {
  current: Hash;
}

/**
 * Downloads `files` into `o.dir`, resuming what an earlier run left there. Resolves with each file's path, size and
 * sha256; throws DownloadError (plain words), an AbortError on cancel, or a reserve() error.
 */
export async function downloadFiles(files: DownloadFile[], o: DownloadOptions): Promise<DownloadedFile[]> {
  await mkdir(o.dir, { recursive: true });
  const state = await readState(o.dir);
  const net = { idleTimeoutMs: o.idleTimeoutMs ?? 60_000, allowHttpLoopback: o.allowHttpLoopback ?? false, signal: o.signal };
  const retries = o.retries ?? 5;
  const retryDelayMs = o.retryDelayMs ?? 1000;

  // Progress counts every file; a total is known once every file's size is (catalogue, or the host's answer).
  const sizes = files.map((f) => f.bytes);
  const onDisk = await Promise.all(files.map((f) => stat(join(o.dir, f.name)).then((s) => s.size, () => 0)));
  const total = () => (sizes.every((s) => s !== null) ? (sizes as number[]).reduce((a, b) => a + b, 0) : null);
  const done = () => onDisk.reduce((a, b) => a + b, 0);
  let reservedFor = -1;
  /** Checks the disk each time more becomes known of what is left to come. */
  const reserve = async (knownRemaining: number) => {
    const t = total() ?? done() + knownRemaining;
    if (t === reservedFor) return;
    reservedFor = t;
    await o.reserve(Math.max(0, t - done()), t);
  };
  if (total() !== null) await reserve(0);

  const out: DownloadedFile[] = [];
  for (const [index, file] of files.entries()) {
    const path = join(o.dir, file.name);
    const fs: FileState = state[file.name] ?? { parts: [], done: false };
    state[file.name] = fs;
    const finishedParts = () => fs.parts.reduce((a, b) => a + b, 0);
    let size = onDisk[index];
    const consistent = fs.done ? size === finishedParts() && fs.parts.length === file.urls.length : fs.parts.length < file.urls.length && finishedParts() <= size;
    if (!consistent) {
      // The state does not fit the file on disk (or nothing is known of it): start this file over.
      fs.parts = [];
      fs.done = false;
      delete fs.validator;
      size = 0;
      onDisk[index] = 0;
    }
    const resumedAt = size;
    const hash: HashRef = { current: await hashPrefix(path, size, o.signal) };
    const handle = await open(path, size > 0 ? 'r+' : 'w');
    try {
      for (let part = fs.parts.length; !fs.done && part < file.urls.length; part++) {
        const url = file.urls[part];
        const partStart = finishedParts();
        const message = () => {
          const of = file.urls.length > 1 ? ` (part ${part + 1} of ${file.urls.length})` : '';
          const resumed = resumedAt > 0 ? `, resumed at ${megabytes(resumedAt)}` : '';
          return `Downloading ${file.name}${of} from ${hostOf(url)}${resumed}`;
        };
        const partBytes = await downloadPart(url, {
          name: file.name,
          handle,
          hash,
          partStart,
          offset: size - partStart,
          signal: o.signal,
          net,
          retries,
          retryDelayMs,
          validator: fs.validator,
          onValidator: async (validator) => {
            fs.validator = validator;
            await writeState(o.dir, state);
          },
          restartPart: async () => {
            // The host sent the part from its start again (or the file changed): drop what this part had.
            await handle.truncate(partStart);
            size = partStart;
            onDisk[index] = size;
            hash.current = await hashPrefix(path, size, o.signal);
          },
          onBytes: (n) => {
            size += n;
            onDisk[index] = size;
            o.onProgress(done(), total(), message());
          },
          onLength: async (remainingOfPart, partTotal) => {
            if (file.urls.length === 1 && partTotal !== null) {
              if (file.bytes !== null && partTotal !== file.bytes) {
                throw new DownloadError(`${hostOf(url)} sends ${file.name} with ${partTotal} bytes, but the official file has ${file.bytes}: this is not the checkpoint the catalogue describes, so it was not installed.`);
              }
              sizes[index] = partTotal;
            }
            o.onProgress(done(), total(), message());
            await reserve(remainingOfPart);
          },
        });
        fs.parts.push(partBytes);
        delete fs.validator;
        await writeState(o.dir, state);
      }
      if (file.bytes !== null && size !== file.bytes) {
        throw new DownloadError(`${file.name} arrived with ${size} bytes, but the official file has ${file.bytes}: the download is damaged or the file changed. Install again.`);
      }
      if (!fs.done) {
        fs.done = true;
        await writeState(o.dir, state);
      }
      sizes[index] = size;
      out.push({ name: file.name, path, bytes: size, sha256: hash.current.digest('hex') });
    } finally {
      await handle.close().catch(() => {});
    }
  }
  o.onProgress(done(), total(), 'Downloaded');
  return out;
}

interface PartOptions {
  name: string;
  handle: FileHandle;
  hash: HashRef;
  /** Where the part starts in the file. */
  partStart: number;
  /** Bytes of the part already in the file (resume from here). */
  offset: number;
  signal: AbortSignal;
  net: { idleTimeoutMs: number; allowHttpLoopback: boolean; signal: AbortSignal };
  retries: number;
  retryDelayMs: number;
  /** The validator an earlier run got for this part (a resume asks If-Range with it). */
  validator?: string;
  /** The host's validator of the part, once known (kept in state.json). */
  onValidator(validator: string | undefined): Promise<void>;
  /** Cuts the file back to the part's start (and the hash with it). */
  restartPart(): Promise<void>;
  onBytes(n: number): void;
  /** The host said how many bytes of the part are left (and the part's whole size, when it said). */
  onLength(remaining: number, partTotal: number | null): Promise<void>;
}

/** Downloads one URL into the file from `o.offset` bytes into the part; resolves with the part's size. */
async function downloadPart(url: string, o: PartOptions): Promise<number> {
  let offset = o.offset;
  let failures = 0;
  let lastError: unknown = null;
  /** The validator of the first answer (ETag or Last-Modified): a resumed range must be of the same file. */
  let validator: string | undefined = offset > 0 ? o.validator : undefined;
  const restart = async () => {
    await o.restartPart();
    offset = 0;
  };
  for (;;) {
    if (o.signal.aborted) throw cancelled();
    if (failures > o.retries) throw unreachable(url, lastError);
    if (failures > 0) await sleep(o.retryDelayMs * 2 ** (failures - 1), o.signal);

    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-`, ...(validator ? { 'If-Range': validator } : {}) } : {};
    let response: Response;
    try {
      response = await get(url, headers, o.net);
    } catch (err) {
      if (o.signal.aborted) throw cancelled();
      if (err instanceof DownloadError) throw err;
      lastError = err;
      failures++;
      // No network, no such host, nobody listening: two more tries, not the whole series (the user is waiting).
      if (OFFLINE_CODES.has((err as NodeJS.ErrnoException).code ?? '') && failures > Math.min(2, o.retries)) throw unreachable(url, err);
      continue;
    }
    const { res } = response;
    const status = res.statusCode ?? 0;
    let partTotal: number | null = null;
    if (status === 416 && offset > 0) {
      res.resume();
      if (contentRange(res).total === offset) return offset; // complete already (the state missed the part's end)
      await restart();
      continue;
    }
    if (status === 200) {
      if (offset > 0) await restart(); // the host ignored the range, or the file changed: take it from the start
      const length = Number(res.headers['content-length']);
      partTotal = res.headers['content-length'] !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : null;
    } else if (status === 206) {
      const { start, total } = contentRange(res);
      if (start !== offset) {
        res.resume();
        lastError = new Error(`${hostOf(url)} answered a range that does not start at byte ${offset}`);
        await restart();
        failures++;
        continue;
      }
      partTotal = total;
    } else {
      res.resume();
      const err = statusError(status, o.name, response.url);
      if (err) throw err;
      lastError = new Error(`HTTP ${status} from ${hostOf(response.url)}`);
      failures++;
      continue;
    }
    if (status === 200) {
      const etag = res.headers.etag;
      const modified = res.headers['last-modified'];
      validator = typeof etag === 'string' && !etag.startsWith('W/') ? etag : typeof modified === 'string' ? modified : undefined;
      await o.onValidator(validator);
    }
    const type = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    // Keeps reading while the disk catches up (server/stream-reader.ts: why a download must not pause per chunk).
    const reader = new StreamReader(res, { highWater: 32 * 2 ** 20, what: 'file' });
    try {
      if (type === 'text/html' || type === 'application/xhtml+xml') {
        const head = (await reader.next().catch(() => null)) ?? Buffer.alloc(0);
        throw webPageError(o.name, response.url, head);
      }
      await o.onLength(partTotal !== null ? partTotal - offset : 0, partTotal);
      const before = offset;
      try {
        for (;;) {
          const chunk = await reader.next();
          if (chunk === null) break;
          if (o.partStart + offset === 0 && looksLikeHtml(chunk)) throw webPageError(o.name, response.url, chunk);
          await writeAll(o.handle, chunk, o.partStart + offset);
          o.hash.current.update(chunk);
          offset += chunk.length;
          o.onBytes(chunk.length);
        }
      } catch (err) {
        if (o.signal.aborted) throw cancelled();
        if (err instanceof DownloadError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          throw new DownloadError(`The disk filled up while downloading ${o.name} (${megabytes(o.partStart + offset)} written): free some space, then install again.`);
        }
        // A dropped connection: resume from `offset` with a Range request (retries count only attempts that got nothing).
        failures = offset === before ? failures + 1 : 1;
        lastError = err;
        continue;
      }
      if (partTotal !== null && offset < partTotal) {
        // The connection closed early without an error (a body delimited by the close): resume.
        lastError = new Error(`the connection closed at byte ${offset} of ${partTotal}`);
        failures = offset === before ? failures + 1 : 1;
        continue;
      }
      return offset;
    } finally {
      reader.detach();
      if (!res.complete) res.destroy();
    }
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  for (let written = 0; written < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.length - written, position + written);
    written += bytesWritten;
  }
}
