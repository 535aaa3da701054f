// Shared by the install tests (test/server/install-*.test.ts): a fake checkpoint host on 127.0.0.1 (never the
// internet) that serves a file with Range support and can cut or hold a connection mid-file, a test catalogue that
// points the real catalogue's StyleSwin FFHQ 256 entry at it, and a server started with that catalogue in a throwaway
// root (an empty shipped registry, so GET /models/registry.json lists only what the test installed).
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readCatalogue, type Catalogue, type Checkpoint } from '../../models/catalogue.ts';
import type { InstallOptions } from '../../server/install/installer.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { tempRoot, type TempRoot } from './helpers.ts';
import { call, poll, type Target } from './jobs-util.ts';

export const ENTRY = 'styleswin-ffhq-256';

export interface HostRequest {
  path: string;
  range?: string;
  ifRange?: string;
}

export interface FakeHost {
  url: string;
  /** Every request, in order. */
  requests: HostRequest[];
  /**
   * Serve `file` (or its bytes [slice.start, slice.end): a part of a split file) at `path`, with Range and ETag;
   * "/redirect" + path answers 302 to it.
   */
  serve(path: string, file: string, slice?: { start: number; end: number }): void;
  /** Answer `path` with `status` and `body` (an error page, a web page). */
  answer(path: string, status: number, body: string, type?: string): void;
  /** The next answer of a served file sends `bytes` of it, then closes the connection. */
  cutNext(bytes: number): void;
  /**
   * Answers of served files (of `path` only, when given) stop after `bytes` of the resource and keep the connection
   * open; null stops holding and cuts the connections held.
   */
  holdAt(bytes: number | null, path?: string): void;
  /** Connections held now. */
  held(): number;
  /** Held connections the client has closed. */
  closedByClient(): number;
  close(): Promise<void>;
}

export async function startFakeHost(): Promise<FakeHost> {
  const files = new Map<string, { file: string; start: number; end: number }>();
  const answers = new Map<string, { status: number; body: string; type: string }>();
  const requests: HostRequest[] = [];
  const holding = new Set<ServerResponse>();
  let cut: number | null = null;
  let hold: { bytes: number; path?: string } | null = null;
  let closedByClient = 0;

  const sendFile = (req: IncomingMessage, res: ServerResponse, path: string, resource: { file: string; start: number; end: number }) => {
    const { file } = resource;
    const size = resource.end - resource.start;
    const etag = `"${size.toString(16)}-fake"`;
    const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    const ifRange = req.headers['if-range'];
    const start = m && (!ifRange || ifRange === etag) ? Number(m[1]) : 0;
    if (start >= size && m) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` });
      res.end();
      return;
    }
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size - start), ETag: etag, 'Accept-Ranges': 'bytes' };
    if (start > 0) res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${size - 1}/${size}` });
    else res.writeHead(200, headers);
    const holdAt_ = hold && (!hold.path || hold.path === path) ? hold.bytes : null;
    const stopAt = cut ?? holdAt_;
    const end = stopAt !== null && stopAt > start ? stopAt - 1 : size - 1;
    const cutting = cut !== null;
    if (cutting) cut = null;
    const stream = createReadStream(file, { start: resource.start + start, end: resource.start + end, highWaterMark: 2 ** 20 });
    stream.pipe(res, { end: false });
    stream.on('end', () => {
      if (end === size - 1) res.end();
      else if (cutting) res.socket?.end(); // the client got `cut` bytes, then the connection closed
      else {
        holding.add(res);
        res.on('close', () => {
          if (holding.delete(res)) closedByClient++;
        });
      }
    });
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ path, ...(req.headers.range ? { range: String(req.headers.range) } : {}), ...(req.headers['if-range'] ? { ifRange: String(req.headers['if-range']) } : {}) });
    if (path.startsWith('/redirect/') && files.has(path.slice('/redirect'.length))) {
      res.writeHead(302, { Location: path.slice('/redirect'.length) });
      res.end();
      return;
    }
    const resource = files.get(path);
    if (resource) return sendFile(req, res, path, resource);
    const answer = answers.get(path);
    if (answer) {
      res.writeHead(answer.status, { 'Content-Type': answer.type });
      res.end(answer.body);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    serve: (path, file, slice) => void files.set(path, { file, start: slice?.start ?? 0, end: slice?.end ?? statSync(file).size }),
    answer: (path, status, body, type = 'text/html; charset=utf-8') => void answers.set(path, { status, body, type }),
    cutNext: (bytes) => void (cut = bytes),
    holdAt: (bytes, path) => {
      hold = bytes === null ? null : { bytes, ...(path ? { path } : {}) };
      if (bytes === null) for (const res of holding) res.destroy();
    },
    held: () => holding.size,
    closedByClient: () => closedByClient,
    close: async () => {
      for (const res of holding) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Where every catalogue URL points unless a test says otherwise: a closed port on loopback, never the internet. */
export const NOWHERE = 'http://127.0.0.1:9';

/**
 * The real catalogue with every download URL moved to NOWHERE, and its StyleSwin FFHQ 256 entry edited by `edit`
 * (its URL pointed at a fake host, a published size or hash…).
 */
export function testCatalogue(edit: (entry: Checkpoint, cat: Catalogue) => void): Catalogue {
  const cat = structuredClone(readCatalogue());
  for (const k of cat.checkpoints) {
    for (const f of k.files) {
      if (f.url) f.url = `${NOWHERE}/${k.id}/${f.name}`;
      if (f.parts) f.parts = f.parts.map((_, i) => `${NOWHERE}/${k.id}/${f.name}.part${i}`);
      f.mirrors = [];
    }
  }
  const entry = cat.checkpoints.find((k) => k.id === ENTRY);
  if (!entry) throw new Error(`no ${ENTRY} in the catalogue`);
  edit(entry, cat);
  return cat;
}

export interface InstallServer extends RunningServer {
  root: TempRoot;
  /** models/build/files and the local registry of its root. */
  filesDir: string;
  registryPath: string;
  /** Stops the server and removes its root. */
  stop(): Promise<void>;
}

/** A server with `install` options (fast retries, loopback http allowed) in a fresh root. */
export async function startInstallServer(install: InstallOptions, o: { jobsDir?: string; root?: TempRoot } = {}): Promise<InstallServer> {
  const root = o.root ?? (await tempRoot({ 'models/registry.json': JSON.stringify({ version: 1, models: [] }) }));
  const server = await startServer({
    port: 0,
    root: root.root,
    install: { allowHttpLoopback: true, retryDelayMs: 20, ...install },
    ...(o.jobsDir ? { jobs: { dir: o.jobsDir } } : {}),
  });
  return {
    ...server,
    root,
    filesDir: join(root.root, 'models', 'build', 'files'),
    registryPath: join(root.root, 'models', 'build', 'local-registry.json'),
    stop: async () => {
      await server.close();
      if (!o.root) await root.remove();
    },
  };
}

export interface EntryView {
  id: string;
  state: string;
  install: string;
  installing?: { job: string };
  installed?: { bytes: number; verified: boolean; sha256: string; at: string };
  license: { acceptBeforeDownload: boolean; summary: string };
  download: { url: string | null; bytes: number | null; sha256Published: boolean };
  cards: string[];
  status: string;
}

export async function catalogueEntry(server: Target, id = ENTRY): Promise<EntryView> {
  const res = await call(server, 'GET', '/models/catalogue');
  if (res.status !== 200) throw new Error(`GET /models/catalogue gave ${res.status}: ${res.text}`);
  const entry = (JSON.parse(res.text) as { entries: EntryView[] }).entries.find((e) => e.id === id);
  if (!entry) throw new Error(`no ${id} in GET /models/catalogue`);
  return entry;
}

/** Creates an install job (201 expected) and returns its id. */
export async function putInstall(server: Target, id: string, body: Record<string, unknown> = {}): Promise<void> {
  const res = await call(server, 'PUT', `/jobs/${id}`, { body: JSON.stringify({ task: 'install-model', model: ENTRY, ...body }) });
  if (res.status !== 201) throw new Error(`PUT /jobs/${id} gave ${res.status}: ${res.text}`);
}

export type InstallJob = { state: string; error?: string; progress: { stage: string; done: number; total: number; message?: string }; result?: { cards: string[]; installed: { verified: boolean; sha256: string; bytes: number } } };

/** Waits for the job to end; returns its last snapshot. */
export async function ended(server: Target, id: string, timeoutMs = 60_000): Promise<InstallJob> {
  const seen = await poll(server, id, undefined, timeoutMs);
  return seen.at(-1) as unknown as InstallJob;
}
