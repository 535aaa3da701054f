// Inpainting on onnxruntime-node. Alignment is checked with hand-built "oracle" models that have SimMIM's inputs and
// outputs: one returns its input (a fill pasted even one pixel off would differ from the photo), one returns a
// constant (exactly which pixels changed), one paints the mask tokens it was given (which cells were hidden). Then the
// tiny SimMIM through the engine and the CLI, and every bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { attr, encodeModel, type NodeSpec } from '../../models/convert/onnx-proto.ts';
import { Engine } from '../../worker/engine.ts';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import { readPngText } from '../../worker/image/png-meta.ts';
import { FrontierError, parseResultMeta, type RgbaImage } from '../../worker/job.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { createNodePlatform, REPO_ROOT } from '../../worker/platform-node.ts';
import { inpaint } from '../../worker/tasks/inpaint.ts';
import { resolveParams, type TaskContext } from '../../worker/tasks/task.ts';
import { wrapOrtSession } from '../../worker/runtime/ort-common.ts';

const PHOTO = join(REPO_ROOT, 'test', 'fixtures', 'images', 'astronaut.png');
const TINY = 'simmim-swin-base-192-tiny';
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

const registry = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'registry.json'), 'utf8')) as { models: ModelCard[] };
const tinyCard = registry.models.find((m) => m.id === TINY)!;

type Oracle = 'identity' | 'constant' | 'reveal-mask';

/** A model with SimMIM's card interface and a known answer. */
function oracleModel(kind: Oracle): Uint8Array {
  const nodes: NodeSpec[] = {
    identity: [{ opType: 'Identity', name: 'same', inputs: ['image'], outputs: ['reconstruction'] }],
    constant: [{ opType: 'Mul', name: 'zero', inputs: ['image', 'zero'], outputs: ['reconstruction'] }],
    // Each token's value, 4×4 px per token, in all three channels, times 2 (in normalised space).
    'reveal-mask': [
      { opType: 'Unsqueeze', name: 'chan', inputs: ['mask', 'axis1'], outputs: ['m4'] },
      { opType: 'Resize', name: 'up', inputs: ['m4', '', 'scales'], outputs: ['big'], attributes: [attr.string('mode', 'nearest')] },
      { opType: 'Concat', name: 'rgb', inputs: ['big', 'big', 'big'], outputs: ['rgb'], attributes: [attr.int('axis', 1)] },
      { opType: 'Mul', name: 'two', inputs: ['rgb', 'two'], outputs: ['reconstruction'] },
    ],
  }[kind];
  return encodeModel({
    producerName: 'frontier-test',
    producerVersion: '0',
    graph: {
      name: kind,
      nodes,
      initializers: [
        { name: 'zero', dims: [], data: Float32Array.of(0) },
        { name: 'two', dims: [], data: Float32Array.of(2) },
        { name: 'axis1', dims: [1], data: BigInt64Array.of(1n) },
        { name: 'scales', dims: [4], data: Float32Array.of(1, 1, 4, 4) },
      ].filter((i) => nodes.some((n) => n.inputs.includes(i.name))),
      inputs: [
        { name: 'image', elemType: 'float32', shape: ['batch', 3, 192, 192] },
        { name: 'mask', elemType: 'float32', shape: ['batch', 48, 48] },
      ],
      outputs: [{ name: 'reconstruction', elemType: 'float32', shape: ['batch', 3, 192, 192] }],
    },
  });
}

async function runOracle(kind: Oracle, image: RgbaImage, mask: RgbaImage | undefined, params: Record<string, number> = {}, cancelAfter = Infinity) {
  const session = wrapOrtSession(await ort.InferenceSession.create(oracleModel(kind)), ort.Tensor as never);
  let runs = 0;
  const tiles: number[] = [];
  const wrapped = { ...session, run: async (...args: Parameters<typeof session.run>) => (runs++, session.run(...args)) };
  const ctx: TaskContext = {
    job: { id: 'oracle', task: 'inpaint', params, image, ...(mask ? { mask } : {}) },
    params: resolveParams(inpaint, params),
    model: { ...tinyCard, id: `oracle-${kind}` },
    target: 'node',
    session: async () => wrapped,
    part: () => tinyCard,
    file: () => Promise.reject(new Error('no files')),
    progress: (p) => p.stage === 'run' && tiles.push(p.total),
    throwIfCancelled: () => {
      if (runs >= cancelAfter) throw new FrontierError('cancelled', 'Cancelled: nothing was placed.');
    },
    signal: new AbortController().signal,
    jobServer: () => {
      throw new Error('no server');
    },
  };
  const out = await inpaint.run(ctx);
  return { image: out.images[0], runs, tiles: tiles[0] };
}

const photo = (): Promise<RgbaImage> => nodeCodec.decode(readFileSync(PHOTO));

/** A mask of the photo's size: `fill(x, y)` in 0..255 (grey, opaque). */
function maskOf(width: number, height: number, fill: (x: number, y: number) => number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = fill(x, y);
      data.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

const rect = (x0: number, y0: number, w: number, h: number) => (x: number, y: number) => (x >= x0 && x < x0 + w && y >= y0 && y < y0 + h ? 255 : 0);

function changedPixels(a: RgbaImage, b: RgbaImage): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < a.width * a.height; i++) for (let c = 0; c < 4; c++) if (a.data[i * 4 + c] !== b.data[i * 4 + c]) out.add(i);
  return out;
}

const meanColour = MEAN.map((m) => Math.round(m * 255));
const revealColour = MEAN.map((m, c) => Math.round((2 * STD[c] + m) * 255));

test('inpaint: an identity model gives back the photo exactly (the fill lands where it was taken, to the pixel)', async () => {
  const image = await photo();
  // An unaligned 48×80 hole, and one crossing the right edge of the image.
  for (const mask of [maskOf(512, 512, rect(203, 151, 48, 80)), maskOf(512, 512, rect(470, 300, 60, 37))]) {
    const { image: out, runs } = await runOracle('identity', image, mask);
    assert.ok(runs >= 1);
    assert.equal(changedPixels(image, out).size, 0, 'every pixel identical');
  }
});

test('inpaint: only masked pixels change, and each becomes the fill; feathering changes only pixels within its reach', async () => {
  const image = await photo();
  const mask = maskOf(512, 512, rect(203, 151, 48, 80));
  const { image: out } = await runOracle('constant', image, mask);
  const changed = changedPixels(image, out);
  for (let y = 0; y < 512; y++) {
    for (let x = 0; x < 512; x++) {
      const i = y * 512 + x;
      const inside = rect(203, 151, 48, 80)(x, y) > 0;
      if (inside) assert.deepEqual([...out.data.subarray(i * 4, i * 4 + 3)], meanColour, `(${x}, ${y}) is the fill`);
      else assert.ok(!changed.has(i), `(${x}, ${y}) outside the mask is untouched`);
    }
  }
  assert.equal(out.data[(151 * 512 + 203) * 4 + 3], image.data[(151 * 512 + 203) * 4 + 3], 'alpha kept');

  const feathered = (await runOracle('constant', image, mask, { feather: 4 })).image;
  let ramp = 0;
  for (let y = 0; y < 512; y++) {
    for (let x = 0; x < 512; x++) {
      const i = y * 512 + x;
      const dx = Math.max(203 - x, 0, x - 250);
      const dy = Math.max(151 - y, 0, y - 230);
      const d = Math.max(dx, dy);
      const same = [0, 1, 2].every((c) => feathered.data[i * 4 + c] === image.data[i * 4 + c]);
      if (d > 5) assert.ok(same, `(${x}, ${y}) ${d} px from the mask is untouched`);
      if (d >= 1 && d <= 3 && !same) ramp++;
    }
  }
  assert.ok(ramp > 500, `pixels next to the mask blend toward the fill (${ramp})`);
});

test('inpaint: the model is told to hide exactly the 32-px cells the mask touches', async () => {
  const image = await photo();
  // A soft, odd-shaped mask: a disc with a grey (half-fill) rim.
  const mask = maskOf(512, 512, (x, y) => {
    const r = Math.hypot(x - 300.5, y - 250.5);
    return r < 20 ? 255 : r < 23 ? 128 : 0;
  });
  const { image: out } = await runOracle('reveal-mask', image, mask);
  for (let y = 0; y < 512; y++) {
    for (let x = 0; x < 512; x++) {
      const i = y * 512 + x;
      if (mask.data[i * 4] === 255) assert.deepEqual([...out.data.subarray(i * 4, i * 4 + 3)], revealColour, `(${x}, ${y}) was hidden from the model`);
      if (mask.data[i * 4] === 0) assert.deepEqual([...out.data.subarray(i * 4, i * 4 + 4)], [...image.data.subarray(i * 4, i * 4 + 4)]);
      if (mask.data[i * 4] === 128) {
        // Half fill: halfway between the photo and the fill colour.
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(out.data[i * 4 + c] - (image.data[i * 4 + c] + revealColour[c]) / 2) <= 1);
      }
    }
  }
});

test('inpaint: a hole larger than a tile is processed at a smaller scale; the fill stays inside the mask', async () => {
  const image = await photo();
  const mask = maskOf(512, 512, rect(100, 100, 400, 300));
  const { image: out, tiles } = await runOracle('identity', image, mask);
  assert.ok(tiles <= 9, `scaled down: ${tiles} tiles, not a native-size grid`);
  const changed = changedPixels(image, out);
  let sum = 0;
  let count = 0;
  for (const i of changed) {
    const x = i % 512, y = Math.floor(i / 512);
    assert.ok(rect(100, 100, 400, 300)(x, y) > 0, `(${x}, ${y}) outside the mask is untouched`);
  }
  for (let i = 0; i < 512 * 512; i++) {
    if (mask.data[i * 4] === 0) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(out.data[i * 4 + c] - image.data[i * 4 + c]);
    count += 3;
  }
  assert.ok(sum / count < 12, `an identity fill at a smaller scale is the photo, softened (mean diff ${(sum / count).toFixed(2)})`);
  assert.ok(sum / count > 0.5, 'and it was really processed smaller');
});

test('inpaint: bad masks are explained; cancel between tiles stops', async () => {
  const image = await photo();
  const cases: [RgbaImage | undefined, RegExp][] = [
    [undefined, /needs a mask/],
    [maskOf(512, 512, () => 0), /mask is empty/],
    [maskOf(512, 512, () => 255), /covers the whole image/],
    [maskOf(256, 512, () => 255), /256×512 but the image is 512×512/],
  ];
  for (const [mask, message] of cases) {
    await assert.rejects(runOracle('identity', image, mask), (err: FrontierError) => err.code === 'bad-input' && message.test(err.message));
  }
  // Scattered holes far apart: several tiles; cancelled after the first.
  const scattered = maskOf(512, 512, (x, y) => rect(10, 10, 20, 20)(x, y) || rect(480, 480, 20, 20)(x, y) || rect(10, 480, 20, 20)(x, y));
  const all = await runOracle('identity', image, scattered);
  assert.ok(all.runs >= 3, `one tile per distant hole (${all.runs})`);
  await assert.rejects(runOracle('identity', image, scattered, {}, 1), (err: FrontierError) => err.code === 'cancelled');
});

test('inpaint: the tiny SimMIM through the engine is deterministic and changes only masked pixels; the CLI writes it', async () => {
  const engine = new Engine(createNodePlatform());
  const image = await photo();
  const mask = maskOf(512, 512, rect(203, 151, 48, 80));
  const a = await engine.run({ id: 'i1', task: 'inpaint', params: {}, image, mask });
  const b = await engine.run({ id: 'i2', task: 'inpaint', params: {}, image, mask });
  assert.equal(a.meta.model, TINY);
  assert.equal(a.meta.modelVariant, 'tiny');
  assert.deepEqual(a.images[0].data, b.images[0].data);
  const changed = changedPixels(image, a.images[0]);
  assert.ok(changed.size > 48 * 80 * 0.9, `the hole was filled (${changed.size} px changed)`);
  for (const i of changed) assert.ok(rect(203, 151, 48, 80)(i % 512, Math.floor(i / 512)) > 0);

  const dir = mkdtempSync(join(tmpdir(), 'frontier-inpaint-'));
  try {
    writeFileSync(join(dir, 'mask.png'), await nodeCodec.encodePng(mask));
    const cli = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'server', 'bin', 'frontier.js'), ...args], { encoding: 'utf8' });
    const ok = cli(['inpaint', PHOTO, join(dir, 'out.png'), '--mask', join(dir, 'mask.png')]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /tiny random-weight TEST model/);
    const png = readFileSync(join(dir, 'out.png'));
    assert.deepEqual((await nodeCodec.decode(png)).data, a.images[0].data, 'the CLI gives the engine\'s pixels');
    assert.equal(parseResultMeta(readPngText(png, 'frontier'))?.task, 'inpaint');
    const missing = cli(['inpaint', PHOTO, join(dir, 'x.png')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /needs --mask <mask.png>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
