// `npm run bench:server`: the Open Inference Protocol server, side by side in one run:
//  - /infer overhead against calling onnxruntime-node directly on the same model, input and session options, binary
//    and JSON tensors, at 16², 64², 256² and 512², interleaved request by request, the server in a process of its own
//    (as a user runs it) and a keep-alive node:http client; with BENCH_SERVER_BEFORE=<checkout of older code> a second
//    server of that code answers the same requests in the same rounds (its checkout needs this bench file copied in:
//    the server there starts from it), for before/after figures side by side;
//  - throughput and latency at 1, 4 and 16 concurrent clients, and p50/p99 under a 64-client load;
//  - memory: peak RSS of the server process plus its inference processes under the largest request each ESRGAN model
//    admits (one tile), under 64 clients sending such requests, and for the 2048×2048 UINT8 request that drove the
//    old server to 9.9 GB (now refused with 413 before its body is read);
//  - what the inference processes cost: a process start, a model load over IPC (bytes verified by the server, sent
//    once per process), against creating the same session in-process; an engine job's first run against a warm one;
//  - the malformed requests the server was checked against (test/server/oip-bad-inputs.ts), each answered 4xx.
// Each memory scenario runs a fresh server in a process of its own (this file with BENCH_SERVER_CHILD=1), so the
// load generator's own memory is not counted; RSS is sampled every SAMPLE_MS over the server and its children, and
// each process's own peak (VmHWM) is summed as an upper bound. Written to bench/results/server.{json,md}.
// BENCH_RESULTS_DIR=DIR writes the results into DIR instead of bench/results (every bench; smoke runs).
// BENCH_SERVER_PARTS=overhead measures the overhead alone and puts it into the existing server.{json,md} in place of
// the overhead section there (the other sections keep their run's figures), or writes it alone when there are none.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { startServer } from '../server/server.ts';
import { percentile, runLoad } from '../server/oip/load.ts';
import { EngineJobRunner } from '../server/jobs/engine-runner.ts';
import { Job } from '../server/jobs/job.ts';
import { serverPaths } from '../server/paths.ts';
import { WorkProcess } from '../server/work-process.ts';
import { sessionOptions } from '../server/oip/session-options.mjs';
import { MODEL_FILES_DIR, REGISTRY_PATH } from '../worker/platform-node.ts';
import type { ModelCard, Registry } from '../worker/models/card.ts';
import { BAD_REQUESTS } from '../test/server/oip-bad-inputs.ts';
import { resultsDir, resultsJson, runMain, writeResults } from './common/results.ts';
import { parseCli } from '../server/cli-args.ts';

// Arguments are checked first: this bench takes none (its settings come from the environment).
parseCli('npm run bench:server (no options; by environment: BENCH_SECONDS=<seconds per load step>, BENCH_RESULTS_DIR=DIR, BENCH_SERVER_PARTS=overhead, BENCH_SERVER_BEFORE=<checkout>)', {});

const MODEL = 'esrgan-slim-x2';
/** Input edges of the overhead table: the plugin's live previews and small tiles, and large tiles. */
const OVERHEAD_SIZES = [16, 64, 256, 512];
/** The bench's copy of the model's card admits this edge (the shipped card bounds a request to one 128² tile). */
const OVERHEAD_TILE = 512;
const OVERHEAD_ONLY = process.env.BENCH_SERVER_PARTS === 'overhead';
/** A checkout of older server code to time beside this one (its bench/server.ts must be this file). */
const BEFORE_CHECKOUT = process.env.BENCH_SERVER_BEFORE || null;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const LOAD_CLIENTS = 64;
const SAMPLE_MS = 20;
/** The figure of issue 11: one 2048×2048 UINT8 request to an ESRGAN model, before requests were bounded. */
const OLD_PEAK_GB = 9.9;

// --- the server in a process of its own ---------------------------------------------------------------------------

if (process.env.BENCH_SERVER_CHILD) {
  const server = await startServer({ port: 0, root: process.env.BENCH_SERVER_ROOT || undefined });
  process.stdout.write(`${JSON.stringify({ url: server.url, token: server.token })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

interface ServerProcess {
  url: string;
  token: string;
  pid: number;
  stop(): Promise<void>;
}

async function serverProcess(root?: string, checkout?: string): Promise<ServerProcess> {
  const entry = checkout ? join(checkout, 'bench', 'server.ts') : fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, entry], {
    env: { ...process.env, BENCH_SERVER_CHILD: '1', BENCH_SERVER_ROOT: root ?? '' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  if (first.done) throw new Error('the benchmark server did not start');
  const { url, token } = JSON.parse(first.value) as { url: string; token: string };
  return {
    url,
    token,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

// --- memory readings (Linux /proc) ----------------------------------------------------------------------------------

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone
  }
}

/** `pid` and all its descendants. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
        out.push(...children.filter((c) => !out.includes(c)));
      }
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

interface MemoryReading {
  /** Highest sampled sum of RSS over the server and its processes, MB. */
  peakMb: number;
  /** Sum of each process's own peak RSS (VmHWM), MB: an upper bound of the peak. */
  hwmSumMb: number;
  processes: number;
}

/** Samples the server tree's RSS while `work` runs. */
async function measure<T>(server: ServerProcess, work: () => Promise<T>): Promise<{ result: T; memory: MemoryReading }> {
  let peakKb = 0;
  const seen = new Set<number>();
  const hwm = new Map<number, number>();
  const sample = () => {
    let total = 0;
    for (const pid of processTree(server.pid)) {
      seen.add(pid);
      total += statusKb(pid, 'VmRSS');
      hwm.set(pid, Math.max(hwm.get(pid) ?? 0, statusKb(pid, 'VmHWM')));
    }
    peakKb = Math.max(peakKb, total);
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  try {
    const result = await work();
    sample();
    return { result, memory: { peakMb: peakKb / 1024, hwmSumMb: [...hwm.values()].reduce((a, b) => a + b, 0) / 1024, processes: seen.size } };
  } finally {
    clearInterval(timer);
  }
}

// --- requests --------------------------------------------------------------------------------------------------------

function binaryInfer(size: number, datatype: 'FP32' | 'UINT8'): { body: Buffer; headers: Record<string, string> } {
  const elements = size * size * 3;
  const data = datatype === 'FP32' ? Buffer.from(new Float32Array(elements).map((_, i) => (i * 37) % 256).buffer) : Buffer.alloc(elements, 7);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'input', shape: [1, size, size, 3], datatype, parameters: { binary_data_size: data.length } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    }),
  );
  return { body: Buffer.concat([header, data]), headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) } };
}

async function inferOnce(server: ServerProcess, model: string, size: number, datatype: 'FP32' | 'UINT8' = 'FP32'): Promise<{ status: number; ms: number; error?: string }> {
  const { body, headers } = binaryInfer(size, datatype);
  const t = performance.now();
  const res = await fetch(`${server.url}/v2/models/${model}/infer`, { method: 'POST', headers: { ...headers, Authorization: `Bearer ${server.token}` }, body: body as unknown as BodyInit });
  const bytes = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t;
  if (res.ok) return { status: res.status, ms };
  return { status: res.status, ms, error: (JSON.parse(bytes.toString('utf8')) as { error: string }).error };
}

// --- rows --------------------------------------------------------------------------------------------------------------

async function registry(): Promise<Registry> {
  return JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
}

// --- /infer overhead against onnxruntime-node called directly ------------------------------------------------------

interface OverheadRow {
  size: number;
  /** Requests timed per way (after one untimed). */
  rounds: number;
  /** Medians, ms per request. */
  directMs: number;
  binaryMs: number;
  jsonMs: number;
  /** CPU time of the server process itself per /infer binary request (its inference processes not counted), ms. */
  serverCpuMs: number;
  /** The middle half of the /infer binary times (25th and 75th percentiles): how much the shared machine moved them. */
  binaryQuartilesMs: [number, number];
  /** The same through the older code's server (BENCH_SERVER_BEFORE), in the same rounds. */
  before?: { binaryMs: number; binaryQuartilesMs: [number, number]; serverCpuMs: number; jsonMs: number; commit: string };
  /** Largest difference between the direct output and the /infer binary output (0: the same bytes). */
  maxDifference: number;
}

/**
 * A server root whose registry holds the model's card with a tile of OVERHEAD_TILE, and the model's file: the overhead
 * table goes up to 512² on the same small network (only the card's request bound differs from the shipped one).
 */
async function overheadRoot(card: ModelCard): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'frontier-bench-server-'));
  await mkdir(join(root, 'models', 'build', 'files'), { recursive: true });
  for (const f of card.files) await copyFile(join(MODEL_FILES_DIR, f.name), join(root, 'models', 'build', 'files', f.name));
  const benchCard: ModelCard = { ...card, io: { ...card.io, tile: { ...card.io.tile, size: OVERHEAD_TILE } } };
  await writeFile(join(root, 'models', 'registry.json'), JSON.stringify({ version: 1, models: [benchCard] }));
  return root;
}

/**
 * One POST on a kept-alive connection; resolves with the status and the whole answer. A connection the server closed
 * while idle (its keep-alive timeout passes during a long direct run) is retried once on a new one, as node's docs
 * advise.
 */
async function post(agent: Agent, url: string, body: Uint8Array, headers: Record<string, string>): Promise<{ status: number; bytes: Buffer }> {
  try {
    return await postOnce(agent, url, body, headers);
  } catch (err) {
    if ((err as { reusedSocket?: boolean }).reusedSocket && ['ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? '')) return postOnce(agent, url, body, headers);
    throw err;
  }
}

function postOnce(agent: Agent, url: string, body: Uint8Array, headers: Record<string, string>): Promise<{ status: number; bytes: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    req.end(body);
  });
}

/**
 * Direct, /infer binary and /infer JSON, one request of each per round (their order rotating), until `seconds` have
 * passed and at least MIN_ROUNDS rounds are done, per size. Direct runs a session made with the inference processes'
 * own options (server/oip/session-options.mjs), so the difference is the serving: HTTP, the request's checks, the hop
 * to the inference process and back, the answer.
 */
const MIN_ROUNDS = 5;

interface Served {
  server: ServerProcess;
  agent: Agent;
}

/**
 * CPU time a process has used (user + system), ms, from /proc in clock ticks of 10 ms: a request's share is coarse,
 * but the sum over many requests is not biased (a tick lands in whichever request it happens during).
 */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime
}

/** The machine's 1-minute load average now (this machine is shared: it says how quiet the measurement was). */
const loadNow = () => Number(loadavg()[0].toFixed(1));

interface OverheadRun {
  when: string;
  loadAtStart: number;
  loadAtEnd: number;
  rows: OverheadRow[];
}

async function overhead(now: Served, before: (Served & { commit: string }) | null, card: ModelCard, seconds: number): Promise<OverheadRow[]> {
  const session = await ort.InferenceSession.create(join(MODEL_FILES_DIR, card.files[0].name), { ...sessionOptions(0), executionProviders: ['cpu'] });
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const quartiles = (xs: number[]): [number, number] => [percentile([...xs].sort((a, b) => a - b), 25), percentile([...xs].sort((a, b) => a - b), 75)];
  const rows: OverheadRow[] = [];
  try {
    for (const size of OVERHEAD_SIZES) {
      const dims = [1, size, size, 3];
      const pixels = new Float32Array(size * size * 3).map((_, i) => (i * 37) % 256);
      const header = Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'input', shape: dims, datatype: 'FP32', parameters: { binary_data_size: pixels.byteLength } }],
          outputs: [{ name: 'output', parameters: { binary_data: true } }],
        }),
      );
      const binaryBody = Buffer.concat([header, Buffer.from(pixels.buffer)]);
      const jsonBody = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: dims, datatype: 'FP32', data: Array.from(pixels) }] }));
      const outputBytes = (size * card.io.scale) ** 2 * 3 * 4;
      let direct: ArrayLike<number> = new Float32Array(0);
      const served = new Map<string, Buffer>();
      const infer = (name: string, { server, agent }: Served, binary: boolean) => async () => {
        const r = await post(agent, `${server.url}/v2/models/${card.id}/infer`, binary ? binaryBody : jsonBody, {
          Authorization: `Bearer ${server.token}`,
          ...(binary ? { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) } : { 'Content-Type': 'application/json' }),
        });
        if (r.status !== 200) throw new Error(`${name} ${size}²: ${r.status} ${r.bytes.toString('utf8').slice(0, 300)}`);
        if (binary) served.set(name, r.bytes.subarray(r.bytes.length - outputBytes)); // the output follows the JSON header
      };
      const ways: Record<string, () => Promise<void>> = {
        direct: async () => {
          const out = await session.run({ input: new ort.Tensor('float32', pixels, dims) }, ['output'], { logSeverityLevel: 4 });
          direct = out.output.data as Float32Array;
        },
        binary: infer('binary', now, true),
        json: infer('json', now, false),
        ...(before ? { beforeBinary: infer('beforeBinary', before, true), beforeJson: infer('beforeJson', before, false) } : {}),
      };
      const names = Object.keys(ways);
      for (const name of names) await ways[name](); // untimed: first connection, first run at this size
      const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
      const cpuPid: Record<string, number> = { binary: now.server.pid, ...(before ? { beforeBinary: before.server.pid } : {}) };
      const cpu: Record<string, number> = { binary: 0, beforeBinary: 0 };
      const end = performance.now() + seconds * 1000;
      let round = 0;
      while (round < MIN_ROUNDS || (performance.now() < end && round < 2000)) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(round + k) % names.length];
          const pid = cpuPid[name];
          const c = pid ? cpuMsOf(pid) : 0;
          const t = performance.now();
          await ways[name]();
          times[name].push(performance.now() - t);
          if (pid) cpu[name] += cpuMsOf(pid) - c;
        }
        round++;
      }
      let maxDifference = 0;
      for (const bytes of served.values()) {
        const got = new Float32Array(new Uint8Array(bytes).buffer);
        if (got.length !== direct.length) maxDifference = Infinity;
        for (let i = 0; i < got.length && maxDifference !== Infinity; i++) maxDifference = Math.max(maxDifference, Math.abs(got[i] - direct[i]));
      }
      const row: OverheadRow = {
        size,
        rounds: round,
        directMs: median(times.direct),
        binaryMs: median(times.binary),
        binaryQuartilesMs: quartiles(times.binary),
        serverCpuMs: cpu.binary / round,
        jsonMs: median(times.json),
        ...(before ? { before: { binaryMs: median(times.beforeBinary), binaryQuartilesMs: quartiles(times.beforeBinary), serverCpuMs: cpu.beforeBinary / round, jsonMs: median(times.beforeJson), commit: before.commit } } : {}),
        maxDifference,
      };
      rows.push(row);
      const was = row.before ? `; before: binary ${ms(row.before.binaryMs)} ms (${ratio(row.before.binaryMs, row.directMs)}), JSON ${ms(row.before.jsonMs)} ms` : '';
      console.log(
        `${size}×${size} (${round} rounds): direct ${ms(row.directMs)} ms, /infer binary ${ms(row.binaryMs)} ms (${ratio(row.binaryMs, row.directMs)}), JSON ${ms(row.jsonMs)} ms (${ratio(row.jsonMs, row.directMs)})${was}; outputs differ by at most ${maxDifference}`,
      );
    }
  } finally {
    await session.release();
  }
  return rows;
}

interface ProcessCost {
  model: string;
  mb: number;
  /** Fork of an inference process until it answers (node start + onnxruntime-node import + one IPC round trip). */
  startMs: number;
  /** Sending the model's bytes and creating its session in that process, until 'loaded'. */
  loadOverIpcMs: number;
  /** Creating the same session from the same bytes in this process. */
  loadInProcessMs: number;
}

/** What a fresh inference process costs before its first run, per model (median of `rounds`). */
async function processCosts(models: ModelCard[], rounds = 3): Promise<ProcessCost[]> {
  const out: ProcessCost[] = [];
  for (const card of models) {
    const bytes = new Uint8Array(await readFile(join(MODEL_FILES_DIR, card.files[0].name)));
    const start: number[] = [];
    const ipc: number[] = [];
    const local: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let answer: (m: { type: string }) => void = () => {};
      const t0 = performance.now();
      const proc = new WorkProcess<object, { type: string }>(new URL('../server/oip/ort-process.mjs', import.meta.url), 'the inference process', (m) => answer(m));
      proc.hold();
      const reply = () => new Promise<{ type: string }>((resolve) => (answer = resolve));
      let next = reply();
      proc.send({ type: 'run', seq: 1, id: 'nothing-loaded', feeds: {}, fetches: [] }); // answered at once: a ping
      await next;
      start.push(performance.now() - t0);
      const t1 = performance.now();
      next = reply();
      proc.send({ type: 'load', id: card.id, bytes, executionProvider: 'cpu', threads: 0, cudaLibrary: null });
      const loaded = await next;
      if (loaded.type !== 'loaded') throw new Error(`${card.id} did not load in an inference process`);
      ipc.push(performance.now() - t1);
      await proc.kill();
      const t2 = performance.now();
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
      local.push(performance.now() - t2);
      await session.release();
    }
    const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
    out.push({ model: card.id, mb: bytes.length / 2 ** 20, startMs: median(start), loadOverIpcMs: median(ipc), loadInProcessMs: median(local) });
    console.log(`${card.id}: process start ${median(start).toFixed(0)} ms, load over IPC ${median(ipc).toFixed(0)} ms, in-process ${median(local).toFixed(0)} ms`);
  }
  return out;
}

/** An engine job's first run (process start, tsx, session loads) against the same job on the warm process. */
async function engineCosts(): Promise<{ firstMs: number; warmMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'frontier-bench-engine-'));
  const runner = new EngineJobRunner(serverPaths(), 1000);
  const spec = { task: 'generate', model: 'styleswin-ffhq-256-tiny', params: { seed: 1, count: 1 } };
  const once = async (n: number) => {
    const job = new Job(`bench-engine-${n}`, spec, dir, 10);
    const t = performance.now();
    await runner.run(job, spec, join(dir, `${n}.json`));
    return performance.now() - t;
  };
  try {
    const firstMs = await once(1);
    const warmMs = await once(2);
    console.log(`engine job: first ${firstMs.toFixed(0)} ms, warm ${warmMs.toFixed(0)} ms`);
    return { firstMs, warmMs };
  } finally {
    await runner.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface TileRow {
  model: string;
  tile: number;
  status: number;
  ms: number;
  memory: MemoryReading;
}

/**
 * Where the fixed cost of a request goes: measured once (2026-12-06, issue 16 part 6) on the code before that part,
 * not by this bench (the stamps were temporary instrumentation), so kept here as text.
 */
const OVERHEAD_NOTES: string[] = [
  '### Where the fixed cost of a request goes (profiled 2026-12-06, before the changes of issue 16 part 6)',
  '',
  'Method: monotonic timestamps (process.hrtime, one clock for every process of the machine) at each step of 1,000 sequential 16² and 63 sequential 64² binary requests, taken by temporary instrumentation of the route, the pool and the inference process (not committed); client and server in one process, node:http kept alive; load average 0.6, a quiet moment of this shared 2-core machine. Then `--cpu-prof` of the server in a process of its own over 3,000 sequential 16² requests, each sample counted under the innermost step on its stack.',
  '',
  '| step (median ms) | 16² | 64² |',
  '|---|---:|---:|',
  '| client writes → handler starts (HTTP parse, routing, token check, CORS) | 0.145 | 0.235 |',
  '| model lookup, body read, JSON header parse and checks | 0.106 | 0.188 |',
  '| hand-off to the inference process (V8 serialisation, pipe write) | 0.058 | 0.089 |',
  '| … until the inference process has the message | 0.057 | 0.134 |',
  '| session.run there (the Tensor wrap included) | 1.254 | 10.07 |',
  '| reply: serialisation, pipe, deserialisation in the server | 0.115 | 0.433 |',
  '| pool bookkeeping, encoding and writing the answer | 0.087 | 0.219 |',
  '| … until the client has the whole answer | 0.075 | 0.221 |',
  '| **total** (run 1.25 / 10.1 ms) | **1.89** | **11.75** |',
  '',
  'Server CPU per 16² request (the profile): ≈ 450 µs, of which 103 µs in the kernel writing to sockets (62 µs the synchronous pipe write to the inference process, which wakes it; 42 µs the answer\'s writev, which wakes the client), 53 µs routing, token check and CORS, 40 µs HTTP parsing, 36 µs pool, limiter and deadline, 28 µs garbage collection, 24 µs parsing and checking the request, 23 µs writing the answer, 17 + 14 µs V8 (de)serialisation of the IPC messages, 14 µs encoding, 10 µs reading the body.',
  '',
  'What that says:',
  '- At 16² and 64² the serving costs ≈ 0.6 ms and ≈ 1.7 ms: four crossings between processes (client → server → inference process → server → client) take about two thirds of it at 16², mostly the kernel waking the process on the other side; the route\'s own JavaScript (parse, checks, encode) ≈ 0.1 ms. At 64² the largest step is the 196 KB answer coming back over the pipe (read in 64 KB pieces, then deserialised): 0.43 ms. Tensor copies are microseconds at these sizes (3 KB / 48 KB in, 12 KB / 196 KB out).',
  '- IPC already used `serialization: \'advanced\'` (the V8 serialiser: typed arrays cross as their bytes, and arrive as a view of the message when aligned; no JSON, no base64).',
  '- The old table\'s 3.28× at 16² (1.0 vs 3.2 ms) measured more than the serving: the client was fetch (undici: ≈ 0.45 ms more per request than node:http here) on the server\'s own event loop, and direct onnxruntime used its default options (intra-op threads that spin) while the inference processes\' threads sleep when idle. Now direct uses the processes\' own options and the server runs in its own process.',
  '- Copies of the tensor bytes in the server, before → now. Input: the body (1), an aligned copy (2; now only when the JSON header\'s length leaves the tensor misaligned for its datatype, 3 requests in 4 for FP32 from a client that does not pad its header), V8 serialisation into the message (3). Output: the pipe\'s pieces joined (1), deserialised as a view, joined with the JSON header into one buffer (2; gone: the header and the output are written corked, one writev). At 512² the output is 12.6 MB: that join alone took 28 ms in a microbenchmark under load (a fresh 12.6 MB buffer: page faults, then the copy).',
  '- Kept, and why: the process hop (crash isolation: no request may take the server down), the idle-sleeping intra-op threads (several inference processes share the cores; spinning threads would take CPU from concurrent runs), the token check\'s hash and the per-request scope (security, outside this part\'s files). Left to do: a client that pads its JSON header to a multiple of 8 bytes (legal JSON whitespace) would always hit the in-place path; reading a body whose Content-Length is known straight into one buffer at an aligned offset would drop the body join; the answer\'s join in Node\'s IPC reader (a fresh buffer per reply) could go with a raw side channel and a reused buffer.',
];

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
/** A median with the middle half of the times beside it. */
const spread = (median: number, [q1, q3]: [number, number]) => `${ms(median)} <sub>${ms(q1)}–${ms(q3)}</sub>`;

const OVERHEAD_HEADING = '## /infer overhead against onnxruntime-node called directly';

function overheadMarkdown({ when, loadAtStart, loadAtEnd, rows }: OverheadRun): string[] {
  const before = rows.find((r) => r.before)?.before;
  return [
    `${OVERHEAD_HEADING} (median ms per request, 1 client)`,
    '',
    `Measured ${when.slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} cores shared with other work: load average ${loadAtStart} at the start, ${loadAtEnd} at the end. Small figures beside a binary median: the 25th–75th percentiles of its times. "Server CPU": user + system time of the server process itself per binary request (from /proc, its inference processes not counted): the work the serving does, which the machine's load moves less than wall time.`,
    '',
    `The server in a process of its own (as \`npm start\` runs it), a kept-alive node:http client in the bench's process, float32 [1,H,W,3] into ${MODEL} (x2). Direct: onnxruntime-node in the bench's process with the inference processes' own session options (server/oip/session-options.mjs; their intra-op threads sleep when idle rather than spin), so the difference is the serving alone. Each round sends one request of each kind, in an order that rotates; rounds go on for ${SECONDS} s per size, at least ${MIN_ROUNDS}. The bench's copy of the card admits up to ${OVERHEAD_TILE}² in one request (the shipped card bounds a request to one 128² tile: the plugin sends this model tiles of at most 128², other models take 256²). "Same bytes": every /infer binary output against the direct output.`,
    '',
    ...(before
      ? [
          `**Before** is the server of commit ${before.commit} (this part's parent), started from the same bench file beside the current one and sent the same requests in the same rounds.`,
          '',
          '| input | rounds | direct | /infer binary | ratio | + ms | server CPU ms | before: binary | ratio | + ms | server CPU ms | /infer JSON | ratio | before: JSON | same bytes |',
          '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
          ...rows.map((o) => {
            const b = o.before!;
            return `| ${o.size}×${o.size} | ${o.rounds} | ${ms(o.directMs)} | ${spread(o.binaryMs, o.binaryQuartilesMs)} | **${ratio(o.binaryMs, o.directMs)}** | ${(o.binaryMs - o.directMs).toFixed(2)} | ${o.serverCpuMs.toFixed(2)} | ${spread(b.binaryMs, b.binaryQuartilesMs)} | ${ratio(b.binaryMs, o.directMs)} | ${(b.binaryMs - o.directMs).toFixed(2)} | ${b.serverCpuMs.toFixed(2)} | ${ms(o.jsonMs)} | ${ratio(o.jsonMs, o.directMs)} | ${ms(b.jsonMs)} | ${o.maxDifference === 0 ? 'yes' : `no (max ${o.maxDifference})`} |`;
          }),
        ]
      : [
          '| input | rounds | direct | /infer binary | ratio | + ms | server CPU ms | /infer JSON | ratio | same bytes |',
          '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
          ...rows.map(
            (o) =>
              `| ${o.size}×${o.size} | ${o.rounds} | ${ms(o.directMs)} | ${spread(o.binaryMs, o.binaryQuartilesMs)} | **${ratio(o.binaryMs, o.directMs)}** | ${(o.binaryMs - o.directMs).toFixed(2)} | ${o.serverCpuMs.toFixed(2)} | ${ms(o.jsonMs)} | ${ratio(o.jsonMs, o.directMs)} | ${o.maxDifference === 0 ? 'yes' : `no (max ${o.maxDifference})`} |`,
          ),
        ]),
    '',
    ...OVERHEAD_NOTES,
    '',
  ];
}

async function overheadRun(): Promise<OverheadRun> {
  const card = (await registry()).models.find((m) => m.id === MODEL)!;
  const root = await overheadRoot(card);
  const served = async (checkout?: string): Promise<Served> => ({ server: await serverProcess(root, checkout), agent: new Agent({ keepAlive: true, maxSockets: 1 }) });
  const now = await served();
  const before = BEFORE_CHECKOUT ? { ...(await served(BEFORE_CHECKOUT)), commit: gitCommit(BEFORE_CHECKOUT) } : null;
  try {
    const when = new Date().toISOString();
    const loadAtStart = loadNow();
    const rows = await overhead(now, before, card, SECONDS);
    return { when, loadAtStart, loadAtEnd: loadNow(), rows };
  } finally {
    for (const s of [now, before]) {
      s?.agent.destroy();
      await s?.server.stop();
    }
    await rm(root, { recursive: true, force: true });
  }
}

/** The commit a checkout is at, for the record. */
function gitCommit(checkout: string): string {
  return execFileSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
}

async function main() {
  const machine = `${cpus().length}× ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GB`;
  const overheadTable = await overheadRun();
  if (OVERHEAD_ONLY) {
    await writeOverheadOnly(overheadTable, machine);
    return;
  }
  const loadAtStart = loadNow();
  const esrgan = (await registry()).models.filter((m) => m.task === 'upscale' && m.targets.includes('server'));

  // Throughput and latency (in this process: the load generator shares the machine either way).
  const server = await startServer({ port: 0 });
  const scaling: { clients: number; throughput: number; p50: number; p99: number; errors: number }[] = [];
  let load = { count: 0, errors: 0, p50: 0, p99: 0, throughput: 0 };
  const base = { url: server.url, model: MODEL, token: server.token };
  try {
    await runLoad({ ...base, clients: 1, seconds: 1, size: 16 }); // warm the server's session
    for (const clients of [1, 4, 16]) {
      const r = await runLoad({ ...base, clients, seconds: SECONDS, size: 16 });
      scaling.push({ clients, throughput: r.throughput, p50: r.p50, p99: r.p99, errors: r.errors });
      console.log(`${clients} clients: ${r.throughput.toFixed(1)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors`);
    }
    load = await runLoad({ ...base, clients: LOAD_CLIENTS, seconds: SECONDS * 2, size: 16 });
    console.log(`${LOAD_CLIENTS} clients: ${load.count} requests, ${load.errors} errors, p50 ${load.p50.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms`);
  } finally {
    await server.close();
  }

  // Memory: each scenario on a fresh server process.
  const scenario = async <T>(name: string, work: (s: ServerProcess) => Promise<T>) => {
    const s = await serverProcess();
    try {
      const idleMb = statusKb(s.pid, 'VmRSS') / 1024;
      const { result, memory } = await measure(s, () => work(s));
      console.log(`${name}: peak ${memory.peakMb.toFixed(0)} MB (Σ per-process peaks ${memory.hwmSumMb.toFixed(0)} MB, ${memory.processes} processes; idle server ${idleMb.toFixed(0)} MB)`);
      return { result, memory, idleMb };
    } finally {
      await s.stop();
    }
  };

  const tiles: TileRow[] = [];
  for (const card of esrgan) {
    const tile = card.io.tile.size;
    const { result, memory } = await scenario(`${card.id} ${tile}×${tile}`, (s) => inferOnce(s, card.id, tile));
    if (result.status !== 200) throw new Error(`${card.id} at its tile size answered ${result.status}: ${result.error}`);
    tiles.push({ model: card.id, tile, status: result.status, ms: result.ms, memory });
  }
  const heaviest = tiles.reduce((a, b) => (b.memory.peakMb > a.memory.peakMb ? b : a));

  const oldRequest = await scenario('2048×2048 UINT8 (the issue)', (s) => inferOnce(s, MODEL, 2048, 'UINT8'));
  if (oldRequest.result.status !== 413) throw new Error(`the 2048² request answered ${oldRequest.result.status}, not 413`);

  const loadSeconds = SECONDS * 2;
  const heavyLoad = await scenario(`${LOAD_CLIENTS} clients × ${heaviest.model} ${heaviest.tile}² for ${loadSeconds} s`, async (s) => {
    await inferOnce(s, heaviest.model, heaviest.tile); // loaded before the clients start
    return runLoad({ url: s.url, token: s.token, model: heaviest.model, size: heaviest.tile, clients: LOAD_CLIENTS, seconds: loadSeconds });
  });
  const lightLoad = await scenario(`${LOAD_CLIENTS} clients × ${MODEL} 16² for ${loadSeconds} s`, (s) =>
    runLoad({ url: s.url, token: s.token, model: MODEL, size: 16, clients: LOAD_CLIENTS, seconds: loadSeconds }),
  );

  const costs = await processCosts(esrgan.filter((m) => ['esrgan-slim-x2', 'esrgan-medium-x4', 'esrgan-thick-x4'].includes(m.id)));
  const engine = await engineCosts();

  const when = new Date().toISOString();
  const results = {
    when,
    machine,
    loadAverage: { atStart: loadAtStart, atEnd: loadNow() },
    model: MODEL,
    overhead: overheadTable,
    scaling,
    load: { clients: LOAD_CLIENTS, ...load },
    memory: {
      sampleMs: SAMPLE_MS,
      oldPeakGb2048: OLD_PEAK_GB,
      request2048: { status: oldRequest.result.status, error: oldRequest.result.error, ...oldRequest.memory, idleMb: oldRequest.idleMb },
      largestTile: tiles,
      heaviestUnderLoad: { model: heaviest.model, tile: heaviest.tile, clients: LOAD_CLIENTS, seconds: loadSeconds, count: heavyLoad.result.count, errors: heavyLoad.result.errors, ...heavyLoad.memory },
      lightUnderLoad: { model: MODEL, size: 16, clients: LOAD_CLIENTS, seconds: loadSeconds, count: lightLoad.result.count, errors: lightLoad.result.errors, ...lightLoad.memory },
    },
    processCosts: costs,
    engineJob: engine,
    badInputs: BAD_REQUESTS.map((b) => ({ name: b.name, status: b.status })),
  };
  const mb = (x: number) => x.toFixed(0);
  const md = [
    `# Open Inference Protocol server benchmark (${when.slice(0, 10)})`,
    '',
    `Machine: ${machine}, CPU execution provider, shared with other work (load average ${results.loadAverage.atStart} when the sections after the overhead started, ${results.loadAverage.atEnd} at the end). Model ${MODEL} (real ESRGAN weights), float32 [1,H,W,3] in and out, loopback HTTP, with the server's token.`,
    'Inference runs in child processes (one per concurrent run, server/oip/pool.ts); a run whose request gives up is stopped by killing its process.',
    '',
    '## Memory: peak RSS of the server process plus its inference processes',
    '',
    `Each row is a fresh server in a process of its own; RSS sampled every ${SAMPLE_MS} ms over the server and its children ("peak"), and each process's own peak (VmHWM) summed ("Σ peaks", an upper bound). One request may ask of a model what one tile of its card holds (server/oip/bounds.ts).`,
    '',
    '| request | answer | peak MB | Σ peaks MB | processes |',
    '|---|---|---:|---:|---:|',
    `| 2048×2048 UINT8 to an ESRGAN model (12 MB body), **before** (issue 11, worker threads, body limit only) | ran; 504 at the deadline, kept computing | **${(OLD_PEAK_GB * 1024).toFixed(0)}** (${OLD_PEAK_GB} GB) | | |`,
    `| 2048×2048 UINT8 to ${MODEL}, **now** | ${oldRequest.result.status}, before the body is read | **${mb(oldRequest.memory.peakMb)}** | ${mb(oldRequest.memory.hwmSumMb)} | ${oldRequest.memory.processes} |`,
    ...tiles.map((t) => `| largest admitted: ${t.model} ${t.tile}×${t.tile} FP32 (one tile), ${t.ms.toFixed(0)} ms incl. process start and load | ${t.status} | ${mb(t.memory.peakMb)} | ${mb(t.memory.hwmSumMb)} | ${t.memory.processes} |`),
    `| ${LOAD_CLIENTS} clients × ${heaviest.model} ${heaviest.tile}×${heaviest.tile} binary for ${loadSeconds} s (${heavyLoad.result.count} requests, ${heavyLoad.result.errors} errors) | 200 | **${mb(heavyLoad.memory.peakMb)}** | ${mb(heavyLoad.memory.hwmSumMb)} | ${heavyLoad.memory.processes} |`,
    `| ${LOAD_CLIENTS} clients × ${MODEL} 16×16 binary for ${loadSeconds} s (${lightLoad.result.count} requests, ${lightLoad.result.errors} errors) | 200 | ${mb(lightLoad.memory.peakMb)} | ${mb(lightLoad.memory.hwmSumMb)} | ${lightLoad.memory.processes} |`,
    '',
    `The heaviest single tile (${heaviest.model}) bounds a run; at most as many run at once as the server has inference processes (the CPU count by default), and a queued request holds at most the model's body bound (one tile of JSON or binary).`,
    '',
    '## What an inference process costs (median of 3)',
    '',
    'A process starts on demand (first request, or after one was killed) and loads a model on its first run of it, from the bytes the server verified (sent over IPC once per process and model). The load over IPC includes the copy of the bytes and the process\'s first onnxruntime session (its runtime initialises then); the in-process figure is a session made where onnxruntime is already warm.',
    '',
    '| model | file MB | process start ms | load over IPC ms | same load in-process ms |',
    '|---|---:|---:|---:|---:|',
    ...costs.map((c) => `| ${c.model} | ${c.mb.toFixed(1)} | ${c.startMs.toFixed(0)} | ${c.loadOverIpcMs.toFixed(0)} | ${c.loadInProcessMs.toFixed(0)} |`),
    '',
    `Engine jobs (generate on styleswin-ffhq-256-tiny, one image): first job ${engine.firstMs.toFixed(0)} ms (engine process start, tsx, session load), the next on the warm process ${engine.warmMs.toFixed(0)} ms.`,
    '',
    ...overheadMarkdown(overheadTable),
    '## Throughput by concurrent clients (16×16 input, binary tensors)',
    '',
    '| clients | req/s | p50 ms | p99 ms | errors |',
    '|---:|---:|---:|---:|---:|',
    ...scaling.map((s) => `| ${s.clients} | ${s.throughput.toFixed(1)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.errors} |`),
    '',
    `## Under load: ${LOAD_CLIENTS} clients for ${SECONDS * 2} s`,
    '',
    `${load.count} requests, **${load.errors} errors**, p50 ${load.p50.toFixed(1)} ms, **p99 ${load.p99.toFixed(1)} ms**.`,
    '',
    `## Bad inputs tried (${BAD_REQUESTS.length}; each answered with its 4xx and a message, and the server kept serving: test/server/oip-errors.test.ts)`,
    '',
    ...BAD_REQUESTS.map((b) => `- ${b.name} → ${b.status}`),
    '',
  ].join('\n');
  await writeResults('server', resultsJson(results), md);
}

/** The overhead section alone: into the existing results in place of theirs, or on its own. */
async function writeOverheadOnly(run: OverheadRun, machine: string): Promise<void> {
  const jsonPath = join(resultsDir(), 'server.json');
  const mdPath = join(resultsDir(), 'server.md');
  const md = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
  const start = md.indexOf(OVERHEAD_HEADING);
  const end = md.indexOf('\n## ', start + 1);
  if (!existsSync(jsonPath) || start < 0 || end < 0) {
    await writeResults('server', resultsJson({ when: run.when, machine, model: MODEL, overhead: run }), [`# /infer overhead (${run.when.slice(0, 10)})`, '', ...overheadMarkdown(run)].join('\n'));
    return;
  }
  const json = { ...(JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>), overhead: run };
  await writeResults('server', resultsJson(json), md.slice(0, start) + overheadMarkdown(run).join('\n') + md.slice(end));
}

if (!process.env.BENCH_SERVER_CHILD) runMain(main);
