// `frontier` with no, wrong or partial arguments: usage on stderr with exit 2 and nothing on stdout; help on stdout in
// the CLI's own words, with a usage line per task that shows exactly the files the task takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TASKS } from '../../worker/tasks/index.ts';
import { REPO } from './helpers.ts';
import { frontier } from './cli-util.ts';

test('frontier with no arguments: a short usage on stderr, exit 2', async () => {
  const r = await frontier([]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Usage: frontier <task> \[input…\] <output> \[options\]$/m);
  assert.match(r.stderr, /Tasks: upscale, restore, .*text-to-image/);
  assert.match(r.stderr, /frontier --help/);
});

test('--help: a usage line per task with exactly its files, designer words, a text-to-image example', async () => {
  const r = await frontier(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const usage = (id: string) => r.stdout.split('\n').find((l) => l.trim().startsWith(`frontier ${id} `))?.trim();
  assert.equal(usage('upscale'), 'frontier upscale <image> <output.png> [options]');
  assert.equal(usage('restore'), 'frontier restore <image> <output.png> [options]');
  assert.equal(usage('upscale-video'), 'frontier upscale-video <clip.mp4> <output.mp4> --server <URL> [options]');
  assert.equal(usage('restore-video'), 'frontier restore-video <clip.mp4> <output.mp4> --server <URL> [options]');
  assert.equal(usage('generate'), 'frontier generate <output.png> [options]');
  assert.equal(usage('vary'), 'frontier vary <made.png> <output.png> [options]');
  assert.equal(usage('interpolate'), 'frontier interpolate <made1.png> <made2.png> <output.png> [options]');
  assert.equal(usage('rotate-view'), 'frontier rotate-view [<portrait.png>] <output.png> [options]');
  assert.equal(usage('inpaint'), 'frontier inpaint <image> <output.png> --mask <mask.png> [options]');
  assert.equal(usage('text-to-image'), 'frontier text-to-image <output.png> [options]');
  for (const t of TASKS) assert.ok(usage(t.id), `--help shows how to run ${t.id}`);
  // The plugin speaks of selections, Settings and sliders; a command line has none of them.
  assert.doesNotMatch(r.stdout, /\bselect(ed|ion)?\b|\bslider|\bcanvas|\blayer/i);
  assert.doesNotMatch(r.stdout, /Settings|dice/);
  assert.match(r.stdout, /^ {2}frontier text-to-image \S+\.png --prompt "[^"]+"/m);
  assert.match(r.stdout, /--prompt <text> +What to draw/);
});

test('frontier <task> --help shows that task only; frontier --version', async () => {
  const r = await frontier(['text-to-image', '--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage:\n {2}frontier text-to-image <output\.png> \[options\]$/m);
  assert.match(r.stdout, /--guidance <1\.\.10>/);
  assert.doesNotMatch(r.stdout, /--scale|frontier upscale/);
  const v = await frontier(['--version']);
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), `frontier ${JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version}`);
});

test('wrong files or options: what the task takes, exit 2, nothing on stdout', async () => {
  const cases: [string[], RegExp][] = [
    [['generate'], /generate needs just an output file\.\nUsage: frontier generate <output\.png> \[options\]/],
    [['generate', 'a.png', 'b.png'], /Unexpected argument a\.png: generate takes just an output file/],
    [['vary', 'out.png'], /vary needs a PNG that frontier generate made, and an output file\.\nUsage: frontier vary <made\.png> <output\.png>/],
    [['upscale', 'a.png'], /upscale needs an image and an output file\.\nUsage: frontier upscale <image> <output\.png> \[options\]/],
    [['paint', 'a.png', 'b.png'], /Unknown task "paint"/],
    [['upscale', 'a.png', 'b.png', '--yaw', '3'], /upscale has no option --yaw\. Its options: --scale, --quality\./],
    [['upscale', 'a.png', 'b.png', '--bogus'], /Unknown option --bogus/],
    [['upscale', 'a.png', 'b.png', '--model'], /--model needs a value/],
    [['upscale', 'a.png', 'b.png', '--threads', '0'], /--threads must be a whole number of at least 1/],
    [['upscale-video', 'a.mp4', 'b.mp4'], /upscale-video runs on a Frontier server: run "npm start".*--server http:\/\/127\.0\.0\.1:\d+/],
    // A negative value is a value, not an option; the bounds are checked before any model loads.
    [['rotate-view', 'out.png', '--yaw', '-50'], /must be between -40 and 40 \(got -50\)/],
  ];
  for (const [args, message] of cases) {
    const r = await frontier(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.match(r.stderr, /^frontier: /, 'one message, said by frontier');
  }
});
