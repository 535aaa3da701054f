// The command-line entries beside the server (the benches, the builds) read their arguments with node:util's
// parseArgs, strict (server/cli-args.ts): an unknown option, a stray argument or a missing value stops the script
// before it does anything, with what was wrong, its usage line and exit code 2; --help prints the usage line. Each
// entry is run for real (a child process). The Photoshop build's own options still parse as before.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseBuildArgs } from '../../plugin/build-photoshop.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** bench/*.ts that run as commands: all but the restore benches (their own parser), the browser bundle's entry. */
const BENCHES = readdirSync(join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.ts') && !f.startsWith('restore') && f !== 'browser-entry.ts')
  .map((f) => `bench/${f}`);
const ENTRIES = [...BENCHES, 'plugin/build.ts', 'plugin/build-photoshop.ts'];

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `entry` with `args`. A script that ignored a bad argument would go on to run its bench or build: it is killed
 * after two minutes, and the test fails on its exit status (never on how long it took).
 */
function run(entry: string, args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BENCH_SERVER_CHILD: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

test('the entries are found: every bench but the restore ones, and both builds', () => {
  for (const bench of ['bench/run.ts', 'bench/server.ts', 'bench/generation.ts', 'bench/inpaint.ts', 'bench/inpaint-quality.ts', 'bench/text-to-image.ts', 'bench/video.ts', 'bench/video-flicker.ts']) {
    assert.ok(ENTRIES.includes(bench), bench);
  }
});

for (const entry of ENTRIES) {
  test(`${entry}: an unknown option is a usage error (exit 2, the usage line) and nothing runs`, async () => {
    const out = await run(entry, ['--no-such-option']);
    assert.equal(out.code, 2, `${entry} exited ${out.code}: ${out.stderr}`);
    assert.match(out.stderr, /Unknown option '--no-such-option'/);
    assert.match(out.stderr, /^Usage: \S/m);
    assert.equal(out.stdout, '', 'nothing ran');
  });
}

test('a stray argument, a missing value and a bad list are usage errors too; --help prints the usage line', async () => {
  const stray = await run('plugin/build.ts', ['fast']);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /Unexpected argument 'fast'/);
  assert.match(stray.stderr, /^Usage: npx tsx plugin\/build\.ts \[--skip-models\] \[--watch\]/m);

  const missing = await run('plugin/build-photoshop.ts', ['--domain']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--domain <value>' argument missing/);

  const badList = await run('bench/inpaint-quality.ts', ['--methods', 'mean,magic']);
  assert.equal(badList.code, 2);
  assert.match(badList.stderr, /unknown method\(s\) magic; known: mean, telea, ns, frontier\nUsage: npm run bench:inpaint-quality/);

  const help = await run('bench/inpaint-quality.ts', ['--help']);
  assert.equal(help.code, 0);
  assert.equal(help.stdout, 'Usage: npm run bench:inpaint-quality -- [--model <id>] [--methods mean,telea,ns,frontier] [--keep DIR]\n');
});

test('the Photoshop build keeps its options: --package, --reuse-ui, --domain (repeated, = or not) and FRONTIER_PS_DOMAINS', () => {
  assert.deepEqual(parseBuildArgs([], {}), { domains: [] });
  const options = parseBuildArgs(['--package', '--domain', 'https://a.example', '--reuse-ui', '--domain=https://b.example'], { FRONTIER_PS_DOMAINS: 'https://env.example, http://localhost:9000' });
  assert.deepEqual(options.domains, ['https://env.example', 'http://localhost:9000', 'https://a.example', 'https://b.example']);
  assert.equal(options.packagePath, join(ROOT, 'dist', 'frontier-photoshop.ccx'));
  assert.equal(options.uiHtmlPath, join(ROOT, 'dist', 'figma', 'ui.html'));
});
