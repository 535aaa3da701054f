// `npm test`: builds what the tests load, finds (or installs) a Chromium, then runs every suite with node's
// test runner. Suites: unit (pure logic), node (engine on onnxruntime-node), convert (TF.js → ONNX checks),
// export (PyTorch → ONNX exporters, Debian's python3-torch), server (HTTP), e2e (real Chromium on the playground).
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { findChromium } from './browser.ts';

const root = join(import.meta.dirname, '..');
const only = process.argv.slice(2);
const suites = only.length ? only : ['unit', 'node', 'convert', 'export', 'server', 'e2e'];

const chrome = findChromium({ install: true });
console.log(`browser: ${chrome}`);

/** Runs a step and stops the whole run when it fails. */
function step(label: string, args: string[]): void {
  console.log(`\n== ${label}`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${label} failed`);
    process.exit(r.status ?? 1);
  }
}

step('type-check (tsc --noEmit)', [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.', '--noEmit']);
step('lint (eslint)', [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
step('build (plugin, UI, playground, models)', ['--import', 'tsx', 'plugin/build.ts']);

const files: string[] = [];
for (const suite of suites) {
  const dir = join(root, 'test', suite);
  if (!existsSync(dir)) throw new Error(`no test suite ${suite}`);
  files.push(...readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', suite, f)));
}
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  // ORT_DISABLE_TELEMETRY: tests that load onnxruntime-node directly (as a reference) must not queue telemetry in
  // the CI user's home either; the product sets it itself (test/node/telemetry.test.ts removes it to prove that).
  env: { ...process.env, CHROME_PATH: chrome, ORT_DISABLE_TELEMETRY: '1' },
});
process.exit(run.status ?? 1);
