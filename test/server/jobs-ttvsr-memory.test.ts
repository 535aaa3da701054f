// The TTVSR memory budget on a real server with the real ffmpeg: the five TTVSR REDS part cards (from the committed
// templates: full width, 64 channels) with stand-in files, since a refused clip never loads a model. A clip whose
// windows would need more than jobs.ttvsrMemoryBytes (worker/video/ttvsr-memory.ts) fails before any window runs,
// with a message that says how much it needs, what fits, and what to do (a smaller clip, ESRGAN per frame, a bigger
// server); the frame size it names fits the budget and one a little larger does not. FRONTIER_TTVSR_MEMORY_GB sets the
// default budget, else half the machine's memory.
//
//   node --import tsx --test --test-reporter=spec test/server/jobs-ttvsr-memory.test.ts
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultTtvsrMemoryBytes } from '../../server/jobs/service.ts';
import { REPO_ROOT } from '../../server/paths.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { DEFAULT_CONTEXT, DEFAULT_WINDOW, TTVSR_PARTS } from '../../worker/video/ttvsr.ts';
import { clipWindows, windowsHeldBytes } from '../../worker/video/ttvsr-memory.ts';
import { tempRoot, type TempRoot } from './helpers.ts';
import { clipWorkspace, makeClip, poll, submit } from './jobs-util.ts';

const BUDGET = 2e9;

async function partCards(): Promise<ModelCard[]> {
  return Promise.all(
    TTVSR_PARTS.map(async (part) => {
      const id = `ttvsr-reds-${part}`;
      const template = JSON.parse(await readFile(join(REPO_ROOT, 'models', 'templates', `${id}.template.json`), 'utf8')) as { cards: Record<string, Omit<ModelCard, 'files'>> };
      return { ...template.cards[id], files: [{ name: `${id}.stand-in.onnx`, sha256: '0'.repeat(64), bytes: 4 }] } as ModelCard;
    }),
  );
}

describe('TTVSR memory budget', { timeout: 120_000 }, () => {
  let root: TempRoot;
  let server: RunningServer;
  let work: string;
  let big: Uint8Array; // 640×360: ≈ 11 GB with the product's windows
  let small: Uint8Array;

  before(async () => {
    const cards = await partCards();
    root = await tempRoot({
      'models/registry.json': JSON.stringify({ version: 1, models: cards }),
      ...Object.fromEntries(cards.map((c) => [`models/build/files/${c.files[0].name}`, new Uint8Array(4)])),
    });
    ({ work } = await clipWorkspace('frontier-ttvsr-memory-'));
    await makeClip(join(work, 'big.mp4'), { width: 640, height: 360, fps: 8, seconds: 1 });
    await makeClip(join(work, 'small.mp4'), { width: 64, height: 64, fps: 8, seconds: 1 });
    big = new Uint8Array(await readFile(join(work, 'big.mp4')));
    small = new Uint8Array(await readFile(join(work, 'small.mp4')));
    server = await startServer({ port: 0, root: root.root, jobs: { dir: join(work, 'jobs'), ttvsrMemoryBytes: BUDGET, heartbeatMs: 100 } });
  });
  after(async () => {
    await server?.close();
    await root?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const body = (bytes: number) => JSON.stringify({ task: 'upscale-video', model: 'ttvsr-reds', params: { scale: 4 }, upload: { bytes, mime: 'video/mp4' } });

  test('a clip whose windows need more than the budget is refused before any window runs, saying what to do', async () => {
    const id = 'ttvsr-too-big-0001';
    await submit(server, id, big, body(big.length));
    const seen = await poll(server, id, undefined, 60_000);
    const end = seen.at(-1)!;
    assert.equal(end.state, 'failed');
    assert.ok(!seen.some((j) => j.progress.stage === 'run' && j.progress.done > 0), 'no frame was made');
    const message = end.error ?? '';
    console.log(message);
    const windows = await clipWindows(8, DEFAULT_WINDOW, DEFAULT_CONTEXT);
    const need = windowsHeldBytes({ width: 640, height: 360, channels: 64 }, windows);
    assert.ok(need.total > BUDGET);
    assert.match(message, new RegExp(`^TTVSR \\(REDS\\) needs about ${(need.total / 1e9).toFixed(need.total < 10e9 ? 1 : 0)} GB of memory for 640×360 frames`));
    assert.match(message, /more than the 2\.0 GB this server allows it/);
    assert.match(message, /choose an ESRGAN model \(it upscales frame by frame\)/);
    assert.match(message, /or use a server with more memory \(its limit: FRONTIER_TTVSR_MEMORY_GB/);
    const [, w, h] = /frames up to about (\d+)×(\d+) fit/.exec(message) ?? [];
    assert.ok(w && h, message);
    // The size it names fits; 5 % more does not; the aspect ratio is the clip's.
    const at = (width: number, height: number) => windowsHeldBytes({ width, height, channels: 64 }, windows).total;
    assert.ok(at(Number(w), Number(h)) <= BUDGET);
    assert.ok(at(Math.round(Number(w) * 1.05), Math.round(Number(h) * 1.05)) > BUDGET);
    assert.ok(Math.abs(Number(w) / Number(h) - 640 / 360) < 0.02, `${w}×${h}`);
  });

  test('a clip that fits goes on to run (here it then fails on the stand-in model files, not on memory)', async () => {
    const id = 'ttvsr-fits-0001';
    await submit(server, id, small, body(small.length));
    const end = (await poll(server, id, undefined, 60_000)).at(-1)!;
    assert.equal(end.state, 'failed');
    assert.doesNotMatch(end.error ?? '', /of memory/);
  });

  test('the default budget: FRONTIER_TTVSR_MEMORY_GB, else half the machine’s memory', () => {
    assert.equal(defaultTtvsrMemoryBytes({}), Math.floor(totalmem() / 2));
    assert.equal(defaultTtvsrMemoryBytes({ FRONTIER_TTVSR_MEMORY_GB: '48' }), 48e9);
    assert.equal(defaultTtvsrMemoryBytes({ FRONTIER_TTVSR_MEMORY_GB: '0.5' }), 0.5e9);
    assert.throws(() => defaultTtvsrMemoryBytes({ FRONTIER_TTVSR_MEMORY_GB: 'lots' }), /FRONTIER_TTVSR_MEMORY_GB must be a positive number of gigabytes, got "lots"/);
  });
});
