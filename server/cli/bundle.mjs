// The `frontier` command starts from one prebuilt JavaScript file, dist/cli/frontier.mjs (≈0.1 s), instead of
// compiling server/cli.ts and its ≈60 TypeScript modules with tsx at every start (≈0.5 s warm, more on a cold cache or
// a busy machine). esbuild makes it in about 0.1 s: server/bin/frontier.js builds it when it is missing or any source
// it came from has changed (size or time), so it is never stale, and falls back to tsx where it cannot be built or
// written (FRONTIER_CLI_TSX=1 forces tsx, for debugging with TypeScript stack traces).
// Plain JavaScript: it runs before anything can compile TypeScript.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = 'server/cli.ts';
export const BUNDLE = join(ROOT, 'dist', 'cli', 'frontier.mjs');
/** First line of the bundle: this mark, then JSON { root, inputs: { path: [size, mtimeMs] } }. */
const MARK = '// frontier-cli-sources ';

/** Reads the sources line of a bundle; null when there is none or it is not one of ours. */
function sourcesOf(text) {
  if (!text.startsWith(MARK)) return null;
  try {
    return JSON.parse(text.slice(MARK.length, text.indexOf('\n')));
  } catch {
    return null;
  }
}

/** Whether the bundle (dist/cli/frontier.mjs) exists and was built here from the sources as they are now. */
export function bundleIsCurrent(file = BUNDLE) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const sources = sourcesOf(text);
  if (!sources || sources.root !== ROOT || Object.keys(sources.inputs).length === 0) return false;
  for (const [source, [size, mtimeMs]] of Object.entries(sources.inputs)) {
    try {
      const info = statSync(join(ROOT, source));
      if (info.size !== size || info.mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Modules find their files from import.meta.url (models/registry.json, the catalogue, onnxruntime-node): in one
 * bundle every module would share the bundle's URL, so each keeps its own, written in as a string.
 */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(build) {
    build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const url = pathToFileURL(args.path).href;
      const contents = (await readFile(args.path, 'utf8'))
        .replace(/\bimport\.meta\.url\b/g, JSON.stringify(url))
        .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
        .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)));
      return { contents, loader: /\.m?ts$/.test(args.path) ? 'ts' : 'js' };
    });
  },
};

/**
 * Builds the bundle, dist/cli/frontier.mjs unless told another file (inside the repository, so that packages resolve
 * from its node_modules); written whole, then renamed into place, so concurrent starts never see half a file.
 */
export async function buildBundle(file = BUNDLE) {
  const esbuild = await import('esbuild');
  const started = Date.now();
  try {
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external', // onnxruntime-node (native), pngjs, jpeg-js… load from node_modules as they are
      outfile: file,
      write: false,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      plugins: [keepModuleUrls],
    });
    const inputs = {};
    let settled = true;
    for (const source of Object.keys(result.metafile.inputs)) {
      const info = statSync(join(ROOT, source));
      // A source saved while esbuild read it may be in the bundle as it was before: then the next start rebuilds.
      if (info.mtimeMs > started) settled = false;
      inputs[source] = [info.size, info.mtimeMs];
    }
    const header = `${MARK}${JSON.stringify({ root: ROOT, inputs: settled ? inputs : {} })}\n// Built from ${ENTRY} by server/cli/bundle.mjs; rebuilt when a source changes. Not for editing.\n`;
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, header + result.outputFiles[0].text);
      renameSync(temporary, file);
    } finally {
      rmSync(temporary, { force: true });
    }
  } finally {
    await esbuild.stop?.();
  }
}

/** The CLI's main(): from the bundle (built first when needed), else through tsx. */
export async function loadCli() {
  if (!process.env.FRONTIER_CLI_TSX) {
    try {
      if (!bundleIsCurrent()) await buildBundle();
      return (await import(pathToFileURL(BUNDLE).href)).main;
    } catch (err) {
      if (process.env.FRONTIER_DEBUG) process.stderr.write(`frontier: running through tsx (the prebuilt CLI could not be used: ${err?.message ?? err})\n`);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../cli.ts')).main;
}

// `node server/cli/bundle.mjs`: build it now (otherwise the first `frontier` after a change does, in ≈0.2 s).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  await buildBundle();
  console.log(`built ${BUNDLE.slice(ROOT.length)} in ${Date.now() - started} ms`);
}
