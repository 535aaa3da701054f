// The generation bench page's script (bench/generation/serve.ts, bench/common/page.ts).
import { exposeBench, openSession } from '../common/page.ts';
import { runSpec, type RunResult, type RunSpec } from './cases.ts';

export interface BrowserResult extends RunResult {
  downloadMs: number;
  threads: number;
  isolated: boolean;
  adapter?: string;
}

async function bench(spec: RunSpec, ep: 'wasm' | 'webgpu', threads: number): Promise<BrowserResult> {
  const { session, downloadMs, sessionMs, adapter } = await openSession(spec.card, spec.model, ep, threads);
  const result = await runSpec(spec, session, (line) => console.log(line));
  return { ...result, sessionMs, downloadMs, threads, isolated: crossOriginIsolated, adapter };
}

// Typed arrays become plain arrays: what page.evaluate returns to Node must be JSON-like.
exposeBench('frontierGenerationBench', bench, (r) => ({ ...r, check: Object.fromEntries(Object.entries(r.check).map(([k, v]) => [k, Array.from(v)])) }));
