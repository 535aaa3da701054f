// Images and telemetry never leave the machine: onnxruntime-node (1.29+) queues usage telemetry in the user's cache
// folder for upload unless ORT_DISABLE_TELEMETRY=1 is set before it initialises. Frontier sets it itself
// (worker/runtime/no-telemetry.mjs). Checked here with a fresh home folder and that variable removed from the
// environment: the CLI and the server (inference processes included) write nothing there, while a plain script that
// loads onnxruntime-node the same way does — so this check can see telemetry when it is on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO, startMainProcess } from '../server/helpers.ts';

const homes: string[] = [];
after(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

// onnxruntime also stays quiet on its own where it sees a CI service (these variables, read from its binary): a
// designer's machine has none of them, so neither do these runs, or the checks below would pass for the wrong reason.
const CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER'];

/** An environment as on a designer's machine, with a fresh home (and cache folder), and without the opt-out. */
async function freshEnv(): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
  const home = await mkdtemp(join(tmpdir(), 'frontier-telemetry-'));
  homes.push(home);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), FRONTIER_HOME: join(home, 'frontier') };
  for (const name of ['ORT_DISABLE_TELEMETRY', ...CI_VARIABLES]) delete env[name];
  return { home, env };
}

/** Files under the cache folder (onnxruntime writes .cache/Microsoft/DeveloperTools/.onnxruntime/…). */
async function cacheFiles(home: string): Promise<string[]> {
  return (await readdir(join(home, '.cache'), { recursive: true }).catch(() => [])).map(String);
}

const registry = JSON.parse(readFileSync(join(REPO, 'models', 'registry.json'), 'utf8')) as { models: { id: string; files: { name: string }[] }[] };
const MODEL_FILE = registry.models.find((m) => m.id === 'esrgan-slim-x2')!.files[0].name;

test('the check works: onnxruntime-node loaded without the opt-out writes its telemetry cache', { timeout: 60_000 }, async () => {
  const { home, env } = await freshEnv();
  const script = join(home, 'plain.mjs');
  await writeFile(
    script,
    `import * as ort from ${JSON.stringify(join(REPO, 'node_modules', 'onnxruntime-node', 'dist', 'index.js'))};\n` +
      `const s = await ort.InferenceSession.create(${JSON.stringify(join(REPO, 'models', 'build', 'files', MODEL_FILE))});\n` +
      `await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', new Float32Array(48), [1, 4, 4, 3]) });\n`,
  );
  const r = spawnSync(process.execPath, [script], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.ok((await cacheFiles(home)).some((f) => f.includes('onnxruntime')), 'onnxruntime wrote no telemetry here: if it no longer does, this check needs a new witness');
});

test('the CLI writes no telemetry', { timeout: 120_000 }, async () => {
  const { home, env } = await freshEnv();
  const r = spawnSync(process.execPath, [join(REPO, 'server', 'bin', 'frontier.js'), 'upscale', join(REPO, 'test', 'fixtures', 'images', 'chelsea.png'), join(home, 'out.png'), '--scale', '2', '--quality', 'fast'], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(await cacheFiles(home), []);
});

test('the server writes no telemetry, its inference processes included', { timeout: 120_000 }, async () => {
  const { home, env } = await freshEnv();
  const main = await startMainProcess(env.FRONTIER_HOME!, { env });
  try {
    const res = await fetch(`${main.url}/v2/models/esrgan-slim-x2/infer`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${main.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4, 4, 3], datatype: 'FP32', data: Array.from({ length: 48 }, () => 0.5) }] }),
    });
    assert.equal(res.status, 200, await res.text());
  } finally {
    main.child.kill('SIGINT');
    await main.exit;
  }
  assert.deepEqual(await cacheFiles(home), []);
});
