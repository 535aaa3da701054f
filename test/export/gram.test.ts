// Checks models/export/gram.py (GRAM FFHQ-256 generator + manifold renderer) end to end: the tiny export through
// export.py, its card, the ONNX on onnxruntime-node against PyTorch's dumped outputs (on the camera fixture rays),
// the ONNX-friendly rewrites against the official algorithm, and a fake checkpoint with the official layout.
// Needs Debian's PyTorch: apt-get install -y python3-torch python3-onnx
//
//   node --import tsx --test test/export/gram.test.ts

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  EXPORT_DIR, assertOk, maxAbsDiff, meanAbsDiff, readCheckedCard, readReference, requireTorch, runExport, runPython,
  toOrtTensor, type ExportedCard, type Reference, type ReferenceTensor,
} from './export-util.ts';

const GRAM = join(EXPORT_DIR, 'gram.py');
const RAYS = JSON.parse(readFileSync(new URL('fixtures/gram-rays.json', import.meta.url), 'utf8')) as RaysFixture;
const BAD_KEY = 'representation.sample_network.network.0.wieght';

interface RaysFixture {
  fovDeg: number;
  size: number;
  poses: { yaw: number; pitch: number; origins: number[][]; directions: number[][] }[];
}
type GramCard = ExportedCard & { io: { size: number; camera: { fovDeg: number; up: number[] } } };

let work = '';

/** Exports with export.py (+ --dump-reference) and checks the generic card fields. */
async function exportModel(name: string, id: string, source: string[]): Promise<{ card: GramCard; onnx: string; dump: Reference }> {
  const out = join(work, name);
  assertOk(await runExport(['gram-ffhq-256', ...source, '--out', out, '--dump-reference', join(out, 'reference.json')]), `export ${id}`);
  const { card, onnxPath } = readCheckedCard(out, id);
  return { card: card as GramCard, onnx: onnxPath, dump: readReference(join(out, 'reference.json')) };
}

function feeds(inputs: Record<string, ReferenceTensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, toOrtTensor(t)]));
}

before(() => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'frontier-gram-'));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('camera fixture: GRAM convention (origin on the unit sphere, fov 12° between edge pixel centres, row 0 on top)', () => {
  assert.equal(RAYS.size, 4);
  assert.equal(RAYS.fovDeg, 12);
  assert.equal(RAYS.poses.length, 2);
  for (const { yaw, pitch, origins, directions } of RAYS.poses) {
    const expected = [Math.sin(pitch) * Math.cos(yaw), Math.cos(pitch), Math.sin(pitch) * Math.sin(yaw)];
    const forward = expected.map((c) => -c);
    assert.equal(origins.length, 16);
    for (const o of origins) assert.ok(maxAbsDiff(o, expected) < 1e-12);
    for (const d of directions) assert.ok(Math.abs(Math.hypot(...d) - 1) < 1e-12);
    // Corner pixel centres sit at NDC (±1, ±1): angle to the forward axis = atan(√2·tan(fov/2)).
    const cornerAngle = Math.atan(Math.SQRT2 * Math.tan((6 * Math.PI) / 180));
    for (const i of [0, 3, 12, 15]) {
      const cos = directions[i].reduce((s, c, k) => s + c * forward[k], 0);
      assert.ok(Math.abs(Math.acos(cos) - cornerAngle) < 1e-9, `corner ${i}`);
    }
  }
  // Default pose: camera at (0, 0, 1); the first ray (top-left pixel) points left (−x) and up (+y).
  const [first] = RAYS.poses[0].directions;
  assert.ok(first[0] < 0 && first[1] > 0 && first[2] < 0);
  const last = RAYS.poses[0].directions[15];
  assert.ok(last[0] > 0 && last[1] < 0);
});

test('tiny export: card, content-addressed file, ONNX = PyTorch on the fixture rays, z changes the image', async () => {
  const { card, onnx, dump } = await exportModel('tiny', 'gram-ffhq-256-tiny', ['--tiny']);

  assert.equal(card.task, 'rotate-view');
  assert.equal(card.variant, 'tiny');
  assert.match(card.label, /random-weight test model/);
  assert.match(card.description, /random/i);
  assert.deepEqual(card.io.inputs.map((i) => [i.name, i.dtype, i.shape]), [
    ['z', 'float32', ['batch', 256]], ['truncation', 'float32', [1]],
    ['ray_origins', 'float32', ['batch', 'rays', 3]], ['ray_directions', 'float32', ['batch', 'rays', 3]],
  ]);
  assert.deepEqual(card.io.outputs.map((o) => [o.name, o.shape]), [['rgb', ['batch', 'rays', 3]], ['depth', ['batch', 'rays', 1]]]);
  assert.deepEqual(card.io.image, { layout: 'NHWC', range: [-1, 1] });
  assert.equal(card.io.scale, 1);
  assert.deepEqual(card.io.tile, { size: 64, overlap: 0 });
  assert.equal(card.io.size, 256);
  assert.deepEqual(card.io.latent, { name: 'z', size: 256, distribution: 'normal(0, 1)' });
  assert.equal(card.io.camera.fovDeg, 12);
  assert.deepEqual(card.io.camera.up, [0, 1, 0]);
  assert.match(card.license, /non-commercial.*no redistribution/);
  assert.equal(card.source.converter, 'models/export/gram.py');
  assert.match(card.source.paper ?? '', /GRAM/);
  assert.deepEqual(card.targets, ['webgpu', 'wasm', 'node', 'server']);

  assert.ok(card.files[0].bytes < 2_000_000, `tiny ONNX is ${card.files[0].bytes} bytes`);

  // Run 0 of the check is the camera fixture: both poses in one batch, one z each.
  const fixture = dump.runs[0].inputs;
  assert.deepEqual(fixture.ray_origins.shape, [2, 16, 3]);
  assert.deepEqual(fixture.ray_origins.data, RAYS.poses.flatMap((p) => p.origins.flat()).map(Math.fround));
  assert.deepEqual(fixture.ray_directions.data, RAYS.poses.flatMap((p) => p.directions.flat()).map(Math.fround));

  assert.ok(dump.tolerance > 0 && dump.tolerance <= 1e-3);
  const session = await ort.InferenceSession.create(onnx);
  try {
    for (const [i, { inputs, outputs }] of dump.runs.entries()) {
      const got = await session.run(feeds(inputs));
      for (const name of ['rgb', 'depth']) {
        assert.deepEqual(got[name].dims, outputs[name].shape);
        const diff = maxAbsDiff(got[name].data as Float32Array, outputs[name].data);
        assert.ok(diff <= dump.tolerance, `run ${i} ${name}: |ONNX − PyTorch| = ${diff} > ${dump.tolerance}`);
      }
    }

    const first = await session.run(feeds(fixture));
    const again = await session.run(feeds(fixture));
    assert.deepEqual(again.rgb.data, first.rgb.data, 'same z and rays must give the same rgb');

    // Swap the two z rows: each pose is rendered with the other latent and must look different.
    const z = fixture.z.data;
    const swapped = { ...fixture, z: { ...fixture.z, data: [...z.slice(256), ...z.slice(0, 256)] } };
    const other = await session.run(feeds(swapped));
    const rgb = first.rgb.data as Float32Array;
    const meanDiff = meanAbsDiff(rgb, other.rgb.data as Float32Array);
    assert.ok(meanDiff > 1e-3, `different z gave nearly the same rgb (mean |diff| ${meanDiff})`);
    for (const v of rgb) assert.ok(v >= -1.01 && v <= 1.01, `rgb ${v} outside [-1, 1]`);
  } finally {
    await session.release();
  }
});

test('rewrites (ranking sort, one-hot search, exp∘cumsum∘log) equal the official algorithm; EMA weights load', async () => {
  const check = await runPython([GRAM, 'check']);
  assertOk(check, 'gram.py check');
  const result = JSON.parse(check.stdout) as {
    tiny: { rewriteMaxDiff: Record<string, number> };
    full: { rewriteMaxDiff: Record<string, number>; keysMatchOfficial: boolean; params: number; largestTensorBytesPerRay: number };
    checkpoint: { emaLoaded: boolean; rawDiffers: boolean; wrongKeyError: string };
    keysFileMatches: boolean;
  };
  for (const width of [result.tiny, result.full]) {
    for (const diff of Object.values(width.rewriteMaxDiff)) assert.ok(diff < 1e-5, `rewrite differs by ${diff}`);
  }
  assert.equal(result.full.keysMatchOfficial, true);
  assert.equal(result.keysFileMatches, true, 'models/export/keys/gram-ffhq-256.txt differs from official_keys()');
  assert.equal(result.full.params, 1_950_621);
  // 64×64 tiles: the largest tensor (scalar-field MLP activations) must stay within 128 MiB.
  assert.ok(result.full.largestTensorBytesPerRay * 64 * 64 <= 128 * 2 ** 20);
  assert.equal(result.checkpoint.emaLoaded, true);
  assert.equal(result.checkpoint.rawDiffers, true);
  assert.match(result.checkpoint.wrongKeyError, /wieght/);
});

test('a fake checkpoint with the official layout (full width, generator.pth + pickled torch_ema ema.pth) exports', async () => {
  const fake = join(work, 'fake');
  assertOk(await runPython([GRAM, 'fake-checkpoint', '--out', fake, '--bad-key', BAD_KEY]), 'fake checkpoint');
  const { card, onnx, dump } = await exportModel('full', 'gram-ffhq-256', ['--checkpoint', join(fake, 'generator.pth')]);
  assert.equal(card.variant, 'full');
  assert.equal(card.label, 'GRAM FFHQ 256');
  assert.equal(card.source.checkpoint, 'generator.pth');
  const session = await ort.InferenceSession.create(onnx);
  try {
    const { inputs, outputs } = dump.runs[0];
    const got = await session.run(feeds(inputs));
    assert.ok(maxAbsDiff(got.rgb.data as Float32Array, outputs.rgb.data) <= dump.tolerance);
  } finally {
    await session.release();
  }
});

test('a checkpoint with a wrong key fails with an error naming the key', async () => {
  const bad = join(work, 'fake', 'bad'); // written by the previous test
  const proc = await runExport(['gram-ffhq-256', '--checkpoint', join(bad, 'generator.pth'), '--out', join(work, 'bad-out')]);
  assert.equal(proc.code, 1);
  assert.match(proc.stderr, /unexpected keys \(1\): representation\.sample_network\.network\.0\.wieght/);
  assert.match(proc.stderr, /missing keys \(1\): representation\.sample_network\.network\.0\.weight/);
});
