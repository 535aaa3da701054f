// `npm run bench:server`: the Open Inference Protocol server, side by side in one run:
//  - /infer overhead against calling onnxruntime-node directly on the same model and input, JSON vs binary tensors;
//  - throughput and latency at 1, 4 and 16 concurrent clients, and p50/p99 under a 32-client load;
//  - the malformed requests the server was checked against (test/server/oip-bad-inputs.ts), each answered 4xx while serving.
// Written to bench/results/server.{json,md}.
// BENCH_RESULTS_DIR=DIR writes the results into DIR instead of bench/results (every bench; smoke runs).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { startServer } from '../server/server.ts';
import { percentile, runLoad } from '../server/oip/load.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH } from '../worker/platform-node.ts';
import type { Registry } from '../worker/models/card.ts';
import { BAD_REQUESTS } from '../test/server/oip-bad-inputs.ts';
import { runMain, writeResults } from './common/results.ts';

const MODEL = 'esrgan-slim-x2';
const SIZES = [16, 64];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
async function directMs(size: number, seconds: number): Promise<number> {
  const registry = JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
  const card = registry.models.find((m) => m.id === MODEL)!;
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

async function main() {
  const server = await startServer({ port: 0 });
  const overhead: { size: number; directMs: number; binaryMs: number; jsonMs: number }[] = [];
  const scaling: { clients: number; throughput: number; p50: number; p99: number; errors: number }[] = [];
  let load = { count: 0, errors: 0, p50: 0, p99: 0, throughput: 0 };
  try {
    // Warm the server's session.
    await runLoad({ url: server.url, clients: 1, seconds: 1, model: MODEL, size: 16 });
    for (const size of SIZES) {
      const direct = await directMs(size, SECONDS / 2);
      const binary = await runLoad({ url: server.url, clients: 1, seconds: SECONDS / 2, model: MODEL, size });
      const json = await runLoad({ url: server.url, clients: 1, seconds: SECONDS / 2, model: MODEL, size, json: true });
      if (binary.errors || json.errors) throw new Error(`errors in the overhead runs: ${[...binary.errorSamples, ...json.errorSamples].join('; ')}`);
      overhead.push({ size, directMs: direct, binaryMs: binary.p50, jsonMs: json.p50 });
      console.log(`${size}×${size}: direct ${direct.toFixed(1)} ms, /infer binary ${binary.p50.toFixed(1)} ms, JSON ${json.p50.toFixed(1)} ms`);
    }
    for (const clients of [1, 4, 16]) {
      const r = await runLoad({ url: server.url, clients, seconds: SECONDS, model: MODEL, size: 16 });
      scaling.push({ clients, throughput: r.throughput, p50: r.p50, p99: r.p99, errors: r.errors });
      console.log(`${clients} clients: ${r.throughput.toFixed(1)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors`);
    }
    load = await runLoad({ url: server.url, clients: 32, seconds: SECONDS * 2, model: MODEL, size: 16 });
    console.log(`32 clients: ${load.count} requests, ${load.errors} errors, p50 ${load.p50.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms`);
  } finally {
    await server.close();
  }

  const when = new Date().toISOString();
  const machine = `${cpus().length}× ${cpus()[0]?.model}`;
  const json = JSON.stringify({ when, machine, model: MODEL, overhead, scaling, load, badInputs: BAD_REQUESTS.map((b) => ({ name: b.name, status: b.status })) }, null, 2) + '\n';
  const md = [
    `# Open Inference Protocol server benchmark (${when.slice(0, 10)})`,
    '',
    `Machine: ${machine}, CPU execution provider. Model ${MODEL} (real ESRGAN weights), float32 [1,H,W,3] in and out, loopback HTTP.`,
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
    `## Under load: 32 clients for ${SECONDS * 2} s`,
    '',
    `${load.count} requests, **${load.errors} errors**, p50 ${load.p50.toFixed(1)} ms, **p99 ${load.p99.toFixed(1)} ms**.`,
    '',
    `## Bad inputs tried (${BAD_REQUESTS.length}; each answered with its 4xx and a message, and the server kept serving: test/server/oip-errors.test.ts)`,
    '',
    ...BAD_REQUESTS.map((b) => `- ${b.name} → ${b.status}`),
    '',
  ].join('\n');
  await writeResults('server', json, md);
}

runMain(main);
