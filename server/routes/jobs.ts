// The job API (../shared/facts/serving.md "Job API"): PUT /jobs/{id} creates a job with a client-chosen id
// (idempotent), HEAD/PATCH /jobs/{id}/upload upload the clip in resumable chunks (tus 1.0 core protocol), GET
// /jobs/{id}/events streams progress (server-sent events with replay), GET /jobs/{id} polls it (UXP has no
// EventSource), POST /jobs/{id}/cancel stops it, GET /jobs/{id}/result downloads the MP4 (Range supported).
// Engine jobs (a whole task such as generate or text-to-image, no upload) use the same routes; their result is JSON.
// Jobs are journalled: after a restart the same routes find them (server/jobs/restore.ts).
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError, readBody, sendFile, sendJson } from '../http-util.ts';
import { isVideoSpec } from '../jobs/job.ts';
import type { JobService } from '../jobs/service.ts';
import { lastEventId, streamJobEvents } from '../jobs/sse.ts';
import { checkTusResumable, ChunkReader, TUS_VERSION, tusDiscoveryHeaders, uploadHeaders } from '../jobs/upload.ts';
import { exact, type Route } from './route.ts';

const JOB_PATH = /^\/jobs\/([^/]+)(?:\/(upload|events|cancel|result))?$/;
const MAX_JOB_BODY = 64 * 1024;

/** Matches /jobs/{id} (sub '') or /jobs/{id}/{sub}. */
function jobPath(sub: '' | 'upload' | 'events' | 'cancel' | 'result'): Route['match'] {
  return (pathname) => {
    const m = JOB_PATH.exec(pathname);
    return m && (m[2] ?? '') === sub ? { id: m[1] } : null;
  };
}

/**
 * Who created a job, for the per-client cap: the remote address and (hashed) the credential it used. Every client on
 * this machine shares the loopback address and the pairing code, so the cap is generous.
 */
export function clientKey(req: IncomingMessage): string {
  const address = (req.socket?.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
  const credential = createHash('sha256').update(req.headers.authorization ?? '').digest('hex').slice(0, 16);
  return `${address} ${credential}`;
}

/** A whole number in 1..max from the query, or 400 saying what GET /jobs/fit takes. */
function wholeParam(url: URL, name: string, max: number): number {
  const raw = url.searchParams.get(name);
  const value = raw !== null && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= max)) {
    throw new HttpError(400, `${name} must be a whole number from 1 to ${max}, got ${raw === null ? 'none' : JSON.stringify(raw)}. GET /jobs/fit?model=ID&width=W&height=H&frames=N says whether such a clip fits this server.`);
  }
  return value;
}

export function jobRoutes(jobs: JobService): Route[] {
  return [
    {
      // Facts for the plugin before it uploads: whether a clip of this size fits the model on this server (its frame
      // limit, TTVSR's memory) and the largest frames that would. A token route like every job route: it computes.
      methods: ['GET'],
      match: exact('/jobs/fit'),
      async handle({ res, url }) {
        const model = url.searchParams.get('model');
        if (!model || model.length > 200) throw new HttpError(400, 'Name the model: GET /jobs/fit?model=ID&width=W&height=H&frames=N.');
        const clip = { width: wholeParam(url, 'width', 16384), height: wholeParam(url, 'height', 16384), frames: wholeParam(url, 'frames', 1_000_000) };
        sendJson(res, 200, await jobs.clipFit(model, clip), { 'Cache-Control': 'no-store' });
      },
    },
    {
      methods: ['GET', 'PUT', 'DELETE'],
      match: jobPath(''),
      async handle({ req, res, params }) {
        if (req.method === 'PUT') {
          const body = await readBody(req, MAX_JOB_BODY, undefined, `A job's description may be at most ${MAX_JOB_BODY / 1024} KB of JSON: {"task", "model", "params"} (and "upload" for a clip, whose bytes go to PATCH /jobs/{id}/upload).`);
          const { job, created } = await jobs.create(params.id, body.toString('utf8'), clientKey(req));
          sendJson(res, created ? 201 : 200, job.snapshot(), { Location: `/jobs/${job.id}`, ...uploadHeaders(job) });
          return;
        }
        const job = await jobs.get(params.id);
        if (req.method === 'DELETE') {
          await jobs.remove(job);
          res.writeHead(204, { 'Cache-Control': 'no-store' });
          res.end();
          return;
        }
        sendJson(res, 200, job.snapshot(), { 'Cache-Control': 'no-store' });
      },
    },
    {
      // A tus 1.0 upload URL (server/jobs/upload.ts): every answer says Tus-Resumable, errors and 401 included.
      methods: ['GET', 'PATCH', 'OPTIONS'],
      headers: { 'Tus-Resumable': TUS_VERSION },
      match: jobPath('upload'),
      async handle({ req, res, params }) {
        if (req.method === 'OPTIONS') {
          res.writeHead(204, tusDiscoveryHeaders());
          res.end();
          return;
        }
        // The body is taken from the first moment: bytes that arrive before the connection drops still count.
        const reader = req.method === 'PATCH' ? new ChunkReader(req) : null;
        try {
          checkTusResumable(req);
          const job = await jobs.get(params.id);
          if (reader) {
            await jobs.upload(job, req, reader);
            res.writeHead(204, uploadHeaders(job));
            res.end();
            return;
          }
          // HEAD (tus) and GET answer the offset in headers; GET also in the body, for clients that read JSON only.
          sendJson(res, 200, { offset: job.uploadOffset, length: jobs.uploadOf(job).bytes, state: job.state }, uploadHeaders(job));
        } finally {
          reader?.detach(); // an error answer then discards the rest of the body
        }
      },
    },
    {
      methods: ['GET'],
      match: jobPath('events'),
      async handle({ req, res, url, params }) {
        const job = await jobs.get(params.id);
        streamJobEvents(req, res, job, lastEventId(req, url), jobs.heartbeatMs);
      },
    },
    {
      methods: ['POST'],
      match: jobPath('cancel'),
      async handle({ res, params }) {
        const job = await jobs.get(params.id);
        await jobs.cancel(job);
        sendJson(res, 200, job.snapshot(), { 'Cache-Control': 'no-store' });
      },
    },
    {
      methods: ['GET'],
      match: jobPath('result'),
      async handle({ req, res, params }) {
        const job = await jobs.get(params.id);
        if (job.state !== 'succeeded') {
          const why =
            job.state === 'cancelled' ? 'it was cancelled'
            : job.state === 'failed' ? `it failed: ${job.error}`
            : `it is ${job.state} (${job.progress.stage} ${job.progress.done}/${job.progress.total})`;
          throw new HttpError(409, `Job ${job.id} has no result: ${why}. A result exists once the state is "succeeded" (GET /jobs/${job.id} or its events).`);
        }
        const video = isVideoSpec(job.spec);
        await sendFile(req, res, jobs.resultPath(job), {
          cacheControl: 'private, no-cache',
          contentType: video ? 'video/mp4' : 'application/json',
          headers: { 'Content-Disposition': `inline; filename="${job.id}.${video ? 'mp4' : 'json'}"` },
        });
      },
    },
  ];
}
