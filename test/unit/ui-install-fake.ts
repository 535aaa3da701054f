// A fake of the model-install contract (the header of server/routes/install.ts) over real HTTP, for the UI's unit and
// render tests: the catalogue, install jobs (download or upload, resumable PATCH), snapshots, server-sent events or
// none (to make clients poll), cancel and uninstall, with the pairing code and CORS for a null-origin iframe. The
// test drives each job's progress and end (step/finish) and waits on what the client did (waitFor), never on time.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CatalogueEntryView } from '../../worker/runtime/install-client.ts';
import type { JobSnapshot } from '../../worker/runtime/jobs-client.ts';

export const TOKEN = 'fake-pairing-code';

export interface FakeJob {
  snapshot: JobSnapshot;
  body: { task: string; model: string; acceptLicense?: boolean; upload?: { bytes: number; mime: string; name: string; parts?: { name: string; bytes: number }[] } };
  received: Uint8Array[];
  patches: number;
}

export interface FakeInstallServer {
  url: string;
  entries: CatalogueEntryView[];
  jobs: Map<string, FakeJob>;
  requests: string[];
  /** Whether GET /jobs/{id}/events streams (false: 404, so clients poll). */
  sse: boolean;
  /** Answer every route with this status (e.g. 401) when set. */
  forceStatus: number | null;
  /** Status and message DELETE answers for a model (default 204). */
  removeAnswer: Map<string, { status: number; error?: string }>;
  step(jobId: string, progress: JobSnapshot['progress'], state?: JobSnapshot['state']): void;
  finish(jobId: string, end: { cards: string[]; bytes?: number } | { error: string }): void;
  /** Resolves once `check` holds (checked after every request and event), or rejects after `ms`. */
  waitFor<T>(check: () => T | undefined | false, ms?: number): Promise<T>;
  close(): Promise<void>;
}

export function entry(id: string, over: Partial<CatalogueEntryView> = {}): CatalogueEntryView {
  return {
    id, family: 'styleswin', familyLabel: 'StyleSwin', label: `Faces (${id})`, task: 'generate', dataset: 'FFHQ', quality: 'FID 2.81',
    targets: ['webgpu', 'wasm', 'node', 'server'], status: 'available',
    license: { summary: 'Personal and research use only.', commercialUse: 'no', redistribution: true, acceptBeforeDownload: false, url: 'https://example.com/licence' },
    download: { url: 'https://example.com/file.pt', directDownload: true, bytes: 200_000_000, sha256Published: false },
    files: ['file.pt'], cards: [id], install: 'download', state: 'not-installed',
    ...over,
  };
}

export async function startFakeInstallServer(entries: CatalogueEntryView[]): Promise<FakeInstallServer> {
  const jobs = new Map<string, FakeJob>();
  const streams = new Map<string, Set<ServerResponse>>();
  const waiters = new Set<() => void>();
  const requests: string[] = [];
  const notify = () => [...waiters].forEach((w) => w());

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { 'Content-Type': 'application/json' } : {}), ...headers });
    res.end(text);
  };
  const publish = (job: FakeJob) => {
    job.snapshot = { ...job.snapshot, seq: job.snapshot.seq + 1 };
    for (const res of streams.get(job.snapshot.id) ?? []) {
      res.write(`id: ${job.snapshot.seq}\ndata: ${JSON.stringify(job.snapshot)}\n\n`);
      if (['succeeded', 'failed', 'cancelled'].includes(job.snapshot.state)) res.end();
    }
    notify();
  };
  const entryOf = (id: string) => fake.entries.find((e) => e.id === id);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', req.headers.origin === 'null' ? 'null' : (req.headers.origin ?? '*'));
    res.setHeader('Access-Control-Expose-Headers', 'Upload-Offset, Upload-Length, Tus-Resumable');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, PUT, PATCH, POST, DELETE, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Upload-Offset, Tus-Resumable, Last-Event-ID',
      });
      return res.end();
    }
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, url.pathname, Buffer.concat(chunks));
      } finally {
        notify();
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    if (fake.forceStatus) return send(res, fake.forceStatus, { error: `forced ${fake.forceStatus}` });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { error: 'This server needs its pairing code.' });
    if (req.method === 'GET' && path === '/models/catalogue') return send(res, 200, { entries: fake.entries });
    const installed = /^\/models\/installed\/([^/]+)$/.exec(path);
    if (installed && req.method === 'DELETE') {
      const id = decodeURIComponent(installed[1]);
      const answer = fake.removeAnswer.get(id);
      if (answer) return send(res, answer.status, answer.error ? { error: answer.error } : undefined);
      const e = entryOf(id);
      if (!e || e.state !== 'installed') return send(res, 404, { error: 'This model is not installed.' });
      e.state = 'not-installed';
      delete e.installed;
      return send(res, 204);
    }
    const m = /^\/jobs\/([^/]+)(?:\/(upload|events|cancel))?$/.exec(path);
    if (!m) return send(res, 404, { error: 'Not found' });
    const [, id, sub] = m;
    if (req.method === 'PUT' && !sub) {
      const existing = jobs.get(id);
      if (existing) return send(res, 200, existing.snapshot);
      const desc = JSON.parse(body.toString('utf8')) as FakeJob['body'];
      const e = entryOf(desc.model);
      if (desc.task !== 'install-model' || !e) return send(res, 400, { error: `Unknown model ${desc.model}.` });
      if (e.license.acceptBeforeDownload && desc.acceptLicense !== true) return send(res, 400, { error: `Accept the licence first: ${e.license.summary}` });
      const upload = desc.upload;
      const job: FakeJob = {
        body: desc, received: [], patches: 0,
        snapshot: {
          id, state: upload ? 'uploading' : 'queued', seq: 1,
          progress: upload ? { stage: 'upload', done: 0, total: upload.bytes } : { stage: 'queued', done: 0, total: 1 },
          ...(upload ? { upload: { offset: 0, length: upload.bytes } } : {}),
        },
      };
      jobs.set(id, job);
      e.state = 'installing';
      e.installing = { job: id };
      return send(res, 201, job.snapshot);
    }
    const job = jobs.get(id);
    if (!job) return send(res, 404, { error: `No job ${id}` });
    if (!sub && req.method === 'GET') return send(res, 200, job.snapshot);
    if (sub === 'upload' && req.method === 'GET') return send(res, 200, { offset: job.snapshot.upload?.offset ?? 0 });
    if (sub === 'upload' && req.method === 'PATCH') {
      const offset = Number(req.headers['upload-offset']);
      const up = job.snapshot.upload!;
      if (offset !== up.offset) return send(res, 409, { error: 'offset' }, { 'Upload-Offset': String(up.offset) });
      job.received.push(new Uint8Array(body));
      job.patches++;
      up.offset += body.length;
      job.snapshot.progress = { stage: 'upload', done: up.offset, total: up.length };
      if (up.offset >= up.length) {
        job.snapshot.state = 'queued';
        job.snapshot.progress = { stage: 'queued', done: 0, total: 1 };
      }
      publish(job);
      return send(res, 204, undefined, { 'Upload-Offset': String(up.offset) });
    }
    if (sub === 'cancel' && req.method === 'POST') {
      if (!['succeeded', 'failed', 'cancelled'].includes(job.snapshot.state)) {
        job.snapshot.state = 'cancelled';
        const e = entryOf(job.body.model);
        if (e) {
          e.state = 'not-installed';
          delete e.installing;
        }
        publish(job);
      }
      return send(res, 200, job.snapshot);
    }
    if (sub === 'events' && req.method === 'GET') {
      if (!fake.sse) return send(res, 404, { error: 'no events here' });
      const after = Number(req.headers['last-event-id'] ?? 0);
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
      if (job.snapshot.seq > after) res.write(`id: ${job.snapshot.seq}\ndata: ${JSON.stringify(job.snapshot)}\n\n`);
      if (['succeeded', 'failed', 'cancelled'].includes(job.snapshot.state)) return void res.end();
      const set = streams.get(id) ?? new Set();
      set.add(res);
      streams.set(id, set);
      res.on('close', () => set.delete(res));
      return;
    }
    send(res, 405, { error: 'method' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: FakeInstallServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    entries,
    jobs,
    requests,
    sse: true,
    forceStatus: null,
    removeAnswer: new Map(),
    step(jobId, progress, state = 'running') {
      const job = jobs.get(jobId)!;
      job.snapshot = { ...job.snapshot, state, progress };
      publish(job);
    },
    finish(jobId, end) {
      const job = jobs.get(jobId)!;
      const e = entryOf(job.body.model)!;
      delete e.installing;
      if ('error' in end) {
        job.snapshot = { ...job.snapshot, state: 'failed', error: end.error };
        e.state = 'not-installed';
      } else {
        job.snapshot = { ...job.snapshot, state: 'succeeded', progress: { stage: 'done', done: 1, total: 1 }, result: { cards: end.cards } };
        e.state = 'installed';
        e.installed = { bytes: end.bytes ?? 312_000_000, verified: false, sha256: 'a'.repeat(64), at: new Date(0).toISOString() };
      }
      publish(job);
    },
    waitFor(check, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const attempt = () => {
          const value = check();
          if (value !== undefined && value !== false) {
            waiters.delete(attempt);
            clearTimeout(timer);
            resolve(value as never);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(attempt);
          reject(new Error(`waitFor: condition not met; requests: ${requests.slice(-12).join(', ')}`));
        }, ms);
        waiters.add(attempt);
        attempt();
      });
    },
    close() {
      for (const set of streams.values()) for (const r of set) r.end();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
