// npm run bench:gap — issue 16 part 3: how far onnxruntime-web WASM on ONE thread (Chromium, in a Web Worker, as the
// plugin runs in Figma) is from onnxruntime-node on ONE thread (intraOp 1, interOp 1), per shipped model family, same
// ONNX graph, same input bytes, interleaved run by run; outputs compared. Then onnxruntime's profiler on both sides
// for the models furthest from native: time per op type, to say where WASM loses.
// Writes bench/results/gap.md and gap.json.
//   npm run bench:gap [-- --models id,id --rounds 3 --warmup 1 --profile auto|none|id,id]   (--out gap-x: write gap-x.md/json; --report-only: the .md again from the .json)
// Models are made once into BENCH_GAP_DIR (default $TMPDIR/frontier-gap) and reused; see bench/gap/models.ts.
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBenchBrowser } from './common/chromium.ts';
import { parseOptions } from './common/args.ts';
import { benchSeconds, log } from './common/log.ts';
import { resultsDir, resultsJson, runMain, writeResults } from './common/results.ts';
import { serveBenchPage } from './common/serve.ts';
import { CASES, EXPERIMENTS, type GapModel } from './gap/models.ts';
import { measure, profile, type Bench, type Measured } from './gap/measure.ts';
import { cpuRatio, gapReport, machineLine, type GapResults, type GapRow } from './gap/report.ts';

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;
const PROFILE_AUTO_MAX = 6;

async function main(): Promise<void> {
  // --report-only: rewrite gap.md from gap.json (after editing bench/gap/findings.md), nothing measured.
  const outAt = process.argv.indexOf('--out');
  const name = outAt >= 0 ? process.argv.splice(outAt, 2)[1] : 'gap';
  if (!/^gap[A-Za-z0-9-]*$/.test(name)) throw new Error(`--out ${name}: a results name starting with gap`);
  if (process.argv.includes('--report-only')) {
    const json = JSON.parse(readFileSync(join(resultsDir(), `${name}.json`), 'utf8')) as GapResults;
    await writeResults(name, resultsJson(json), gapReport(json));
    return;
  }
  let ids = CASES.map((c) => c.id);
  let rounds = 3;
  let warmup = 1;
  let profileWhat = 'auto';
  parseOptions(process.argv.slice(2), 'bench:gap [--models id,id] [--rounds N] [--warmup N] [--profile auto|none|id,id]', (key, value) => {
    if (key === '--models') ids = value().split(',');
    else if (key === '--rounds') rounds = Number(value());
    else if (key === '--profile') profileWhat = value();
    else if (key === '--warmup') warmup = Number(value());
    else return false;
    return true;
  });
  const known = [...CASES, ...EXPERIMENTS];
  const unknown = ids.filter((id) => !known.some((c) => c.id === id));
  if (unknown.length) throw new Error(`unknown model(s) ${unknown.join(', ')}; known: ${known.map((c) => c.id).join(', ')}`);
  const work = process.env.BENCH_GAP_DIR ?? join(tmpdir(), 'frontier-gap');
  const dirs = { models: join(work, 'models'), feeds: join(work, 'feeds'), outputs: join(work, 'outputs') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

  const files = new Map<string, string>();
  const { url, server } = await serveBenchPage({
    entry: fileURLToPath(new URL('gap/entry.ts', import.meta.url)),
    handle(req, res, rel, headers) {
      if (req.method !== 'POST' || !rel.startsWith('/outputs/')) return false;
      const name = rel.slice('/outputs/'.length);
      if (!SAFE_NAME.test(name)) return res.writeHead(400).end(), true;
      const out = createWriteStream(join(dirs.outputs, name));
      req.pipe(out);
      out.on('finish', () => res.writeHead(204, headers).end());
      out.on('error', () => res.writeHead(500).end());
      return true;
    },
    file(rel) {
      const name = basename(rel);
      if (!SAFE_NAME.test(name)) return null;
      if (rel === `/models/${name}`) return files.get(name) ?? null;
      if (rel === `/feeds/${name}`) return join(dirs.feeds, name);
      return null;
    },
  });
  const browser = await launchBenchBrowser();
  const bench: Bench = {
    browser,
    url,
    dirs,
    serve(path) {
      files.set(basename(path), path);
      return basename(path);
    },
    log,
  };
  const rows: GapRow[] = [];
  const startLoad = machineLine();
  try {
    const prepared: GapModel[] = [];
    for (const c of known.filter((x) => ids.includes(x.id))) {
      try {
        prepared.push(await c.prepare(dirs, log));
      } catch (err) {
        log(`${c.id}: cannot prepare: ${(err as Error).message}`);
        rows.push({ id: c.id, family: c.family, error: `not prepared: ${(err as Error).message}` });
      }
    }
    for (const m of prepared) {
      let measured: Measured | undefined;
      try {
        measured = await measure(bench, m, rounds, warmup);
      } catch (err) {
        log(`${m.id}: failed: ${(err as Error).message}`);
      }
      rows.push({ id: m.id, family: m.family, model: { ...m, modelPath: basename(m.modelPath), externalData: m.externalData.map((e) => e.path) }, measured, error: measured ? undefined : 'measurement failed (see the log)' });
    }
    const want = (r: GapRow): boolean => {
      if (!r.measured) return false;
      if (profileWhat === 'none') return false;
      if (profileWhat === 'auto') return r.measured.wasm.cpuMs.length > 0 && cpuRatio(r.measured) > 4;
      return profileWhat.split(',').includes(r.id);
    };
    // auto: the models above 4×, worst first, at most PROFILE_AUTO_MAX of them (each profile costs two runs a side).
    const toProfile = rows.filter(want).sort((a, b) => cpuRatio(b.measured!) - cpuRatio(a.measured!)).slice(0, profileWhat === 'auto' ? PROFILE_AUTO_MAX : undefined);
    for (const r of toProfile) {
      const m = prepared.find((p) => p.id === r.id)!;
      try {
        r.profile = await profile(bench, m, work, warmup);
      } catch (err) {
        log(`${m.id}: profile failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  const seconds = benchSeconds();
  const json = { date: new Date().toISOString(), machine: startLoad, endLoad: machineLine(), rounds, warmup, seconds, rows };
  await writeResults(name, resultsJson(json), gapReport(json), seconds);
}

runMain(main);
