// The page script of bench:webgpu and of test/e2e/webgpu-resident.test.ts. It also runs as the page's Web Worker,
// where the plugin runs its engine; there every session goes through the product's runtime (createOrtWebRuntime),
// with GPU-resident feeds on or off, so the test and the bench compare the two.
import * as Comlink from 'comlink';
import { configureOrtWeb, createOrtWebRuntime, probeWebGpu } from '../../worker/runtime/ort-web.ts';
import type { ResidentStats } from '../../worker/runtime/ort-web-resident.ts';
import type { Session, Tensor } from '../../worker/runtime/runtime.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { sampleTokens } from '../../worker/diffusion/loop.ts';
import { parseDiffusionIo } from '../../worker/diffusion/schedule.ts';

/** A feed as it crosses the page boundary: plain numbers. */
export interface PlainTensor {
  dtype: 'float32' | 'int64';
  dims: number[];
  data: number[];
}

export interface Timed {
  adapter: string;
  /** Session creation (graph parse, weights to the GPU). */
  createMs: number;
  /** The first run: shader compilation and pipeline creation happen here on WebGPU. */
  firstRunMs: number;
  /** Each later run. */
  steadyMs: number[];
  resident?: ResidentStats;
}

export interface ModelRun extends Timed {
  /** The first output of the last run. */
  output: number[];
}

export interface DiffusionRun extends Timed {
  tokens: number[];
  /** Every step's log_probs, in order (the transformer's whole output). */
  logProbs: number[];
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

const toTensor = (t: PlainTensor): Tensor => ({
  dtype: t.dtype,
  dims: t.dims,
  data: t.dtype === 'int64' ? BigInt64Array.from(t.data, (v) => BigInt(v)) : Float32Array.from(t.data),
});

/** An external weight file: the name the graph gives it, and where to fetch it. */
export interface ExternalFile {
  path: string;
  url: string;
}

async function open(card: ModelCard, url: string, ep: 'webgpu' | 'wasm', resident: boolean, stats: { last?: ResidentStats }, external?: ExternalFile): Promise<{ session: Session; createMs: number }> {
  configureOrtWeb({ wasmBaseUrl: `${location.origin}/ort`, threads: 1 });
  const bytes = await fetchBytes(url);
  const externalData = external ? [{ path: external.path, data: await fetchBytes(external.url) }] : [];
  const t0 = performance.now();
  const runtime = createOrtWebRuntime(ep, { residentFeeds: resident, onResidentStats: (s) => (stats.last = s) });
  const session = await runtime.createSession(card, async () => bytes, { externalData: async () => externalData });
  return { session, createMs: performance.now() - t0 };
}

async function adapterName(ep: 'webgpu' | 'wasm'): Promise<string> {
  return ep === 'webgpu' ? (await probeWebGpu()).detail : 'wasm, 1 thread';
}

/** `runs` runs of one model on the same feeds (tasks feed the same weights different tiles; the figures are per run). */
async function model(card: ModelCard, url: string, ep: 'webgpu' | 'wasm', resident: boolean, feeds: Record<string, PlainTensor>, runs: number, external?: ExternalFile): Promise<ModelRun> {
  const stats: { last?: ResidentStats } = {};
  const { session, createMs } = await open(card, url, ep, resident, stats, external);
  const tensors = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toTensor(v)]));
  const times: number[] = [];
  let output: Tensor | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = await session.run(tensors);
    times.push(performance.now() - t0);
    output = out[session.outputNames[0]];
  }
  await session.dispose();
  return { adapter: await adapterName(ep), createMs, firstRunMs: times[0], steadyMs: times.slice(1), resident: stats.last, output: Array.from(output!.data as Float32Array) };
}

/**
 * The VQ-Diffusion loop of worker/tasks/text-to-image.ts without its tokenizer and decoder: the text encoder's output
 * for `ids`, joined with the null text (guided), fed to the transformer at every step by sampleTokens.
 */
async function diffusion(parts: { text: ModelCard; transformer: ModelCard }, urls: { text: string; transformer: string; nullText: string }, ep: 'webgpu' | 'wasm', resident: boolean,
  ids: number[], options: { steps: number; guidance: number; seed: number; refillConditionAt?: number }): Promise<DiffusionRun> {
  const stats: { last?: ResidentStats } = {};
  const textSession = (await open(parts.text, urls.text, ep, resident, {})).session;
  const textOut = await textSession.run({ [parts.text.io.inputs[0].name]: toTensor({ dtype: 'int64', dims: [1, ids.length], data: ids }) });
  await textSession.dispose();
  const text = textOut[parts.text.io.outputs[0].name];
  const nullText = new Float32Array((await fetchBytes(urls.nullText)).slice().buffer);
  const values = text.data as Float32Array;
  const condition: Tensor = { dtype: 'float32', dims: [2, ...text.dims.slice(1)], data: new Float32Array(values.length * 2) };
  (condition.data as Float32Array).set(values);
  (condition.data as Float32Array).set(nullText, values.length);

  const { session, createMs } = await open(parts.transformer, urls.transformer, ep, resident, stats);
  const diffusionIo = parseDiffusionIo(parts.transformer.io.diffusion);
  const length = diffusionIo.latent.height * diffusionIo.latent.width;
  const [tokensInput, timestepInput, textInput] = parts.transformer.io.inputs.map((i) => i.name);
  const times: number[] = [];
  const logProbs: number[] = [];
  const tokens = await sampleTokens({
    diffusion: diffusionIo,
    steps: options.steps,
    guidance: options.guidance,
    truncation: 1,
    seed: options.seed,
    runTransformer: async (feed, timestep, batch) => {
      // The test's check that a refilled array is not fed from a stale GPU copy: same array, new values.
      if (times.length === options.refillConditionAt) (condition.data as Float32Array).forEach((v, i, a) => (a[i] = v * 0.5));
      const t0 = performance.now();
      const out = await session.run({
        [tokensInput]: { dtype: 'int64', dims: [batch, length], data: feed },
        [timestepInput]: { dtype: 'int64', dims: [batch], data: new BigInt64Array(batch).fill(BigInt(timestep)) },
        [textInput]: batch === 2 ? condition : text,
      });
      times.push(performance.now() - t0);
      const data = out[parts.transformer.io.outputs[0].name].data as Float32Array;
      for (const v of data) logProbs.push(v);
      return data;
    },
  });
  await session.dispose();
  return { adapter: await adapterName(ep), createMs, firstRunMs: times[0], steadyMs: times.slice(1), resident: stats.last, tokens: Array.from(tokens), logProbs };
}

const api = { model, diffusion };
export type WebGpuBenchApi = typeof api;

if (typeof document === 'undefined') {
  Comlink.expose(api);
} else {
  const worker = new Worker('bench.js', { type: 'module' });
  worker.addEventListener('error', (e) => console.error(`worker error: ${e.message}`));
  Object.assign(globalThis, { webgpuBench: Comlink.wrap<WebGpuBenchApi>(worker) });
}
