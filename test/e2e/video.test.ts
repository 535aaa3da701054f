// Video end to end in real Chromium: a clip opened in the playground is sent by the plugin UI (its worker) to the
// real server as a job (chunked upload, server-sent progress), upscaled frame by frame with the real ESRGAN weights
// and real ffmpeg, placed back as a video node in one undo step; cancel mid-job places nothing.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ResultMeta } from '../../worker/job.ts';
import { makeClip, probe, requireFfmpeg } from '../server/jobs-util.ts';
import { nodes, openPlayground, waitForTargetLine, type NodeInfo, type Playground } from './harness.ts';

type Hook = {
  openVideo(name: string, bytes: Uint8Array, type?: string): Promise<string>;
  openSample(name: string): Promise<string>;
  select(ids: string[]): void;
  clip(id: string): { mime: string; base64: string } | null;
  undo(): string | undefined;
};

async function openVideo(pg: Playground, name: string, bytes: Uint8Array): Promise<string> {
  return pg.page.evaluate(
    ({ name, data }) => (window as unknown as { playground: Hook }).playground.openVideo(name, Uint8Array.from(data), 'video/mp4'),
    { name, data: Array.from(bytes) },
  );
}

async function waitForNodes(pg: Playground, count: number, timeoutMs = 120_000): Promise<NodeInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await nodes(pg.page);
    if (list.length >= count) return list;
    const error = await pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
    if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`nothing placed within ${timeoutMs} ms\n${pg.logs.join('\n')}`);
    await pg.page.waitForTimeout(250);
  }
}

describe('video in the playground', { timeout: 300_000 }, () => {
  let pg: Playground;
  let work: string;
  let clip: Uint8Array;
  let slowClip: Uint8Array;

  before(async () => {
    requireFfmpeg();
    work = await mkdtemp(join(tmpdir(), 'frontier-e2e-video-'));
    await makeClip(join(work, 'clip.mp4'), { width: 32, height: 24, fps: 8, seconds: 1 });
    await makeClip(join(work, 'slow.mp4'), { width: 64, height: 48, fps: 8, seconds: 3 });
    clip = new Uint8Array(await readFile(join(work, 'clip.mp4')));
    slowClip = new Uint8Array(await readFile(join(work, 'slow.mp4')));
    pg = await openPlayground({ server: { jobs: { dir: join(work, 'jobs'), windowFrames: 2, heartbeatMs: 100 } } });
  });
  after(async () => {
    await pg?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a clip is upscaled ×2 on the local server and placed as a video node; one undo removes it', async () => {
    const sourceId = await openVideo(pg, 'clip.mp4', clip);
    await pg.ui.locator('[data-testid="task-select"]').selectOption('upscale-video');
    await pg.ui.locator('[data-testid="param-scale-2"]').click();
    await pg.ui.locator('[data-testid="param-quality-fast"]').click();
    await pg.ui.locator('[data-testid="target-select"]').selectOption('auto');
    // Video runs only on a server: auto must say it chose the local one.
    await waitForTargetLine(pg, /^On the Frontier server/);
    await pg.ui.locator('[data-testid="run"]').click();
    // (An 8-frame clip can finish before a progress line could be observed: progress per stage is checked in
    // test/node/video-job.test.ts, and the cancel test below waits for frame progress on a longer clip.)
    const list = await waitForNodes(pg, 2);
    const placed = list.find((n) => n.id !== sourceId)!;
    assert.equal((placed as NodeInfo & { video: boolean }).video, true);
    assert.deepEqual([placed.width, placed.height], [64, 48]);
    const meta = JSON.parse(placed.pluginData.frontier) as ResultMeta;
    assert.equal(meta.task, 'upscale-video');
    assert.equal(meta.model, 'esrgan-slim-x2');
    assert.equal(meta.target, 'server');

    const stored = await pg.page.evaluate((id) => (window as unknown as { playground: Hook }).playground.clip(id), placed.id);
    assert.equal(stored?.mime, 'video/mp4');
    const out = join(work, 'placed.mp4');
    await writeFile(out, Buffer.from(stored!.base64, 'base64'));
    const probed = await probe(out);
    assert.deepEqual([probed.width, probed.height, probed.frames], [64, 48, 8]);

    const result = pg.ui.locator('[data-testid="result"]');
    await result.locator('[data-testid="result-video"]').waitFor();
    assert.match((await result.locator('[data-testid="result-download"]').getAttribute('download')) ?? '', /\.mp4$/);
    if (process.env.FRONTIER_SCREENSHOTS) await pg.page.screenshot({ path: join(process.env.FRONTIER_SCREENSHOTS, 'video-placed.png') });

    const undone = await pg.page.evaluate(() => (window as unknown as { playground: Hook }).playground.undo());
    assert.match(undone ?? '', /Place Upscale video/);
    assert.equal((await nodes(pg.page)).length, 1);
  });

  test('cancel during the server job places nothing and leaves the plugin ready', async () => {
    const before = (await nodes(pg.page)).length;
    await openVideo(pg, 'slow.mp4', slowClip);
    await pg.ui.locator('[data-testid="task-select"]').selectOption('upscale-video');
    await pg.ui.locator('[data-testid="param-scale-4"]').click();
    await pg.ui.locator('[data-testid="param-quality-best"]').click();
    await pg.ui.locator('[data-testid="run"]').click();
    await pg.ui.locator('[data-testid="progress"]').filter({ hasText: /Upscaling frame/ }).waitFor({ timeout: 120_000 });
    await pg.ui.locator('[data-testid="cancel"]').click();
    const message = pg.ui.locator('[data-testid="error"]');
    await message.waitFor();
    assert.equal(await message.getAttribute('data-tone'), 'neutral');
    assert.match((await message.textContent()) ?? '', /Cancelled/);
    await pg.ui.locator('[data-testid="run"]').waitFor();
    assert.equal((await nodes(pg.page)).length, before + 1, 'only the opened clip: nothing was placed');
  });

  test('an image task with a clip selected, and the video task with an image selected, say what to select', async () => {
    const hook = (fn: string, arg: unknown) => pg.page.evaluate(({ fn, arg }) => (window as unknown as { playground: Record<string, (a: unknown) => unknown> }).playground[fn](arg), { fn, arg });
    const clipId = (await nodes(pg.page)).find((n) => (n as NodeInfo & { video: boolean }).video)!.id;
    await hook('select', [clipId]);
    await pg.ui.locator('[data-testid="task-select"]').selectOption('upscale');
    assert.equal(await pg.ui.locator('[data-testid="run"]').isDisabled(), true);
    assert.match((await pg.ui.locator('[data-testid="run"]').getAttribute('title')) ?? '', /A video is selected: choose Upscale video/);
    await hook('openSample', 'chelsea.png');
    await pg.ui.locator('[data-testid="task-select"]').selectOption('upscale-video');
    assert.match((await pg.ui.locator('[data-testid="run"]').getAttribute('title')) ?? '', /Select a video, or an animated top-level frame/);
  });
});
