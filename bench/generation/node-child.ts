// One model on onnxruntime-node in its own process, so `process.resourceUsage().maxRSS` is this model's peak:
//   node --import tsx bench/generation/node-child.ts SPEC.json THREADS OUT_DIR
// Runs the spec through the product's runtime (worker/runtime/ort-node.ts), writes OUT_DIR/check.<output>.f32 and
// prints one JSON line: RunResult without the check arrays, plus maxRssBytes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOrtNodeRuntime } from '../../worker/runtime/ort-node.ts';
import { runSpec, type RunSpec } from './cases.ts';

async function main() {
  const [specPath, threadsArg, outDir] = process.argv.slice(2);
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as RunSpec;
  const threads = Number(threadsArg);
  const t0 = performance.now();
  const session = await createOrtNodeRuntime({ threads }).createSession(spec.card, async () => new Uint8Array(readFileSync(spec.model)));
  const sessionMs = performance.now() - t0;
  const log = (line: string) => console.error(`  [node ${threads}t] ${line}`);
  log(`session ${sessionMs.toFixed(0)} ms`);
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const result = await runSpec(spec, session, log, cpuNow);
  for (const [name, data] of Object.entries(result.check)) writeFileSync(join(outDir, `check.${name}.f32`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  // maxRSS is in KiB on Linux.
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  await session.dispose();
  console.log(JSON.stringify({ ...result, check: Object.keys(result.check), sessionMs, maxRssBytes }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
