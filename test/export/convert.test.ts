// The one-command conversion path a user runs on an official checkpoint (npm run convert): export with Python,
// check, install into the machine's own registry (never the committed one), then run it. A fake checkpoint with the
// official GRAM layout at full width stands in for the real file (whose license forbids redistribution).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { convertCheckpoint, exportIdsFor, mergeRegistries, readLocalRegistry } from '../../models/local-models.ts';
import { Engine } from '../../worker/engine.ts';
import type { Registry } from '../../worker/models/card.ts';
import { createNodePlatform, REGISTRY_PATH } from '../../worker/platform-node.ts';
import { assertOk, EXPORT_DIR, requireTorch, runPython } from './export-util.ts';

test('npm run convert: a GRAM checkpoint becomes a local full model that renders, with its license shown', { timeout: 300_000 }, async () => {
  requireTorch();
  const work = await mkdtemp(join(tmpdir(), 'frontier-convert-test-'));
  try {
    assertOk(await runPython([join(EXPORT_DIR, 'gram.py'), 'fake-checkpoint', '--out', join(work, 'ckpt')]), 'fake checkpoint');
    const files = join(work, 'files');
    const localRegistry = join(work, 'local-registry.json');
    const lines: string[] = [];
    const card = convertCheckpoint('gram-ffhq-256', join(work, 'ckpt', 'generator.pth'), { filesDir: files, registryPath: localRegistry, log: (l) => lines.push(l) });
    assert.equal(card.id, 'gram-ffhq-256');
    assert.equal(card.variant, 'full');
    assert.match(lines.join('\n'), /installed gram-ffhq-256[\s\S]*license: Microsoft Research License: non-commercial/);

    // The shipped registry plus the local one, as the server and the CLI see them.
    const shipped = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as Registry;
    const merged = mergeRegistries(shipped, readLocalRegistry(localRegistry));
    assert.ok(merged.models.some((m) => m.id === 'gram-ffhq-256-tiny') && merged.models.some((m) => m.id === 'gram-ffhq-256'));
    const registryPath = join(work, 'merged.json');
    writeFileSync(registryPath, JSON.stringify(merged));

    const engine = new Engine(createNodePlatform({ registryPath, modelDir: files }));
    const result = await engine.run({ id: 'converted', task: 'rotate-view', params: { seed: 1, size: 64, yaw: 10 } });
    assert.equal(result.meta.model, 'gram-ffhq-256', 'a converted full model is preferred over the tiny one');
    assert.equal(result.meta.modelVariant, 'full');
    assert.deepEqual([result.images[0].width, result.images[0].height], [64, 64]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('convert: a pipeline id (or any of its parts) converts every part from the one checkpoint', () => {
  const parts = ['vqdiffusion-ithq-text', 'vqdiffusion-ithq-transformer', 'vqdiffusion-ithq-decoder'];
  assert.deepEqual(exportIdsFor('vqdiffusion-ithq'), parts);
  assert.deepEqual(exportIdsFor('vqdiffusion-ithq-transformer'), parts);
  assert.deepEqual(exportIdsFor('simmim-swin-base-192'), ['simmim-swin-base-192']);
});
