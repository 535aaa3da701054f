// Client of the server's job API (server/routes/jobs.ts; the open shape of ../shared/facts/serving.md): create a job
// with a client-chosen id (idempotent, so a retried PUT cannot start it twice), upload the clip in resumable chunks,
// follow progress as server-sent events read with fetch (EventSource cannot send a bearer token) with replay after
// a reconnect and polling when streaming does not work (a buffering gateway), cancel on abort, download the result.
// Engine jobs (a whole task run by the server's engine, e.g. a diffusion loop) use the same create/follow/cancel
// without an upload; their result is JSON images. Only fetch is used: the same code runs in the browser worker and
// in Node.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { base64ToBytes } from '../base64.ts';
import { FrontierError, type EncodedVideo, type Params, type Progress, type RgbaImage } from '../job.ts';
import type { ImageMeta } from '../tasks/task.ts';
import { framePreviews, isFramePreview, webImageDecoder, type DecodeImage, type FramePreviewJson } from '../video/preview.ts';
import { backoffMs, errorText, OipHttp, type OipClientOptions, type OipResponse } from './oip-http.ts';

/** An image as the server sends it: straight RGBA, base64. */
export interface ImageJson {
  width: number;
  height: number;
  rgba: string;
}

/** The job as the server reports it (GET /jobs/{id} and every event's data). Engine jobs have no upload. */
export interface JobSnapshot {
  id: string;
  state: 'uploading' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** preview: an engine job's image (ImageJson), a video job's latest frame (FramePreviewJson: a small JPEG). */
  progress: { done: number; total: number; stage: 'upload' | 'queued' | 'probe' | 'download' | 'load' | 'run' | 'encode' | 'convert' | 'done'; message?: string; preview?: ImageJson | FramePreviewJson };
  upload?: { offset: number; length: number };
  error?: string;
  /** Video: the clip; engine jobs: { images, width, height }; model installs: { cards }. */
  result?: { bytes?: number; width?: number; height?: number; frames?: number; fps?: number; images?: number; cards?: string[] };
  seq: number;
}

/** What follow, poll and cancel need of a job; `label` names it in errors ("the video job"). */
export interface JobRef {
  id: string;
  signal: AbortSignal;
  label: string;
}

export interface VideoJobRequest {
  /** Client-chosen id (8–64 of A-Z a-z 0-9 _ -): the same id resumes the same job. */
  id: string;
  /** The video task: upscale-video ({ scale }) or restore-video ({ mode }). */
  task: string;
  model: string;
  params: Params;
  video: EncodedVideo;
  signal: AbortSignal;
  progress(p: Omit<Progress, 'jobId'>): void;
}

/** A task the server runs whole with its own engine (no upload): a text-to-image diffusion loop. */
export interface EngineJobRequest {
  /** Client-chosen id, as for video jobs. */
  id: string;
  task: string;
  model: string;
  params: Params;
  signal: AbortSignal;
  /** Progress as the server's engine reports it, previews included (decoded to RGBA). */
  progress(p: Omit<Progress, 'jobId'>): void;
}

export interface JobServer {
  /** The server as shown to users. */
  readonly where: string;
  runVideo(req: VideoJobRequest): Promise<EncodedVideo>;
  /** Runs a whole task on the server; resolves to its images (and per-image meta) as the engine returned them. */
  runEngineJob(req: EngineJobRequest): Promise<{ images: RgbaImage[]; imageMeta?: ImageMeta[] }>;
}

export interface JobServerOptions extends OipClientOptions {
  /** Upload chunk size (default 4 MiB: well under proxies' body limits). */
  chunkBytes?: number;
  /** Poll interval when events cannot be streamed (default 1 s). */
  pollMs?: number;
  /** Stream reconnects in a row without any new event before falling back to polling (default 3). */
  maxReconnects?: number;
  /** Decodes a video job's preview frames (JPEG) to RGBA; default: the web platform's, where there is one. */
  decodeImage?: DecodeImage;
}

const TERMINAL = new Set<JobSnapshot['state']>(['succeeded', 'failed', 'cancelled']);

/** How progress and errors speak of a video task's work: "Upscaling frame 3 / 8", "could not upscale the clip". */
const VIDEO_WORDS: Record<string, { doing: string; verb: string }> = {
  'upscale-video': { doing: 'Upscaling', verb: 'upscale' },
  'restore-video': { doing: 'Restoring', verb: 'restore' },
};
const videoWords = (task: string) => VIDEO_WORDS[task] ?? { doing: 'Processing', verb: 'process' };

export function createJobServer(opts: JobServerOptions): JobServer {
  const http = new OipHttp({ ...opts, timeoutMs: opts.timeoutMs ?? 60_000 });
  const chunkBytes = Math.max(1, opts.chunkBytes ?? 4 * 2 ** 20);
  const pollMs = opts.pollMs ?? 1000;
  const maxReconnects = opts.maxReconnects ?? 3;
  const fetchFn = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const decodeImage = opts.decodeImage ?? webImageDecoder();

  /** Turns a non-2xx answer into an error that says what to do. */
  const failed = (res: OipResponse, what: string): FrontierError => {
    const detail = http.redact(errorText(res.body)) || `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) return new FrontierError('target-unavailable', `The server at ${http.where} refused ${what} (${res.status}): check the token in Settings.`);
    if (res.status === 404 && what === 'the video job') {
      return new FrontierError('target-unavailable', `The server at ${http.where} has no job API (a plain Triton/KServe endpoint has none): video runs on Frontier's server ("npm start"), which can send its frames to Triton.`);
    }
    if (res.status === 501) return new FrontierError('target-unavailable', `The server at ${http.where} cannot run video jobs: ${detail}`);
    if (res.status === 413) return new FrontierError('too-large', detail);
    if (res.status >= 400 && res.status < 500) return new FrontierError('bad-input', `The server refused ${what}: ${detail}`);
    return new FrontierError('run-failed', `The server failed ${what} (${res.status}): ${detail}`);
  };

  const json = <T>(res: OipResponse): T => JSON.parse(new TextDecoder().decode(res.body)) as T;
  const { snapshot, follow, cancel } = createJobFollower(http, { fetch: fetchFn, pollMs, maxReconnects, failed });

  async function create(req: VideoJobRequest): Promise<JobSnapshot> {
    const body = JSON.stringify({ task: req.task, model: req.model, params: req.params, upload: { bytes: req.video.bytes.length, mime: req.video.mime } });
    const res = await http.send({ method: 'PUT', path: `/jobs/${req.id}`, headers: { 'Content-Type': 'application/json' }, body, retry: 'always', signal: req.signal, what: 'create the video job' });
    if (res.status !== 200 && res.status !== 201) throw failed(res, 'the video job');
    return json<JobSnapshot>(res);
  }

  async function upload(req: VideoJobRequest, start: JobSnapshot): Promise<void> {
    const { bytes } = req.video;
    await uploadResumable({
      send: (r) => http.send(r),
      id: req.id,
      size: bytes.length,
      from: start.upload?.offset ?? 0,
      chunkBytes,
      read: (begin, end) => bytes.subarray(begin, end),
      signal: req.signal,
      isCancel: (err) => (err as FrontierError).code === 'cancelled',
      failed: (res) => failed(res, 'the upload'),
      what: 'upload the clip',
      resumeWhat: 'resume the upload',
      onProgress: (done) => req.progress({ stage: 'upload', done, total: bytes.length, message: 'Sending the clip to the server' }),
    });
    req.progress({ stage: 'upload', done: bytes.length, total: bytes.length, message: 'Clip sent' });
  }

  const reportVideo = (req: VideoJobRequest, job: JobSnapshot) => {
    const p = job.progress;
    // The server may say which frame and tile it is at ("frame 3 / 8: tile 2 / 6") while a large frame runs.
    const at = p.message ?? `frame ${Math.min(p.done + 1, p.total)} / ${p.total}`;
    if (p.stage === 'run') req.progress({ stage: 'run', done: p.done, total: p.total, message: `${videoWords(req.task).doing} ${at} on the server` });
    else if (p.stage === 'encode') req.progress({ stage: 'encode', done: p.done, total: p.total, message: 'Encoding the video on the server' });
    else if (p.stage === 'queued' || p.stage === 'probe') req.progress({ stage: 'run', done: 0, total: 1, message: p.stage === 'queued' ? 'Waiting for the server' : 'Reading the clip' });
  };

  async function download(req: VideoJobRequest, job: JobSnapshot): Promise<Uint8Array> {
    const total = job.result?.bytes ?? 0;
    req.progress({ stage: 'download', done: 0, total, message: 'Downloading the result' });
    const res = await http.send({ method: 'GET', path: `/jobs/${req.id}/result`, retry: 'always', signal: req.signal, what: 'download the result', timeoutMs: 300_000 });
    if (res.status !== 200) throw failed(res, 'the result download');
    req.progress({ stage: 'download', done: res.body.length, total: res.body.length, message: 'Downloaded the result' });
    return res.body;
  }

  /** Runs `work`; once the user aborted, stops the server job too and says nothing was placed. */
  async function cancelOnAbort<T>(req: JobRef, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (req.signal.aborted) {
        await cancel(req.id);
        throw new FrontierError('cancelled', 'Cancelled: the server job was stopped and nothing was placed.');
      }
      throw err;
    }
  }

  async function createEngineJob(req: EngineJobRequest): Promise<JobSnapshot> {
    const body = JSON.stringify({ task: req.task, model: req.model, params: req.params });
    const res = await http.send({ method: 'PUT', path: `/jobs/${req.id}`, headers: { 'Content-Type': 'application/json' }, body, retry: 'always', signal: req.signal, what: 'start the job' });
    if (res.status === 200 || res.status === 201) return json<JobSnapshot>(res);
    if (res.status === 404) {
      throw new FrontierError('target-unavailable', `The server at ${http.where} has no job API (a plain Triton/KServe endpoint has none): ${req.task} runs as one job on Frontier's server (npm start); choose another target to run it here.`);
    }
    // A Frontier server from before engine jobs knows only video tasks.
    if (res.status === 400 && /Unknown task/.test(errorText(res.body)) && !/engine jobs/.test(errorText(res.body))) {
      throw new FrontierError('target-unavailable', `The server at ${http.where} cannot run ${req.task} jobs: update it (npm start runs the current Frontier server), or run the task here.`);
    }
    throw failed(res, 'the job');
  }

  const reportEngine = (req: EngineJobRequest, job: JobSnapshot) => {
    const p = job.progress;
    const preview = p.preview && !isFramePreview(p.preview) ? { preview: imageFromJson(p.preview) } : {};
    if (p.stage === 'queued') req.progress({ stage: 'run', done: 0, total: 1, message: 'Waiting for the server', ...preview });
    else if (p.stage === 'download' || p.stage === 'load' || p.stage === 'run') {
      req.progress({ stage: p.stage, done: p.done, total: p.total, message: p.message ? `${p.message} (on the server)` : 'Running on the server', ...preview });
    }
  };

  async function engineResult(req: EngineJobRequest, job: JobSnapshot): Promise<{ images: RgbaImage[]; imageMeta?: ImageMeta[] }> {
    const res = await http.send({ method: 'GET', path: `/jobs/${req.id}/result`, retry: 'always', signal: req.signal, what: 'download the result', timeoutMs: 300_000 });
    if (res.status !== 200) throw failed(res, 'the result download');
    const body = json<{ images?: ImageJson[]; imageMeta?: ImageMeta[] }>(res);
    if (!Array.isArray(body.images) || body.images.length !== (job.result?.images ?? body.images.length)) {
      throw new FrontierError('run-failed', `The server's result for job ${req.id} is not the ${job.result?.images ?? 'expected'} images it announced.`);
    }
    return { images: body.images.map(imageFromJson), ...(Array.isArray(body.imageMeta) ? { imageMeta: body.imageMeta } : {}) };
  }

  return {
    where: http.where,
    runEngineJob(req) {
      const ref = { id: req.id, signal: req.signal, label: 'the job' };
      return cancelOnAbort(ref, async () => {
        const created = await createEngineJob(req);
        const last = await follow(ref, created, (job) => reportEngine(req, job));
        if (last.state === 'cancelled') throw new FrontierError('cancelled', 'Cancelled on the server: nothing was placed.');
        if (last.state === 'failed') throw new FrontierError('run-failed', `The server could not run ${req.task}: ${last.error ?? 'unknown error'}`);
        return engineResult(req, last);
      });
    },
    async runVideo(req) {
      if (!(req.video.bytes instanceof Uint8Array) || req.video.bytes.length === 0) {
        throw new FrontierError('bad-input', 'The clip is empty: select a video or an animated frame.');
      }
      const ref = { id: req.id, signal: req.signal, label: 'the video job' };
      // The latest finished frame, when an event brings one, goes out with the latest run progress once decoded.
      let running: Omit<Progress, 'jobId'> | undefined;
      const previews = framePreviews(decodeImage, (preview) => {
        if (running) req.progress({ ...running, preview });
      });
      const watched: VideoJobRequest = {
        ...req,
        progress: (p) => {
          running = p.stage === 'run' ? p : undefined;
          req.progress(p);
        },
      };
      return cancelOnAbort(ref, async () => {
        const created = await create(req);
        if (created.state === 'uploading') await upload(req, created);
        const last = await follow(ref, await snapshot(ref), (job) => {
          reportVideo(watched, job);
          previews.offer(job.progress.preview);
        }).finally(() => previews.close());
        if (last.state === 'cancelled') throw new FrontierError('cancelled', 'Cancelled on the server: nothing was placed.');
        if (last.state === 'failed') throw new FrontierError('run-failed', `The server could not ${videoWords(req.task).verb} the clip: ${last.error ?? 'unknown error'}`);
        const bytes = await download(req, last);
        const r = last.result;
        return { bytes, mime: 'video/mp4', ...(r ? { width: r.width, height: r.height, frames: r.frames, fps: r.fps } : {}) };
      });
    },
  };
}

/** A job's upload (tus 1.0 style, server/jobs/upload.ts): what to send, how, and what to say. */
export interface ResumableUpload {
  send(req: Parameters<OipHttp['send']>[0]): Promise<OipResponse>;
  id: string;
  size: number;
  /** The offset the server already has. */
  from: number;
  chunkBytes: number;
  /** Bytes [begin, end) of the payload. */
  read(begin: number, end: number): Uint8Array | Promise<Uint8Array>;
  signal: AbortSignal;
  /** A send error that is the user's stop (never retried). */
  isCancel(err: unknown): boolean;
  /** The error for a stop noticed while a chunk was read (a file read takes time); else the PATCH reports it. */
  cancelled?(): Error;
  failed(res: OipResponse): Error;
  what: string;
  resumeWhat: string;
  timeoutMs?: number;
  /** Before each chunk: the bytes the server has. */
  onProgress(done: number): void;
}

/**
 * PATCHes the payload chunk by chunk from the server's offset. A connection cut mid-chunk asks the server where to
 * resume (it kept what arrived); a 409 with another offset resumes there; three stalls in a row give up.
 */
export async function uploadResumable(u: ResumableUpload): Promise<void> {
  let offset = u.from;
  let stalls = 0;
  while (offset < u.size) {
    u.onProgress(offset);
    const chunk = await u.read(offset, Math.min(u.size, offset + u.chunkBytes));
    if (u.signal.aborted && u.cancelled) throw u.cancelled();
    let res: OipResponse;
    try {
      res = await u.send({
        method: 'PATCH',
        path: `/jobs/${u.id}/upload`,
        headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), 'Tus-Resumable': '1.0.0' },
        body: chunk,
        retry: 'before-response',
        signal: u.signal,
        what: u.what,
        ...(u.timeoutMs ? { timeoutMs: u.timeoutMs } : {}),
      });
    } catch (err) {
      if (u.isCancel(err) || ++stalls > 3) throw err;
      offset = await serverOffset(u);
      continue;
    }
    const told = Number(res.headers.get('upload-offset'));
    const hasTold = res.headers.has('upload-offset') && Number.isFinite(told);
    if (res.status === 204) {
      offset = hasTold ? told : offset + chunk.length;
      stalls = 0;
    } else if (res.status === 409 && hasTold && told !== offset && ++stalls <= 3) offset = told; // resume where the server is
    else throw u.failed(res);
  }
}

async function serverOffset(u: ResumableUpload): Promise<number> {
  const res = await u.send({ method: 'GET', path: `/jobs/${u.id}/upload`, retry: 'always', signal: u.signal, what: u.resumeWhat });
  if (res.status !== 200) throw u.failed(res);
  return (JSON.parse(new TextDecoder().decode(res.body)) as { offset: number }).offset;
}

export interface JobFollowerOptions {
  fetch: typeof fetch;
  /** Poll interval when events cannot be streamed. */
  pollMs: number;
  /** Stream reconnects in a row without any new event before falling back to polling. */
  maxReconnects: number;
  /** Turns a non-2xx answer to GET /jobs/{id} into the error the caller reports. */
  failed(res: OipResponse, what: string): Error;
}

/** Following any job of the job API (video, engine, model install): its snapshot, its events until it ends, cancel. */
export interface JobFollower {
  snapshot(req: JobRef): Promise<JobSnapshot>;
  /** Follows the job until it ends: server-sent events first, polling when streaming keeps failing. */
  follow(req: JobRef, start: JobSnapshot, report: (job: JobSnapshot) => void): Promise<JobSnapshot>;
  /** Tells the server to stop (best effort). */
  cancel(id: string): Promise<void>;
}

/** Where a followed job's event stream stands: the newest snapshot and the id of the last event (undefined: none). */
interface StreamCursor {
  job: JobSnapshot;
  eventId: string | undefined;
}

export function createJobFollower(http: OipHttp, opts: JobFollowerOptions): JobFollower {
  const { pollMs, maxReconnects, failed } = opts;
  const fetchFn = opts.fetch;
  const json = <T>(res: OipResponse): T => JSON.parse(new TextDecoder().decode(res.body)) as T;

  async function snapshot(req: JobRef): Promise<JobSnapshot> {
    const res = await http.send({ method: 'GET', path: `/jobs/${req.id}`, retry: 'always', signal: req.signal, what: `check ${req.label}` });
    if (res.status !== 200) throw failed(res, req.label);
    return json<JobSnapshot>(res);
  }

  /** Follows the job until it ends: server-sent events first, polling when streaming keeps failing. */
  async function follow(req: JobRef, start: JobSnapshot, report: (job: JobSnapshot) => void): Promise<JobSnapshot> {
    const cursor: StreamCursor = { job: start, eventId: undefined };
    let reconnects = 0;
    while (!TERMINAL.has(cursor.job.state) && reconnects <= maxReconnects) {
      const seqBefore = cursor.job.seq;
      try {
        await streamEvents(req, cursor, report);
      } catch (err) {
        if (req.signal.aborted) throw err;
      }
      if (TERMINAL.has(cursor.job.state)) return cursor.job;
      reconnects = cursor.job.seq > seqBefore ? 0 : reconnects + 1;
      await sleep(backoffMs(reconnects), req.signal);
    }
    let last = cursor.job;
    while (!TERMINAL.has(last.state)) {
      last = await snapshot(req);
      report(last);
      if (!TERMINAL.has(last.state)) await sleep(pollMs, req.signal);
    }
    return last;
  }

  /**
   * Reads events until the stream ends, moving `cursor` with each. The stream is parsed by eventsource-parser (the
   * server-sent events grammar: LF, CRLF or CR line ends, a leading BOM, `id:`, `retry:`, comments). A (re)connect
   * resumes as EventSource does, with Last-Event-ID the last `id:` the server sent (an empty one: no header); before
   * any, with the snapshot's seq (this server's event ids are seqs). An event not newer than the snapshot in hand (a
   * replay) is skipped.
   */
  async function streamEvents(req: JobRef, cursor: StreamCursor, onEvent: (job: JobSnapshot) => void): Promise<void> {
    const resume = cursor.eventId ?? String(cursor.job.seq);
    const res = await fetchFn(http.url(`/jobs/${req.id}/events`), {
      headers: http.headers({ Accept: 'text/event-stream', ...(resume === '' ? {} : { 'Last-Event-ID': resume }) }),
      signal: req.signal,
    });
    if (res.status === 204) {
      cursor.job = await snapshot(req); // the job ended and nothing is left to replay
      return;
    }
    if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await res.body?.cancel();
      throw new Error(`no event stream (${res.status})`);
    }
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    // A CR that ends a chunk waits in the parser for a possible LF; at the end of the stream it is a line end.
    let endsWithCr = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          if (endsWithCr) parser.feed('\n');
        } else if (value) {
          parser.feed(value);
          endsWithCr = value.endsWith('\r');
        }
        for (const event of events.splice(0)) {
          if (event.id !== undefined) cursor.eventId = event.id;
          if (!event.data) continue;
          const job = JSON.parse(event.data) as JobSnapshot;
          if (job.seq <= cursor.job.seq) continue;
          cursor.job = job;
          onEvent(job);
          if (TERMINAL.has(job.state)) return;
        }
        if (done) return;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  /** Tells the server to stop (best effort: the job is cancelled for the user whatever the server says). */
  async function cancel(id: string): Promise<void> {
    await http.send({ method: 'POST', path: `/jobs/${id}/cancel`, retry: 'before-response', what: 'cancel the job', timeoutMs: 5000 }).catch(() => {});
  }

  return { snapshot, follow, cancel };
}

/** Base64 RGBA from the server → an RgbaImage; a size that does not match is an error, not a garbled image. */
export function imageFromJson(img: ImageJson): RgbaImage {
  let data: Uint8Array;
  try {
    data = base64ToBytes(img.rgba);
  } catch (err) {
    throw new FrontierError('run-failed', `The server sent a ${img.width}×${img.height} image whose pixels are not base64 (${(err as Error).message}).`);
  }
  if (!(img.width > 0 && img.height > 0) || data.length !== img.width * img.height * 4) {
    throw new FrontierError('run-failed', `The server sent a ${img.width}×${img.height} image with ${data.length} bytes of pixels (expected ${img.width * img.height * 4}).`);
  }
  return { width: img.width, height: img.height, data };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new FrontierError('cancelled', 'Cancelled.'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new FrontierError('cancelled', 'Cancelled.'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** GET /jobs/fit's answer (server/jobs/service.ts clipFit): whether a clip of this size fits a model on the server. */
export interface ClipFit {
  model: string;
  /** The model as designers see it ("TTVSR REDS"). */
  name: string;
  fits: boolean;
  /** What it does not fit: the server's frame-size limit, or (TTVSR) its memory. */
  limit?: 'frame-size' | 'memory';
  /** The largest frames of the same aspect ratio that fit; null when not even the smallest do. */
  largest?: { width: number; height: number } | null;
  maxFramePixels: number;
  /** TTVSR: its memory budget on this server and what the clip's windows need (`counted`: see server/jobs/runner.ts ttvsrFit). */
  memory?: { budgetBytes: number; needBytes: number; counted: 'total' | 'driver' };
}

/**
 * Asks the server whether a clip of width×height and about `frames` frames fits `model` there, before anything is
 * uploaded. Null when the server cannot say (a server without GET /jobs/fit, such as Triton, or a model it does not
 * have); throws for a refused credential or a server that is down, as every job call does.
 */
export async function fetchClipFit(opts: OipClientOptions, clip: { model: string; width: number; height: number; frames: number }, signal?: AbortSignal): Promise<ClipFit | null> {
  const http = new OipHttp({ ...opts, timeoutMs: opts.timeoutMs ?? 15_000 });
  const query = new URLSearchParams({ model: clip.model, width: String(clip.width), height: String(clip.height), frames: String(clip.frames) });
  const res = await http.send({ method: 'GET', path: `/jobs/fit?${query}`, retry: 'always', signal, what: 'ask whether the clip fits' });
  if (res.status === 404) return null;
  if (res.status === 401 || res.status === 403) throw new FrontierError('target-unavailable', `The server at ${http.where} refused the question (${res.status}): check the pairing code in Settings.`);
  if (res.status !== 200) throw new FrontierError('target-unavailable', `The server at ${http.where} could not say whether the clip fits: ${http.redact(errorText(res.body)) || `HTTP ${res.status}`}`);
  return JSON.parse(new TextDecoder().decode(res.body)) as ClipFit;
}
