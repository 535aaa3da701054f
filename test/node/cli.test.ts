// The `frontier` CLI as a user runs it: a real process, real files, errors on stderr with a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import { crop } from '../../worker/image/rgba.ts';
import { loadPhoto } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'frontier.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });

/** Like `cli`, without blocking this process's event loop (needed when this process also serves the CLI). */
function cliAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test('frontier upscale writes a PNG of the right size', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'frontier-cli-'));
  const input = join(dir, 'in.png');
  await writeFile(input, await nodeCodec.encodePng(crop(await loadPhoto('chelsea.png'), 100, 100, 40, 30)));
  const r = cli('upscale', input, join(dir, 'out.png'), '--scale', '3', '--quality', 'fast');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /out\.png: 120×90 \(esrgan-slim-x3 on node/);
  const out = await nodeCodec.decode(new Uint8Array(await readFile(join(dir, 'out.png'))));
  assert.equal(out.width, 120);
  assert.equal(out.height, 90);
});

test('--help lists tasks and params; bad usage fails on stderr with a non-zero exit', async () => {
  const help = cli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /frontier upscale <image> <output\.png> .*\n.*\n\s*--scale <2\|3\|4>/);
  const unknown = cli('paint', 'a.png', 'b.png');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown task "paint"/);
  const missing = cli('upscale', '/nonexistent.png', '/tmp/x.png');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /\/nonexistent\.png does not exist: check the name/);
  assert.doesNotMatch(missing.stderr, /ENOENT/);
  const badScale = cli('upscale', '/nonexistent.png', '/tmp/x.png', '--scale', '5');
  assert.notEqual(badScale.status, 0);
  assert.equal(badScale.stdout, '');
  const dir = await mkdtemp(join(tmpdir(), 'frontier-cli-'));
  await writeFile(join(dir, 'not-an-image.png'), 'hello');
  const corrupt = cli('upscale', join(dir, 'not-an-image.png'), join(dir, 'o.png'));
  assert.equal(corrupt.status, 1);
  assert.match(corrupt.stderr, /Unsupported image format/);
});

test('--server runs the job on an Open Inference Protocol server and gives the same PNG as the local run', async () => {
  const { startServer } = await import('../../server/server.ts');
  const server = await startServer({ port: 0 });
  try {
    const dir = await mkdtemp(join(tmpdir(), 'frontier-cli-'));
    const input = join(dir, 'in.png');
    await writeFile(input, await nodeCodec.encodePng(crop(await loadPhoto('astronaut.png'), 200, 200, 24, 24)));
    const args = (out: string) => ['upscale', input, join(dir, out), '--scale', '2', '--quality', 'fast', '--server', server.url];
    // Without the code the server refuses, and the CLI says where the code comes from.
    const home = join(dir, 'home');
    const refused = await cliAsync(args('refused.png'), { FRONTIER_HOME: home, FRONTIER_TOKEN: '' });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /asks for its pairing code/);
    // The pairing code npm start keeps in Frontier's folder is found for a server on this computer.
    await mkdir(home, { recursive: true });
    await writeFile(join(home, 'pairing-token'), `${server.token}\n`);
    const paired = await cliAsync(args('paired.png'), { FRONTIER_HOME: home, FRONTIER_TOKEN: '' });
    assert.equal(paired.status, 0, paired.stderr);
    const remote = await cliAsync(args('remote.png'), { FRONTIER_TOKEN: server.token });
    assert.equal(remote.status, 0, remote.stderr);
    assert.match(remote.stdout, /on server/);
    const local = cli('upscale', input, join(dir, 'local.png'), '--scale', '2', '--quality', 'fast');
    assert.equal(local.status, 0, local.stderr);
    const a = await nodeCodec.decode(new Uint8Array(await readFile(join(dir, 'remote.png'))));
    const b = await nodeCodec.decode(new Uint8Array(await readFile(join(dir, 'local.png'))));
    assert.deepEqual(a.data, b.data);
    const down = cli('upscale', input, join(dir, 'x.png'), '--server', 'http://127.0.0.1:9');
    assert.equal(down.status, 1);
    assert.match(down.stderr, /Cannot reach the server at http:\/\/127\.0\.0\.1:9/);
  } finally {
    await server.close();
  }
});
