// What the UI bundle (dist/figma/ui.html's script) takes from the engine's folder, worker/: the UI reaches the engine
// through Comlink (EngineApi), and task code lives in the engine. An import of the task table (worker/tasks/index.ts)
// or of one task's module pulls every task's code, and what it imports (samplers, tokenizers, tensors), into the UI:
// ≈ 50 KB of minified code the UI never runs. esbuild's metafile for ui/main.tsx, built as plugin/build-ui.ts builds
// it, lists every module the bundle reads; this test allows only the worker/ modules the UI needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import { uiBuildOptions } from '../../plugin/build-ui.ts';

/** The worker/ modules whose code the UI may bundle, and what the UI uses them for. Type-only imports vanish. */
const ALLOWED: Record<string, string> = {
  'worker/job.ts': 'FrontierError and fromWireError: engine errors keep their code across Comlink',
  'worker/base64.ts': 'the Photoshop webview wire (plugin/photoshop/wire.ts) and the server job client',
  'worker/random.ts': 'randomSeed, the seed field’s dice',
  'worker/image/mask.ts': 'composeMask: a batch item’s mask from the host’s selection',
  'worker/image/tiling.ts': 'planSpans: the time estimate counts tiles as the engine plans them (a pure helper)',
  'worker/runtime/pool-size.ts': 'planPool: the time estimate counts the WASM pool’s workers by its own rule (pure, no onnxruntime)',
  'worker/video/ttvsr-card.ts': 'naming TTVSR’s pipeline in the model picker',
  'worker/runtime/install-client.ts': 'the model manager installs official models on a server (HTTP client)',
  'worker/runtime/jobs-client.ts': 'the install client follows the server’s jobs (HTTP client)',
  'worker/runtime/oip-http.ts': 'the HTTP calls of both clients',
  'worker/models/offers.ts': 'offersModel, which models a task row offers (a pure function of a row and a card)',
  'worker/video/clip-limit.ts': 'MAX_CLIP_BYTES, the clip limit the UI checks before it reads a clip',
};

test('the UI bundle takes no task code from worker/tasks/, and only the worker/ helpers it needs', async (t) => {
  // As plugin/build-ui.ts's buildUiHtml, less the worker's source (a separate bundle, inlined as a string).
  const built = await esbuild.build({ ...uiBuildOptions(true, ''), metafile: true });
  const meta = built.metafile!;
  const inputs = Object.keys(meta.inputs);
  assert.ok(inputs.includes('ui/main.tsx') && inputs.includes('ui/format.ts') && inputs.includes('ui/cost-prior.ts'), 'the metafile lists the UI’s own modules');

  // Every module read, even one whose code was shaken out (the task table imports every task for its side effects).
  // Types from the task contract vanish; no module of worker/tasks/ may be read at all.
  const tasks = inputs.filter((p) => p.startsWith('worker/tasks/'));
  const importers = (path: string) => inputs.filter((p) => meta.inputs[p].imports.some((i) => i.path === path));
  assert.deepEqual(tasks.map((p) => `${p} (imported by ${importers(p).join(', ')})`), [], 'task code belongs to the engine: ask it through EngineApi');

  // The worker/ modules with code in the bundle, and how much.
  const js = Object.values(meta.outputs).find((o) => o.entryPoint === 'ui/main.tsx')!;
  const fromWorker = Object.entries(js.inputs).filter(([p, i]) => p.startsWith('worker/') && i.bytesInOutput > 0).map(([p, i]) => [p, i.bytesInOutput] as const);
  t.diagnostic(`UI script ${js.bytes} bytes; from worker/: ${fromWorker.map(([p, n]) => `${p} ${n}`).join(', ')}`);
  assert.deepEqual(fromWorker.map(([p]) => p).filter((p) => !(p in ALLOWED)).map((p) => `${p} (imported by ${importers(p).join(', ')})`), [],
    'a new worker/ module in the UI: allow it here with what the UI uses it for, if it is a small pure helper; else ask the engine');
});
