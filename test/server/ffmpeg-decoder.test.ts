// The frame decoder keeps every frame of a clip that ffmpeg finished decoding before the job read any (a short clip
// while the models load): Node empties the stdout of an exited child that nobody listens to, and the decoder used to
// lose such a clip's frames. Real ffmpeg; the test waits for ffmpeg's exit (a state), then reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameDecoder, probeClip } from '../../server/jobs/ffmpeg.ts';
import { makeClip, requireFfmpeg } from './jobs-util.ts';

const tools = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' };

test('a clip decoded before its frames are read keeps all of them; a longer one still waits for the reader', async () => {
  requireFfmpeg();
  const dir = await mkdtemp(join(tmpdir(), 'frontier-decoder-'));
  try {
    // 10 frames of 78×62 (145 KB): ffmpeg writes it all into the pipe and exits before anything reads.
    const short = join(dir, 'short.mp4');
    await makeClip(short, { width: 78, height: 62, fps: 10, seconds: 1 });
    const info = await probeClip(tools, short, 'the clip');
    const decoder = new FrameDecoder(tools, short, info, 'the clip');
    await decoder.exited;
    let frames = 0;
    for await (const frame of decoder.frames()) {
      assert.equal(frame.length, decoder.frameBytes);
      frames++;
    }
    assert.equal(frames, 10, 'every frame of a clip decoded before the first read');

    // 30 frames of 640×360 (20 MB): ffmpeg waits for the reader (backpressure), so memory stays bounded.
    const long = join(dir, 'long.mp4');
    await makeClip(long, { width: 640, height: 360, fps: 10, seconds: 3 });
    const longInfo = await probeClip(tools, long, 'the clip');
    const waiting = new FrameDecoder(tools, long, longInfo, 'the clip');
    let exited = false;
    void waiting.exited.then(() => (exited = true));
    const iterator = waiting.frames();
    const first = await iterator.next();
    assert.equal(first.done, false);
    assert.equal(exited, false, 'ffmpeg is held back until the frames are read');
    let count = 1;
    while (!(await iterator.next()).done) count++;
    assert.equal(count, 30);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
