// Choose a clip… in real Chromium, with the fake host (as Figma, or as the Photoshop panel) and the fake engine: a
// video task takes a file chosen in the UI, shows its duration, size and an honest frame estimate, sends the file's
// own bytes to the engine's job (never through the host) and has the host place the result with no source; a file
// over 100 MB or not a video is refused with what to do; no server, or a host that cannot take video, is said plainly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIDEO_NEEDS_SERVER } from '../../ui/format.ts';
import { makeClip, requireFfmpeg } from '../server/jobs-util.ts';
import { engineRuns, holdAt, hostLog, release, selectItems, waitHeld, withHarness } from './ui-harness/ui-page.ts';

const SHOTS = join(import.meta.dirname, '..', '..', '.scratch', 'shots');

requireFfmpeg();
const work = await mkdtemp(join(tmpdir(), 'frontier-ui-clip-'));
const clipPath = join(work, 'holiday.mp4');
await makeClip(clipPath, { width: 64, height: 48, fps: 8, seconds: 2 });
const clipBytes = new Uint8Array(await readFile(clipPath));
test.after(() => rm(work, { recursive: true, force: true }));

test('Choose a clip… → its facts → Run sends the file’s bytes to the job → placed with no source; clear it again', { timeout: 120_000 }, async () => {
  await withHarness({ height: 560, hostVideo: true }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, []);
    await ui.getByTestId('task-select').selectOption('upscale-video');
    await ui.getByTestId('param-scale-2').click();
    const run = ui.getByTestId('run');
    assert.equal(await run.isDisabled(), true);
    assert.match((await run.getAttribute('title')) ?? '', /or Choose a clip… from a file/);
    assert.equal(await ui.getByTestId('selection').count(), 0, 'no image selection shown for a video task without clips');

    await ui.getByTestId('clip-input').setInputFiles(clipPath);
    const chosen = ui.getByTestId('clip-chosen');
    await chosen.waitFor({ timeout: 15_000 });
    assert.equal(await chosen.locator('.selection-name').textContent(), 'holiday.mp4');
    const kb = Math.round(clipBytes.length / 1024);
    assert.equal(await ui.getByTestId('clip-facts').textContent(), `2.0 s · 64 × 48 · ${kb} KB`);
    assert.equal(await ui.getByTestId('clip-frames').textContent(), '≈ 60 frames at 30 fps');
    assert.match((await ui.getByTestId('clip-where').textContent()) ?? '', /placed as a video/);
    await run.and(ui.locator(':not([disabled])')).waitFor();
    assert.equal(await run.textContent(), 'Upscale video ×2');
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'video-clip-chosen-320x560.png') });

    // While it runs: the progress names the frame and the latest frame shows above the bar.
    await holdAt(page, 'run:3');
    await run.click();
    await waitHeld(page, 'run:3');
    await ui.getByTestId('progress').getByText(/Upscaling frame 4 \/ 8/).waitFor();
    await ui.getByTestId('sampling-preview').waitFor();
    await page.screenshot({ path: join(SHOTS, 'video-clip-running-320x560.png') });
    await release(page);
    await ui.getByTestId('result').waitFor({ timeout: 20_000 });
    assert.equal(await ui.getByTestId('error').count(), 0, await ui.getByTestId('run-footer').innerText());

    const [job] = (await engineRuns(page)).filter((r) => r.task === 'upscale-video');
    assert.deepEqual(job.video, { mime: 'video/mp4', bytes: clipBytes.length, head: [...clipBytes.subarray(0, 12)], width: 64, height: 48 }, 'the job got the file itself');
    const log = await hostLog(page);
    assert.equal(log.received.includes('read-video'), false, 'the host was never asked for the clip');
    assert.deepEqual(log.placedVideos.map((v) => [v.sourceNodeId, v.width, v.height, v.mime]), [['(none)', 64, 48, 'video/mp4']]);
    assert.match(await ui.getByTestId('result').getAttribute('data-placed') ?? '', /^7:/);

    // A second look at the same clip: the time it took here gives an estimate (server runs are timed per frame pixel).
    await ui.getByTestId('result').getByRole('button', { name: 'Hide the result' }).click();
    await ui.getByTestId('run-estimate').getByText(/on the server/).waitFor();

    await ui.getByTestId('clip-clear').click();
    await ui.getByText('Choose a clip…', { exact: true }).waitFor();
    assert.equal(await ui.getByTestId('clip-chosen').count(), 0);
    assert.equal(await run.isDisabled(), true);
  });
});

test('a file over 100 MB, or one that is no video, is refused with what to do; Run stays off', { timeout: 60_000 }, async () => {
  const big = join(work, 'long take.mp4');
  await writeFile(big, '');
  await truncate(big, 101 * 2 ** 20); // sparse: the size is what is checked, before anything is read
  const still = join(work, 'still.png');
  await writeFile(still, new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  await withHarness({ hostVideo: true }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, []);
    await ui.getByTestId('task-select').selectOption('upscale-video');
    await ui.getByTestId('clip-input').setInputFiles(big);
    const problem = ui.getByTestId('clip-problem');
    await problem.waitFor();
    assert.equal(await problem.textContent(), '“long take.mp4” is 101 MB; video jobs take clips up to 100 MB. Export it shorter or at a lower quality.');
    assert.equal(await ui.getByTestId('run').isDisabled(), true);
    await ui.getByTestId('clip-input').setInputFiles(still);
    await problem.getByText('“still.png” is not a video Frontier takes: choose an MP4, MOV or WebM file.').waitFor();
    assert.equal(await ui.getByTestId('run').isDisabled(), true);
    assert.equal((await engineRuns(page)).length, 0);
  });
});

test('in Photoshop: layers are not clips, Choose a clip… is the way, and the result is saved and opened there', { timeout: 60_000 }, async () => {
  await withHarness({ hostName: 'photoshop', hostVideo: true }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:1']); // a layer
    await ui.getByTestId('task-select').selectOption('upscale-video');
    assert.equal(await ui.getByTestId('run').getAttribute('title'), 'Choose a clip… first: Photoshop layers cannot be read as video.');
    assert.equal(await ui.getByTestId('clip-where').textContent(), 'The result is saved where you choose, then opened in Photoshop.');
    await ui.getByTestId('clip-input').setInputFiles(clipPath);
    await ui.getByTestId('clip-chosen').waitFor({ timeout: 15_000 });
    await ui.getByTestId('run').click();
    await ui.getByTestId('result-saved').getByText('Saved and opened in Photoshop.').waitFor({ timeout: 20_000 });
    assert.equal((await hostLog(page)).placedVideos[0].sourceNodeId, '(none)');
  });
});

test('no server: a video task says where video runs and how to start it; a host without video says the result is kept here', { timeout: 60_000 }, async () => {
  await withHarness({ serverUrl: 'http://127.0.0.1:9/noserver' }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, []);
    await ui.getByTestId('task-select').selectOption('upscale-video');
    await ui.getByTestId('clip-input').setInputFiles(clipPath);
    await ui.getByTestId('clip-chosen').waitFor({ timeout: 15_000 });
    await ui.getByTestId('target-reason').getByText(VIDEO_NEEDS_SERVER).waitFor();
    assert.equal(await ui.getByTestId('run').getAttribute('title'), VIDEO_NEEDS_SERVER);
    assert.equal(await ui.getByTestId('run').isDisabled(), true);
    assert.equal(await ui.getByTestId('clip-where').textContent(), 'Figma cannot place video: the result is kept here to download.');
  });
});

test('Figma without a paid plan: the clip is refused, its first frame is placed as an image and the clip kept to download', { timeout: 60_000 }, async () => {
  const refusal = 'Figma did not accept the video (Video requires a paid plan). Figma adds video only in paid Professional, Organization or Education teams.';
  await withHarness({ hostVideo: true, videoRefused: refusal }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, []);
    await ui.getByTestId('task-select').selectOption('upscale-video');
    await ui.getByTestId('clip-input').setInputFiles(clipPath);
    await ui.getByTestId('clip-chosen').waitFor({ timeout: 15_000 });
    await ui.getByTestId('run').click();
    const error = ui.getByTestId('error');
    await error.waitFor({ timeout: 20_000 });
    assert.match((await error.textContent()) ?? '', /paid Professional, Organization or Education teams\. Its first frame is placed instead\. The upscaled clip is kept below: download it\./);
    const log = await hostLog(page);
    assert.equal(log.placed.length, 1, 'one image placed: the first frame');
    const [frame] = log.placed;
    assert.deepEqual([frame.sourceNodeId, frame.width, frame.height, frame.pngOk, frame.mode], ['', 64, 48, true, 'beside']);
    assert.match(frame.name, /^Upscale video ×\d · .+ \(first frame\)$/);
    assert.equal(frame.meta.model.length > 0, true);
    await ui.getByTestId('result-not-placed').getByText(/^Its first frame is placed: download the clip/).waitFor();
    assert.match((await ui.getByTestId('result-download').getAttribute('download')) ?? '', /\.mp4$/);
  });
});
