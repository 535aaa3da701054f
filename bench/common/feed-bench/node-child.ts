// One BenchSpec on onnxruntime-node in its own process (bench/common/node-child.ts):
//   node --import tsx bench/common/feed-bench/node-child.ts SPEC.json THREADS MODEL_DIR FEEDS_DIR OUT_DIR
// Writes OUT_DIR/<output>.f32 and prints RunResult with the output names.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild } from '../node-child.ts';
import { feedTensor, outputBytes, runBench, type BenchSpec } from './spec.ts';

const [specPath, threads, modelDir, feedsDir, outDir] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, 'utf8')) as BenchSpec;
const feeds = Object.fromEntries(spec.feeds.map((f) => [f.name, feedTensor(f, new Uint8Array(readFileSync(join(feedsDir, f.file))))]));
runChild({ card: spec.card, path: join(modelDir, spec.modelFile), threads: Number(threads) }, async (session, log, cpuNow) => {
  const { outputs, ...result } = await runBench(spec, session, feeds, log, cpuNow);
  for (const [name, t] of Object.entries(outputs)) writeFileSync(join(outDir, `${name}.f32`), outputBytes(t));
  return { ...result, outputs: Object.keys(outputs) };
});
