import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatedName, resultName, runBatch } from '../../ui/batch.ts';
import type { BatchDeps, BatchProgress, BatchRequest, ItemResult } from '../../ui/batch.ts';
import { EngineError } from '../../ui/engine-client.ts';
import type { Job, Progress, RgbaImage } from '../../worker/job.ts';
import { findTask } from '../../worker/tasks/index.ts';
import { taskInfo, type TaskInfo } from '../../worker/tasks/task.ts';

/** A task's row as the engine lists it (with its display facts: the UI has no task table of its own). */
const row = (id: string): TaskInfo => taskInfo(findTask(id)!);
const TASK = row('upscale');
const items = [
  { nodeId: '1:1', name: 'A', width: 2, height: 2, kind: 'image' as const },
  { nodeId: '1:2', name: 'B', width: 3, height: 1, kind: 'image' as const },
];
const request = (over: Partial<BatchRequest> = {}): BatchRequest => ({
  task: TASK, params: { scale: 2 }, target: 'auto', placeMode: 'beside', items, modelLabel: (id) => `Label of ${id}`, ...over,
});

/** Fake host and engine that log every call in order. */
function fakes(options: { failRunOnWidth?: number; failPlaceVideo?: string } = {}) {
  const calls: string[] = [];
  const jobs: Job[] = [];
  const deps: BatchDeps = {
    host: {
      readImage: async (nodeId) => {
        calls.push(`read ${nodeId}`);
        return { type: 'image', requestId: 'r', nodeId, bytes: new Uint8Array([items.find((i) => i.nodeId === nodeId)!.width]), mime: 'image/png', width: 1, height: 1 };
      },
      placeResult: async (req) => {
        calls.push(`place ${req.sourceNodeId} ${req.width}x${req.height} "${req.name}" ${req.mode}`);
        return { type: 'placed', requestId: 'r', nodeId: `new-${req.sourceNodeId}` };
      },
      readVideo: async (nodeId) => {
        calls.push(`read-video ${nodeId}`);
        return { type: 'video', requestId: 'r', nodeId, bytes: new Uint8Array([1, 2, 3]), mime: 'video/mp4', width: 32, height: 24 };
      },
      placeVideo: async (req) => {
        calls.push(`place-video ${req.sourceNodeId} ${req.width}x${req.height} ${req.bytes.length} bytes "${req.name}"`);
        if (options.failPlaceVideo) throw new Error(options.failPlaceVideo);
        return { type: 'placed', requestId: 'r', nodeId: `video-${req.sourceNodeId}` };
      },
    },
    engine: {
      decode: async (bytes) => {
        calls.push('decode');
        return { width: bytes[0], height: 1, data: new Uint8Array(4 * bytes[0]) };
      },
      run: async (job, onProgress: (p: Progress) => void) => {
        calls.push(`run ${job.id.startsWith('job-')}`);
        jobs.push(job);
        onProgress({ jobId: job.id, stage: 'run', done: 1, total: 2 });
        if (job.video) {
          return { jobId: job.id, images: [], video: { bytes: new Uint8Array(9), mime: 'video/mp4', width: 64, height: 48 }, meta: { task: 'upscale-video', model: 'esrgan-slim-x2', modelVariant: 'full', params: job.params, target: 'server', version: '0.1.0', runMs: 3 } };
        }
        if (job.image!.width === options.failRunOnWidth) throw new EngineError('download-failed', 'HTTP 404. Start the local server: npm start.');
        const img: RgbaImage = { width: job.image!.width * 2, height: 2, data: new Uint8Array(16) };
        return { jobId: job.id, images: [img], meta: { task: 'upscale', model: 'esrgan-thick', modelVariant: 'full', params: job.params, target: 'wasm', version: '0.1.0', runMs: 3 } };
      },
      encodePng: async () => {
        calls.push('encode');
        return new Uint8Array([0x89, 0x50]);
      },
    },
  };
  return { deps, calls, jobs };
}

test('each item is read, decoded, run, encoded and placed in order; progress names the item', async () => {
  const { deps, calls, jobs } = fakes();
  const progress: BatchProgress[] = [];
  const results = await runBatch(deps, request(), { onProgress: (p) => progress.push(p), onJob: () => {}, onResult: () => {}, isCancelled: () => false });
  assert.deepEqual(calls, [
    'read 1:1', 'decode', 'run true', 'encode', 'place 1:1 4x2 "Upscale ×2 · Label of esrgan-thick" beside',
    'read 1:2', 'decode', 'run true', 'encode', 'place 1:2 6x2 "Upscale ×2 · Label of esrgan-thick" beside',
  ]);
  assert.equal(results.length, 2);
  assert.equal(results[1].placedNodeId, 'new-1:2');
  assert.equal('model' in jobs[0], false, 'no model chosen: the engine picks');
  assert.notEqual(jobs[0].id, jobs[1].id);
  assert.ok(progress.some((p) => p.text === 'Item 2 of 2 · Upscaling tile 2 / 2'), progress.map((p) => p.text).join('\n'));
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].fraction >= progress[i - 1].fraction, 'fraction never goes back');
  assert.equal(progress.at(-1)!.fraction, 1);
});

test('a chosen model is passed on, and an engine error names the item and keeps its code', async () => {
  const { deps, calls, jobs } = fakes({ failRunOnWidth: 3 });
  await assert.rejects(
    runBatch(deps, request({ model: 'esrgan-slim' }), { onProgress: () => {}, onJob: () => {}, onResult: () => {}, isCancelled: () => false }),
    (err: EngineError) => err.code === 'download-failed' && err.message === '“B”: HTTP 404. Start the local server: npm start.',
  );
  assert.equal(jobs[0].model, 'esrgan-slim');
  assert.equal(calls.filter((c) => c.startsWith('place')).length, 1, 'the first item was placed before the failure');
});

test('cancelling between items stops the batch and says how many were placed', async () => {
  const { deps, calls } = fakes();
  let cancelled = false;
  await assert.rejects(
    runBatch(deps, request(), { onProgress: () => {}, onJob: () => {}, onResult: () => (cancelled = true), isCancelled: () => cancelled }),
    (err: EngineError) => err.code === 'cancelled' && err.message === 'Cancelled — 1 placed, the rest were not.',
  );
  assert.equal(calls.filter((c) => c.startsWith('read')).length, 1);
});

test('result names carry the scale when there is one', () => {
  assert.equal(resultName(TASK, { scale: 4 }, 'ESRGAN thick'), 'Upscale ×4 · ESRGAN thick');
  assert.equal(resultName(TASK, { scale: 2 }, 'ESRGAN slim ×2'), 'Upscale ×2 · ESRGAN slim', 'the scale is said once');
  assert.equal(resultName({ ...TASK, label: 'Denoise' }, {}, 'MAXIM'), 'Denoise · MAXIM');
});

const VIDEO_TASK = row('upscale-video');
const clipItem = { nodeId: '2:1', name: 'Clip', width: 32, height: 24, kind: 'video' as const, video: true };
const noEvents = (results: ItemResult[] = []) => ({ onProgress: () => {}, onJob: () => {}, onResult: (r: ItemResult) => results.push(r), isCancelled: () => false });

test('a video item is read as a clip, run as a server job with a unique id and placed as video', async () => {
  const { deps, calls, jobs } = fakes();
  const results = await runBatch(deps, request({ task: VIDEO_TASK, items: [clipItem], hostTakesVideo: true }), noEvents());
  assert.deepEqual(calls, ['read-video 2:1', 'run true', 'place-video 2:1 64x48 9 bytes "Upscale video ×2 · Label of esrgan-slim-x2"']);
  assert.equal(jobs[0].video?.mime, 'video/mp4');
  assert.equal(jobs[0].image, undefined);
  assert.match(jobs[0].id, /^[A-Za-z0-9_-]{8,64}$/, 'the id is one the job API accepts');
  assert.equal(results[0].placedNodeId, 'video-2:1');
  assert.equal(results[0].video?.bytes.length, 9);
});

test('a clip chosen from a file is read from the UI, never from the host, and placed with no source', async () => {
  const { deps, calls, jobs } = fakes();
  const chosen = { nodeId: 'file:1', name: 'holiday.mp4', width: 32, height: 24, kind: 'video' as const, video: true };
  const bytes = new Uint8Array([9, 8, 7, 6]);
  const chosenClips = new Map([['file:1', { mime: 'video/webm', width: 32, height: 24, read: async () => bytes }]]);
  const progress: BatchProgress[] = [];
  const results = await runBatch(deps, request({ task: VIDEO_TASK, items: [chosen, clipItem], hostTakesVideo: true, chosenClips }), { ...noEvents(), onProgress: (p) => progress.push(p) });
  assert.deepEqual(calls, [
    'run true', 'place-video undefined 64x48 9 bytes "Upscale video ×2 · Label of esrgan-slim-x2"',
    'read-video 2:1', 'run true', 'place-video 2:1 64x48 9 bytes "Upscale video ×2 · Label of esrgan-slim-x2"',
  ]);
  assert.deepEqual([...jobs[0].video!.bytes], [...bytes]);
  assert.deepEqual([jobs[0].video!.mime, jobs[0].video!.width, jobs[0].video!.height], ['video/webm', 32, 24]);
  assert.equal(progress[0].text, 'Item 1 of 2 · Reading “holiday.mp4”');
  assert.equal(results.length, 2);
});

test('a chosen file that can no longer be read says so and asks to choose it again', async () => {
  const { deps, calls } = fakes();
  const chosen = { nodeId: 'file:2', name: 'gone.mp4', width: 32, height: 24, kind: 'video' as const, video: true };
  const chosenClips = new Map([['file:2', { mime: 'video/mp4', width: 32, height: 24, read: async () => { throw new Error('NotReadableError'); } }]]);
  await assert.rejects(runBatch(deps, request({ task: VIDEO_TASK, items: [chosen], hostTakesVideo: true, chosenClips }), noEvents()), /Could not read “gone\.mp4” \(NotReadableError\): it may have been moved or changed\. Choose it again\./);
  assert.deepEqual(calls, []);
});

test('a host whose own words say where the clip is (Photoshop’s closed save dialog) is not told twice to download it', async () => {
  const { deps } = fakes({ failPlaceVideo: 'The clip was not saved (the save dialog was closed): download it from the Frontier panel.' });
  const kept: ItemResult[] = [];
  await assert.rejects(runBatch(deps, request({ task: VIDEO_TASK, items: [clipItem], hostTakesVideo: true }), noEvents(kept)), (err: Error) => {
    assert.equal(err.message, 'The clip was not saved (the save dialog was closed): download it from the Frontier panel.');
    return true;
  });
  assert.equal(kept[0].placedNodeId, null);
});

test('a clip the host refuses to place is kept for download and the error says so', async () => {
  const { deps } = fakes({ failPlaceVideo: 'Video needs a paid Figma plan.' });
  const kept: ItemResult[] = [];
  await assert.rejects(runBatch(deps, request({ task: VIDEO_TASK, items: [clipItem], hostTakesVideo: true }), noEvents(kept)), /paid Figma plan\. The upscaled clip is kept below: download it\./);
  assert.equal(kept.length, 1);
  assert.equal(kept[0].placedNodeId, null);
  assert.equal(kept[0].video?.bytes.length, 9);
});

test('a clip the host refuses is stood in for by its first frame (Figma without a paid plan); the clip is still kept', async () => {
  const { deps, calls } = fakes({ failPlaceVideo: 'Figma did not accept the video.' });
  const kept: ItemResult[] = [];
  const firstFrame = async (video: { bytes: Uint8Array }) => ({ png: new Uint8Array([0x89, 0x50, video.bytes.length]), width: 64, height: 48 });
  await assert.rejects(runBatch(deps, request({ task: VIDEO_TASK, items: [clipItem], hostTakesVideo: true, firstFrame }), noEvents(kept)),
    /^EngineError: Figma did not accept the video\. Its first frame is placed instead\. The upscaled clip is kept below: download it\.$/);
  assert.deepEqual(calls.slice(-2), ['place-video 2:1 64x48 9 bytes "Upscale video ×2 · Label of esrgan-slim-x2"', 'place 2:1 64x48 "Upscale video ×2 · Label of esrgan-slim-x2 (first frame)" beside']);
  assert.equal(kept[0].placedNodeId, 'new-2:1');
  assert.equal(kept[0].video?.bytes.length, 9);
});

test('a host that cannot take video gets no place request; the clip is offered for download without an error', async () => {
  const { deps, calls } = fakes();
  const kept: ItemResult[] = [];
  await runBatch(deps, request({ task: VIDEO_TASK, items: [clipItem], hostTakesVideo: false }), noEvents(kept));
  assert.ok(!calls.some((c) => c.startsWith('place')), calls.join(', '));
  assert.equal(kept[0].notPlaced, 'This host cannot place video.');
});

test('a generated result is named for what makes it itself: the prompt (shortened), the seed, the model', () => {
  const task = row('text-to-image');
  const meta = { task: 'text-to-image', model: 'm', modelVariant: 'full', params: { prompt: '  a lighthouse on a rocky coast at sunset, oil painting ' }, seed: 7, target: 'wasm', version: '0', runMs: 1 } as const;
  assert.equal(generatedName(task, meta, 'VQ-Diffusion'), 'Text to image · “a lighthouse on a rocky coast a…” · seed 7 · VQ-Diffusion');
  assert.equal(generatedName(task, { ...meta, params: { prompt: 'a fox' } }, 'VQ'), 'Text to image · “a fox” · seed 7 · VQ');
});

test('a generator shows its own step messages, and the engine\'s model stages in the UI\'s words', async () => {
  const task = row('text-to-image');
  const texts: string[] = [];
  const deps: BatchDeps = {
    host: { readImage: async () => { throw new Error('no read'); }, placeResult: async () => ({ type: 'placed', requestId: 'r', nodeId: 'n' }), readVideo: async () => { throw new Error('no video'); }, placeVideo: async () => { throw new Error('no video'); } },
    engine: {
      decode: async () => { throw new Error('no decode'); },
      encodePng: async () => new Uint8Array([0x89]),
      run: async (job, onProgress: (p: Progress) => void) => {
        onProgress({ jobId: job.id, stage: 'load', done: 1, total: 1, message: 'VQ-Diffusion tiny decoder (random-weight test model) ready' });
        onProgress({ jobId: job.id, stage: 'run', done: 1, total: 2, message: 'Step 1 of 2' });
        return { jobId: job.id, images: [{ width: 1, height: 1, data: new Uint8Array(4) }], meta: { task: task.id, model: 'm', modelVariant: 'tiny', params: {}, target: 'wasm', version: '0', runMs: 1 } };
      },
    },
  };
  await runBatch(deps, request({ task, items: [] }), { onProgress: (p) => texts.push(p.text), onJob: () => {}, onResult: () => {}, isCancelled: () => false });
  assert.deepEqual(texts, ['Loading model', 'Step 1 of 2', 'Placing result', 'Placed']);
});
