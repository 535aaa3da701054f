// VQ-Diffusion ITHQ's three graphs for bench/text-to-image.ts: their ids, the random checkpoint written in the
// official layout, the inputs each run gets (raw files shared by every target) and MACs counted per block.
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../worker/random.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { python } from '../common/export.ts';
import type { FeedFile } from '../common/feed-bench/spec.ts';

export type Part = 'text' | 'transformer' | 'decoder';
export const PARTS: Part[] = ['text', 'transformer', 'decoder'];
export const IDS: Record<Part, string> = { text: 'vqdiffusion-ithq-text', transformer: 'vqdiffusion-ithq-transformer', decoder: 'vqdiffusion-ithq-decoder' };

export const FULL_BLOCKS = 36;
export const STEPS = 100; // the official default number of denoising steps
export const LATENT = 1024; // 32×32 tokens
export const CODES = 4096; // the mask token's id (codes 0..4095)
export const CLIP_START = 49406;
export const CLIP_END = 49407;
/** 32-bit WebAssembly addresses 4 GiB: onnxruntime-web holds the model bytes and the weights in that memory. */
export const WASM_MEMORY = 4 * 2 ** 30;

// The official checkpoint layout: everything under DALLE's 'model' (select_state in vqdiffusion.py).
export const CHECKPOINT_PY = `
import sys, torch
import vqdiffusion as v
torch.manual_seed(0)
model = v.build(sys.argv[1], False)
v.randomize(model)
prefix = {'text': 'transformer.condition_emb.', 'transformer': 'transformer.', 'decoder': 'content_codec.dec.'}[v.part(sys.argv[1])]
torch.save({'model': {prefix + k: t for k, t in model.state_dict().items()}}, sys.argv[2])
`;
export const CHECKPOINT = "random DALLE {'model': …} checkpoint from vqdiffusion.build + vqdiffusion.randomize (seed 0), official key layout";
export const blocksPatch = (blocks: number) => `import vqdiffusion\nvqdiffusion.FULL['transformer']['layers'] = ${blocks}\n`;

export interface BlockMacs {
  macs: number;
  byOp: Record<string, number>;
  uncounted: string[];
  perBlock: Record<string, number>;
  outsideBlocks: number;
}

export function countMacs(onnxPath: string, shapes: Record<string, number[]>): Promise<BlockMacs> {
  const script = fileURLToPath(new URL('macs_by_block.py', import.meta.url));
  const generationDir = fileURLToPath(new URL('../generation/', import.meta.url));
  return python([script, generationDir, onnxPath, ...Object.entries(shapes).map(([k, v]) => `${k}=${v.join(',')}`)], 'counting MACs', false)
    .then((out) => JSON.parse(out.trim().split('\n').pop()!) as BlockMacs);
}

function writeFeed(dir: string, feed: FeedFile, data: Float32Array | BigInt64Array): FeedFile {
  writeFileSync(join(dir, feed.file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return feed;
}

/** Unit-norm random rows [n, 512]: the shape and scale of the text encoder's per-token features. */
function unitRows(rng: Rng, n: number, width: number): Float32Array {
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < width; j++) {
      const v = rng.uniform() * 2 - 1;
      out[i * width + j] = v;
      norm += v * v;
    }
    for (let j = 0; j < width; j++) out[i * width + j] /= Math.sqrt(norm);
  }
  return out;
}

export function feedsFor(part: Part, card: ModelCard, modelDir: string, dir: string): { feeds: FeedFile[]; input: string } {
  const rng = new Rng(1);
  if (part === 'text') {
    const tokens = new BigInt64Array(77); // start, 12 word ids, end, then 0-padding (VQ-Diffusion pads with 0)
    tokens[0] = BigInt(CLIP_START);
    for (let i = 1; i <= 12; i++) tokens[i] = BigInt(1 + Math.floor(rng.uniform() * (CLIP_START - 1)));
    tokens[13] = BigInt(CLIP_END);
    return { feeds: [writeFeed(dir, { name: 'tokens', dtype: 'int64', dims: [1, 77], file: 'text-tokens.i64' }, tokens)], input: 'one prompt (batch 1): start token, 12 random word ids, end token, 0-padding to 77' };
  }
  if (part === 'transformer') {
    const nullFile = card.files.find((f) => f.kind === 'null-text-embedding');
    if (!nullFile) throw new Error(`${card.id}: the export wrote no null text embedding`);
    const nullBytes = readFileSync(join(modelDir, nullFile.name));
    const nullText = new Float32Array(nullBytes.buffer, nullBytes.byteOffset, nullBytes.byteLength / 4);
    const text = new Float32Array(2 * 77 * 512);
    text.set(unitRows(rng, 77, 512));
    text.set(nullText, 77 * 512);
    return {
      feeds: [
        writeFeed(dir, { name: 'tokens', dtype: 'int64', dims: [2, LATENT], file: 'transformer-tokens.i64' }, new BigInt64Array(2 * LATENT).fill(BigInt(CODES))),
        writeFeed(dir, { name: 'timestep', dtype: 'int64', dims: [2], file: 'transformer-timestep.i64' }, BigInt64Array.of(BigInt(STEPS - 1), BigInt(STEPS - 1))),
        writeFeed(dir, { name: 'text', dtype: 'float32', dims: [2, 77, 512], file: 'transformer-text.f32' }, text),
      ],
      input: 'the first step of a guided image (batch 2: all 1024 tokens masked, timestep 99; text = random unit-norm token features for the prompt row and the exported learned null embedding for the other)',
    };
  }
  const tokens = new BigInt64Array(LATENT);
  for (let i = 0; i < LATENT; i++) tokens[i] = BigInt(Math.floor(rng.uniform() * CODES));
  return { feeds: [writeFeed(dir, { name: 'tokens', dtype: 'int64', dims: [1, LATENT], file: 'decoder-tokens.i64' }, tokens)], input: 'one image (batch 1): 1024 random codes (seeded)' };
}

export const SHAPES: Record<Part, Record<string, number[]>> = {
  text: { tokens: [1, 77] },
  transformer: { tokens: [2, LATENT], timestep: [2], text: [2, 77, 512] },
  decoder: { tokens: [1, LATENT] },
};
