// One model on onnxruntime-node in its own process, so `process.resourceUsage().maxRSS` is this model's peak:
//   node --import tsx bench/inpaint/node-child.ts SPEC.json THREADS MODEL_DIR FEEDS_DIR OUT_DIR
// Runs the spec through the product's runtime (worker/runtime/ort-node.ts; a graph with external weights loads by
// path, as the server loads it), writes OUT_DIR/<output>.f32 and prints one JSON line: RunResult, the output
// names and maxRssBytes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOrtNodeRuntime } from '../../worker/runtime/ort-node.ts';
import { feedTensor, outputBytes, runBench, type BenchSpec } from './spec.ts';

async function main() {
  const [specPath, threadsArg, modelDir, feedsDir, outDir] = process.argv.slice(2);
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as BenchSpec;
  const threads = Number(threadsArg);
  const modelPath = join(modelDir, spec.modelFile);
  const feeds = Object.fromEntries(spec.feeds.map((f) => [f.name, feedTensor(f, new Uint8Array(readFileSync(join(feedsDir, f.file))))]));
  const t0 = performance.now();
  const session = await createOrtNodeRuntime({ threads }).createSession(spec.card, async () => new Uint8Array(readFileSync(modelPath)), { localPath: async () => modelPath });
  const sessionMs = performance.now() - t0;
  const log = (line: string) => console.error(`  [node ${threads}t] ${line}`);
  log(`session ${sessionMs.toFixed(0)} ms`);
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const { outputs, ...result } = await runBench(spec, session, feeds, log, cpuNow);
  for (const [name, t] of Object.entries(outputs)) writeFileSync(join(outDir, `${name}.f32`), outputBytes(t));
  const maxRssBytes = process.resourceUsage().maxRSS * 1024; // KiB on Linux
  await session.dispose();
  console.log(JSON.stringify({ ...result, sessionMs, outputs: Object.keys(outputs), maxRssBytes }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
