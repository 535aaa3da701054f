// Page script of bench/peer-profile.ts: the same ESRGAN weights on the same input, one run at a time on the page's
// main thread (one thread each), with each runtime's own per-kernel timer: TF.js WASM (XNNPACK) through tf.profile
// (its kernels are synchronous, so a kernel's time is its wall time) and onnxruntime-web WASM through enableProfiling
// (events printed through the wasm's stdout, captured from console.log).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as ort from 'onnxruntime-web';
import thickX4 from '@upscalerjs/esrgan-thick/4x';
import { configureOrtWeb } from '../../worker/runtime/ort-web.ts';
import { aggregateProfile, type OpProfile } from '../restore-profile.ts';

export interface KernelSums {
  /** Summed kernel ms per kernel name, per profiled run. */
  byKernel: Record<string, number>;
  /** Summed kernel ms per kernel name + input shapes, per profiled run (the costliest). */
  byShape: { kernel: string; shapes: string; ms: number; count: number }[];
  /** Kernels executed per run, by name. */
  counts: Record<string, number>;
  /** Unprofiled run times, ms. */
  plainMs: number[];
  /** Profiled run times, ms. */
  profiledMs: number[];
}

const captured: string[] = [];
let capturing = false;
const originalLog = console.log.bind(console);
console.log = (...args: unknown[]) => {
  if (capturing && args.length === 1 && typeof args[0] === 'string') captured.push(args[0]);
  else originalLog(...args);
};

let model: tf.LayersModel | undefined;
let session: ort.InferenceSession | undefined;
let input: Float32Array | undefined;
let size = 0;

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** The package's thick ×4 layers model (weights fetched one shard at a time, as bench/peer/peer-entry.ts explains). */
async function loadTfjs(): Promise<string> {
  setWasmPaths(`${location.origin}/tfjs-wasm/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('no TF.js wasm backend');
  await tf.ready();
  (thickX4 as unknown as { setup?: (t: typeof tf) => void }).setup?.(tf);
  const base = `${location.origin}/peer-models/esrgan-thick/x4`;
  const json = (await (await fetchOk(`${base}/model.json`)).json()) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) for (const p of group.paths) shards.push(new Uint8Array(await (await fetchOk(`${base}/${p}`)).arrayBuffer()));
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  shards.reduce((at, s) => (weightData.set(s, at), at + s.length), 0);
  model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: weightData.buffer }));
  return `TF.js ${tf.version.tfjs} ${tf.getBackend()}, SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, threads ${await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')}`;
}

async function loadOrt(modelUrl: string): Promise<void> {
  configureOrtWeb({ wasmBaseUrl: `${location.origin}/ort`, threads: 1 });
  const bytes = new Uint8Array(await (await fetchOk(modelUrl)).arrayBuffer());
  capturing = true;
  session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableProfiling: true });
}

function setInput(pixels: number[], side: number): void {
  input = Float32Array.from(pixels);
  size = side;
}

/** One TF.js run; profiled: its kernels. The package's model takes [0,1] (thick: 0..1 in, 0..1 out). */
async function tfjsRun(profiled: boolean): Promise<{ ms: number; kernels?: { name: string; shapes: string; ms: number }[] }> {
  if (!model || !input) throw new Error('load first');
  const x = tf.tensor4d(input, [1, size, size, 3]).div(255);
  const run = () => model!.predict(x) as tf.Tensor;
  const t = performance.now();
  if (!profiled) {
    const y = run();
    await y.data();
    const ms = performance.now() - t;
    y.dispose();
    x.dispose();
    return { ms };
  }
  let y: tf.Tensor | undefined;
  const info = await tf.profile(() => (y = run()));
  await y!.data();
  const ms = performance.now() - t;
  y!.dispose();
  x.dispose();
  return { ms, kernels: info.kernels.map((k) => ({ name: k.name, shapes: k.inputShapes.map((s) => `[${s?.join(',')}]`).join(' '), ms: Number(k.kernelTimeMs) })) };
}

async function ortRun(): Promise<number> {
  if (!session || !input) throw new Error('load first');
  const t = performance.now();
  const out = await session.run({ input: new ort.Tensor('float32', input, [1, size, size, 3]) });
  const ms = performance.now() - t;
  out.output.dispose();
  return ms;
}

function ortProfile(skipRuns: number): OpProfile {
  session!.endProfiling();
  capturing = false;
  return aggregateProfile(captured.splice(0), skipRuns);
}

const api = { loadTfjs, loadOrt, setInput, tfjsRun, ortRun, ortProfile };
export type ProfileApi = typeof api;
(globalThis as unknown as { profileBench: ProfileApi }).profileBench = api;
