// Before/after (issue 14, "also expected by designers"): an image-to-image result offers "Compare with the original",
// which shows the source and the result one over the other, split where the slider is; Escape closes it. Real
// Chromium, fake host and engine (its upscale is nearest-neighbour, so before and after differ in size, not content).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectItems, withHarness } from './ui-harness/ui-page.ts';

const shots = process.env.UI_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'frontier-compare-shots-')));

test('an upscaled result compares with its original: both shown, split where the slider is, Escape closes', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:2']);
    await ui.getByTestId('task-select').selectOption('upscale');
    await ui.getByTestId('run').click();
    await ui.getByTestId('result').waitFor({ timeout: 20_000 });
    await ui.getByTestId('compare-open').click();
    const compare = ui.getByTestId('compare');
    await compare.waitFor();
    const size = (testId: string) => ui.getByTestId(testId).evaluate((img) => new Promise<[number, number]>((resolve) => {
      const i = img as HTMLImageElement;
      // No named function here: tsx would wrap it in a helper the page does not have.
      if (i.complete) resolve([i.naturalWidth, i.naturalHeight]);
      else i.addEventListener('load', () => resolve([i.naturalWidth, i.naturalHeight]), { once: true });
    }));
    assert.deepEqual(await size('compare-before'), [451, 300], 'the original as the host gave it');
    assert.deepEqual(await size('compare-after'), [902, 600], 'the result');
    const clip = () => ui.getByTestId('compare-after').evaluate((el) => (el as HTMLElement).style.clipPath);
    assert.equal(await clip(), 'inset(0px 0px 0px 50%)');
    await ui.getByTestId('compare-slider').fill('80');
    assert.equal(await clip(), 'inset(0px 0px 0px 80%)');
    // Dragging on the picture moves the split to the pointer.
    const box = (await ui.getByTestId('compare-after').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.up();
    assert.equal(await clip(), 'inset(0px 0px 0px 25%)');
    await page.locator('#plugin').screenshot({ path: join(shots, 'compare.png') });
    console.log(`compare screenshot: ${join(shots, 'compare.png')}`);
    await page.keyboard.press('Escape');
    await compare.waitFor({ state: 'detached' });
    await ui.getByTestId('result').waitFor();
  });
});
