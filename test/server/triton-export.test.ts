// `npm run export:triton`: every exported config.pbtxt, read back by our own pbtxt reader, against the inputs and
// outputs onnxruntime-node reads from the exported model.onnx; the model bytes against the source and the card;
// --cpu / --tensorrt against the default config; and the failures a user can run into.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exportTritonRepository } from '../../server/triton/export.ts';
import { parsePbtxt, type PbtxtMessage, type PbtxtValue } from '../../server/triton/pbtxt-parse.ts';
import type { Registry } from '../../worker/models/card.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH } from '../../worker/platform-node.ts';
import { REPO } from './helpers.ts';

const registry = JSON.parse(await readFile(REGISTRY_PATH, 'utf8')) as Registry;
const card = (id: string) => registry.models.find((m) => m.id === id)!;
const SLIM = 'esrgan-slim-x2';
const THICK = 'esrgan-thick-x4';

// The Triton names for onnxruntime's types, written out here rather than imported from the exporter.
const EXPECTED_TYPE: Record<string, string> = { float32: 'TYPE_FP32', float16: 'TYPE_FP16', uint8: 'TYPE_UINT8', int64: 'TYPE_INT64' };

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'frontier-triton-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const quiet = () => {
  const lines: string[] = [];
  return { lines, log: (line: string) => lines.push(line) };
};

async function readConfig(repo: string, id: string): Promise<PbtxtMessage> {
  return parsePbtxt(await readFile(join(repo, id, 'config.pbtxt'), 'utf8'));
}

const asList = (v: PbtxtValue | undefined): PbtxtValue[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Checks one exported model folder against the model itself; returns its parsed config. */
async function checkExportedModel(repo: string, id: string, kind: 'KIND_GPU' | 'KIND_CPU'): Promise<PbtxtMessage> {
  const modelPath = join(repo, id, '1', 'model.onnx');
  const exported = await readFile(modelPath);
  const source = await readFile(join(MODEL_FILES_DIR, card(id).files[0].name));
  assert.ok(exported.equals(source), `${id}: model.onnx differs from the source file`);
  assert.equal(createHash('sha256').update(exported).digest('hex'), card(id).files[0].sha256, `${id}: sha256 differs from the card`);

  const config = await readConfig(repo, id);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  try {
    const sides = [
      ['input', session.inputMetadata],
      ['output', session.outputMetadata],
    ] as const;
    const real = sides.map(([side, metas]) => ({
      side,
      tensors: metas.map((m) => {
        assert.ok(m.isTensor, `${id}: ${m.name} is a tensor`);
        return { name: m.name, data_type: { ident: EXPECTED_TYPE[m.type] }, dims: m.shape.map((d) => (typeof d === 'number' ? d : -1)) };
      }),
    }));
    // Triton owns a batch dim only when every tensor's first dim is dynamic; ours are a fixed 1 (one image).
    const firstDims = real.flatMap((r) => r.tensors.map((t) => t.dims[0]));
    const batched = firstDims.every((d) => d === -1);
    if (id.startsWith('esrgan-')) assert.deepEqual(new Set(firstDims), new Set([1]), `${id}: a fixed batch of 1`);
    assert.equal(config.max_batch_size, batched ? 8 : 0);
    const fields = ['name', 'platform', 'max_batch_size', 'input', 'output', 'instance_group', ...(batched ? ['dynamic_batching'] : [])];
    assert.deepEqual(Object.keys(config), fields, `${id}: config fields`);
    assert.equal(config.name, id);
    assert.equal(config.platform, 'onnxruntime_onnx');
    assert.deepEqual(config.instance_group, [{ count: 1, kind: { ident: kind } }]);
    for (const { side, tensors } of real) {
      const expected = tensors.map((t) => ({ ...t, dims: batched ? t.dims.slice(1) : t.dims }));
      assert.deepEqual(asList(config[side]), expected, `${id}: ${side} entries`);
      // And the card agrees, including which dims are dynamic.
      const cardSide = side === 'input' ? card(id).io.inputs : card(id).io.outputs;
      assert.deepEqual(
        cardSide.map((t) => ({ name: t.name, dims: t.shape.map((d) => (typeof d === 'number' ? d : -1)) })),
        tensors.map((t) => ({ name: t.name, dims: t.dims })),
      );
    }
  } finally {
    await session.release();
  }
  return config;
}

test('exports every built model with a config that matches the real model', async () => {
  const out = join(tmp, 'all');
  const { lines, log } = quiet();
  const result = await exportTritonRepository({ out, log });
  const built = registry.models.filter((m) => existsSync(join(MODEL_FILES_DIR, m.files[0].name))).map((m) => m.id);
  assert.ok(built.includes(SLIM) && built.includes(THICK), 'the models are built (npm run build)');
  assert.deepEqual(result.exported.map((m) => m.id), built);
  assert.deepEqual((await readdir(out)).sort(), [...built].sort());
  assert.ok(lines.some((l) => l.startsWith(`✓ ${SLIM}: input float32 [1,-1,-1,3] → output float32 [1,-1,-1,3]; max_batch_size 0 (batch dim fixed at 1`)));
  for (const id of built) {
    await checkExportedModel(out, id, 'KIND_GPU');
    assert.deepEqual((await readdir(join(out, id))).sort(), ['1', 'config.pbtxt'], `${id}: no temporary files left`);
    assert.ok(lines.some((l) => l.startsWith(`✓ ${id}: `) && l.includes('; max_batch_size ')), `${id}: one line printed`);
  }
  const hint = lines.join('\n');
  assert.match(hint, new RegExp(`docker run --rm --gpus all -p 8000:8000 -v ${out}:/models \\S+ tritonserver --model-repository=/models`));
  assert.match(hint, /origin "null" with the Authorization header/);
});

test('--cpu and --tensorrt change exactly their blocks; exporting again over a repository replaces it', async () => {
  const base = join(tmp, 'variants');
  await mkdir(base);
  const dirs = { gpu: join(base, 'gpu'), cpu: join(base, 'cpu'), trt: join(base, 'trt') };
  await exportTritonRepository({ out: dirs.gpu, models: [SLIM, THICK], log: quiet().log });
  await exportTritonRepository({ out: dirs.cpu, models: [SLIM, THICK], gpu: false, log: quiet().log });
  await exportTritonRepository({ out: dirs.trt, models: [SLIM, THICK], tensorrt: true, log: quiet().log });
  for (const id of [SLIM, THICK]) {
    const gpu = await checkExportedModel(dirs.gpu, id, 'KIND_GPU');
    await checkExportedModel(dirs.cpu, id, 'KIND_CPU');
    assert.deepEqual(await readConfig(dirs.cpu, id), { ...gpu, instance_group: [{ count: 1, kind: { ident: 'KIND_CPU' } }] });
    assert.deepEqual(await readConfig(dirs.trt, id), {
      ...gpu,
      optimization: { execution_accelerators: { gpu_execution_accelerator: [{ name: 'tensorrt' }] } },
    });
  }
  // Re-export with --tensorrt over the GPU repository: its config is replaced, nothing stale or temporary stays.
  await exportTritonRepository({ out: dirs.gpu, models: [SLIM], tensorrt: true, log: quiet().log });
  assert.deepEqual(await readConfig(dirs.gpu, SLIM), await readConfig(dirs.trt, SLIM));
  assert.deepEqual(await readdir(join(dirs.gpu, SLIM, '1')), ['model.onnx']);
});

test('model.onnx is a hard link on the same filesystem, a real copy with --copy', async () => {
  const source = await stat(join(MODEL_FILES_DIR, card(SLIM).files[0].name));
  const linked = await exportTritonRepository({ out: join(tmp, 'linked'), models: [SLIM], log: quiet().log });
  const copied = await exportTritonRepository({ out: join(tmp, 'copied'), models: [SLIM], copy: true, log: quiet().log });
  const sameFs = (await stat(tmp)).dev === source.dev;
  assert.equal(linked.exported[0].placed, sameFs ? 'hard link' : 'copy');
  assert.equal((await stat(join(tmp, 'linked', SLIM, '1', 'model.onnx'))).ino === source.ino, sameFs);
  assert.equal(copied.exported[0].placed, 'copy');
  assert.notEqual((await stat(join(tmp, 'copied', SLIM, '1', 'model.onnx'))).ino, source.ino);
  await checkExportedModel(join(tmp, 'copied'), SLIM, 'KIND_GPU');
});

test('bad requests fail with a message that says what to do, and write nothing', async () => {
  const log = quiet().log;
  await assert.rejects(exportTritonRepository({ out: join(tmp, 'x1'), models: ['esrgan-huge-x9'], log }), (err: Error) => {
    assert.match(err.message, /Unknown model id "esrgan-huge-x9"\. Known ids: esrgan-slim-x2, /);
    return true;
  });
  await assert.rejects(exportTritonRepository({ out: join(tmp, 'no', 'such', 'parent', 'repo'), models: [SLIM], log }), (err: Error) => {
    assert.match(err.message, /its parent folder .*parent does not exist\. Create it first, or fix --out/);
    return true;
  });
  const aFile = join(tmp, 'a-file');
  await writeFile(aFile, 'x');
  await assert.rejects(exportTritonRepository({ out: aFile, models: [SLIM], log }), /exists and is not a folder: choose another --out/);
  await assert.rejects(exportTritonRepository({ out: join(tmp, 'x2'), gpu: false, tensorrt: true, log }), /TensorRT runs on the GPU only: drop --cpu or --tensorrt/);
  await assert.rejects(exportTritonRepository({ out: join(tmp, 'x3'), models: [], log }), /No model ids given/);
  for (const name of ['x1', 'x2', 'x3']) assert.equal(existsSync(join(tmp, name)), false, `${name} was not created`);
});

test('a corrupt, missing or mismatched model file stops the export before anything is written', async () => {
  const log = quiet().log;
  const file = card(SLIM).files[0].name;
  const corruptDir = join(tmp, 'corrupt-models');
  await mkdir(corruptDir);
  const bytes = await readFile(join(MODEL_FILES_DIR, file));
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(join(corruptDir, file), bytes);
  await copyFile(join(MODEL_FILES_DIR, card(THICK).files[0].name), join(corruptDir, card(THICK).files[0].name));
  const out = join(tmp, 'from-corrupt');
  await assert.rejects(exportTritonRepository({ out, modelDir: corruptDir, models: [THICK, SLIM], log }), (err: Error) => {
    assert.match(err.message, new RegExp(`${file} is corrupt: .* sha256 [0-9a-f]{12}…, its card says ${card(SLIM).files[0].bytes} bytes`));
    assert.match(err.message, /Delete it and run "npm run build"/);
    return true;
  });
  assert.equal(existsSync(out), false, 'nothing written, not even the healthy model');

  const emptyDir = join(tmp, 'no-models');
  await mkdir(emptyDir);
  await assert.rejects(exportTritonRepository({ out, modelDir: emptyDir, models: [SLIM], log }), /Cannot export esrgan-slim-x2: .* is not built .* run "npm run build"/);
  await assert.rejects(exportTritonRepository({ out, modelDir: emptyDir, log }), /No model files in .*no-models to export: run "npm run build" first/);

  // A card that drifted from its model: the output renamed and a dim fixed.
  const drifted: Registry = structuredClone(registry);
  const c = drifted.models.find((m) => m.id === SLIM)!;
  c.io.outputs[0].name = 'upscaled';
  c.io.inputs[0].shape = [1, 64, 'width', 3];
  const driftedPath = join(tmp, 'drifted-registry.json');
  await writeFile(driftedPath, JSON.stringify(drifted));
  await assert.rejects(exportTritonRepository({ out, registryPath: driftedPath, models: [SLIM], log }), (err: Error) => {
    assert.match(err.message, /esrgan-slim-x2: the model file does not match its card/);
    assert.match(err.message, /input "input" has dims \[1,-1,-1,3\] in the model, \[1,64,-1,3\] on the card/);
    assert.match(err.message, /the card's output "upscaled" is not in the model \(its outputs: output\)/);
    assert.match(err.message, /the model's output "output" is missing from the card/);
    return true;
  });
  assert.equal(existsSync(out), false);
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join('server', 'triton', 'export.ts'), ...args], { cwd: REPO, timeout: 60_000 }, (err, stdout, stderr) => {
      // On a non-zero exit, execFile's error carries the exit status in `code`.
      const code: unknown = err?.code;
      resolve({ code: err ? (typeof code === 'number' ? code : -1) : 0, stdout, stderr });
    });
  });
}

test('the command line exports, prints one line per model and the hint, and exits non-zero on errors', async () => {
  const out = join(tmp, 'cli');
  const ok = await runCli(['--out', out, '--models', SLIM, '--cpu']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^✓ esrgan-slim-x2: .*KIND_CPU; model.onnx /m);
  assert.match(ok.stdout, /Wrote 1 model to /);
  assert.match(ok.stdout, /docker run --rm -p 8000:8000 -v /, 'no --gpus for a CPU repository');
  await checkExportedModel(out, SLIM, 'KIND_CPU');

  const unknown = await runCli(['--out', join(tmp, 'cli2'), '--models', `${SLIM},nope`]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /Triton export failed: Unknown model id "nope"\. Known ids: /);

  const noParent = await runCli(['--out', join(tmp, 'missing', 'repo')]);
  assert.equal(noParent.code, 1);
  assert.match(noParent.stderr, /parent folder .* does not exist/);

  const usage = await runCli(['--models', SLIM]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /Missing --out <dir>[\s\S]*Usage: npm run export:triton/);
  assert.equal(existsSync(join(tmp, 'cli2')), false);
});
