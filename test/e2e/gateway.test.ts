// The plugin against "Triton behind a gateway", in real Chromium: the UI (null origin, as in Figma) talks to a
// Triton-like OIP server through a gateway configured exactly as the README says (CORS for origin null, bearer
// token, Inference-Header-Content-Length exposed). Test connection, then an upscale on the Server target whose
// result is checked pixel for pixel (the fake model is nearest-neighbour ×2); a wrong token says what to fix.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeGateway, type FakeGateway } from '../fakes/gateway.ts';
import { nearestUpscaleModel, startFakeOipServer, type FakeOipServer } from '../fakes/oip-server.ts';
import { nodes, openPlayground, openSampleRegion, pixels, waitForTargetLine, type Playground } from './harness.ts';

const TOKEN = 'gateway-secret-7d2e';

describe('plugin → gateway → Triton-like server', { timeout: 180_000 }, () => {
  let triton: FakeOipServer;
  let gateway: FakeGateway;
  let pg: Playground;

  before(async () => {
    triton = await startFakeOipServer({ models: [nearestUpscaleModel('esrgan-slim-x2', { scale: 2, gain: 1 })] });
    gateway = await startFakeGateway({ upstream: triton.url, token: TOKEN });
    pg = await openPlayground();
  });
  after(async () => {
    await pg?.close();
    await gateway?.close();
    await triton?.close();
  });

  async function saveServer(url: string, token: string) {
    await pg.ui.locator('[data-testid="setting-server"]').fill(url);
    await pg.ui.locator('[data-testid="setting-token"]').fill(token);
    await pg.ui.locator('[data-testid="settings-save"]').click();
  }

  test('Test connection and a Server-target upscale go through the gateway with the token; the result is exact', async () => {
    await pg.ui.locator('[data-testid="settings-panel"] summary').click();
    await saveServer(gateway.url, TOKEN);
    await pg.ui.locator('[data-testid="settings-test"]').click();
    const tested = pg.ui.locator('[data-testid="settings-test-result"]');
    await tested.filter({ hasText: /Connected|Cannot|refused|not/ }).waitFor({ timeout: 30_000 });
    assert.match((await tested.textContent()) ?? '', /Connected .*1 model ready/);

    const region = { x: 100, y: 80, width: 24, height: 16 };
    const sourceId = await openSampleRegion(pg.page, 'chelsea.png', region);
    await pg.ui.locator('[data-testid="task-select"]').selectOption('upscale');
    await pg.ui.locator('[data-testid="param-scale-2"]').click();
    await pg.ui.locator('[data-testid="param-quality-fast"]').click();
    await pg.ui.locator('[data-testid="target-select"]').selectOption('server');
    await waitForTargetLine(pg, /^On the server$/);
    await pg.ui.locator('[data-testid="run"]').click();

    let placed = await nodes(pg.page);
    for (let i = 0; placed.length < 2 && i < 240; i++) {
      const error = await pg.ui.locator('[data-testid="error"]').textContent({ timeout: 100 }).catch(() => null);
      if (error) throw new Error(`the UI reported: ${error}\n${pg.logs.join('\n')}`);
      await pg.page.waitForTimeout(250);
      placed = await nodes(pg.page);
    }
    const result = placed.find((n) => n.id !== sourceId);
    assert.ok(result, 'a result was placed');
    assert.equal(JSON.parse(result.pluginData.frontier).target, 'server');
    const src = await pixels(pg.page, sourceId, region);
    const out = await pixels(pg.page, result.id);
    assert.deepEqual([out.width, out.height], [48, 32]);
    for (const [x, y] of [[0, 0], [47, 31], [13, 7], [30, 20]]) {
      const o = (y * 48 + x) * 4;
      const s = (Math.floor(y / 2) * 24 + Math.floor(x / 2)) * 4;
      assert.deepEqual([...out.data.subarray(o, o + 3)], [...src.data.subarray(s, s + 3)], `pixel ${x},${y} is its nearest source pixel`);
    }

    const infers = gateway.seen.filter((r) => r.path.endsWith('/infer') && r.method === 'POST');
    assert.ok(infers.length >= 1);
    assert.ok(infers.every((r) => r.authorized && r.origin === 'null'), 'inference went through the gateway with the token, from origin null');
    assert.ok(gateway.seen.some((r) => r.method === 'OPTIONS'), 'the browser preflighted (Authorization is not a simple header)');
    assert.ok(!triton.requests.some((r) => r.path.startsWith('/models/files/')), 'no model file was asked of Triton');
  });

  test('a wrong token: Test connection says the server refused it and to check the token', async () => {
    await saveServer(gateway.url, 'not-the-token');
    await pg.ui.locator('[data-testid="settings-test"]').click();
    const tested = pg.ui.locator('[data-testid="settings-test-result"]');
    await tested.filter({ hasText: /401|token/ }).waitFor({ timeout: 30_000 });
    const text = (await tested.textContent()) ?? '';
    assert.match(text, /token/i);
    assert.doesNotMatch(text, /not-the-token/);
  });
});
