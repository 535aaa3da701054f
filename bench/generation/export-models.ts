// Full-size StyleSwin-256 and GRAM-256 with random weights, exported at bench time into a temp folder (never into
// models/, never committed): a random checkpoint with the official key layout, then models/export/export.py, as a
// user converts an official checkpoint.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelCard } from '../../worker/models/card.ts';
import { EXPORT_DIR, EXPORT_PY } from '../../test/export/export-util.ts';
import { python } from '../common/export.ts';
import type { Family } from './cases.ts';

export const MODEL_IDS: Record<Family, string> = { styleswin: 'styleswin-ffhq-256', gram: 'gram-ffhq-256' };

export interface ExportedModel {
  family: Family;
  card: ModelCard;
  onnxPath: string;
  /** Seconds for checkpoint + export (export.py also checks onnxruntime-node against PyTorch); null when reused. */
  exportSeconds: number | null;
  checkpoint: string;
}

// StyleSwin: the official g_ema layout with styleswin.py's own random initialisation (unit-gain layers, so the
// activations and the image stay O(1), as with trained weights; tiny 0.02·randn weights would make every target's
// output nearly constant and an output comparison meaningless).
const STYLESWIN_CHECKPOINT_PY = `
import sys, torch
import styleswin
torch.manual_seed(0)
model = styleswin.build(sys.argv[1], False)
styleswin.randomize(model)
torch.save({'g_ema': model.state_dict()}, sys.argv[2])
`;

function readExported(family: Family, dir: string): { card: ModelCard; onnxPath: string } | undefined {
  const cardPath = join(dir, `${MODEL_IDS[family]}.card.json`);
  if (!existsSync(cardPath)) return undefined;
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
  const onnxPath = join(dir, card.files[0].name);
  return existsSync(onnxPath) ? { card, onnxPath } : undefined;
}

/** Exports `family` into `dir`, or reuses an export already there (BENCH_GEN_MODELS, for reruns while debugging). */
export async function exportModel(family: Family, dir: string, log: (line: string) => void): Promise<ExportedModel> {
  const id = MODEL_IDS[family];
  const reused = readExported(family, dir);
  const checkpoint = family === 'styleswin' ? 'random g_ema (styleswin.randomize, seed 0), official key layout' : 'gram.py fake-checkpoint: random generator.pth + ema.pth, official key layout';
  if (reused) {
    log(`${id}: reusing ${reused.onnxPath}`);
    return { family, ...reused, exportSeconds: null, checkpoint };
  }
  const started = performance.now();
  let checkpointPath: string;
  if (family === 'styleswin') {
    checkpointPath = join(dir, 'styleswin-random.pt');
    await python(['-c', STYLESWIN_CHECKPOINT_PY, id, checkpointPath], 'random StyleSwin checkpoint');
  } else {
    await python([join(EXPORT_DIR, 'gram.py'), 'fake-checkpoint', '--out', join(dir, 'gram-random')], 'random GRAM checkpoint');
    checkpointPath = join(dir, 'gram-random', 'generator.pth');
  }
  log(`${id}: exporting from ${checkpointPath}`);
  await python([EXPORT_PY, id, '--checkpoint', checkpointPath, '--out', dir], `export.py ${id}`);
  const exported = readExported(family, dir);
  if (!exported) throw new Error(`export.py ${id} wrote no card/model into ${dir}`);
  const exportSeconds = (performance.now() - started) / 1000;
  log(`${id}: exported in ${exportSeconds.toFixed(0)} s`);
  return { family, ...exported, exportSeconds, checkpoint };
}
