// `frontier models list | install <id> [--from FILE] | remove <id>` (server/cli-models.ts) with the committed catalogue
// and StyleSwin 256 template, on a fake checkpoint in the official FFHQ_256.pt layout at full size (random weights,
// written by torch.save), into a temporary registry and files folder: install converts without Python and registers
// the real card (variant full), the installed model generates an image on onnxruntime-node, remove takes it away;
// a licence that must be accepted, an unknown id, a file only a browser can download and a checkpoint of the wrong
// model are refused with what to do. Without --from it downloads from a fake host on 127.0.0.1 (never the internet):
// a cut connection resumes, a 404 and a full disk are refused. Needs Debian's python3-torch only to write the fake
// checkpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { modelsCommand } from '../../server/cli-models.ts';
import { readInstallRecords } from '../../server/install/official.ts';
import { startFakeHost, testCatalogue } from './install-util.ts';
import { makeFakeCheckpoint, requireTorch } from '../export/export-util.ts';

let work: string;
let checkpoint: string;

before(async () => {
  requireTorch();
  work = mkdtempSync(join(tmpdir(), 'cli-models-'));
  checkpoint = join(work, 'FFHQ_256.pt');
  await makeFakeCheckpoint('styleswin', 'styleswin-ffhq-256', checkpoint);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runWith({}, ...argv);
}

async function runWith(options: Partial<Parameters<typeof modelsCommand>[1]>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await modelsCommand(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    filesDir: join(work, 'files'),
    registryPath: join(work, 'local-registry.json'),
    ...options,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('list names every supported official model with its download, licence and state', async () => {
  const r = await run('list');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^styleswin-ffhq-256 +available$/m);
  assert.match(r.out, /download: https:\/\/facevcstandard\.blob\.core\.windows\.net\/.*FFHQ_256\.pt/);
  assert.match(r.out, /^gram-ffhq-256 +available/m);
  assert.match(r.out, /licence: Non-commercial research use only/);
  assert.match(r.out, /^ttvsr-reds +available$/m);
  assert.match(r.out, /^ttvsr-reds +available\n.*\n {4}download: https:\/\/1drv\.ms\/\S+ \(opens in a browser\)$/m);
  assert.match(r.out, /^simmim-swin-base-192-800ep +not supported yet$/m);
  assert.doesNotMatch(r.out, /WASM|onnxruntime|tensor/i, 'designer words only');
});

test('install --from converts the official file without Python and registers the real model; it generates; remove takes it away', async () => {
  const r = await run('install', 'styleswin-ffhq-256', '--from', checkpoint);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^installed styleswin-ffhq-256 \(StyleSwin FFHQ 256\): styleswin-ffhq-256\.[0-9a-f]{16}\.onnx$/m);
  assert.match(r.out, /licence: Personal and research use only/);
  const registry = JSON.parse(readFileSync(join(work, 'local-registry.json'), 'utf8'));
  const card = registry.models.find((m: { id: string }) => m.id === 'styleswin-ffhq-256');
  assert.equal(card.variant, 'full');
  assert.equal(card.task, 'generate');
  assert.deepEqual(readdirSync(join(work, 'files')), [card.files[0].name]);
  assert.match((await run('list')).out, /^styleswin-ffhq-256 +installed$/m);

  const session = await ort.InferenceSession.create(join(work, 'files', card.files[0].name), { intraOpNumThreads: 2 });
  const z = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 12.9898) * 1.2);
  const { image } = await session.run({ z: new ort.Tensor('float32', z, [1, 512]), truncation: new ort.Tensor('float32', Float32Array.of(0.7), [1]) });
  await session.release();
  assert.deepEqual(image.dims, [1, 3, 256, 256]);
  const px = image.data as Float32Array;
  assert.ok(px.every(Number.isFinite), 'finite pixels');
  assert.ok(Math.max(...px.subarray(0, 4096)) - Math.min(...px.subarray(0, 4096)) > 1e-3, 'not a flat image');

  const removed = await run('remove', 'styleswin-ffhq-256');
  assert.equal(removed.code, 0, removed.err);
  assert.deepEqual(readdirSync(join(work, 'files')), []);
  assert.match((await run('list')).out, /^styleswin-ffhq-256 +available$/m);
  assert.equal((await run('remove', 'styleswin-ffhq-256')).code, 2);
});

test('refusals say what to do and write nothing', async () => {
  const gram = await run('install', 'gram-ffhq-256', '--from', checkpoint);
  assert.equal(gram.code, 2);
  assert.match(gram.err, /licence must be accepted first: Non-commercial research use only.*\nRun again with --accept-license/s);
  const unknown = await run('install', 'stylegan-9000', '--from', checkpoint);
  assert.match(unknown.err, /no official model "stylegan-9000"\. See: frontier models list/);
  const browserOnly = await run('install', 'simmim-swin-base-192');
  assert.equal(browserOnly.code, 1);
  assert.match(browserOnly.err, /simmim_pretrain__swin_base__img192_window6__100ep\.pth cannot be downloaded directly \(https:\/\/\S+ opens in a browser\)\. Download it yourself, then run:\n {2}frontier models install simmim-swin-base-192 --from <the downloaded file>/);
  const wrong = await run('install', 'styleswin-ffhq-1024', '--from', checkpoint);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.err, /FFHQ_256\.pt does not fit styleswin-ffhq-1024|cannot be installed from a checkpoint in this version/);
  const planned = await run('install', 'simmim-swin-base-192-800ep', '--from', checkpoint);
  assert.match(planned.err, /simmim-swin-base-192-800ep is not supported yet/);
  const notTtvsr = await run('install', 'ttvsr-reds', '--from', checkpoint);
  assert.equal(notTtvsr.code, 2);
  assert.match(notTtvsr.err, /FFHQ_256\.pt is a StyleSwin checkpoint, not a TTVSR one/);
  assert.ok(!existsSync(join(work, 'files')) || readdirSync(join(work, 'files')).length === 0, 'no files left');
});

test('install ttvsr-reds --from the official file (mmcv layout) installs its five parts without Python; remove takes them all away', async () => {
  const file = join(work, 'TTVSR_REDS.pth');
  await makeFakeCheckpoint('ttvsr', 'ttvsr-reds-flow', file, { weightsKey: 'state_dict' });
  const r = await run('install', 'ttvsr-reds', '--from', file);
  assert.equal(r.code, 0, r.err);
  const parts = ['flow', 'features', 'align', 'refine', 'reconstruct'];
  for (const part of parts) assert.match(r.out, new RegExp(`^installed ttvsr-reds-${part} \\(TTVSR REDS ${part}\\): ttvsr-reds-${part}\\.[0-9a-f]{16}\\.onnx$`, 'm'));
  assert.match(r.err, /note: TTVSR_REDS\.pth: SPyNet's mean is .*not ImageNet's/, 'the fake\'s random normalisation is pointed out');
  const registry = JSON.parse(readFileSync(join(work, 'local-registry.json'), 'utf8'));
  const cards = registry.models.filter((m: { id: string }) => m.id.startsWith('ttvsr-reds-'));
  assert.deepEqual(cards.map((c: { role: string }) => c.role).sort(), [...parts].sort());
  for (const card of cards) {
    assert.equal(card.task, 'upscale-video');
    assert.equal(card.pipeline.id, 'ttvsr-reds');
    assert.deepEqual(card.targets, ['node', 'server']);
  }
  assert.equal(readdirSync(join(work, 'files')).length, 5);
  assert.match((await run('list')).out, /^ttvsr-reds +installed$/m);
  const removed = await run('remove', 'ttvsr-reds');
  assert.equal(removed.code, 0, removed.err);
  assert.deepEqual(readdirSync(join(work, 'files')), []);
});

test('install without --from downloads the checkpoint (a cut connection resumes with Range), converts it, records the download and removes it; a wrong hash, a 404 and a full disk are refused', async () => {
  const host = await startFakeHost();
  try {
    host.serve('/FFHQ_256.pt', checkpoint);
    const catalogue = testCatalogue((entry) => { entry.files[0].url = `${host.url}/FFHQ_256.pt`; });
    const options = { catalogue, allowHttpLoopback: true, retryDelayMs: 10 };
    host.cutNext(1_000_000);
    const lines: string[] = [];
    const r = await runWith({ ...options, progress: { isTTY: false, write: (text: string) => lines.push(text) } }, 'install', 'styleswin-ffhq-256');
    assert.equal(r.code, 0, r.err);
    // Not a terminal (a log): plain lines for the download and each conversion step, not one per chunk.
    assert.ok(lines.some((l) => /^Downloading FFHQ_256\.pt/.test(l)), lines.join(''));
    assert.ok(lines.some((l) => /^Reading the model file/.test(l)), lines.join(''));
    assert.ok(lines.every((l) => l.endsWith('\n') && !l.includes('\r')), 'whole lines');
    assert.ok(lines.length < 80, `${lines.length} lines`);
    assert.match(r.out, /^installed styleswin-ffhq-256 /m);
    const ranges = host.requests.filter((q) => q.path === '/FFHQ_256.pt').map((q) => q.range ?? 'whole');
    assert.deepEqual(ranges, ['whole', 'bytes=1000000-'], 'the cut download went on from where it stopped');
    const records = readInstallRecords(join(work, 'installed.json'));
    const record = records['styleswin-ffhq-256'];
    assert.equal(record.source, 'download');
    assert.equal(record.sha256, createHash('sha256').update(readFileSync(checkpoint)).digest('hex'));
    assert.equal(record.verified, false, 'no published checksum');
    assert.ok(!existsSync(join(work, 'downloads', 'styleswin-ffhq-256')), 'the download is removed once converted');

    // A 404 says so, and installs nothing more.
    const missing = testCatalogue((entry) => { entry.files[0].url = `${host.url}/gone.pt`; });
    const before = readdirSync(join(work, 'files')).sort();
    const gone = await runWith({ ...options, catalogue: missing }, 'install', 'styleswin-ffhq-256');
    assert.equal(gone.code, 1);
    assert.match(gone.err, /404/);
    assert.deepEqual(readdirSync(join(work, 'files')).sort(), before);
    // A file that is not the one its authors published a sha256 for: refused, and the download is deleted.
    const wrongHash = testCatalogue((entry) => { entry.files[0].url = `${host.url}/FFHQ_256.pt`; entry.files[0].sha256 = 'ab'.repeat(32); });
    const refused = await runWith({ ...options, catalogue: wrongHash }, 'install', 'styleswin-ffhq-256');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /FFHQ_256\.pt does not match the sha256 its authors published \(the download has [0-9a-f]{64}, the authors published (ab){32}\): it was deleted and nothing was installed/);
    assert.ok(!existsSync(join(work, 'downloads', 'styleswin-ffhq-256')), 'the download is deleted');
    assert.deepEqual(readdirSync(join(work, 'files')).sort(), before);
    // No room: refused before a byte is written.
    const full = await runWith({ ...options, freeBytes: async () => 1000 }, 'install', 'styleswin-ffhq-256');
    assert.equal(full.code, 1);
    assert.match(full.err, /Not enough disk space to install styleswin-ffhq-256: it needs about .* free, and the disk has .* free\. Free some space/);
  } finally {
    await host.close();
    await run('remove', 'styleswin-ffhq-256');
  }
});
