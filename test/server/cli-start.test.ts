// How `frontier` starts: from a bundle esbuild makes of server/cli.ts (server/cli/bundle.mjs), which knows the sources
// it came from and counts as out of date as soon as one differs; modules in it still find their files (registry,
// models, package.json) where they are, even with the bundle elsewhere. Through tsx (the fallback) it behaves the same.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildBundle, bundleIsCurrent } from '../../server/cli/bundle.mjs';
import { REPO } from './helpers.ts';
import { frontier } from './cli-util.ts';

// Inside the repository, so that the bundle's packages (onnxruntime-node…) resolve from its node_modules.
mkdirSync(join(REPO, 'dist'), { recursive: true });
const dir = mkdtempSync(join(REPO, 'dist', 'cli-start-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a bundle is current while its sources are as it recorded them, and not once one differs', async () => {
  const file = join(dir, 'frontier.mjs');
  assert.equal(bundleIsCurrent(file), false, 'no bundle yet');
  await buildBundle(file);
  const text = readFileSync(file, 'utf8');
  const header = text.slice(0, text.indexOf('\n'));
  const sources = JSON.parse(header.slice(header.indexOf('{'))) as { root: string; inputs: Record<string, [number, number]> };
  assert.ok(sources.inputs['server/cli.ts'] && sources.inputs['worker/engine.ts'], 'it records the sources it came from');
  // A source saved while the bundle was built leaves it out of date on purpose: only then may this be false.
  if (Object.keys(sources.inputs).length) assert.equal(bundleIsCurrent(file), true);

  const rewrite = (change: (s: typeof sources) => void) => {
    const copy = structuredClone(sources);
    change(copy);
    const other = join(dir, `changed-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(other, `${header.slice(0, header.indexOf('{'))}${JSON.stringify(copy)}${text.slice(text.indexOf('\n'))}`);
    return other;
  };
  assert.equal(bundleIsCurrent(rewrite((s) => (s.inputs['server/cli.ts'][0] += 1))), false, 'a source of another size');
  assert.equal(bundleIsCurrent(rewrite((s) => (s.inputs['worker/engine.ts'][1] -= 1000))), false, 'a source saved since');
  assert.equal(bundleIsCurrent(rewrite((s) => (s.inputs['server/gone.ts'] = [1, 1]))), false, 'a source that is gone');
  assert.equal(bundleIsCurrent(rewrite((s) => (s.root = '/elsewhere/'))), false, 'built in another folder');
  writeFileSync(join(dir, 'plain.mjs'), 'export const main = () => 0;\n');
  assert.equal(bundleIsCurrent(join(dir, 'plain.mjs')), false, 'a file that is not one of ours');
});

test('the bundle, away from the sources, runs a job: its modules find the registry and models where they are', async () => {
  const file = join(dir, 'frontier.mjs');
  if (!bundleIsCurrent(file)) await buildBundle(file);
  const out = join(dir, 'portrait.png');
  const script = `const { main } = await import(${JSON.stringify(pathToFileURL(file).href)}); process.exitCode = await main(process.argv.slice(1));`;
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'rotate-view', out, '--size', '32', '--seed', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /portrait\.png: 32×32 \(gram-ffhq-256-tiny — tiny random-weight TEST model on node, seed 3/);
});

test('server/bin/frontier.js gives what the TypeScript gives through tsx', async () => {
  for (const args of [['--help'], ['--version'], [], ['upscale', 'a.png']]) {
    const bundled = await frontier(args);
    const tsx = await frontier(args, { env: { FRONTIER_CLI_TSX: '1' } });
    assert.deepEqual(bundled, tsx, args.join(' '));
  }
});
