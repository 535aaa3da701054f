// The body of a bench's Node child: one model on onnxruntime-node in its own process, so
// `process.resourceUsage().maxRSS` is this model's peak. Opens the session through the product's runtime
// (worker/runtime/ort-node.ts), lets the bench run it, and prints one JSON line: what the bench returned plus
// sessionMs and maxRssBytes (read back by runNodeChild in bench/common/targets.ts).
import { readFileSync } from 'node:fs';
import type { ModelCard } from '../../worker/models/card.ts';
import type { Session } from '../../worker/runtime/runtime.ts';
import { createOrtNodeRuntime } from '../../worker/runtime/ort-node.ts';

export interface ChildModel {
  card: ModelCard;
  path: string;
  threads: number;
}

/** CPU time of this process, all threads, in ms. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function runChild<T extends object>(model: ChildModel, bench: (session: Session, log: (line: string) => void, cpuNow: () => number) => Promise<T>): void {
  const main = async () => {
    const t0 = performance.now();
    const load = async () => new Uint8Array(readFileSync(model.path));
    // A graph with external weights loads by path, as the server loads it.
    const session = await createOrtNodeRuntime({ threads: model.threads }).createSession(model.card, load, { localPath: async () => model.path });
    const sessionMs = performance.now() - t0;
    const log = (line: string) => console.error(`  [node ${model.threads}t] ${line}`);
    log(`session ${sessionMs.toFixed(0)} ms`);
    const result = await bench(session, log, cpuNow);
    const maxRssBytes = process.resourceUsage().maxRSS * 1024; // KiB on Linux
    await session.dispose();
    console.log(JSON.stringify({ ...result, sessionMs, maxRssBytes }));
  };
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
