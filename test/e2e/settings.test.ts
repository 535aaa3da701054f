// "Test connection" in the plugin's Settings, in real Chromium on the playground, against our real OIP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openPlayground } from './harness.ts';

test('Test connection reports the server and its models, or says why it cannot connect', { timeout: 120_000 }, async () => {
  const pg = await openPlayground();
  try {
    await pg.ui.locator('[data-testid="settings-panel"] summary').click();
    await pg.ui.locator('[data-testid="settings-test"]').click();
    const result = pg.ui.locator('[data-testid="settings-test-result"]');
    await result.filter({ hasText: /Connected|Cannot|not/ }).waitFor({ timeout: 30_000 });
    const registered = (JSON.parse(readFileSync(new URL('../../models/registry.json', import.meta.url), 'utf8')) as { models: unknown[] }).models.length;
    assert.match((await result.textContent()) ?? '', new RegExp(`Connected to frontier .* · ${registered} models ready · answers in \\d+ ms`));

    await pg.ui.locator('[data-testid="setting-server"]').fill('http://127.0.0.1:9');
    await pg.ui.locator('[data-testid="settings-test"]').click();
    await result.filter({ hasText: /Cannot reach/ }).waitFor({ timeout: 30_000 });
    assert.match((await result.textContent()) ?? '', /Cannot reach the server at http:\/\/127\.0\.0\.1:9/);
  } finally {
    await pg.close();
  }
});
