// Where the benches write their results, how their JSON looks, and how a bench's main ends.
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../worker/platform-node.ts';
import { log } from './log.ts';

/** bench/results, or BENCH_RESULTS_DIR (smoke runs write elsewhere so the committed results stay as they are). */
export function resultsDir(): string {
  return process.env.BENCH_RESULTS_DIR ?? join(REPO_ROOT, 'bench', 'results');
}

/** Pretty JSON with numbers rounded to 6 significant digits. */
export function resultsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v), 2) + '\n';
}

/** Writes `<name>.json` and `<name>.md` into the results folder and prints the markdown (and the bench's time). */
export async function writeResults(name: string, json: string, md: string, durationSeconds?: number): Promise<void> {
  const out = resultsDir();
  mkdirSync(out, { recursive: true });
  await writeFile(join(out, `${name}.json`), json);
  await writeFile(join(out, `${name}.md`), md);
  console.log(md);
  if (durationSeconds !== undefined) log(`done in ${(durationSeconds / 60).toFixed(1)} min`);
}

/** Runs a bench's main, exiting 1 with the error on failure. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
