// The entry as Figma runs it: bundled by esbuild into one script that uses the `figma` and `__html__` globals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { HostToUi, Message } from '../../plugin/messages.ts';
import { FakeFigma } from '../fakes/figma.ts';

test('the bundled main.js shows the UI and answers ui-ready', async () => {
  const entry = fileURLToPath(new URL('../../plugin/figma/main.ts', import.meta.url));
  const out = await build({ entryPoints: [entry], bundle: true, format: 'iife', target: 'es2020', write: false, logLevel: 'silent' });
  const script = out.outputFiles[0].text;
  assert.doesNotMatch(script, /\brequire\(/, 'the main thread has no module loader');

  const fake = new FakeFigma();
  // The sandbox provides these two globals; pass them as parameters so nothing leaks into other tests.
  new Function('figma', '__html__', script)(fake.figma, '<html><body>ui</body></html>');
  assert.deepEqual(fake.ui.shown, {
    html: '<html><body>ui</body></html>',
    options: { width: 320, height: 560, themeColors: true, title: 'Frontier' },
  });
  const init = fake.ui.waitFor<Message<HostToUi, 'init'>>('init');
  await fake.ui.deliver({ type: 'ui-ready' });
  assert.equal((await init).host.name, 'figma');
});
