// Restore video end to end in real Chromium: a noisy clip cut from a real photo, opened in the playground, is sent by
// the plugin UI (its worker) to the real server as a restore-video job with the Fix chosen in the UI; every frame is
// restored there with the real MAXIM weights and real ffmpeg, with progress per frame, and the result is placed as a
// video node of the clip's size in one undo step, remembering how it was made.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ResultMeta } from '../../worker/job.ts';
import { probe, requireFfmpeg } from '../server/jobs-util.ts';
import { decodeFrames, makePhotoClip, meanAbsDiff } from '../server/photo-clip.ts';
import { nodes, openPlayground, waitForTargetLine, type NodeInfo, type Playground } from './harness.ts';

type Hook = {
  openVideo(name: string, bytes: Uint8Array, type?: string): Promise<string>;
  clip(id: string): { mime: string; base64: string } | null;
  undo(): string | undefined;
};
type VideoNode = NodeInfo & { video: boolean };

describe('Restore video in the playground', { timeout: 600_000 }, () => {
  let pg: Playground;
  let work: string;
  let clip: Uint8Array;

  before(async () => {
    requireFfmpeg();
    work = await mkdtemp(join(tmpdir(), 'frontier-e2e-restore-video-'));
    await makePhotoClip(join(work, 'noisy.mp4'), { photo: 'chelsea.png', width: 64, height: 48, frames: 4, fps: 4, panPx: 2, x0: 180, y0: 80, noiseSigma: 20, seed: 3 });
    clip = new Uint8Array(await readFile(join(work, 'noisy.mp4')));
    pg = await openPlayground({ server: { jobs: { dir: join(work, 'jobs'), windowFrames: 2, heartbeatMs: 100 } } });
  });
  after(async () => {
    await pg?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a noisy clip is denoised on the local server frame by frame and placed as a video node of its size; one undo removes it', async () => {
    const sourceId = await pg.page.evaluate(
      ({ data }) => (window as unknown as { playground: Hook }).playground.openVideo('noisy.mp4', Uint8Array.from(data), 'video/mp4'),
      { data: Array.from(clip) },
    );
    await pg.ui.locator('[data-testid="task-select"]').selectOption('restore-video');
    // The Fix speaks as Restore does.
    const fixes = await pg.ui.locator('[data-testid="param-mode"] option').allTextContents();
    assert.ok(fixes.includes('Remove rain') && fixes.includes('Denoise'), fixes.join(', '));
    await pg.ui.locator('[data-testid="param-mode"]').selectOption('denoise');
    await pg.ui.locator('[data-testid="target-select"]').selectOption('auto');
    await waitForTargetLine(pg, /^On the Frontier server/);
    await pg.ui.locator('[data-testid="run"]').click();
    // Each MAXIM frame takes seconds here: the progress line names the frame while the server works.
    await pg.ui.locator('[data-testid="progress"]').filter({ hasText: /Restoring frame \d \/ 4 on the server/ }).waitFor({ timeout: 300_000 });

    let placed: VideoNode | undefined;
    for (const deadline = Date.now() + 300_000; !placed; ) {
      placed = (await nodes(pg.page)).find((n) => n.id !== sourceId) as VideoNode | undefined;
      const error = await pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
      if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`nothing placed\n${pg.logs.join('\n')}`);
      if (!placed) await pg.page.waitForTimeout(250);
    }
    assert.equal(placed.video, true);
    assert.deepEqual([placed.width, placed.height], [64, 48]);
    assert.match(placed.name, /^Restore video · Denoise/);
    const meta = JSON.parse(placed.pluginData.frontier) as ResultMeta;
    assert.deepEqual([meta.task, meta.model, meta.params.mode, meta.target], ['restore-video', 'maxim-denoise', 'denoise', 'server']);

    const stored = await pg.page.evaluate((id) => (window as unknown as { playground: Hook }).playground.clip(id), placed.id);
    assert.equal(stored?.mime, 'video/mp4');
    const out = join(work, 'placed.mp4');
    await writeFile(out, Buffer.from(stored!.base64, 'base64'));
    assert.deepEqual(await probe(out), { width: 64, height: 48, frames: 4, codec: 'h264', audio: false });
    // It is the clip restored, not the clip again: frame by frame it differs from the noisy input by about the noise.
    const [input, output] = await Promise.all([decodeFrames(join(work, 'noisy.mp4'), 64, 48), decodeFrames(out, 64, 48)]);
    for (let t = 0; t < 4; t++) assert.ok(meanAbsDiff(input[t], output[t]) > 5, `frame ${t} changed by ${meanAbsDiff(input[t], output[t]).toFixed(2)} levels`);

    await pg.ui.locator('[data-testid="result"] [data-testid="result-video"]').waitFor();
    const undone = await pg.page.evaluate(() => (window as unknown as { playground: Hook }).playground.undo());
    assert.match(undone ?? '', /Place Restore video/);
    assert.deepEqual((await nodes(pg.page)).map((n) => n.id), [sourceId]);
  });
});
