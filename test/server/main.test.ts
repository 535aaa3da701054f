// `npm start`'s entry as a real process: what it prints, a busy port, Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../../server/server.ts';
import { raw, REPO } from './helpers.ts';

function startMain(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'server', 'main.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { child, output: () => out };
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('prints the playground URL and Figma instructions, serves, and stops on Ctrl-C', { timeout: 30_000 }, async () => {
  const { child, output } = startMain(['--port', '0']);
  try {
    await waitFor(() => /Ctrl-C/.test(output()), 'the start banner');
    const url = /Frontier is running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1];
    assert.ok(url, output());
    assert.match(output(), /Import plugin from manifest… → .*manifest\.json/);
    assert.match(output(), /UXP Developer Tool → Add plugin → .*dist\/photoshop\/manifest.json/);
    assert.match(output(), /Models served:/);
    assert.equal((await raw(url, '/samples')).status, 200);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a busy port gives a clear message and exit code 1', { timeout: 30_000 }, async () => {
  const busy = await startServer({ port: 0 });
  try {
    const { child, output } = startMain(['--port', String(busy.port)]);
    const [code] = await once(child, 'exit');
    assert.equal(code, 1);
    assert.match(output(), /already in use: is another Frontier server running\?.*--port/);
  } finally {
    await busy.close();
  }
});

test('bad arguments explain themselves', { timeout: 30_000 }, async () => {
  const { child, output } = startMain(['--port', 'eighty']);
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(output(), /--port must be a port number/);
  const remote = startMain(['--port', '0', '--host', '0.0.0.0']);
  const [remoteCode] = await once(remote.child, 'exit');
  assert.equal(remoteCode, 1);
  assert.match(remote.output(), /loopback/);
});
