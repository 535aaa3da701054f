// The runtime registry (worker/runtime/registry.ts): runtimes register with a priority and answer "yes" or "no,
// because …" for a model card; auto takes the first yes in priority order and says whom it passed over, in designers'
// words for the "Run on" line and the engine's words for the details. A new runtime is one file
// (test/fakes/nearest-runtime.ts) and one `register` call: these tests add one and see auto pick it, run a job on it,
// and pass it over with its reason when it declines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../worker/engine.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { createBrowserPlatform } from '../../worker/platform-browser.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { wasmEntry, webGpuEntry } from '../../worker/runtime/ort-web.ts';
import { no, RuntimeRegistry, type MachineCaps } from '../../worker/runtime/registry.ts';
import { describeTargetChoice } from '../../ui/format.ts';
import { nearestRuntime } from '../fakes/nearest-runtime.ts';

/** 3×2 opaque pixels, each one different. */
const image = { width: 3, height: 2, data: new Uint8Array(3 * 2 * 4).map((_, i) => (i % 4 === 3 ? 255 : i * 9)) };
const upscale = { task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 } };
const card = (targets: ModelCard['targets']) => ({ id: 'm', label: 'Model M', targets, io: { scale: 1 } }) as ModelCard;
const ENGINE_WORDS = /WASM|WebGPU|onnxruntime|oip|ort-|thread/i;

test('a runtime added with one registration: auto picks it by priority, and jobs run on it (tasks unchanged)', async () => {
  const platform = createNodePlatform();
  const nearest = nearestRuntime('node');
  platform.runtimes.register(nearest.entry, 300);
  assert.deepEqual(platform.runtimes.list().map((r) => `${r.name}@${r.priority}`), ['nearest@300', 'ort-node@200', 'oip@100']);
  const engine = new Engine(platform);

  const choice = await engine.chooseTarget(upscale.task, upscale.model, 'auto', upscale.params);
  assert.deepEqual(choice, { target: 'node', runtime: 'nearest', reason: 'auto → nearest-neighbour ×2' });
  assert.equal((await engine.chooseTarget(upscale.task, upscale.model, 'node', upscale.params)).runtime, 'nearest', 'a chosen place asks its runtimes in order too');

  const result = await engine.run({ id: 'on-nearest', ...upscale, image });
  assert.deepEqual(nearest.sessions, ['esrgan-slim-x2']);
  assert.equal(result.meta.target, 'node');
  const out = result.images[0];
  assert.equal(out.width, 6);
  // Nearest-neighbour ×2: pixel (5,3) is source pixel (2,1).
  assert.deepEqual([...out.data.subarray((3 * 6 + 5) * 4, (3 * 6 + 5) * 4 + 3)], [...image.data.subarray((1 * 3 + 2) * 4, (1 * 3 + 2) * 4 + 3)]);
});

test('a runtime that declines is passed over with its reason, and the job runs on the next one', async () => {
  const platform = createNodePlatform();
  const nearest = nearestRuntime('node');
  nearest.takes = false;
  platform.runtimes.register(nearest.entry, 300);
  const engine = new Engine(platform);

  const choice = await engine.chooseTarget(upscale.task, upscale.model, 'auto', upscale.params);
  assert.equal(choice.runtime, 'ort-node');
  assert.equal(choice.target, 'node');
  assert.deepEqual(choice.skipped, [{ target: 'node', runtime: 'nearest', why: 'it is switched off for this test', detail: 'the nearest runtime was told to decline' }]);
  assert.equal(choice.reason, 'auto → onnxruntime-node (CPU); not nearest: the nearest runtime was told to decline');

  const result = await engine.run({ id: 'past-nearest', ...upscale, image });
  assert.deepEqual(nearest.sessions, [], 'the session came from onnxruntime-node');
  assert.equal(result.images[0].width, 6);
});

test('the browser asks a GPU, then the server, then WASM; the "Run on" line says in plain words why it passed them over', async () => {
  // Nothing answers on port 9, Node has no WebGPU and no Web Workers (for the WASM pool): auto ends on WASM, having
  // asked the other three.
  const platform = createBrowserPlatform({ modelBaseUrl: 'http://127.0.0.1:9' });
  assert.deepEqual(platform.runtimes.list().map((r) => r.name), ['ort-web/webgpu', 'oip', 'ort-web/wasm-pool', 'ort-web/wasm']);
  const everywhere = card(['webgpu', 'wasm', 'node', 'server']);

  const choice = await platform.chooseTarget(everywhere, 'auto');
  assert.equal(choice.target, 'wasm');
  assert.deepEqual(choice.skipped?.map((s) => [s.runtime, s.why]), [['ort-web/webgpu', 'this browser can’t use it'], ['oip', 'it isn’t answering'], ['ort-web/wasm-pool', 'this browser can’t split the work across its cores']]);
  const line = describeTargetChoice('auto', choice);
  assert.equal(line.text, 'On this computer');
  assert.deepEqual(line.skipped, ['Not on this computer’s graphics card: this browser can’t use it.', 'Not on the server: it isn’t answering.']);
  for (const text of [line.text, ...line.skipped!]) assert.doesNotMatch(text, ENGINE_WORDS, 'designers\' words in the line');
  assert.match(line.detail!, /^auto → WASM \(1 thread\); not ort-web\/webgpu: .*WebGPU.*; not oip: Cannot reach/, 'the engine\'s words in the details');

  // A new runtime for the processor, above the server: auto takes it while it says yes, and passes it over when it
  // says no; the line names only places other than the one the job runs on.
  const nearest = nearestRuntime('wasm');
  platform.runtimes.register(nearest.entry, 250);
  const taken = await platform.chooseTarget(everywhere, 'auto');
  assert.deepEqual([taken.runtime, taken.skipped?.map((s) => s.runtime)], ['nearest', ['ort-web/webgpu']]);
  nearest.takes = false;
  const passed = await platform.chooseTarget(everywhere, 'auto');
  assert.deepEqual([passed.runtime, passed.skipped?.map((s) => s.runtime)], ['ort-web/wasm', ['ort-web/webgpu', 'nearest', 'oip', 'ort-web/wasm-pool']]);
  assert.deepEqual(describeTargetChoice('auto', passed).skipped, ['Not on this computer’s graphics card: this browser can’t use it.', 'Not on the server: it isn’t answering.']);
});

test('a software GPU adapter is a last resort: WASM first, the GPU only for a model nothing else here runs; a chosen GPU is honoured', async () => {
  const caps: MachineCaps = {
    webgpu: { available: true, detail: 'software adapter (google swiftshader): correct but slow' },
    wasm: { available: true, threads: 1, crossOriginIsolated: false, detail: '1 thread' },
  };
  const runtimes = new RuntimeRegistry({ caps: async () => caps, notHere: (t) => `no ${t} here` });
  runtimes.register(webGpuEntry, 300);
  runtimes.register({ name: 'down-server', target: 'server', resolve: () => no('it isn’t answering', 'connection refused'), create: () => assert.fail('never made') }, 200);
  runtimes.register(wasmEntry, 100);

  const onWasm = await runtimes.choose(card(['webgpu', 'wasm', 'server']), 'auto');
  assert.equal(onWasm.runtime, 'ort-web/wasm');
  assert.deepEqual(onWasm.skipped?.map((s) => [s.runtime, s.why]), [['ort-web/webgpu', 'this browser only imitates one in software, slower than the processor'], ['down-server', 'it isn’t answering']]);
  assert.equal(onWasm.reason, 'auto → WASM (1 thread); not ort-web/webgpu: WebGPU has only a software adapter (google swiftshader): correct but slow; not down-server: connection refused');

  const onGpu = await runtimes.choose(card(['webgpu', 'server']), 'auto');
  assert.equal(onGpu.runtime, 'ort-web/webgpu');
  assert.deepEqual(onGpu.skipped?.map((s) => s.runtime), ['down-server', 'ort-web/wasm']);
  assert.deepEqual(await runtimes.choose(card(['webgpu', 'wasm']), 'webgpu'), { target: 'webgpu', runtime: 'ort-web/webgpu', reason: 'WebGPU: software adapter (google swiftshader): correct but slow' });

  await assert.rejects(runtimes.choose(card(['webgpu', 'wasm']), 'node'), /^FrontierError: no node here$/);
  await assert.rejects(runtimes.choose(card(['node']), 'wasm'), /Model M does not run in the browser \(WASM\): choose Server or Auto\./);
  await assert.rejects(runtimes.choose(card(['node']), 'auto'), /WebGPU is unavailable: Model M does not run on WebGPU\. Choose auto or WASM\./, 'no runtime takes it: the first refusal says why');
});

test('registering again replaces a runtime of the same name; equal priorities keep the order they came in', () => {
  const runtimes = new RuntimeRegistry({ caps: async () => assert.fail('not asked'), notHere: () => '' });
  const entry = (name: string) => ({ name, target: 'wasm' as const, resolve: () => no('', ''), create: () => assert.fail('not made') });
  runtimes.register(entry('a'), 100);
  runtimes.register(entry('b'), 100);
  runtimes.register(entry('c'), 200);
  runtimes.register(entry('a'), 50);
  assert.deepEqual(runtimes.list().map((r) => `${r.name}@${r.priority}`), ['c@200', 'b@100', 'a@50']);
});
