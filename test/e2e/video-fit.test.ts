// The plugin UI itself (dist/figma/ui.html in the playground) warns at choose time when a clip is too large for TTVSR
// on the server, and offers no Run for it; ESRGAN per frame takes the same clip. The server's registry holds TTVSR's
// five part cards and ESRGAN slim ×2 with stand-in files (test/server/clip-fit-server.ts): nothing is loaded or run,
// the answer is computed from the cards and a 2 GB TTVSR memory budget. Every step waits on the chooser's data-fit.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { clipFitRootFiles } from '../server/clip-fit-server.ts';
import type { TempRoot } from '../server/helpers.ts';
import { makeClip, requireFfmpeg } from '../server/jobs-util.ts';
import { openPlayground, tempPlaygroundRoot, waitForTargetLine, type Playground } from './harness.ts';

let work = '';
let root: TempRoot;
let pg: Playground;

before(async () => {
  requireFfmpeg();
  work = await mkdtemp(join(tmpdir(), 'frontier-e2e-video-fit-'));
  await makeClip(join(work, 'wide.mp4'), { width: 640, height: 360, fps: 8, seconds: 1 });
  root = await tempPlaygroundRoot(await clipFitRootFiles());
  pg = await openPlayground({ root: root.root, server: { jobs: { dir: join(work, 'jobs'), ttvsrMemoryBytes: 2e9, heartbeatMs: 100 } } });
});
after(async () => {
  await pg?.close();
  await root?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

test('a clip too large for TTVSR on the server: the chooser says so and Run is off; ESRGAN per frame takes it', { timeout: 240_000 }, async () => {
  await pg.ui.locator('[data-testid="task-select"]').selectOption('upscale-video');
  await pg.ui.locator('[data-testid="param-scale-4"]').click(); // TTVSR is ×4 only
  const options = await pg.ui.locator('[data-testid="model-select"] option').evaluateAll((els) => els.map((e) => ({ value: (e as HTMLOptionElement).value, text: e.textContent ?? '' })));
  const ttvsr = options.find((o) => /TTVSR/.test(o.text));
  assert.ok(ttvsr, `TTVSR is offered: ${options.map((o) => o.text).join(' | ')}`);
  await pg.ui.locator('[data-testid="model-select"]').selectOption(ttvsr.value);
  await pg.ui.locator('[data-testid="target-select"]').selectOption('auto');
  await waitForTargetLine(pg, /^On the Frontier server/);
  await pg.ui.locator('[data-testid="clip-input"]').setInputFiles(join(work, 'wide.mp4'));

  await pg.ui.locator('[data-testid="clip-chosen"][data-fit="too-large"]').waitFor({ timeout: 60_000 });
  const warning = (await pg.ui.locator('[data-testid="clip-too-large"]').textContent()) ?? '';
  assert.match(warning, /^This clip is too large for TTVSR \(REDS\) on this server: at most \d+×\d+ frames\. Choose ESRGAN per frame, or a smaller clip\.$/);
  assert.equal(await pg.ui.locator('[data-testid="run"]').isDisabled(), true, 'no Run for a clip the server would refuse');

  // Automatic at ×2 Fast is ESRGAN slim ×2 per frame, the one ESRGAN on this server: the same clip fits, Run is offered.
  await pg.ui.locator('[data-testid="model-select"]').selectOption('');
  await pg.ui.locator('[data-testid="param-scale-2"]').click();
  await pg.ui.locator('[data-testid="param-quality-fast"]').click();
  await pg.ui.locator('[data-testid="clip-chosen"]:not([data-fit="too-large"]):not([data-fit="asking"])').waitFor({ timeout: 60_000 });
  assert.equal(await pg.ui.locator('[data-testid="clip-too-large"]').count(), 0);
  assert.equal(await pg.ui.locator('[data-testid="run"]').isDisabled(), false, 'Run is offered for ESRGAN per frame');
});
