// Pairing, as a designer meets it in real Chromium: the playground opened without npm start's link asks for the
// code in plain words, refuses a wrong one, takes the right one once and keeps it; npm start's link pairs at once and
// leaves no code in the address bar.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openPlayground } from './harness.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results');

test('unpaired: the plugin asks for the code, says a wrong one was refused, pairs with the right one and keeps it', { timeout: 120_000 }, async () => {
  const pg = await openPlayground({ pair: false });
  try {
    const prompt = pg.ui.locator('[data-testid="pairing"]');
    await prompt.waitFor();
    assert.match((await prompt.textContent()) ?? '', /Pair with Frontier on this computer.*pairing code shown in the window where Frontier was started/);
    assert.match((await pg.ui.locator('[data-testid="pairing-hint"]').textContent()) ?? '', /pairing code/);
    mkdirSync(SHOTS, { recursive: true });
    await pg.page.screenshot({ path: join(SHOTS, 'pairing-prompt.png') });

    await pg.ui.locator('[data-testid="pairing-code"]').fill('not-the-code');
    await pg.ui.locator('[data-testid="pairing-save"]').click();
    await prompt.filter({ hasText: 'That pairing code was not accepted' }).waitFor();

    await pg.ui.locator('[data-testid="pairing-code"]').fill(pg.server.token);
    await pg.ui.locator('[data-testid="pairing-code"]').press('Enter');
    await prompt.waitFor({ state: 'detached' });
    // The code went to the host's saved settings (the playground keeps them as Figma's clientStorage would).
    const saved = await pg.page.evaluate(() => JSON.parse(localStorage.getItem('frontier.playground.settings') ?? '{}') as { token?: string });
    assert.equal(saved.token, pg.server.token);
    await pg.ui.locator('[data-testid="settings-panel"] summary').click();
    await pg.ui.locator('[data-testid="settings-test"]').click();
    await pg.ui.locator('[data-testid="settings-test-result"]').filter({ hasText: /Connected to frontier/ }).waitFor({ timeout: 30_000 });

    // Opened again by its bare address: still paired.
    await pg.page.goto(pg.server.url + '/');
    await pg.ui.locator('[data-testid="run"]').waitFor();
    await pg.ui.locator('[data-testid="selection"]').waitFor();
    await pg.page.evaluate(() => (window as unknown as { playground: { ready: Promise<void> } }).playground.ready);
    assert.equal(await pg.ui.locator('[data-testid="pairing"]').count(), 0);
  } finally {
    await pg.close();
  }
});

test("npm start's link pairs the playground and leaves no code in the address bar", { timeout: 120_000 }, async () => {
  const pg = await openPlayground(); // opened with #pair=<code>, as npm start prints it
  try {
    assert.equal(new URL(pg.page.url()).hash, '');
    assert.doesNotMatch(pg.page.url(), new RegExp(pg.server.token));
    await pg.ui.locator('[data-testid="settings-panel"] summary').click();
    await pg.ui.locator('[data-testid="settings-test"]').click();
    await pg.ui.locator('[data-testid="settings-test-result"]').filter({ hasText: /Connected to frontier/ }).waitFor({ timeout: 30_000 });
    assert.equal(await pg.ui.locator('[data-testid="pairing"]').count(), 0);
  } finally {
    await pg.close();
  }
});
