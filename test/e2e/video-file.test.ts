// Choose a clip… end to end in real Chromium: a clip file chosen in the plugin UI (its file input, inside the
// playground's sandboxed iframe) goes from the UI to the real server as a job (chunked upload, server-sent progress),
// is upscaled with the real ESRGAN weights and real ffmpeg, and comes back placed as a video node with no source: at a
// free spot in view, overlapping nothing. The host is never asked to read video.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ResultMeta } from '../../worker/job.ts';
import { makeClip, probe, requireFfmpeg } from '../server/jobs-util.ts';
import { inView, nodes, openPlayground, viewport, waitForTargetLine, type NodeInfo, type Playground } from './harness.ts';

type Hook = { openSample(name: string): Promise<string>; clip(id: string): { mime: string; base64: string } | null; messages(): { type: string }[]; undo(): string | undefined };
const hook = <T>(pg: Playground, fn: (p: Hook) => T | Promise<T>) => pg.page.evaluate(`(${fn.toString()})(window.playground)`) as Promise<T>;

describe('Choose a clip… in the playground', { timeout: 300_000 }, () => {
  let pg: Playground;
  let work: string;
  let clipPath: string;

  before(async () => {
    requireFfmpeg();
    work = await mkdtemp(join(tmpdir(), 'frontier-e2e-clip-file-'));
    clipPath = join(work, 'holiday.mp4');
    await makeClip(clipPath, { width: 32, height: 24, fps: 8, seconds: 1 });
    pg = await openPlayground({ server: { jobs: { dir: join(work, 'jobs'), windowFrames: 2, heartbeatMs: 100 } } });
  });
  after(async () => {
    await pg?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a chosen clip is upscaled ×2 on the server and placed as a video node in view, beside nothing', async () => {
    const photoId = await hook(pg, (p) => p.openSample('chelsea.png')); // something on the canvas to keep clear of
    await pg.ui.locator('[data-testid="task-select"]').selectOption('upscale-video');
    await pg.ui.locator('[data-testid="param-scale-2"]').click();
    await pg.ui.locator('[data-testid="param-quality-fast"]').click();
    await pg.ui.locator('[data-testid="target-select"]').selectOption('auto');
    await waitForTargetLine(pg, /^On the Frontier server/);

    await pg.ui.locator('[data-testid="clip-input"]').setInputFiles(clipPath);
    await pg.ui.locator('[data-testid="clip-facts"]').filter({ hasText: /^1\.0 s · 32 × 24 · \d+ KB$/ }).waitFor({ timeout: 15_000 });
    assert.equal(await pg.ui.locator('[data-testid="clip-frames"]').textContent(), '≈ 30 frames at 30 fps');
    const run = pg.ui.locator('[data-testid="run"]');
    assert.equal(await run.textContent(), 'Upscale video ×2', 'one item: the chosen clip (the selected photo is no clip)');
    await run.click();

    const deadline = Date.now() + 120_000;
    let placed: NodeInfo | undefined;
    while (!placed) {
      placed = (await nodes(pg.page)).find((n) => n.id !== photoId);
      const error = await pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
      if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
      if (!placed && Date.now() > deadline) throw new Error(`nothing placed within 120 s\n${pg.logs.join('\n')}`);
      if (!placed) await pg.page.waitForTimeout(250);
    }
    assert.equal((placed as NodeInfo & { video: boolean }).video, true);
    assert.deepEqual([placed.width, placed.height], [64, 48]);
    const meta = JSON.parse(placed.pluginData.frontier) as ResultMeta;
    assert.deepEqual([meta.task, meta.model, meta.target], ['upscale-video', 'esrgan-slim-x2', 'server']);

    // No source: a free spot in view, clear of the photo.
    const photo = (await nodes(pg.page)).find((n) => n.id === photoId)!;
    assert.ok(inView(placed, await viewport(pg.page)), `the clip is in view: ${JSON.stringify(placed)} in ${JSON.stringify(await viewport(pg.page))}`);
    const overlaps = placed.x < photo.x + photo.width && photo.x < placed.x + placed.width && placed.y < photo.y + photo.height && photo.y < placed.y + placed.height;
    assert.equal(overlaps, false, 'it overlaps nothing');

    const sent = (await hook(pg, (p) => p.messages())).map((m) => m.type);
    assert.equal(sent.includes('read-video'), false, 'the clip went from the UI to the server, not through the host');
    const placeVideo = (await hook(pg, (p) => p.messages())).find((m) => m.type === 'place-video') as unknown as { summary: string };
    assert.doesNotMatch(placeVideo.summary, /sourceNodeId/, 'placed with no source');

    const stored = await pg.page.evaluate((id) => (window as unknown as { playground: Hook }).playground.clip(id), placed.id);
    const out = join(work, 'placed.mp4');
    await writeFile(out, Buffer.from(stored!.base64, 'base64'));
    const probed = await probe(out);
    assert.deepEqual([probed.width, probed.height, probed.frames], [64, 48, 8]);
    assert.notDeepEqual(new Uint8Array(await readFile(out)), new Uint8Array(await readFile(clipPath)));

    await pg.ui.locator('[data-testid="result"] [data-testid="result-video"]').waitFor();
    assert.match((await hook(pg, (p) => p.undo())) ?? '', /Place Upscale video/);
    assert.equal((await nodes(pg.page)).length, 1, 'one undo removes it');
  });
});
