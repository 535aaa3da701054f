// A model whose weights live in ONNX external data (how the 5 GB ITHQ transformer ships) runs in the plugin's worker:
// the tiny VQ-Diffusion pipeline exported with every graph's weights in a separate file, served by a server whose
// registry lists only those, gives the same image on WASM as onnxruntime-node does with the committed models.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Engine } from '../../worker/engine.ts';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import type { ResultMeta, RgbaImage } from '../../worker/job.ts';
import { createNodePlatform, REPO_ROOT } from '../../worker/platform-node.ts';
import { assertOk, requireTorch, runExport } from '../export/export-util.ts';
import { tempRoot } from '../server/helpers.ts';
import { compareImages, openPlayground, pixels, runAndWaitForNode, type Playground } from './harness.ts';

const PARTS = ['vqdiffusion-ithq-text', 'vqdiffusion-ithq-transformer', 'vqdiffusion-ithq-decoder'];
const PROMPT = 'a red fox in the snow';
const MAX_ABS_DIFF = 3;

let root: Awaited<ReturnType<typeof tempRoot>>;
let pg: Playground;
let reference: RgbaImage;
let transformer: ModelCard;

before(async () => {
  requireTorch();
  root = await tempRoot({ 'README.txt': 'temporary root for the external-data test' });
  const files = join(root.root, 'models', 'build', 'files');
  await mkdir(files, { recursive: true });
  process.env.ONNX_EXTERNAL_DATA_THRESHOLD = '1000';
  for (const id of PARTS) assertOk(await runExport([id, '--tiny', '--out', files], 300_000), `export ${id}`);
  const cards: ModelCard[] = [];
  for (const name of await readdir(files)) if (name.endsWith('.card.json')) cards.push(JSON.parse(await readFile(join(files, name), 'utf8')) as ModelCard);
  await writeFile(join(root.root, 'models', 'registry.json'), JSON.stringify({ version: 1, models: cards } satisfies Registry));
  transformer = cards.find((c) => c.role === 'transformer')!;
  for (const dir of ['figma', 'playground']) await mkdir(join(root.root, 'dist', dir), { recursive: true });
  await copyFile(join(REPO_ROOT, 'dist', 'figma', 'ui.html'), join(root.root, 'dist', 'figma', 'ui.html'));
  await copyFile(join(REPO_ROOT, 'dist', 'playground', 'playground.js'), join(root.root, 'dist', 'playground', 'playground.js'));
  pg = await openPlayground({ root: root.root });
  reference = (await new Engine(createNodePlatform()).run({ id: 'ref', task: 'text-to-image', params: { prompt: PROMPT, seed: 5, steps: 12 } })).images[0];
});

after(async () => {
  await pg?.close();
  await root?.remove();
});

test('WASM loads the graphs with their external weight files and gives the single-file models\' image', { timeout: 600_000 }, async () => {
  assert.ok(transformer.files.some((f) => f.kind === 'onnx-external-data'), 'the transformer keeps its weights in a separate file');
  await pg.ui.locator('[data-testid="task-select"]').selectOption('text-to-image');
  await pg.ui.locator('[data-testid="model-select"]').selectOption(transformer.id);
  await pg.ui.locator('[data-testid="param-prompt"]').fill(PROMPT);
  await pg.ui.locator('input[data-testid="param-seed"]').fill('5');
  await pg.ui.locator('input[data-testid="param-steps"]').fill('12');
  await pg.ui.locator('[data-testid="target-select"]').selectOption('wasm');
  const placed = await runAndWaitForNode(pg);
  assert.equal((JSON.parse(placed.pluginData.frontier) as ResultMeta).target, 'wasm');
  const out = await pixels(pg.page, placed.id);
  const { max } = compareImages(out, reference);
  assert.ok(max <= MAX_ABS_DIFF, `max diff ${max}`);
});
