// A `frontier` job with stderr not a terminal (a log, CI): one plain line per stage or kind of step and per further
// tenth of a step, never a flood and never terminal control codes. An output that cannot be written is refused
// before any model loads, in a sentence that says what to do, with exit 2. A video clip through a real server (ffmpeg).
// The reporter itself, on a terminal and off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progressReporter } from '../../server/cli/progress.ts';
import { startServer } from '../../server/server.ts';
import { makeClip, probe, requireFfmpeg } from './jobs-util.ts';
import { frontier } from './cli-util.ts';

// The tiny random-weight VQ-Diffusion (models/tiny): three models to load and one line per diffusion step.
const T2I = ['text-to-image', '--model', 'vqdiffusion-ithq-transformer-tiny', '--prompt', 'a red fox in the snow', '--steps', '60'];

test('piped stderr: a line per stage and per tenth of the steps, the result on stdout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'frontier-cli-progress-'));
  try {
    const r = await frontier([...T2I.slice(0, 1), join(dir, 'fox.png'), ...T2I.slice(1)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /fox\.png: \d+×\d+ \(vqdiffusion-ithq-transformer-tiny/);
    assert.doesNotMatch(r.stderr, /[\r\x1b]/, 'plain lines: no carriage returns or terminal codes in a log');
    const lines = r.stderr.trimEnd().split('\n');
    assert.ok(lines.some((l) => /^Loading VQ-Diffusion tiny transformer/.test(l)), `a line when a model loads:\n${r.stderr}`);
    const steps = lines.filter((l) => /^Step \d+ of 60 \(\d+%\)$/.test(l));
    assert.ok(steps.length >= 5, `the steps show progress as they go:\n${r.stderr}`);
    assert.ok(steps.length <= 11, `at most one line per tenth of the steps, not one per step (60):\n${r.stderr}`);
    const percents = steps.map((l) => Number(/\((\d+)%\)/.exec(l)![1]));
    assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'in order');
    assert.equal(new Set(percents.map((p) => Math.floor(p / 10))).size, percents.length, 'one line per tenth');
    assert.equal(lines.at(-1), 'Done (100%)');
    assert.ok(lines.length < 30, `${lines.length} lines for a 60-step job`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an output that cannot be written is refused before any model loads, in words, exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'frontier-cli-output-'));
  try {
    writeFileSync(join(dir, 'a-file'), 'x');
    await mkdir(join(dir, 'folder.png'));
    const cases: [string, RegExp][] = [
      [join(dir, 'missing', 'fox.png'), /The folder .*missing does not exist: create it first \(mkdir -p .*missing\) or write the result somewhere else\./],
      [join(dir, 'a-file', 'fox.png'), /a-file is a file, not a folder/],
      [join(dir, 'folder.png'), /folder\.png is a folder: give a file name inside it, e\.g\. .*folder\.png\/result\.png/],
      [join(dir, 'fox.jpg'), /The result is a PNG image: give an output name that ends in \.png, e\.g\. .*fox\.png/],
    ];
    // A folder nobody may write in: root passes permission checks, so for root one where files cannot be made.
    if (process.getuid?.() !== 0) {
      await mkdir(join(dir, 'locked'));
      await chmod(join(dir, 'locked'), 0o500);
      cases.push([join(dir, 'locked', 'fox.png'), /Nothing can be written in the folder .*locked \(permission denied\): write the result to a folder of yours/]);
    } else if (process.platform === 'linux') {
      cases.push(['/proc/fox.png', /Nothing can be written in the folder \/proc \(files cannot be made there\): write the result to a folder of yours/]);
    }
    for (const [output, message] of cases) {
      const r = await frontier([...T2I.slice(0, 1), output, ...T2I.slice(1)]);
      assert.equal(r.status, 2, `${output}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      // Before computing: the job printed no stage line (the test above shows it prints them when it runs).
      assert.deepEqual(r.stderr.trimEnd().split('\n').length, 1, `only the message, no progress:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /ENOENT|ENOTDIR|EISDIR|EACCES|EROFS|\n\s+at /, 'no raw error codes or stack');
    }
    assert.ok(!existsSync(join(dir, 'missing')), 'nothing was created');
    const missingInput = await frontier(['upscale', join(dir, 'nope.png'), join(dir, 'big.png')]);
    assert.equal(missingInput.status, 2);
    assert.match(missingInput.stderr, /nope\.png does not exist: check the name and the folder/);
    assert.doesNotMatch(missingInput.stderr, /ENOENT/);
  } finally {
    await chmod(join(dir, 'locked'), 0o700).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test('upscale-video: a clip goes to the server and the MP4 it makes is written, with progress lines', async () => {
  requireFfmpeg();
  const dir = mkdtempSync(join(tmpdir(), 'frontier-cli-video-'));
  const server = await startServer({ port: 0, jobs: { dir: join(dir, 'jobs'), windowFrames: 2, maxDurationSeconds: 5 } });
  try {
    await makeClip(join(dir, 'clip.mp4'), { width: 32, height: 24, fps: 5, seconds: 1 });
    const r = await frontier(['upscale-video', join(dir, 'clip.mp4'), join(dir, 'big.mp4'), '--scale', '2', '--quality', 'fast', '--server', server.url], { env: { FRONTIER_TOKEN: server.token } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /big\.mp4: 64×48 video \(esrgan-slim-x2 on server/);
    assert.match(r.stderr, /^Upscaling frame \d+ \/ 5 on the server/m);
    assert.deepEqual(await probe(join(dir, 'big.mp4')).then((p) => [p.width, p.height, p.frames]), [64, 48, 5]);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restore-video: frontier restore-video clip.mp4 clean.mp4 --mode derain restores every frame on the server', async () => {
  requireFfmpeg();
  const dir = mkdtempSync(join(tmpdir(), 'frontier-cli-restore-video-'));
  const server = await startServer({ port: 0, jobs: { dir: join(dir, 'jobs'), windowFrames: 2 } });
  try {
    await makeClip(join(dir, 'clip.mp4'), { width: 32, height: 24, fps: 3, seconds: 1 });
    const r = await frontier(['restore-video', join(dir, 'clip.mp4'), join(dir, 'clean.mp4'), '--mode', 'derain', '--server', server.url], { env: { FRONTIER_TOKEN: server.token } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /clean\.mp4: 32×24 video \(maxim-derain on server/);
    assert.match(r.stderr, /^Restoring frame \d+ \/ 3 on the server/m);
    assert.deepEqual(await probe(join(dir, 'clean.mp4')).then((p) => [p.width, p.height, p.frames]), [32, 24, 3]);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A stream that keeps what is written. */
function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 40, writes, write: (t: string) => writes.push(t) };
}

test('reporter off a terminal: a line per kind of step and per tenth; a kind that comes back prints only progress', () => {
  const s = stream(false);
  const r = progressReporter(s, 'Running generate');
  r.update({ stage: 'load', done: 0, total: 1, message: 'Loading X' });
  for (let i = 0; i < 1000; i++) {
    r.update({ stage: 'run', done: i, total: 1000, message: `Tile ${i + 1} / 1000` });
    if (i % 100 === 50) r.update({ stage: 'load', done: 1, total: 1, message: 'X ready' });
  }
  r.update({ stage: 'run', done: 1000, total: 1000, message: 'Upscaled 1000 tiles' });
  r.update({ stage: 'run', done: 0, total: 1 });
  r.finish();
  assert.deepEqual(s.writes, [
    'Loading X\n',
    ...Array.from({ length: 10 }, (_, t) => `Tile ${t * 100 + 1} / 1000 (${t * 10}%)\n`).flatMap((line, t) => (t === 0 ? [line, 'X ready\n'] : [line])),
    'Upscaled 1000 tiles (100%)\n',
    'Running generate\n',
  ]);
});

test('reporter on a terminal: one line rewritten in place, cut to the width, cleared at the end', () => {
  const s = stream(true);
  const r = progressReporter(s);
  r.update({ stage: 'run', done: 1, total: 4, message: 'Upscaling tile 2 / 4' });
  r.update({ stage: 'run', done: 1, total: 4, message: 'Upscaling tile 2 / 4' });
  r.update({ stage: 'run', done: 2, total: 4, message: 'Upscaling tile 3 / 4 of a very long photo name indeed' });
  r.finish();
  assert.deepEqual(s.writes, ['\rUpscaling tile 2 / 4 (25%)\x1b[K', '\rUpscaling tile 3 / 4 of a very long pho\x1b[K', '\r\x1b[K']);
  // A terminal that does not say its width (columns 0) gets 80 columns, not a line cut to nothing.
  const unsized = { ...stream(true), columns: 0 };
  progressReporter(unsized).update({ stage: 'run', done: 2, total: 4, message: 'Upscaling tile 3 / 4 of a very long photo name indeed' });
  assert.deepEqual(unsized.writes, ['\rUpscaling tile 3 / 4 of a very long photo name indeed (50%)\x1b[K']);
});
