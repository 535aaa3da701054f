// The run's progress bar and time left (ui/progress.ts) and the time hints learnt from earlier runs (ui/cost.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fractionAt, ItemProgress, remainingText, RUN_END } from '../../ui/progress.ts';
import { choiceKey, CostBook, workPixels } from '../../ui/cost.ts';
import type { ParamSpec } from '../../worker/tasks/task.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('reading and loading are a sliver of the bar; the tiles are the bulk', () => {
  const c = clock();
  const p = new ItemProgress(c.now);
  assert.ok(p.update('read', 0, 1).fraction <= 0.02);
  assert.ok(p.update('read', 1, 1).fraction <= 0.02);
  const loaded = p.update('load', 0, 1).fraction;
  assert.ok(loaded < 0.03, `load starts near the start: ${loaded}`);
  const first = p.update('run', 0, 49).fraction;
  assert.ok(first < 0.1, `tile 1 of 49 is not 40 %: ${first}`);
  const last = p.update('run', 48, 49).fraction;
  assert.ok(last > 0.9 && last < RUN_END, `tile 49 of 49 is near the end: ${last}`);
  const runShare = p.update('run', 49, 49).fraction - first;
  assert.ok(runShare > 0.85, `the run is most of the bar: ${runShare}`);
  assert.equal(p.update('place', 0, 1).fraction >= RUN_END, true);
  assert.equal(p.finish().fraction, 1);
});

test('a download takes its share before the run, and the bar never goes back', () => {
  const p = new ItemProgress(clock().now);
  const points = [
    p.update('read', 1, 1), p.update('download', 0, 100), p.update('download', 100, 100), p.update('load', 0, 1),
    p.update('run', 0, 10), p.update('run', 0, 1) /* a note with its own count */, p.update('run', 5, 10),
    p.update('load', 0, 1) /* a part loaded late */, p.update('run', 6, 10), p.update('run', 10, 10), p.update('encode', 0, 1), p.update('place', 0, 1),
  ].map((x) => x.fraction);
  for (let i = 1; i < points.length; i++) assert.ok(points[i] >= points[i - 1], `step ${i}: ${points.join(', ')}`);
  assert.ok(points[2] <= 0.32, `a download is at most about a third: ${points[2]}`);
  assert.ok(points[9] >= RUN_END - 1e-9, `the run ends at RUN_END: ${points[9]}`);
});

test('the time left appears only after tiles have completed, and follows their rate', () => {
  const c = clock();
  const p = new ItemProgress(c.now);
  p.update('load', 0, 1);
  c.advance(3000);
  assert.equal(p.update('run', 0, 20).finishAt, undefined, 'no number before a tile is done');
  c.advance(5000); // the first tile pays for warming up
  assert.equal(p.update('run', 1, 20).finishAt, undefined, 'one tile is not a rate yet');
  c.advance(1000);
  assert.equal(p.update('run', 2, 20).finishAt, undefined);
  c.advance(1000);
  const point = p.update('run', 3, 20);
  assert.equal(point.finishAt, c.now() + 17 * 1000, 'two tiles after the first at 1 s each: 17 s for the 17 left');
  assert.equal(remainingText(point.finishAt, c.now()), 'about 20 s left');
  // Between reports the bar glides at that rate, but not past the tile in progress.
  assert.ok(fractionAt(point, c.now() + 500) > point.fraction);
  assert.equal(fractionAt(point, c.now() + 60_000), point.cap);
  assert.ok(point.cap < p.update('run', 4, 20).fraction + 1e-9, 'the cap is below the next tile’s point');
});

test('few, long units (two restore tiles): the first completed one gives the rate', () => {
  const c = clock();
  const p = new ItemProgress(c.now);
  p.update('run', 0, 2);
  c.advance(40_000);
  const point = p.update('run', 1, 2);
  assert.equal(point.finishAt, c.now() + 40_000);
  assert.equal(remainingText(point.finishAt, c.now()), 'about 40 s left');
  assert.equal(p.update('run', 2, 2).finishAt, undefined, 'done: no time left to show');
});

test('the time left in words', () => {
  assert.equal(remainingText(undefined, 0), undefined);
  assert.equal(remainingText(3_000, 0), 'a few seconds left');
  assert.equal(remainingText(33_000, 0), 'about 30 s left');
  assert.equal(remainingText(80_000, 0), 'about 1 min left');
  assert.equal(remainingText(150_000, 0), 'about 3 min left');
  assert.equal(remainingText(2 * 3_600_000, 0), 'about 2 h left');
  assert.equal(remainingText(1_000, 2_000), 'almost done');
});

test('time hints: the model a set of choices ran, its time per processed pixel, per target', () => {
  const specs: ParamSpec[] = [
    { name: 'scale', label: 'Scale', type: 'choice', default: 4, choices: [{ value: 2, label: '×2' }, { value: 4, label: '×4' }] },
    { name: 'quality', label: 'Quality', type: 'choice', default: 'best', choices: [{ value: 'best', label: 'Best' }, { value: 'fast', label: 'Fast' }] },
    { name: 'strength', label: 'Strength', type: 'number', default: 0.5, min: 0, max: 1 },
  ];
  const best = choiceKey('upscale', undefined, { scale: 4, quality: 'best', strength: 0.2 }, specs);
  assert.equal(best, choiceKey('upscale', '', { scale: 4, quality: 'best', strength: 0.9 }, specs), 'a slider does not pick a model');
  assert.notEqual(best, choiceKey('upscale', undefined, { scale: 4, quality: 'fast' }, specs));
  const tile = { size: 96, overlap: 16 };
  assert.equal(workPixels(50, 40, tile), 2000, 'smaller than a tile: its own pixels');
  assert.equal(workPixels(512, 512, tile), (7 * 96) ** 2, 'seven overlapping tiles a side: the 49 tiles of a 512² photo');

  const book = new CostBook();
  assert.deepEqual(book.estimates(best, [{ width: 512, height: 512 }]), [], 'nothing before a run');
  book.record({ key: best, model: 'esrgan-thick-x4', tile, target: 'wasm', width: 96, height: 96, ms: 25_000 });
  const [wasm] = book.estimates(best, [{ width: 512, height: 512 }]);
  assert.equal(wasm.target, 'wasm');
  assert.equal(Math.round(wasm.ms), 49 * 25_000, '49 tiles at 25 s');
  book.record({ key: best, model: 'esrgan-thick-x4', tile, target: 'server', width: 96, height: 96, ms: 2_500 });
  assert.deepEqual(book.estimates(best, [{ width: 96, height: 96 }]).map((e) => [e.target, e.ms]).sort(), [['server', 2500], ['wasm', 25000]]);
  assert.deepEqual(book.estimates(choiceKey('upscale', undefined, { scale: 4, quality: 'fast' }, specs), [{ width: 96, height: 96 }]), [], 'Fast has not run here');
});
