// Resumable upload, the core protocol of tus 1.0.0 (https://tus.io/protocols/resumable-upload), so a standard tus
// client uploads to a job's upload URL: OPTIONS tells the versions spoken (Tus-Version), HEAD the offset the server
// has (Upload-Offset, with Upload-Length), PATCH appends an application/offset+octet-stream chunk at exactly that
// offset (409 for another offset, 415 for another type); every answer carries Tus-Resumable, and a client speaking
// another version is refused with 412. The upload URL comes from creating the job (PUT /jobs/{id}, which says how
// many bytes it takes), not from tus' creation extension; no extension is offered. Every byte the connection delivers is written to disk
// and counted before the request ends, so a chunk cut off by a dropped connection counts up to where it stopped and
// the client resumes from HEAD's offset. A newer PATCH takes over from one whose client vanished without closing
// its connection, and a body that stops arriving times out.
import { open } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { HttpError, megabytes } from '../http-util.ts';
import { StreamReader } from '../stream-reader.ts';
import { isDiskFull, storageError } from './disk.ts';
import { isVideoSpec, uploadOfSpec, type Job } from './job.ts';

export const TUS_VERSION = '1.0.0';
export const CHUNK_TYPE = 'application/offset+octet-stream';

/** The answer to OPTIONS on an upload URL (tus discovery): the versions this server speaks, no extensions. */
export function tusDiscoveryHeaders(): Record<string, string> {
  return { 'Tus-Resumable': TUS_VERSION, 'Tus-Version': TUS_VERSION, 'Cache-Control': 'no-store' };
}

/** Refuses (412, naming the versions spoken) a request that says it speaks another tus version; none said is fine. */
export function checkTusResumable(req: IncomingMessage): void {
  const header = req.headers['tus-resumable'];
  if (header === undefined) return;
  const said = Array.isArray(header) ? header.join(', ') : header;
  if (said.trim() === TUS_VERSION) return;
  throw new HttpError(412, `This server speaks tus ${TUS_VERSION}, not ${said.slice(0, 40)}: send Tus-Resumable: ${TUS_VERSION}.`, { 'Tus-Resumable': TUS_VERSION, 'Tus-Version': TUS_VERSION });
}

/** Headers every upload answer carries, so a client always knows where to resume. */
export function uploadHeaders(job: Job): Record<string, string> {
  const upload = uploadOfSpec(job.spec);
  if (!upload) return { 'Cache-Control': 'no-store' }; // an engine job (or a download install) has no upload
  return {
    'Upload-Offset': String(job.uploadOffset),
    'Upload-Length': String(upload.bytes),
    'Tus-Resumable': TUS_VERSION,
    'Cache-Control': 'no-store',
  };
}

/** A PATCH body, chunk by chunk, paused while a chunk waits to be written (server/stream-reader.ts). */
export class ChunkReader extends StreamReader {
  constructor(req: IncomingMessage) {
    super(req, { highWater: 0, what: 'chunk' });
  }
}

/** The PATCH that is writing a job's upload. */
export class UploadWriter {
  private settle!: () => void;
  /** Resolves once this PATCH has stopped writing (never rejects). */
  readonly done = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(
    private readonly req: IncomingMessage,
    private readonly reader: ChunkReader,
  ) {}

  /** Stops the PATCH after its write in progress; `cut` also closes its connection (a client that vanished). */
  stop(err: HttpError, cut = false): void {
    this.reader.interrupt(err);
    if (cut) this.req.destroy();
  }

  finished(): void {
    this.settle();
  }
}

export interface UploadLimits {
  maxChunkBytes: number;
  /** A body that delivers no byte for this long is ended (408). */
  idleMs: number;
}

/**
 * Appends the request body to `file` at the job's upload offset. Throws HttpError for a wrong content type (415),
 * offset (409), a job that takes no more bytes (409), a chunk that is too large (413), a stalled body (408), a full
 * disk (507) or a cut connection (400). However it ends, the job's offset counts every byte written.
 */
export async function appendChunk(job: Job, req: IncomingMessage, reader: ChunkReader, file: string, limits: UploadLimits): Promise<void> {
  const upload = uploadOfSpec(job.spec);
  if (!upload) throw new HttpError(409, `Job ${job.id} is ${/^[aeiou]/.test(job.spec.task) ? 'an' : 'a'} ${job.spec.task} job: it takes no upload (it downloads what it needs, or runs on the server's models).`);
  const length = upload.bytes;
  const refuseUnlessUploading = () => {
    if (job.state === 'uploading') return;
    const why = job.state === 'cancelled' ? 'was cancelled' : job.terminal ? `has ${job.state}` : 'has its whole upload already';
    throw new HttpError(409, `Job ${job.id} ${why}: it takes no more upload chunks.`, uploadHeaders(job));
  };
  refuseUnlessUploading();
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== CHUNK_TYPE) throw new HttpError(415, `Upload chunks must be sent with Content-Type: ${CHUNK_TYPE} (got ${type || 'none'}).`, uploadHeaders(job));
  const offsetHeader = req.headers['upload-offset'];
  if (typeof offsetHeader !== 'string' || !/^\d+$/.test(offsetHeader)) {
    throw new HttpError(400, 'PATCH needs an Upload-Offset header: the byte offset this chunk starts at (HEAD the upload URL to learn it).', uploadHeaders(job));
  }
  const offset = Number(offsetHeader);
  const checkOffset = () => {
    if (offset !== job.uploadOffset) {
      throw new HttpError(409, `Upload-Offset ${offset} does not match the ${job.uploadOffset} bytes the server has: resume from offset ${job.uploadOffset}.`, uploadHeaders(job));
    }
  };
  checkOffset();
  const remaining = length - offset;
  const limit = Math.min(remaining, limits.maxChunkBytes);
  const tooLarge = () =>
    remaining <= limits.maxChunkBytes
      ? new HttpError(413, `The chunk goes past the end of the upload: ${remaining} bytes remain of the ${length} declared.`, uploadHeaders(job))
      : new HttpError(413, `Chunks may be at most ${megabytes(limits.maxChunkBytes)}: send smaller ones.`, uploadHeaders(job));
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();

  // A PATCH still holding the upload belongs to a client that came back (its old connection never closed): stop it,
  // let its last write land, then continue from where it got to.
  while (job.activeUpload) {
    const stale = job.activeUpload;
    stale.stop(new HttpError(409, `A newer PATCH of job ${job.id} took over its upload: HEAD the upload URL and resume from its Upload-Offset.`), true);
    await stale.done;
  }
  refuseUnlessUploading();
  checkOffset();

  const writer = new UploadWriter(req, reader);
  job.activeUpload = writer;
  try {
    await writeBody(job, reader, file, { offset, limit, idleMs: limits.idleMs, tooLarge });
  } finally {
    if (job.activeUpload === writer) job.activeUpload = null;
    writer.finished();
  }
}

async function writeBody(job: Job, reader: ChunkReader, file: string, o: { offset: number; limit: number; idleMs: number; tooLarge: () => HttpError }): Promise<void> {
  const length = uploadOfSpec(job.spec)?.bytes ?? 0;
  const what = isVideoSpec(job.spec) ? 'clip' : 'file';
  const resume = () => `resume the upload from Upload-Offset ${job.uploadOffset} (HEAD the upload URL)`;
  let handle;
  try {
    handle = await open(file, 'r+');
  } catch (err) {
    throw storageError(err, `opening the uploaded ${what}`, resume(), uploadHeaders(job));
  }
  try {
    for (;;) {
      const idle = setTimeout(() => {
        reader.interrupt(new HttpError(408, `No bytes of the chunk arrived for ${Math.round(o.idleMs / 100) / 10} s, so the server ended it: ${resume()}.`, { ...uploadHeaders(job), Connection: 'close' }));
      }, o.idleMs);
      let chunk: Buffer | null;
      try {
        chunk = await reader.next();
      } finally {
        clearTimeout(idle);
      }
      if (chunk === null) return;
      if (job.state !== 'uploading') throw new HttpError(409, `Job ${job.id} was cancelled during the upload.`, uploadHeaders(job));
      const room = o.offset + o.limit - job.uploadOffset;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      for (let written = 0; written < part.length; ) {
        let bytesWritten: number;
        try {
          ({ bytesWritten } = await handle.write(part, written, part.length - written, job.uploadOffset));
        } catch (err) {
          if (isDiskFull(err)) {
            throw new HttpError(507, `The server's disk is full: it holds ${job.uploadOffset} of the ${what}'s ${length} bytes. Free some space on the server, then ${resume()}.`, uploadHeaders(job));
          }
          throw storageError(err, `writing the uploaded ${what}`, resume(), uploadHeaders(job));
        }
        job.uploadOffset += bytesWritten;
        written += bytesWritten;
      }
      if (part.length < chunk.length) throw o.tooLarge();
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, `The chunk was cut off after ${job.uploadOffset - o.offset} bytes (${(err as Error).message}): HEAD the upload URL and resume from its Upload-Offset.`, uploadHeaders(job));
  } finally {
    await handle.close().catch(() => {});
  }
}
