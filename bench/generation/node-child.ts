// One generation spec on onnxruntime-node in its own process (bench/common/node-child.ts):
//   node --import tsx bench/generation/node-child.ts SPEC.json THREADS OUT_DIR
// Writes OUT_DIR/check.<output>.f32 and prints RunResult with the check outputs' names instead of their values.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild } from '../common/node-child.ts';
import { runSpec, type RunSpec } from './cases.ts';

const [specPath, threads, outDir] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, 'utf8')) as RunSpec;
runChild({ card: spec.card, path: spec.model, threads: Number(threads) }, async (session, log, cpuNow) => {
  const result = await runSpec(spec, session, log, cpuNow);
  for (const [name, data] of Object.entries(result.check)) writeFileSync(join(outDir, `check.${name}.f32`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return { ...result, check: Object.keys(result.check) };
});
