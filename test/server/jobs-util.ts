// Shared by the video job tests: synthetic clips made with the real ffmpeg, ffprobe of results, the job API over
// fetch, and a server-sent events reader that can stop (disconnect) after any event. Every API helper takes a
// server (its URL and token: the bearer token goes along) or a bare URL (no token: what a stranger sends).
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JobSnapshot } from '../../server/jobs/job.ts';

const run = promisify(execFile);

/** Fails (never skips) when ffmpeg or ffprobe is missing: video jobs are part of the product. */
export function requireFfmpeg(): void {
  for (const tool of ['ffmpeg', 'ffprobe']) {
    const r = spawnSync(tool, ['-version'], { stdio: 'ignore' });
    if (r.error || r.status !== 0) {
      throw new Error(`${tool} is not installed, and the video job tests need it: apt-get install -y ffmpeg (macOS: brew install ffmpeg).`);
    }
  }
}

/** A fresh temporary folder (`prefix`…) holding a short clip (8 frames, 32×24, H.264): what most job tests upload. */
export async function clipWorkspace(prefix: string): Promise<{ work: string; clip: Uint8Array }> {
  requireFfmpeg();
  const work = await mkdtemp(join(tmpdir(), prefix));
  await makeClip(join(work, 'clip.mp4'), { width: 32, height: 24, fps: 8, seconds: 1 });
  return { work, clip: new Uint8Array(await readFile(join(work, 'clip.mp4'))) };
}

/** A synthetic clip (ffmpeg's testsrc pattern), H.264 MP4, optionally with a sine tone as AAC audio. */
export async function makeClip(path: string, o: { width: number; height: number; fps: number; seconds: number; audio?: boolean }): Promise<void> {
  const args = ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${o.width}x${o.height}:rate=${o.fps}`];
  if (o.audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-c:a', 'aac');
  args.push('-t', String(o.seconds), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path);
  await run('ffmpeg', args);
}

export interface Probed {
  width: number;
  height: number;
  frames: number;
  codec: string;
  audio: boolean;
}

/** Decodes every frame (-count_frames): the frame count is what a player sees, not what the container claims. */
export async function probe(path: string): Promise<Probed> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', path]);
  const streams = (JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string }[] }).streams;
  const video = streams.find((s) => s.codec_type === 'video');
  if (!video) throw new Error(`${path} has no video stream`);
  return { width: video.width ?? 0, height: video.height ?? 0, frames: Number(video.nb_read_frames), codec: video.codec_name, audio: streams.some((s) => s.codec_type === 'audio') };
}

/** Every file path under `dir` (recursive), relative. */
export async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true })).map(String);
  } catch {
    return [];
  }
}

/** A job as the API returns it (the server's own snapshot type, read back from JSON). */
export type JobJson = JobSnapshot;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: (JobJson & { error?: string }) | null;
}

/** A server to call: its URL and token (RunningServer fits), or a bare URL to call without a token. */
export type Target = string | { url: string; token?: string };

export function urlOf(target: Target): string {
  return typeof target === 'string' ? target : target.url;
}

/** The Authorization header for `target`'s token (none for a bare URL), merged under `headers`. */
export function authHeaders(target: Target, headers: Record<string, string> = {}): Record<string, string> {
  const token = typeof target === 'string' ? undefined : target.token;
  return token ? { Authorization: `Bearer ${token}`, ...headers } : { ...headers };
}

export async function call(base: Target, method: string, path: string, init: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Answer> {
  // A string body is JSON here (fetch would label it text/plain, which no state change takes).
  const jsonType: Record<string, string> = typeof init.body === 'string' && !Object.keys(init.headers ?? {}).some((h) => h.toLowerCase() === 'content-type') ? { 'Content-Type': 'application/json' } : {};
  const res = await fetch(urlOf(base) + path, { method, headers: authHeaders(base, { ...jsonType, ...init.headers }), body: init.body as BodyInit | undefined });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function jobBody(bytes: number, model = 'esrgan-slim-x2', scale = 2): string {
  return JSON.stringify({ task: 'upscale-video', model, params: { scale }, upload: { bytes, mime: 'video/mp4' } });
}

export function patch(base: Target, id: string, offset: number, chunk: Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  return call(base, 'PATCH', `/jobs/${id}/upload`, {
    headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), ...headers },
    body: chunk,
  });
}

/** Creates the job and uploads `clip` in one chunk. */
export async function submit(base: Target, id: string, clip: Uint8Array, body = jobBody(clip.length), headers: Record<string, string> = {}): Promise<void> {
  const put = await call(base, 'PUT', `/jobs/${id}`, { headers, body });
  if (put.status !== 201) throw new Error(`PUT /jobs/${id} gave ${put.status}: ${put.text}`);
  const up = await patch(base, id, 0, clip, headers);
  if (up.status !== 204) throw new Error(`PATCH gave ${up.status}: ${up.text}`);
}

/** Polls GET /jobs/{id} until it ends (or `until` holds); returns every distinct snapshot seen. */
export async function poll(base: Target, id: string, until: (j: JobJson) => boolean = (j) => ['succeeded', 'failed', 'cancelled'].includes(j.state), timeoutMs = 40_000): Promise<JobJson[]> {
  const seen: JobJson[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(base, 'GET', `/jobs/${id}`);
    if (res.status !== 200 || !res.json) throw new Error(`GET /jobs/${id} gave ${res.status}: ${res.text}`);
    if (seen.at(-1)?.seq !== res.json.seq) seen.push(res.json);
    if (until(res.json)) return seen;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${res.json.state} after ${timeoutMs} ms: ${res.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SseEvent {
  id: number;
  event: string;
  job: JobJson;
}

export interface SseRead {
  status: number;
  contentType: string;
  events: SseEvent[];
  /** Comment lines (heartbeats). */
  comments: number;
  /** Whether the server ended the stream (false: we disconnected after `stopAfter`). */
  ended: boolean;
}

/**
 * Reads GET /jobs/{id}/events until the server ends it, or disconnects right after the event `stopAfter` accepts, or
 * after `listenMs`.
 */
export async function readEvents(
  base: Target,
  id: string,
  o: { lastEventId?: number; headers?: Record<string, string>; stopAfter?: (e: SseEvent) => boolean; listenMs?: number; timeoutMs?: number } = {},
): Promise<SseRead> {
  const controller = new AbortController();
  let hungUp = false;
  const listen = o.listenMs === undefined ? undefined : setTimeout(() => ((hungUp = true), controller.abort()), o.listenMs);
  const timer = setTimeout(() => controller.abort(new Error(`event stream of ${id} still open after ${o.timeoutMs ?? 40_000} ms`)), o.timeoutMs ?? 40_000);
  const headers = authHeaders(base, { Accept: 'text/event-stream', ...o.headers });
  if (o.lastEventId !== undefined) headers['Last-Event-ID'] = String(o.lastEventId);
  try {
    const res = await fetch(`${urlOf(base)}/jobs/${id}/events`, { headers, signal: controller.signal });
    const out: SseRead = { status: res.status, contentType: res.headers.get('content-type') ?? '', events: [], comments: 0, ended: true };
    if (!res.body) return out;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (!hungUp) throw err;
        out.ended = false; // we hung up after listenMs
        return out;
      }
      const { value, done } = chunk;
      if (done) return out;
      text += value;
      let cut: number;
      while ((cut = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, cut);
        text = text.slice(cut + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) out.comments++;
          const m = /^(\w+): ?(.*)$/.exec(line);
          if (m) fields[m[1]] = m[2];
        }
        if (fields.data === undefined) continue;
        const event: SseEvent = { id: Number(fields.id), event: fields.event, job: JSON.parse(fields.data) as JobJson };
        out.events.push(event);
        if (o.stopAfter?.(event)) {
          out.ended = false;
          controller.abort();
          return out;
        }
      }
    }
  } finally {
    clearTimeout(timer);
    clearTimeout(listen);
  }
}

/** A job's journal (job.json) as the server wrote it. */
export async function readJournal(jobsDir: string, id: string): Promise<Record<string, unknown> & { state: string; seq: number; uploadOffset: number; interrupted: number }> {
  return JSON.parse(await readFile(join(jobsDir, id, 'job.json'), 'utf8'));
}

/** Rewrites fields of a job's journal: what a server that died at another moment would have left. */
export async function editJournal(jobsDir: string, id: string, fields: Record<string, unknown>): Promise<void> {
  const record = await readJournal(jobsDir, id);
  await writeFile(join(jobsDir, id, 'job.json'), JSON.stringify({ ...record, ...fields }));
}

/** Waits until `check` holds (polling); fails with `what` after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface StallingGateway {
  url: string;
  /** Where GET requests go (set once that server listens). */
  target: { url: string; token?: string };
  /** Inference requests received (and held). */
  held: () => number;
  close(): Promise<void>;
}

/**
 * An inference gateway in front of a real server: it passes every GET on (metadata) and holds every inference
 * request without answering, so a video job that reaches its first frame stays "running" until it is stopped.
 */
export async function startStallingGateway(): Promise<StallingGateway> {
  const held = new Set<ServerResponse>();
  const target = { url: '', token: undefined as string | undefined };
  const server = createServer((req, res) => {
    if (req.method !== 'GET') {
      held.add(res);
      req.resume();
      return;
    }
    void fetch(target.url + req.url, { headers: authHeaders(target) }).then(
      async (upstream) => {
        res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    target,
    held: () => held.size,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The path of a job's file `name` under `jobsDir`, wherever the server keeps the job's folder in it. */
export async function jobFile(jobsDir: string, id: string, name: string): Promise<string> {
  const found = (await filesUnder(jobsDir)).find((f) => f === `${id}/${name}` || f.endsWith(`/${id}/${name}`));
  if (!found) throw new Error(`no ${name} of job ${id} under ${jobsDir}`);
  return join(jobsDir, found);
}

export interface OpenPatch {
  /** The request: the test writes to it, cuts it (destroy) or lets it go quiet. */
  req: ClientRequest;
  /** The server's answer, whenever it comes (it may come while the test still writes). */
  response: Promise<IncomingMessage & { text: string }>;
  /** The answer if it came. */
  answer(): { status: number; text: string } | null;
  /** The connection is closed (by the server, or by the test's destroy). */
  closed(): boolean;
}

/** A PATCH of a chunk that declares `declared` bytes at `offset`, left open: the bytes are the test's to send. */
export function openPatch(server: Target, id: string, offset: number, declared: number): OpenPatch {
  const url = new URL(urlOf(server));
  const req = request({
    host: url.hostname,
    port: url.port,
    path: `/jobs/${id}/upload`,
    method: 'PATCH',
    headers: authHeaders(server, { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), 'Content-Length': String(declared) }),
  });
  let closed = false;
  let answer: { status: number; text: string } | null = null;
  req.on('error', () => {}); // cut by the server or the test: expected here
  req.on('close', () => (closed = true));
  const response = new Promise<IncomingMessage & { text: string }>((resolve) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        answer = { status: res.statusCode ?? 0, text };
        resolve(Object.assign(res, { text }));
      });
    });
  });
  return { req, response, answer: () => answer, closed: () => closed };
}
