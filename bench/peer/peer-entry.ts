// The peer's page script for `npm run bench:peer` (bench/peer.ts): UpscalerJS (`upscaler`) on TF.js, as a web
// developer would use it, on the page's main thread (as UpscalerJS's own examples do), with the very weights its
// `@upscalerjs/esrgan-*` packages ship. The backend is TF.js WASM (XNNPACK; one thread: the page is not
// cross-origin isolated, as Figma's iframe is not) or WebGL.
//
// Weights: TF.js 4.11's loader requests every shard at once and waits for all their headers before reading any body;
// over HTTP/1.1 Chromium opens 6 connections per host, so a model of 7+ shards (esrgan-thick ×4) never loads. The
// page fetches model.json and the shards one after another and gives them to TF.js from memory (tf.io.fromMemory).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import Upscaler from 'upscaler';
import slimX2 from '@upscalerjs/esrgan-slim/2x';
import slimX4 from '@upscalerjs/esrgan-slim/4x';
import thickX2 from '@upscalerjs/esrgan-thick/2x';
import thickX4 from '@upscalerjs/esrgan-thick/4x';
import { base64ToBytes, bytesToBase64, fnv1a, type PixelsIn } from './pixels.ts';

/** The packages' model definitions, by Frontier's model id (the ONNX files converted from these same weights). */
const DEFINITIONS = { 'esrgan-slim-x2': slimX2, 'esrgan-slim-x4': slimX4, 'esrgan-thick-x2': thickX2, 'esrgan-thick-x4': thickX4 } as const;
export type PeerModel = keyof typeof DEFINITIONS;

export interface PeerInfo {
  backend: string;
  /** TF.js WASM: SIMD and threads as the backend found them. */
  wasmSimd?: boolean;
  wasmThreads?: boolean;
  /** WebGL: the renderer the browser reports (SwiftShader = software, no GPU). */
  webglRenderer?: string;
  webglVersion?: number;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  tfjsVersion: string;
}

export interface PeerRun {
  /** Wall time from the image's pixels to the result's RGBA bytes, ms. */
  ms: number;
  hash: string;
  width: number;
  height: number;
  rgba?: string;
  /** The model's calls in this run (UpscalerJS's patches) and their input pixels. */
  patches: number;
  patchPixels: number;
}

/** What the browser reports for WebGL, or why there is none. */
function webglRenderer(): string {
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return 'none (no WebGL context)';
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
}

async function init(backend: 'wasm' | 'webgl'): Promise<PeerInfo> {
  setWasmPaths(`${location.origin}/tfjs-wasm/`);
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend`);
  await tf.ready();
  const info: PeerInfo = { backend: tf.getBackend(), crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, tfjsVersion: tf.version.tfjs };
  if (backend === 'wasm') {
    info.wasmSimd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as boolean;
    info.wasmThreads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') as boolean;
  } else {
    info.webglRenderer = webglRenderer();
    info.webglVersion = tf.env().getNumber('WEBGL_VERSION');
  }
  return info;
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** The package's model.json and weight shards, fetched one at a time, as TF.js model artifacts. */
async function artifactsFrom(base: string): Promise<tf.io.ModelArtifacts> {
  const json = (await (await fetchOk(`${base}/model.json`)).json()) as { modelTopology: object; format?: string; generatedBy?: string; convertedBy?: string; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) for (const p of group.paths) shards.push(new Uint8Array(await (await fetchOk(`${base}/${p}`)).arrayBuffer()));
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  shards.reduce((at, s) => (weightData.set(s, at), at + s.length), 0);
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: weightData.buffer,
  };
}

const predicted = { calls: 0, pixels: 0 };
const upscalers = new Map<PeerModel, InstanceType<typeof Upscaler>>();

/** Loads the model into UpscalerJS (once per model); returns the time it took, ms. */
async function load(model: PeerModel): Promise<number> {
  const t = performance.now();
  if (!upscalers.has(model)) {
    const definition = DEFINITIONS[model];
    const [, variant, scale] = /^(esrgan-\w+)-x(\d)$/.exec(model)!;
    const artifacts = await artifactsFrom(`${location.origin}/peer-models/${variant}/x${scale}`);
    // `path` is handed to tf.loadLayersModel, which takes an IOHandler as readily as a URL.
    const upscaler = new Upscaler({ model: { ...definition, path: tf.io.fromMemory(artifacts) as unknown as string } });
    // Counts the model's calls and their input pixels: how many patches UpscalerJS computed, and how large.
    const { model: layers } = await upscaler.getModel();
    const predict = layers.predict.bind(layers);
    layers.predict = ((x: tf.Tensor, ...rest: unknown[]) => {
      predicted.calls++;
      predicted.pixels += x.shape[1]! * x.shape[2]!;
      return (predict as (...a: unknown[]) => tf.Tensor)(x, ...rest);
    }) as typeof layers.predict;
    upscalers.set(model, upscaler);
  }
  return performance.now() - t;
}

let image: ImageData | undefined;

async function setJob(pixels: PixelsIn): Promise<void> {
  image = new ImageData(new Uint8ClampedArray(base64ToBytes(pixels.rgba)), pixels.width, pixels.height);
}

/**
 * One upscale: the image's pixels into a tensor (tf.browser.fromPixels, as UpscalerJS does with an <img>), UpscalerJS's
 * execute (the whole image at once, or patches of `patch.size` with `patch.padding` on inner sides) to a tensor, and
 * its RGBA bytes read back as UpscalerJS's own base64 output does before its canvas (clip to 0..255, alpha 255).
 */
async function run(model: PeerModel, patch: { size: number; padding: number } | null, withPixels: boolean): Promise<PeerRun> {
  const upscaler = upscalers.get(model);
  if (!upscaler || !image) throw new Error('load and setJob first');
  predicted.calls = predicted.pixels = 0;
  const t = performance.now();
  const input = tf.browser.fromPixels(image);
  const out = (await upscaler.execute(input, { output: 'tensor', ...(patch ? { patchSize: patch.size, padding: patch.padding } : {}) })) as tf.Tensor3D;
  const rgba = tf.tidy(() => tf.concat([out.clipByValue(0, 255), tf.fill([out.shape[0], out.shape[1], 1], 255)], 2));
  const bytes = new Uint8ClampedArray(await rgba.data());
  const ms = performance.now() - t;
  const [height, width] = out.shape;
  input.dispose();
  out.dispose();
  rgba.dispose();
  return { ms, hash: fnv1a(bytes), width, height, patches: predicted.calls, patchPixels: predicted.pixels, ...(withPixels ? { rgba: bytesToBase64(bytes) } : {}) };
}

const api = { init, load, setJob, run, tensors: async () => tf.memory().numTensors };
export type PeerBenchApi = typeof api;
(globalThis as unknown as { peerBench: PeerBenchApi }).peerBench = api;
