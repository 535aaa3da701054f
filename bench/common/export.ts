// Full-size models with random weights, exported at bench time into a temp folder (never into models/, never
// committed): a random checkpoint in the official key layout written by the family's own build() + randomize(),
// then models/export/export.py on it, as a user converts an official checkpoint. Also counts MACs from the graph.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelCard } from '../../worker/models/card.ts';
import { EXPORT_DIR, EXPORT_PY, INSTALL_HINT, PYTHON } from '../../test/export/export-util.ts';

export interface ExportedModel {
  card: ModelCard;
  onnxPath: string;
  /** Seconds for checkpoint + export; null when an earlier export in the same folder was reused. */
  exportSeconds: number | null;
  checkpoint: string;
}

/** Runs Debian's Python in models/export (so `import simmim` etc. work), echoing its output; resolves to stdout. */
export function python(args: string[], what: string, echo = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: EXPORT_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (echo) process.stdout.write(chunk);
    });
    child.on('error', (err) => reject(new Error(`${what}: cannot start ${PYTHON} (${err.message}); ${INSTALL_HINT}`)));
    child.on('close', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${what} failed (exit ${signal ?? code}${signal === 'SIGKILL' ? ': killed, out of memory?' : ''}); see the output above`))));
  });
}

function readExported(cardId: string, dir: string): { card: ModelCard; onnxPath: string } | undefined {
  const cardPath = join(dir, `${cardId}.card.json`);
  if (!existsSync(cardPath)) return undefined;
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
  return card.files.every((f) => existsSync(join(dir, f.name))) ? { card, onnxPath: join(dir, card.files[0].name) } : undefined;
}

/**
 * Exports `modelId` at full size from a random checkpoint that `checkpointPy` writes (python -c, argv: model id,
 * checkpoint path), or reuses an export already in `dir`. The checkpoint file is deleted after the export.
 * `patchPy` (optional) runs first in both processes, e.g. to change a family's configuration (fewer blocks): the
 * export then runs export.py in that same process (runpy), so the patched module is the one it imports.
 */
export async function exportRandomModel(modelId: string, checkpointPy: string, checkpoint: string, dir: string, log: (line: string) => void, patchPy = ''): Promise<ExportedModel> {
  const reused = readExported(modelId, dir);
  if (reused) {
    log(`${modelId}: reusing ${reused.onnxPath}`);
    return { ...reused, exportSeconds: null, checkpoint };
  }
  const started = performance.now();
  const checkpointPath = join(dir, `${modelId}-random.pth`);
  await python(['-c', patchPy + checkpointPy, modelId, checkpointPath], `random ${modelId} checkpoint`);
  log(`${modelId}: random checkpoint in ${((performance.now() - started) / 1000).toFixed(0)} s; exporting`);
  try {
    const args = [modelId, '--checkpoint', checkpointPath, '--out', dir];
    const runExport = `import runpy, sys\nsys.argv = [${JSON.stringify(EXPORT_PY)}] + sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n`;
    await python(patchPy ? ['-c', patchPy + runExport, ...args] : [EXPORT_PY, ...args], `export.py ${modelId}`);
  } finally {
    await python(['-c', 'import os, sys; os.remove(sys.argv[1])', checkpointPath], 'removing the random checkpoint').catch(() => {});
  }
  const exported = readExported(modelId, dir);
  if (!exported) throw new Error(`export.py ${modelId} wrote no card/model into ${dir}`);
  const exportSeconds = (performance.now() - started) / 1000;
  log(`${modelId}: exported in ${exportSeconds.toFixed(0)} s`);
  return { ...exported, exportSeconds, checkpoint };
}

export interface MacCount {
  macs: number;
  byOp: Record<string, number>;
  uncounted: string[];
}

// bench/generation/macs.py, with the graph read without its external weights (a 5 GB transformer's weights are
// not needed to count: shapes are in the graph).
/** MACs of one run with the given input shapes, counted from the graph. */
export async function countMacs(onnxPath: string, shapes: Record<string, number[]>): Promise<MacCount> {
  const script = fileURLToPath(new URL('../generation/macs.py', import.meta.url));
  const out = await python([script, onnxPath, ...Object.entries(shapes).map(([k, v]) => `${k}=${v.join(',')}`)], 'counting MACs', false);
  return JSON.parse(out.trim().split('\n').pop()!) as MacCount;
}
