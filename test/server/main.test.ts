// `npm start`'s entry as a real process: what it prints, the pairing code, a busy port, Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startServer } from '../../server/server.ts';
import { raw, REPO } from './helpers.ts';

// Frontier's folder (pairing code, jobs) for these runs: never the real user's.
const homes: string[] = [];
async function freshHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'frontier-home-'));
  homes.push(home);
  return home;
}
after(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

function startMain(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'server', 'main.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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

test('prints the pairing code, the playground link and Figma instructions, serves, and stops on Ctrl-C', { timeout: 30_000 }, async () => {
  const home = await freshHome();
  const { child, output } = startMain(['--port', '0'], { FRONTIER_HOME: home });
  try {
    await waitFor(() => /Ctrl-C/.test(output()), 'the start banner');
    const url = /Frontier is running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1];
    assert.ok(url, output());
    const code = /Pairing code: {2}(\S+)/.exec(output())?.[1];
    assert.ok(code, output());
    // Made on this first start, kept readable by this user only, and the one the server asks for.
    const file = join(home, 'pairing-token');
    assert.equal((await readFile(file, 'utf8')).trim(), code);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.match(output(), /made on this first start/);
    assert.ok(output().includes(`Playground:  ${url}/#pair=${code}`), output());
    assert.equal((await raw(url, '/v2')).status, 401);
    assert.equal((await raw(url, '/v2', { headers: { Authorization: `Bearer ${code}` } })).status, 200);
    assert.match(output(), /Import plugin from manifest… → .*manifest\.json/);
    assert.match(output(), /UXP Developer Tool → Add plugin → .*dist\/photoshop\/manifest.json/);
    assert.match(output(), /Models served:/);
    assert.equal((await raw(url, '/samples')).status, 200);
    child.kill('SIGINT');
    const [exitCode] = await once(child, 'exit');
    assert.equal(exitCode, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('the pairing code stays the same across starts; a file others could read is made private', { timeout: 60_000 }, async () => {
  const home = await freshHome();
  const codes: string[] = [];
  for (let run = 0; run < 2; run++) {
    const { child, output } = startMain(['--port', '0'], { FRONTIER_HOME: home });
    try {
      await waitFor(() => /Ctrl-C/.test(output()), 'the start banner');
      codes.push(/Pairing code: {2}(\S+)/.exec(output())?.[1] ?? '');
      if (run === 1) assert.match(output(), /now private to you/);
    } finally {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
    if (run === 0) await chmod(join(home, 'pairing-token'), 0o644); // as if copied around carelessly
  }
  assert.equal(codes[0], codes[1]);
  assert.equal((await stat(join(home, 'pairing-token'))).mode & 0o777, 0o600);
});

test('--token-file and FRONTIER_TOKEN_FILE give the token without showing it; a bad file is explained', { timeout: 60_000 }, async () => {
  const home = await freshHome();
  const tokenFile = join(home, 'my-token');
  const secret = 'a-secret-from-a-file-0123456789';
  await writeFile(tokenFile, `${secret}\n`);
  for (const [args, env] of [[['--token-file', tokenFile], {}], [[], { FRONTIER_TOKEN_FILE: tokenFile }]] as [string[], Record<string, string>][]) {
    const { child, output } = startMain(['--port', '0', ...args], { FRONTIER_HOME: home, ...env });
    try {
      await waitFor(() => /Ctrl-C/.test(output()), 'the start banner');
      assert.ok(!output().includes(secret), output());
      assert.match(output(), /Token: set from .*my-token \(not shown\)/);
      const url = /Frontier is running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1] ?? '';
      assert.equal((await raw(url, '/v2', { headers: { Authorization: `Bearer ${secret}` } })).status, 200);
    } finally {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
  }
  await writeFile(tokenFile, 'has a space\n');
  const bad = startMain(['--port', '0', '--token-file', tokenFile], { FRONTIER_HOME: home });
  const [code] = await once(bad.child, 'exit');
  assert.equal(code, 2);
  assert.match(bad.output(), /printable ASCII without spaces/);
  const missing = startMain(['--port', '0', '--token-file', join(home, 'nope')], { FRONTIER_HOME: home });
  const [missingCode] = await once(missing.child, 'exit');
  assert.equal(missingCode, 2);
  assert.match(missing.output(), /Cannot read the token file .*nope \(ENOENT\)/);
});

test('a busy port gives a clear message and exit code 1', { timeout: 30_000 }, async () => {
  const busy = await startServer({ port: 0 });
  try {
    const { child, output } = startMain(['--port', String(busy.port)], { FRONTIER_HOME: await freshHome() });
    const [code] = await once(child, 'exit');
    assert.equal(code, 1);
    assert.match(output(), /already in use: is another Frontier server running\?.*--port/);
  } finally {
    await busy.close();
  }
});

test('bad arguments explain themselves', { timeout: 30_000 }, async () => {
  const { child, output } = startMain(['--port', 'eighty'], { FRONTIER_HOME: await freshHome() });
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(output(), /--port must be a port number/);
});
