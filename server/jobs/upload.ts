// Resumable upload in the style of tus 1.0 (https://tus.io/protocols/resumable-upload): HEAD tells the offset the
// server has, PATCH appends a chunk at exactly that offset. Bytes are written to disk as they arrive, so a chunk cut
// off by a dropped connection still counts up to where it stopped, and the client resumes from HEAD's offset.
import { open } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http-util.ts';
import { isVideoSpec, type Job } from './job.ts';

export const TUS_VERSION = '1.0.0';
export const CHUNK_TYPE = 'application/offset+octet-stream';

/** Headers every upload answer carries, so a client always knows where to resume. */
export function uploadHeaders(job: Job): Record<string, string> {
  if (!isVideoSpec(job.spec)) return { 'Cache-Control': 'no-store' }; // an engine job has no upload
  return {
    'Upload-Offset': String(job.uploadOffset),
    'Upload-Length': String(job.spec.upload.bytes),
    'Tus-Resumable': TUS_VERSION,
    'Cache-Control': 'no-store',
  };
}

function mb(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MB`;
}

/**
 * Appends the request body to `file` at the job's upload offset. Throws HttpError for a wrong content type (415),
 * offset (409), a job that takes no more bytes (409) or a chunk that is too large (413). Returns when the chunk is on
 * disk; the job's offset has moved on by what was written, even when the body was cut off.
 */
export async function appendChunk(job: Job, req: IncomingMessage, file: string, maxChunkBytes: number): Promise<void> {
  if (!isVideoSpec(job.spec)) throw new HttpError(409, `Job ${job.id} is a ${job.spec.task} job: it takes no upload.`);
  const length = job.spec.upload.bytes;
  const headers = uploadHeaders(job);
  if (job.state !== 'uploading') {
    const why = job.state === 'cancelled' ? 'was cancelled' : job.terminal ? `has ${job.state}` : 'has its whole upload already';
    throw new HttpError(409, `Job ${job.id} ${why}: it takes no more upload chunks.`, headers);
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== CHUNK_TYPE) throw new HttpError(415, `Upload chunks must be sent with Content-Type: ${CHUNK_TYPE} (got ${type || 'none'}).`, headers);
  const offsetHeader = req.headers['upload-offset'];
  if (typeof offsetHeader !== 'string' || !/^\d+$/.test(offsetHeader)) {
    throw new HttpError(400, 'PATCH needs an Upload-Offset header: the byte offset this chunk starts at (HEAD the upload URL to learn it).', headers);
  }
  const offset = Number(offsetHeader);
  if (offset !== job.uploadOffset) {
    throw new HttpError(409, `Upload-Offset ${offset} does not match the ${job.uploadOffset} bytes the server has: resume from offset ${job.uploadOffset}.`, headers);
  }
  if (job.uploadBusy) throw new HttpError(409, `Another chunk of job ${job.id} is being written: wait for it, then HEAD the upload URL and resume.`, headers);

  const remaining = length - offset;
  const limit = Math.min(remaining, maxChunkBytes);
  const tooLarge = () =>
    remaining <= maxChunkBytes
      ? new HttpError(413, `The chunk goes past the end of the upload: ${remaining} bytes remain of the ${length} declared.`, uploadHeaders(job))
      : new HttpError(413, `Chunks may be at most ${mb(maxChunkBytes)}: send smaller ones.`, uploadHeaders(job));
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();

  job.uploadBusy = true;
  const handle = await open(file, 'r+');
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      if (job.state !== 'uploading') throw new HttpError(409, `Job ${job.id} was cancelled during the upload.`);
      const room = offset + limit - job.uploadOffset;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      await handle.write(part, 0, part.length, job.uploadOffset);
      job.uploadOffset += part.length;
      if (part.length < chunk.length) throw tooLarge();
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, `The chunk was cut off after ${job.uploadOffset - offset} bytes (${(err as Error).message}): HEAD the upload URL and resume from its Upload-Offset.`, uploadHeaders(job));
  } finally {
    job.uploadBusy = false;
    await handle.close();
  }
}
