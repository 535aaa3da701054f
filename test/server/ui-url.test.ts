// Pointing the playground at another ui.html: only same-origin paths are accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_UI_URL, playgroundUrl, uiUrlFrom } from '../../server/playground/ui-url.ts';

test('?ui= takes a same-origin path and nothing else', () => {
  assert.equal(uiUrlFrom(''), DEFAULT_UI_URL);
  assert.equal(uiUrlFrom('?ui=/dist/test/standin-ui.html'), '/dist/test/standin-ui.html');
  assert.equal(uiUrlFrom('?ui=//evil.example/ui.html'), DEFAULT_UI_URL);
  assert.equal(uiUrlFrom('?ui=https://evil.example/ui.html'), DEFAULT_UI_URL);
});

test('playgroundUrl round-trips through uiUrlFrom', () => {
  const url = new URL(playgroundUrl('http://127.0.0.1:8740', { ui: '/dist/x y.html', coi: true }));
  assert.equal(url.pathname, '/');
  assert.equal(url.searchParams.get('coi'), '1');
  assert.equal(uiUrlFrom(url.search), '/dist/x y.html');
  assert.equal(playgroundUrl('http://127.0.0.1:8740'), 'http://127.0.0.1:8740/');
});
