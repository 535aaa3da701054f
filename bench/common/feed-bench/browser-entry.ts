// The speed bench page's script (./serve.ts, bench/common/page.ts). Outputs go back to the bench server
// by POST (a VQ-Diffusion step's log-probs are 32 MB: too much for page.evaluate's JSON).
import { exposeBench, fetchBytes, openSession } from '../page.ts';
import { feedTensor, outputBytes, runBench, type BenchSpec, type RunResult } from './spec.ts';

export interface BrowserResult extends RunResult {
  downloadMs: number;
  threads: number;
  isolated: boolean;
  adapter?: string;
  outputs: string[];
}

async function bench(spec: BenchSpec, ep: 'wasm' | 'webgpu', threads: number, outputsUrl: string): Promise<BrowserResult> {
  const { session, downloadMs, sessionMs, adapter } = await openSession(spec.card, `/models/${spec.modelFile}`, ep, threads);
  const feeds = Object.fromEntries(await Promise.all(spec.feeds.map(async (f) => [f.name, feedTensor(f, await fetchBytes(`/feeds/${f.file}`))] as const)));
  const { outputs, ...result } = await runBench(spec, session, feeds, (line) => console.log(line));
  for (const [name, t] of Object.entries(outputs)) {
    const body = outputBytes(t);
    const response = await fetch(`${outputsUrl}/${name}`, { method: 'POST', body: body.slice() });
    if (!response.ok) throw new Error(`upload of output ${name}: HTTP ${response.status}`);
  }
  return { ...result, sessionMs, downloadMs, threads, isolated: crossOriginIsolated, adapter, outputs: Object.keys(outputs) };
}

exposeBench('frontierOnnxBench', bench);
