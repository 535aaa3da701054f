// Where Frontier's one WASM thread loses to TF.js's XNNPACK on ESRGAN thick (bench/results/peer.md: 0.90–0.91× per
// core at the same tiling): both runtimes' own per-kernel timers on the same weights and input, in one Chromium page,
// runs taking turns. TF.js: tf.profile (kernel wall time; its wasm kernels are synchronous). onnxruntime-web:
// enableProfiling. Prints a markdown report (per kernel family and the costliest kernels by shape).
//
//   npx tsx bench/peer-profile.ts [--size 96] [--rounds 3]     (CHROME_PATH as for the tests)
// The notes and both runs' tables are in bench/results/peer-profile.md (the script prints, it writes no file).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { launchBenchBrowser, openBenchPage } from './common/chromium.ts';
import { serveBenchPage } from './common/serve.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH, REPO_ROOT } from '../worker/platform-node.ts';
import type { ModelCard } from '../worker/models/card.ts';
import type { ProfileApi } from './peer/profile-entry.ts';
import { parseCli, usageError } from '../server/cli-args.ts';

const USAGE = 'npx tsx bench/peer-profile.ts [--size <px, 16–256, default 96>] [--rounds <n, default 3>]';
const opts = parseCli(USAGE, { size: { type: 'string' }, rounds: { type: 'string' } });
const SIZE = Number(opts.size ?? 96);
const ROUNDS = Number(opts.rounds ?? 3);
if (!Number.isInteger(SIZE) || SIZE < 16 || SIZE > 256) usageError(USAGE, `--size ${opts.size}: whole pixels from 16 to 256`);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) usageError(USAGE, `--rounds ${opts.rounds}: a whole number ≥ 1`);
const WARMUP = 2;

const registry = JSON.parse(readFileSync(REGISTRY_PATH, 'utf8')) as { models: ModelCard[] };
const card = registry.models.find((m) => m.id === 'esrgan-thick-x4')!;
const png = PNG.sync.read(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'images', 'astronaut.png')));
const pixels: number[] = [];
for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) pixels.push(png.data[((160 + y) * png.width + 200 + x) * 4 + c]);

const served = await serveBenchPage({
  entry: join(REPO_ROOT, 'bench', 'peer', 'profile-entry.ts'),
  file(rel) {
    const m = /^\/peer-models\/(esrgan-thick)\/(x4)\/([\w.-]+\.(?:json|bin))$/.exec(rel);
    if (m) return join(REPO_ROOT, 'node_modules', '@upscalerjs', m[1], 'models', m[2], m[3]);
    const w = /^\/tfjs-wasm\/(tfjs-backend-wasm(?:-simd|-threaded-simd)?\.wasm)$/.exec(rel);
    if (w) return join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist', w[1]);
    if (rel.startsWith('/models/files/')) return join(MODEL_FILES_DIR, basename(rel));
    return null;
  },
});
const browser = await launchBenchBrowser();
const load0 = loadavg()[0];
try {
  const page = await openBenchPage(browser, served.url, 'profileBench');
  const call = <K extends keyof ProfileApi>(method: K, ...args: Parameters<ProfileApi[K]>): Promise<Awaited<ReturnType<ProfileApi[K]>>> =>
    page.evaluate(([m, a]) => (globalThis as unknown as { profileBench: Record<string, (...x: unknown[]) => unknown> }).profileBench[m](...a), [method, args] as const) as never;
  const tfInfo = await call('loadTfjs');
  await call('loadOrt', `${served.url}/models/files/${card.files[0].name}`);
  await call('setInput', pixels, SIZE);
  for (let i = 0; i < WARMUP; i++) {
    await call('tfjsRun', false);
    await call('ortRun');
  }
  const tfPlain: number[] = [], tfProfiled: number[] = [], ortMs: number[] = [];
  const tfByKernel: Record<string, number> = {};
  const tfByShape = new Map<string, { kernel: string; shapes: string; ms: number; count: number }>();
  const tfCounts: Record<string, number> = {};
  for (let r = 0; r < ROUNDS; r++) {
    // Turns: the order flips each round.
    const steps = [async () => ortMs.push(await call('ortRun')), async () => {
      tfPlain.push((await call('tfjsRun', false)).ms);
      const p = await call('tfjsRun', true);
      tfProfiled.push(p.ms);
      // tf.profile lists a fused op twice, as its op scope (`fusedConv2d__op`) and as its kernel: keep the kernels.
      for (const k of p.kernels!.filter((x) => !x.name.endsWith('__op'))) {
        tfByKernel[k.name] = (tfByKernel[k.name] ?? 0) + k.ms / ROUNDS;
        const key = `${k.name} ${k.shapes}`;
        const e = tfByShape.get(key) ?? { kernel: k.name, shapes: k.shapes, ms: 0, count: 0 };
        e.ms += k.ms / ROUNDS;
        e.count += 1 / ROUNDS;
        tfByShape.set(key, e);
        if (r === 0) tfCounts[k.name] = (tfCounts[k.name] ?? 0) + 1;
      }
    }];
    for (const step of r % 2 ? steps.reverse() : steps) await step();
  }
  const ortProf = await call('ortProfile', WARMUP);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const ortByKernel = Object.fromEntries(Object.entries(ortProf.kernelUs).map(([k, us]) => [k, us / 1000 / Math.max(1, ortProf.runs)]));
  const f = (x: number) => x.toFixed(1);
  const lines: string[] = [];
  lines.push(`# ESRGAN thick ×4, ${SIZE}² astronaut crop: per-kernel time, TF.js WASM (XNNPACK) vs onnxruntime-web WASM, one thread each`, '');
  lines.push(`${new Date().toISOString()}; load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)} (2 shared cores, other helpers' work running). ${tfInfo}; onnxruntime-web WASM 1 thread, graphOptimizationLevel all. ${WARMUP} warm-up runs each, then ${ROUNDS} rounds taking turns.`, '');
  lines.push(`Run wall ms (median): TF.js unprofiled ${f(median(tfPlain))}, TF.js profiled ${f(median(tfProfiled))}; onnxruntime-web (profiling on) ${f(median(ortMs))}. Kernel sums per run: TF.js ${f(sum(tfByKernel))} ms, onnxruntime-web ${f(sum(ortByKernel))} ms.`, '');
  lines.push('| runtime | kernel | ms per run | kernels per run | share |', '|---|---|---:|---:|---:|');
  for (const [name, ms] of Object.entries(tfByKernel).sort((a, b) => b[1] - a[1])) lines.push(`| TF.js | ${name} | ${f(ms)} | ${tfCounts[name] ?? 0} | ${((100 * ms) / sum(tfByKernel)).toFixed(0)} % |`);
  for (const [name, ms] of Object.entries(ortByKernel).sort((a, b) => b[1] - a[1])) lines.push(`| onnxruntime-web | ${name} | ${f(ms)} | ${ortProf.nodes[name] ?? 0} | ${((100 * ms) / sum(ortByKernel)).toFixed(0)} % |`);
  lines.push('', 'Costliest kernels by input shapes (ms per run, summed over the kernels of that shape):', '', '| runtime | kernel | input shapes | ms per run | per run |', '|---|---|---|---:|---:|');
  for (const e of [...tfByShape.values()].sort((a, b) => b.ms - a.ms).slice(0, 10)) lines.push(`| TF.js | ${e.kernel} | ${e.shapes} | ${f(e.ms)} | ${e.count.toFixed(0)} |`);
  for (const e of ortProf.byShape.slice(0, 10)) lines.push(`| onnxruntime-web | ${e.op} | ${e.shapes} | ${f(e.us / 1000 / Math.max(1, ortProf.runs))} | ${e.count.toFixed(0)} |`);
  console.log(lines.join('\n'));
} finally {
  await browser.close();
  served.server.close();
}
