// `npm run bench:server`: the Open Inference Protocol server, side by side in one run:
//  - /infer overhead against calling onnxruntime-node directly on the same model and input, JSON vs binary tensors;
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
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
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
import { MODEL_FILES_DIR, REGISTRY_PATH } from '../worker/platform-node.ts';
import type { ModelCard, Registry } from '../worker/models/card.ts';
import { BAD_REQUESTS } from '../test/server/oip-bad-inputs.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { parseCli } from '../server/cli-args.ts';

// Arguments are checked first: this bench takes none (its settings come from the environment).
parseCli('npm run bench:server (no options; by environment: BENCH_SECONDS=<seconds per load step>, BENCH_RESULTS_DIR=DIR)', {});

const MODEL = 'esrgan-slim-x2';
const SIZES = [16, 64];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const LOAD_CLIENTS = 64;
const SAMPLE_MS = 20;
/** The figure of issue 11: one 2048×2048 UINT8 request to an ESRGAN model, before requests were bounded. */
const OLD_PEAK_GB = 9.9;

// --- the server in a process of its own ---------------------------------------------------------------------------

if (process.env.BENCH_SERVER_CHILD) {
  const server = await startServer({ port: 0 });
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

async function serverProcess(): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_SERVER_CHILD: '1' },
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

async function directMs(size: number, seconds: number): Promise<number> {
  const card = (await registry()).models.find((m) => m.id === MODEL)!;
  const session = await ort.InferenceSession.create(join(MODEL_FILES_DIR, card.files[0].name), { executionProviders: ['cpu'] });
  const data = new Float32Array(size * size * 3).map((_, i) => (i * 37) % 256);
  const feeds = { input: new ort.Tensor('float32', data, [1, size, size, 3]) };
  await session.run(feeds);
  const times: number[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  times.sort((a, b) => a - b);
  // The same p50 as runLoad reports for /infer, so the overhead ratio compares like with like.
  return percentile(times, 50);
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

async function main() {
  const esrgan = (await registry()).models.filter((m) => m.task === 'upscale' && m.targets.includes('server'));

  // Throughput, latency and overhead (in this process: the load generator shares the machine either way).
  const server = await startServer({ port: 0 });
  const overhead: { size: number; directMs: number; binaryMs: number; jsonMs: number }[] = [];
  const scaling: { clients: number; throughput: number; p50: number; p99: number; errors: number }[] = [];
  let load = { count: 0, errors: 0, p50: 0, p99: 0, throughput: 0 };
  const base = { url: server.url, model: MODEL, token: server.token };
  try {
    await runLoad({ ...base, clients: 1, seconds: 1, size: 16 }); // warm the server's session
    for (const size of SIZES) {
      const direct = await directMs(size, SECONDS / 2);
      const binary = await runLoad({ ...base, clients: 1, seconds: SECONDS / 2, size });
      const json = await runLoad({ ...base, clients: 1, seconds: SECONDS / 2, size, json: true });
      if (binary.errors || json.errors) throw new Error(`errors in the overhead runs: ${[...binary.errorSamples, ...json.errorSamples].join('; ')}`);
      overhead.push({ size, directMs: direct, binaryMs: binary.p50, jsonMs: json.p50 });
      console.log(`${size}×${size}: direct ${direct.toFixed(1)} ms, /infer binary ${binary.p50.toFixed(1)} ms, JSON ${json.p50.toFixed(1)} ms`);
    }
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
  const machine = `${cpus().length}× ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GB`;
  const results = {
    when,
    machine,
    model: MODEL,
    overhead,
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
    `Machine: ${machine}, CPU execution provider. Model ${MODEL} (real ESRGAN weights), float32 [1,H,W,3] in and out, loopback HTTP, with the server's token.`,
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
    '## /infer overhead against onnxruntime-node called directly (median ms per request, 1 client)',
    '',
    '| input | direct | /infer binary | ratio | /infer JSON | ratio |',
    '|---|---:|---:|---:|---:|---:|',
    ...overhead.map((o) => `| ${o.size}×${o.size} | ${o.directMs.toFixed(1)} | ${o.binaryMs.toFixed(1)} | ${(o.binaryMs / o.directMs).toFixed(2)}× | ${o.jsonMs.toFixed(1)} | ${(o.jsonMs / o.directMs).toFixed(2)}× |`),
    '',
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

if (!process.env.BENCH_SERVER_CHILD) runMain(main);
