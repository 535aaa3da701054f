// `npm run export:triton` for TTVSR's five parts, and TTVSR video jobs against the exported repository. The tiny
// TTVSR REDS parts (models/export/ttvsr.py at tiny width, seeded random weights, exported by Python into a temporary
// registry) are exported as a Triton model repository; every config.pbtxt, read back by our pbtxt reader, is checked
// against the ONNX graph's own inputs and outputs read from the file's protobuf (models/convert/protobuf-wire.ts, not
// onnxruntime, which the exporter uses): names, TYPE_FP32, -1 for every symbolic dim, no batching (a recurrence step
// per call), and a header that names the part and its siblings. Then the repository is served as Triton serves it
// (test/fakes/triton-repository.ts: metadata from the configs, the graphs on onnxruntime-node) and a Frontier server
// whose frames go there (jobs.inferUrl) upscales a 10-frame clip of a real photo ×4 with TTVSR, one /infer per part
// call: the frames equal the driver's run directly on the decoded frames. Needs Debian's python3-torch + python3-onnx
// and ffmpeg; fails (never skips) without them.
//
//   node --import tsx --test --test-reporter=spec test/server/triton-ttvsr.test.ts
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { wireFields, wireText, type WireField } from '../../models/convert/protobuf-wire.ts';
import { startServer } from '../../server/server.ts';
import { exportTritonRepository, type TritonExportResult } from '../../server/triton/export.ts';
import { parsePbtxt, type PbtxtValue } from '../../server/triton/pbtxt-parse.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { createOrtNodeRuntime } from '../../worker/runtime/ort-node.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import { DEFAULT_CONTEXT, DEFAULT_WINDOW, fromRgb24, toRgb24, TTVSR_PARTS, upscaleClipInWindows, type RunPart, type TtvsrPart, type VideoFrame } from '../../worker/video/ttvsr.ts';
import { assertOk, readCheckedCard, requireTorch, runExport } from '../export/export-util.ts';
import { startFakeOipServer, type FakeOipServer } from '../fakes/oip-server.ts';
import { loadTritonRepository, type TritonRepositoryModels } from '../fakes/triton-repository.ts';
import { tempRoot, type TempRoot } from './helpers.ts';
import { authHeaders, poll, requireFfmpeg, submit } from './jobs-util.ts';
import { decodeFrames, encodeFrames, makePhotoClip } from './photo-clip.ts';

const W = 78;
const H = 62;
const FRAMES = 10;
const LONG = 600_000;
const PIPELINE = 'ttvsr-reds-tiny';
const partId = (part: TtvsrPart) => `ttvsr-reds-${part}-tiny`;

/** ONNX TensorProto.DataType → Triton's name, for the types these graphs use. */
const TRITON_OF_ONNX: Record<number, string> = { 1: 'TYPE_FP32', 2: 'TYPE_UINT8', 7: 'TYPE_INT64', 10: 'TYPE_FP16' };

interface GraphTensor {
  name: string;
  data_type: { ident: string };
  dims: number[];
}

const sub = (fields: Iterable<WireField>, no: number) => [...fields].filter((f) => f.no === no && f.bytes).map((f) => f.bytes!);

/** A graph's inputs (initializers left out) and outputs, straight from the ONNX protobuf. */
function graphIo(model: Uint8Array): { input: GraphTensor[]; output: GraphTensor[] } {
  const [graph] = sub(wireFields(model), 7); // ModelProto.graph
  assert.ok(graph, 'the file has a graph');
  const graphFields = [...wireFields(graph)];
  const initializers = new Set(sub(graphFields, 5).map((t) => wireText([...wireFields(t)].find((f) => f.no === 8)!))); // TensorProto.name
  const valueInfo = (bytes: Uint8Array): GraphTensor => {
    const fields = [...wireFields(bytes)];
    const name = wireText(fields.find((f) => f.no === 1)!);
    const [tensorType] = sub(wireFields(sub(fields, 2)[0]), 1); // ValueInfoProto.type → TypeProto.tensor_type
    const typeFields = [...wireFields(tensorType)];
    const elemType = Number(typeFields.find((f) => f.no === 1)!.varint);
    const dims = sub(wireFields(sub(typeFields, 2)[0]), 1).map((d) => {
      const dim = [...wireFields(d)].find((f) => f.no === 1 || f.no === 2); // dim_value | dim_param
      return dim?.no === 1 ? Number(dim.varint) : -1;
    });
    return { name, data_type: { ident: TRITON_OF_ONNX[elemType] ?? `onnx type ${elemType}` }, dims };
  };
  return {
    input: sub(graphFields, 11).map(valueInfo).filter((t) => !initializers.has(t.name)),
    output: sub(graphFields, 12).map(valueInfo),
  };
}

const asList = (v: PbtxtValue | undefined): PbtxtValue[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Max and mean |a − b| over frames of packed RGB24, in levels. */
function diff(a: Uint8Array[], b: Uint8Array[]): { max: number; mean: number } {
  assert.equal(a.length, b.length, 'frame counts');
  let max = 0;
  let sum = 0;
  let count = 0;
  for (let t = 0; t < a.length; t++) {
    for (let i = 0; i < a[t].length; i++) {
      const d = Math.abs(a[t][i] - b[t][i]);
      if (d > max) max = d;
      sum += d;
    }
    count += a[t].length;
  }
  return { max, mean: sum / count };
}

describe('TTVSR on a Triton model repository', { timeout: 1_200_000 }, () => {
  let root: TempRoot;
  let work: string;
  let files: string;
  let cards: Record<TtvsrPart, ModelCard>;
  let sessions: Record<TtvsrPart, Session>;
  let repo: string;
  let exported: TritonExportResult;
  const lines: string[] = [];

  before(async () => {
    requireFfmpeg();
    requireTorch();
    work = await mkdtemp(join(tmpdir(), 'frontier-triton-ttvsr-'));
    root = await tempRoot();
    files = join(root.root, 'models', 'build', 'files');
    await mkdir(files, { recursive: true });
    const list: [TtvsrPart, ModelCard][] = [];
    for (const part of TTVSR_PARTS) {
      // One export per part: each builds the whole tiny model from seed 0, so the parts' weights agree.
      assertOk(await runExport([`ttvsr-reds-${part}`, '--tiny', '--seed', '0', '--out', join(work, 'tiny')], 300_000), `tiny export of ${part}`);
      const { card, onnxPath } = readCheckedCard(join(work, 'tiny'), partId(part));
      await copyFile(onnxPath, join(files, card.files[0].name));
      list.push([part, card as ModelCard]);
    }
    cards = Object.fromEntries(list) as Record<TtvsrPart, ModelCard>;
    const registryPath = join(root.root, 'models', 'registry.json');
    await writeFile(registryPath, JSON.stringify({ version: 1, models: list.map(([, c]) => c) }));
    repo = join(work, 'repo');
    exported = await exportTritonRepository({ out: repo, registryPath, modelDir: files, localRegistryPath: null, gpu: false, log: (l) => lines.push(l) });
    const runtime = createOrtNodeRuntime();
    sessions = Object.fromEntries(
      await Promise.all(list.map(async ([part, card]) => [part, await runtime.createSession(card, () => readFile(join(files, card.files[0].name)).then((b) => new Uint8Array(b)))] as const)),
    ) as Record<TtvsrPart, Session>;
  });
  after(async () => {
    if (sessions) await Promise.all(Object.values(sessions).map((s) => s.dispose()));
    await root?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('each part is a model of its own whose config is its ONNX graph: names, types, dynamic dims, no batching; its header says how it is driven', async () => {
    assert.deepEqual(exported.exported.map((m) => m.id).sort(), TTVSR_PARTS.map(partId).sort());
    for (const part of TTVSR_PARTS) {
      const id = partId(part);
      const text = await readFile(join(repo, id, 'config.pbtxt'), 'utf8');
      const config = parsePbtxt(text);
      const graph = graphIo(await readFile(join(repo, id, '1', 'model.onnx')));
      assert.ok(graph.input.length > 0 && graph.output.length > 0, `${id}: the graph has inputs and outputs`);
      assert.deepEqual(Object.keys(config), ['name', 'platform', 'max_batch_size', 'input', 'output', 'instance_group'], `${id}: no dynamic_batching`);
      assert.deepEqual([config.name, config.platform, config.max_batch_size], [id, 'onnxruntime_onnx', 0]);
      assert.deepEqual(config.instance_group, [{ count: 1, kind: { ident: 'KIND_CPU' } }]);
      for (const side of ['input', 'output'] as const) {
        assert.deepEqual(asList(config[side]), graph[side], `${id}: ${side} entries are the graph's`);
        const cardSide = side === 'input' ? cards[part].io.inputs : cards[part].io.outputs;
        assert.deepEqual(cardSide.map((t) => ({ name: t.name, dims: t.shape.map((d) => (typeof d === 'number' ? d : -1)) })), graph[side].map((t) => ({ name: t.name, dims: t.dims })), `${id}: the card agrees`);
      }
      // The height and width are dynamic everywhere: one repository serves every frame size.
      for (const t of [...graph.input, ...graph.output]) assert.deepEqual(t.dims.slice(-2), [-1, -1], `${id}: ${t.name} [${t.dims}]`);
      assert.match(text, new RegExp(`^# Part "${part}" of the TTVSR pipeline ${PIPELINE} \\(flow: ttvsr-reds-flow-tiny, features: ttvsr-reds-features-tiny, align: ttvsr-reds-align-tiny, refine: ttvsr-reds-refine-tiny, reconstruct: ttvsr-reds-reconstruct-tiny; each its own model here, version 1\\)\\.$`, 'm'));
      assert.match(text, /^# No ensemble: the recurrence over frames and keyframes is a loop/m);
      assert.doesNotMatch(text, /×1|Pixels:/, 'no image-model words on a part');
      assert.ok(lines.some((l) => l.startsWith(`✓ ${id}: `) && l.includes(`max_batch_size 0 (one step of ${PIPELINE}'s recurrence`)), `${id}: its line`);
    }
    // The align part takes the keyframe token buffers: [batch, keyframes, 16C, H/4, W/4], every dim but 16C dynamic.
    const align = parsePbtxt(await readFile(join(repo, partId('align'), 'config.pbtxt'), 'utf8'));
    assert.deepEqual(asList(align.input).map((t) => (t as { name: string }).name), ['feature', 'propagated', 'flow', 'location', 'tokens_s1', 'tokens_s2', 'tokens_s3', 'tokens_index']);
    assert.deepEqual((asList(align.input)[4] as { dims: number[] }).dims, [-1, -1, 128, -1, -1]);
    assert.match(lines.join('\n'), /raise Triton's --http-max-input-size \(default 64 MB\)/);
  });

  test('a TTVSR video job whose frames go to the repository served as Triton serves it: one /infer per part call, the driver\'s frames', async () => {
    let served: TritonRepositoryModels | undefined;
    let triton: FakeOipServer | undefined;
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      served = await loadTritonRepository(repo);
      assert.deepEqual(served.models.map((m) => m.name).sort(), TTVSR_PARTS.map(partId).sort());
      triton = await startFakeOipServer({ models: served.models });
      server = await startServer({ port: 0, root: root.root, jobs: { dir: join(work, 'jobs'), heartbeatMs: 100, inferUrl: triton.url } });

      await makePhotoClip(join(work, 'clip.mp4'), { photo: 'chelsea.png', width: W, height: H, fps: 10, panPx: 3, x0: 100, y0: 60, frames: FRAMES });
      const clip = new Uint8Array(await readFile(join(work, 'clip.mp4')));
      const id = 'ttvsr-triton-0001';
      await submit(server, id, clip, JSON.stringify({ task: 'upscale-video', model: PIPELINE, params: { scale: 4 }, upload: { bytes: clip.length, mime: 'video/mp4' } }));
      const end = (await poll(server, id, undefined, LONG)).at(-1)!;
      assert.equal(end.state, 'succeeded', end.error);

      // Every part ran on "Triton", by its model name; 10 frames in windows [0,8)+4 and [8,10) with 4 before.
      const infers = triton.infers().map((r) => r.path);
      for (const part of TTVSR_PARTS) assert.ok(infers.includes(`/v2/models/${partId(part)}/infer`), `${part} ran there`);
      assert.ok(infers.length > 50, `${infers.length} part calls`);
      assert.deepEqual(new Set(infers.map((p) => p.split('/')[3])), new Set(TTVSR_PARTS.map(partId)), 'nothing else was called to infer');

      const res = await fetch(`${server.url}/jobs/${id}/result`, { headers: authHeaders(server) });
      assert.equal(res.status, 200);
      await writeFile(join(work, 'triton.mp4'), new Uint8Array(await res.arrayBuffer()));
      const viaTriton = await decodeFrames(join(work, 'triton.mp4'), 4 * W, 4 * H);

      // The driver run directly on the frames the server decodes, encoded as the server encodes (crf 18), decoded.
      const runPart: RunPart = (part, feeds) => sessions[part].run(feeds);
      const decoded = await decodeFrames(join(work, 'clip.mp4'), W, H);
      async function* stream(): AsyncGenerator<VideoFrame> {
        for (const f of decoded) yield fromRgb24(f, W, H);
      }
      const raw: Uint8Array[] = [];
      for await (const f of upscaleClipInWindows(stream(), { window: DEFAULT_WINDOW, context: DEFAULT_CONTEXT }, runPart)) raw.push(toRgb24(f));
      await encodeFrames(join(work, 'expected.mp4'), raw, 4 * W, 4 * H, 10, 18);
      const d = diff(viaTriton, await decodeFrames(join(work, 'expected.mp4'), 4 * W, 4 * H));
      console.log(`TTVSR through the Triton layout vs the driver's frames encoded alike: max ${d.max}, mean ${d.mean.toFixed(4)} levels over ${viaTriton.length} frames`);
      assert.equal(viaTriton.length, FRAMES);
      assert.ok(d.max <= 2 && d.mean < 0.05, `max ${d.max}, mean ${d.mean.toFixed(4)} levels`);
    } finally {
      await server?.close();
      await triton?.close();
      await served?.release();
    }
  });
});
