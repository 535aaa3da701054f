// npm run bench:gap — issue 16 part 3: how far onnxruntime-web WASM on ONE thread (Chromium, in a Web Worker, as the
// plugin runs in Figma) is from onnxruntime-node on ONE thread (intraOp 1, interOp 1), per shipped model family, same
// ONNX graph, same input bytes, interleaved run by run; outputs compared. Then onnxruntime's profiler on both sides
// for the models furthest from native: time per op type, to say where WASM loses.
// Writes bench/results/gap.md and gap.json.
//   npm run bench:gap [-- --models id,id --rounds 3 --warmup 1 --profile auto|none|id,id]   (--out gap-x: write gap-x.md/json; --report-only: the .md again from the .json;
//   --merge: these models' rows replace theirs in the existing .json, the other rows kept, the re-run noted)
// Models are made once into BENCH_GAP_DIR (default $TMPDIR/frontier-gap) and reused; see bench/gap/models.ts.
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBenchBrowser } from './common/chromium.ts';
import { parseCli, usageError } from '../server/cli-args.ts';
import { benchSeconds, log } from './common/log.ts';
import { resultsDir, resultsJson, runMain, writeResults } from './common/results.ts';
import { serveBenchPage } from './common/serve.ts';
import { CASES, EXPERIMENTS, type GapModel } from './gap/models.ts';
import { measure, profile, type Bench, type Measured } from './gap/measure.ts';
import { cpuRatio, gapReport, machineLine, type GapResults, type GapRow } from './gap/report.ts';

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;
const PROFILE_AUTO_MAX = 6;

const USAGE = 'bench:gap [--models id,id] [--rounds N] [--warmup N] [--profile auto|none|id,id] [--out gap-NAME] [--report-only] [--merge]';

/** A whole number of at least `min` from an option, or a usage error (exit 2). */
function count(value: string | undefined, fallback: number, min: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) usageError(USAGE, `${what} must be a whole number ≥ ${min}, got ${value}`);
  return n;
}

async function main(): Promise<void> {
  // Strict options (exit 2 with the usage line on an unknown one), as every bench entry.
  const opts = parseCli(USAGE, {
    models: { type: 'string' }, rounds: { type: 'string' }, warmup: { type: 'string' }, profile: { type: 'string' },
    out: { type: 'string' }, 'report-only': { type: 'boolean' }, merge: { type: 'boolean' },
  });
  const name = opts.out ?? 'gap';
  if (!/^gap[A-Za-z0-9-]*$/.test(name)) usageError(USAGE, `--out ${name}: a results name starting with gap`);
  // --report-only: rewrite gap.md from gap.json (after editing bench/gap/findings.md), nothing measured.
  if (opts['report-only']) {
    const json = JSON.parse(readFileSync(join(resultsDir(), `${name}.json`), 'utf8')) as GapResults;
    await writeResults(name, resultsJson(json), gapReport(json));
    return;
  }
  const ids = opts.models ? opts.models.split(',') : CASES.map((c) => c.id);
  const rounds = count(opts.rounds, 3, 1, '--rounds');
  const warmup = count(opts.warmup, 1, 0, '--warmup');
  const profileWhat = opts.profile ?? 'auto';
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
  const run = { date: new Date().toISOString(), machine: startLoad, endLoad: machineLine(), rounds, warmup, seconds };
  const json: GapResults = opts.merge ? mergeRows(name, run, rows) : { ...run, rows };
  await writeResults(name, resultsJson(json), gapReport(json), seconds);
}

/** --merge: the existing results with these rows in place of theirs (new models appended) and this run noted. */
function mergeRows(name: string, run: Omit<GapResults, 'rows'>, rows: GapRow[]): GapResults {
  const old = JSON.parse(readFileSync(join(resultsDir(), `${name}.json`), 'utf8')) as GapResults;
  const merged = old.rows.map((r) => rows.find((x) => x.id === r.id) ?? r);
  for (const r of rows) if (!old.rows.some((x) => x.id === r.id)) merged.push(r);
  return { ...old, rows: merged, reruns: [...(old.reruns ?? []), { ...run, ids: rows.map((r) => r.id) }] };
}

runMain(main);
