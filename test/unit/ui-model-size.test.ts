// The size the model picker shows (ui/components/ModelPicker.tsx): a pipeline offered by one part (TTVSR by its
// reconstruct part, VQ-Diffusion by its transformer) shows every part's files, which the task's own model list
// leaves out; a plain model its own files.
//
//   node --import tsx --test --test-reporter=spec test/unit/ui-model-size.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelOptionText, pipelineBytes } from '../../ui/components/ModelPicker.tsx';
import type { ModelStatus } from '../../worker/engine-api.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { TTVSR_PARTS } from '../../worker/video/ttvsr-card.ts';

const MB = 1e6;
// The parts' graph sizes at full width (an export of the official layout): the reconstruct part is 1.4 of 27.7 MB.
const PART_MB = { flow: 5.8, features: 1.5, align: 0.5, refine: 18.5, reconstruct: 1.4 } as const;

function status(card: Partial<ModelCard> & { id: string; bytes: number[] }): ModelStatus {
  const { bytes, ...rest } = card;
  return {
    card: { task: 'upscale', label: card.id, description: '', variant: 'full', io: { inputs: [], outputs: [], image: { layout: 'NCHW', range: [0, 1] }, scale: 4, tile: { size: 0, overlap: 0 } }, license: 'MIT', source: { checkpoint: 'x' }, targets: ['server'], ...rest, files: bytes.map((b, i) => ({ name: `${card.id}.${i}`, sha256: '0', bytes: b })) } as ModelCard,
    cached: false,
    cachedBytes: 0,
    loaded: false,
  };
}

const pipeline = { id: 'ttvsr-reds', ...Object.fromEntries(TTVSR_PARTS.map((p) => [p, `ttvsr-reds-${p}`])) };
const parts = TTVSR_PARTS.map((p) => status({ id: `ttvsr-reds-${p}`, task: 'upscale-video', role: p, label: `TTVSR REDS ${p}`, pipeline, bytes: [PART_MB[p] * MB] }));
const reconstruct = parts.find((m) => m.card.role === 'reconstruct')!;
const esrgan = status({ id: 'esrgan-thick-x4', label: 'ESRGAN thick ×4', bytes: [28.4 * MB] });

test('TTVSR shows the whole pipeline’s size, not only its reconstruct part’s', () => {
  const all = [esrgan, ...parts];
  const total = Object.values(PART_MB).reduce((a, b) => a + b, 0) * MB;
  assert.equal(pipelineBytes(reconstruct, all), total);
  assert.match(modelOptionText(reconstruct, all), /^TTVSR \(REDS\) · temporal: uses neighbouring frames, ×4 only · 27\.7 MB$/);
  // The task's own list (the reconstruct part alone) is not enough to know it: then only what is there counts.
  assert.equal(pipelineBytes(reconstruct, [reconstruct]), 1.4 * MB);
});

test('a model that is no pipeline shows its own files; a multi-file card all of them', () => {
  assert.match(modelOptionText(esrgan, [esrgan, ...parts]), /^ESRGAN thick ×4 · 28\.4 MB$/);
  const maxim = status({ id: 'maxim-dehaze', label: 'MAXIM dehaze', bytes: [3 * MB, 50 * MB] });
  assert.equal(pipelineBytes(maxim, [maxim]), 53 * MB);
});

test('VQ-Diffusion, offered by its transformer, counts its text encoder and decoder too', () => {
  const vq = { id: 'vqdiffusion-ithq', textEncoder: 'vq-text', transformer: 'vq-transformer', decoder: 'vq-decoder' };
  const [text, transformer, decoder] = [['vq-text', 250], ['vq-transformer', 1800], ['vq-decoder', 150]].map(([id, mb]) => status({ id: id as string, task: 'text-to-image', pipeline: vq, bytes: [(mb as number) * MB] }));
  assert.equal(pipelineBytes(transformer, [text, transformer, decoder]), 2200 * MB);
});
