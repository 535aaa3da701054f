// The server's own disk as the job API reports it: a full disk is 507 Insufficient Storage (never the client's
// fault), a jobs folder the server cannot write is 503 with what the server's owner must do. Messages never name a
// server path; the log line beside them does, for the person who runs the server.
import { statfs } from 'node:fs/promises';
import { HttpError } from '../http-util.ts';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOENT', 'EISDIR', 'EEXIST']);

export function isDiskFull(err: unknown): boolean {
  return DISK_FULL.has((err as NodeJS.ErrnoException)?.code ?? '');
}

/**
 * The HttpError for a failure to write a job's files. `what` says what failed ("creating the job"), `then` what the
 * client does once the server is fixed ("create the job again").
 */
export function storageError(err: unknown, what: string, then: string, headers: Record<string, string> = {}): HttpError {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'unknown error';
  if (DISK_FULL.has(code)) {
    return new HttpError(507, `The server's disk is full (${what}): free some space on the server, then ${then}.`, headers);
  }
  if (NOT_WRITABLE.has(code)) {
    return new HttpError(503, `The server cannot write to its jobs folder (${code}, ${what}): whoever runs the server must make that folder writable (its log names it), then ${then}.`, headers);
  }
  return new HttpError(500, `The server could not write the job's files (${code}, ${what}): ${then}; if it happens again, report it with the server's log.`, headers);
}

/** Bytes free for this user on the disk that holds `dir`, or null where the system cannot say. */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}
