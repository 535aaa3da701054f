// The frame script of `npm run bench:first-run` with BENCH_FRAME=sandboxed: it runs in a sandboxed iframe (an opaque
// origin, as Figma's plugin iframe), starts the engine worker (bench/first-run/sandboxed-worker.ts, served as
// /worker.js) from a blob: URL of its source as the plugin does (ui/engine-client.ts), and exposes `poolBench`
// (setJob, run(workers), warmUp(workers): the API of bench/pool/browser-entry.ts).
import * as Comlink from 'comlink';
import type { PoolBenchJob } from '../pool/browser-entry.ts';
import type { SandboxedApi } from './sandboxed-worker.ts';

const server = `http://127.0.0.1:${new URLSearchParams(location.search).get('port')}`;
const source = await (await fetch(`${server}/worker.js`)).text();
const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
worker.addEventListener('error', (e) => console.error(`the engine worker failed: ${e.message}`));
const remote = Comlink.wrap<SandboxedApi>(worker);
(globalThis as unknown as { poolBench: unknown }).poolBench = {
  setJob: (spec: PoolBenchJob) => remote.setJob(spec, server),
  run: (workers: number) => remote.run(workers),
  warmUp: (workers: number) => remote.warmUp(workers),
};
