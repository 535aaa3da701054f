// Converts the models shipped in npm packages to ONNX — the ESRGAN upscalers (@upscalerjs/esrgan-*, layers models)
// and the MAXIM restorers (@upscalerjs/maxim-*, graph models) — and checks the results against models/registry.json.
//
//   npx tsx models/convert/build-models.ts [--only esrgan-thick-x4,maxim-denoise,...] [--update-registry] [--force]
//
// Output: models/build/files/<id>.<first 16 hex of sha256>.onnx (content-addressed, gitignored); MAXIM's graphs
// keep their weights in <id>.<hash>.onnx.data, shared by a mode's two tile sizes.
// A hash that differs from the registry fails the build unless --update-registry is given.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs as parseArgv } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { ModelCard, ModelFileKind, Registry } from '../../worker/models/card.ts';
import { encodeModel, type ModelSpec } from './onnx-proto.ts';
import { convertLayersModel, readLayersModel, type ConvertOptions } from './tfjs-layers.ts';
import { splitWideConcats } from './onnx-split-concat.ts';
import { LARGE_TILE, MAXIM_MODELS, convertMaximSizes, describeMaximModel, largeTilesId, maximCard, maximLargeTilesCard } from './maxim.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_REGISTRY_PATH = join(REPO_ROOT, 'models', 'registry.json');
export const DEFAULT_OUT_DIR = join(REPO_ROOT, 'models', 'build', 'files');

export type EsrganVariant = 'slim' | 'medium' | 'thick';
export const ESRGAN_VARIANTS: EsrganVariant[] = ['slim', 'medium', 'thick'];
export const ESRGAN_SCALES = [2, 3, 4] as const;

export interface EsrganModel {
  id: string;
  variant: EsrganVariant;
  scale: number;
  packageName: string;
  packageVersion: string;
  modelJsonPath: string;
  /** Value range the package's own model expects and returns (from its model definition). */
  modelRange: [0, 1] | [0, 255];
}

/** The package's own model definition (CommonJS build): scale, value ranges, model path, custom layer setup. */
export interface PackageModelDefinition {
  scale: number;
  inputRange: [number, number];
  outputRange: [number, number];
  _internals: { path: string; name: string; version: string };
  /** Registers the package's custom layers (MultiplyBeta, PixelShuffle{N}x) with a tf instance. */
  setup?: (tf: unknown) => void;
}

const requireFromHere = createRequire(import.meta.url);

export function loadPackageDefinition(variant: EsrganVariant, scale: number): PackageModelDefinition {
  const specifier = `@upscalerjs/esrgan-${variant}/${scale}x`;
  try {
    return requireFromHere(specifier) as PackageModelDefinition;
  } catch (err) {
    throw new Error(`cannot load ${specifier} (${(err as Error).message}); is @upscalerjs/esrgan-${variant} installed? Run npm install.`);
  }
}

export function describeEsrganModel(variant: EsrganVariant, scale: number): EsrganModel {
  const def = loadPackageDefinition(variant, scale);
  const packageDir = join(REPO_ROOT, 'node_modules', '@upscalerjs', `esrgan-${variant}`);
  const [lo, hi] = def.inputRange;
  if (lo !== 0 || (hi !== 1 && hi !== 255) || def.outputRange[0] !== lo || def.outputRange[1] !== hi) {
    throw new Error(`${def._internals.name} x${scale}: unexpected value ranges in ${def.inputRange} → ${def.outputRange}`);
  }
  if (def.scale !== scale) throw new Error(`${def._internals.name}: definition for x${scale} says scale ${def.scale}`);
  return {
    id: `esrgan-${variant}-x${scale}`,
    variant,
    scale,
    packageName: def._internals.name,
    packageVersion: def._internals.version,
    modelJsonPath: join(packageDir, def._internals.path),
    modelRange: hi === 1 ? [0, 1] : [0, 255],
  };
}

export function allEsrganModels(): EsrganModel[] {
  return ESRGAN_VARIANTS.flatMap((v) => ESRGAN_SCALES.map((s) => describeEsrganModel(v, s)));
}

/** Converts one model to ONNX bytes (pure: same package files → same bytes). */
export function convertEsrgan(model: EsrganModel): Uint8Array {
  return encodeModel(esrganGraph(model));
}

/** The ONNX model of one ESRGAN package model, as convertEsrgan writes it (`form`: the old form, for comparisons). */
export function esrganGraph(model: EsrganModel, form: Pick<ConvertOptions, 'subpixelUpsampling'> = {}): ModelSpec {
  const files = readLayersModel(model.modelJsonPath);
  const source = `${model.packageName}@${model.packageVersion}`;
  const spec = convertLayersModel(files, {
    name: model.id,
    docString: `${model.id}: ESRGAN ${model.variant} x${model.scale} from ${source}, converted by models/convert/tfjs-layers.ts. ` +
      'Input/output NHWC float32 in [0,255] (output not clamped).',
    metadata: { source: source, converter: 'models/convert/tfjs-layers.ts', scale: String(model.scale), range: '0-255', layout: 'NHWC' },
    modelRange: model.modelRange,
    outputDimSuffix: `x${model.scale}`,
    ...form,
  });
  // medium's dense blocks end in a 10-input Concat: 11 storage buffers, more than WebGPU adapters must offer (8).
  spec.graph.nodes = splitWideConcats(spec.graph.nodes).nodes;
  return spec;
}

// ---- Registry cards ------------------------------------------------------------------------------

const DESCRIPTIONS: Record<EsrganVariant, string> = {
  thick:
    'Best quality. Residual-in-residual dense network (10 RRDB blocks, 7.3M parameters). On a real photo at ×4 it beat ' +
    'bicubic by +0.47 dB PSNR and looks visibly sharper. Slow: 7.3M multiply-adds per input pixel, 10× medium, 30× slim.',
  medium:
    'Fast. Residual dense network (10 blocks, 0.7M parameters). On a real photo at ×4 it did not beat bicubic (−0.04 dB PSNR) and shows ' +
    'blocky artefacts; choose it for speed, not quality.',
  slim:
    'Fastest and smallest. Residual dense network (2 narrow blocks, 0.23M parameters). On a real photo at ×4 it was worse than bicubic ' +
    '(−0.20 dB PSNR) and shows blocky artefacts; choose it for speed, not quality.',
};

const NOTES: Record<EsrganVariant, string> = {
  thick: 'Measured at ×4 on a 600×400 photo (bicubic ×4 downscale, PSNR vs original): bicubic 25.80 dB, this model 26.27 dB.',
  medium: 'Measured at ×4 on a 600×400 photo (bicubic ×4 downscale, PSNR vs original): bicubic 25.80 dB, this model 25.76 dB; blocky artefacts.',
  slim: 'Measured at ×4 on a 600×400 photo (bicubic ×4 downscale, PSNR vs original): bicubic 25.80 dB, this model 25.60 dB; blocky artefacts.',
};

/**
 * Input tile edge and overlap in input pixels. Tiles are kept small for WASM/WebGPU memory (thick's dense blocks hold
 * 192 channels per pixel). The receptive-field radius is 10 (slim), 18 (medium) and ~154 (thick) input pixels, but
 * the influence decays fast: measured with worker/image/tiling.ts (linear cross-fade) on astronaut.png at ×4 against
 * whole-image inference, these overlaps keep seams to ≤ 2 (slim, medium) and ≤ 1 (thick) 8-bit levels, mean ≤ 0.02.
 */
const TILES: Record<EsrganVariant, { size: number; overlap: number }> = {
  slim: { size: 128, overlap: 16 },
  medium: { size: 128, overlap: 24 },
  thick: { size: 96, overlap: 16 },
};

export function cardFor(model: EsrganModel, file: ModelCard['files'][number]): ModelCard {
  const s = model.scale;
  return {
    id: model.id,
    task: 'upscale',
    label: `ESRGAN ${model.variant} ×${s}`,
    description: DESCRIPTIONS[model.variant],
    variant: 'full',
    files: [file],
    io: {
      inputs: [{ name: 'input', dtype: 'float32', shape: [1, 'height', 'width', 3] }],
      outputs: [{ name: 'output', dtype: 'float32', shape: [1, `height_x${s}`, `width_x${s}`, 3] }],
      image: { layout: 'NHWC', range: [0, 255] },
      scale: s,
      tile: TILES[model.variant],
    },
    license: 'MIT (package); weights Apache-2.0 upstream (idealo/image-super-resolution)',
    source: { checkpoint: `${model.packageName}@${model.packageVersion}`, converter: 'models/convert/tfjs-layers.ts' },
    targets: ['webgpu', 'wasm', 'node', 'server'],
    notes: NOTES[model.variant],
  };
}

export function readRegistry(path: string): Registry {
  if (!existsSync(path)) return { version: 1, models: [] };
  const registry = JSON.parse(readFileSync(path, 'utf8')) as Registry;
  if (registry.version !== 1 || !Array.isArray(registry.models)) throw new Error(`${path}: not a version 1 model registry`);
  return registry;
}

// ---- Build ---------------------------------------------------------------------------------------

/** A file of a built model: its content-addressed name (`<id>.<first 16 hex of sha256><ext>`), bytes and kind. */
interface BuiltFile {
  name: string;
  bytes: Uint8Array;
  kind?: ModelFileKind;
}

/** A model this script builds: its id, its conversion (files[0] the graph), and its registry card for those files. */
interface Buildable {
  id: string;
  convert(): BuiltFile[];
  card(files: ModelCard['files']): ModelCard;
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const graphFile = (id: string, bytes: Uint8Array): BuiltFile => ({ name: `${id}.${sha256Hex(bytes).slice(0, 16)}.onnx`, bytes });

/** Runs `make` once, on first use (two cards built from one conversion). */
function once<T>(make: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: make() }).v;
}

export function buildables(): Buildable[] {
  const esrgan = ESRGAN_VARIANTS.flatMap((v) => ESRGAN_SCALES.map((s): Buildable => ({
    id: `esrgan-${v}-x${s}`,
    convert: () => [graphFile(`esrgan-${v}-x${s}`, convertEsrgan(describeEsrganModel(v, s)))],
    card: (files) => cardFor(describeEsrganModel(v, s), files[0]),
  })));
  // A MAXIM mode is the browser's tile size and, for most, a 256-px build for Node and the server, whose graphs share
  // one weights file.
  const maxim = MAXIM_MODELS.flatMap((m): Buildable[] => {
    const sizes = once(() => convertMaximSizes(describeMaximModel(m.package), m.id, m.largeTiles ? [m.tile.size, LARGE_TILE.size] : [m.tile.size]));
    const weights = (): BuiltFile => ({ ...sizes().weights, kind: 'onnx-external-data' });
    const large = largeTilesId(m);
    return [
      { id: m.id, convert: () => [graphFile(m.id, sizes().graphs[0].bytes), weights()], card: (files) => maximCard(m, describeMaximModel(m.package), files) },
      ...(m.largeTiles ? [{ id: large, convert: () => [graphFile(large, sizes().graphs[1].bytes), weights()], card: (files: ModelCard['files']) => maximLargeTilesCard(m, describeMaximModel(m.package), files) }] : []),
    ];
  });
  return [...esrgan, ...maxim];
}

export interface BuildOptions {
  /** Model ids to build (default: all). */
  only?: string[];
  /** Rewrite files[] of the cards (adding missing cards) instead of failing on a mismatch. */
  updateRegistry?: boolean;
  /** Convert even when a file with the registry's hash is already there. */
  force?: boolean;
  outDir?: string;
  registryPath?: string;
  log?: (line: string) => void;
}

export interface BuildResult {
  id: string;
  /** The graph (files[0]): its path, name, hash and size. */
  path: string;
  name: string;
  sha256: string;
  bytes: number;
  /** Every file of the card, the graph first. */
  files: ModelCard['files'];
  seconds: number;
  /** True when the existing files already had the registry's hashes and nothing was converted. */
  cached: boolean;
}

/** Whether every file a card lists is in `outDir` with its hash and size. */
function upToDate(outDir: string, files: ModelCard['files']): boolean {
  return files.every((f) => {
    const path = join(outDir, f.name);
    if (!existsSync(path)) return false;
    const bytes = readFileSync(path);
    return bytes.length === f.bytes && sha256Hex(bytes) === f.sha256;
  });
}

export async function buildModels(opts: BuildOptions = {}): Promise<BuildResult[]> {
  const outDir = opts.outDir ?? DEFAULT_OUT_DIR;
  const registryPath = opts.registryPath ?? DEFAULT_REGISTRY_PATH;
  const log = opts.log ?? ((line: string) => console.log(line));
  const all = buildables();
  const unknown = (opts.only ?? []).filter((id) => !all.some((b) => b.id === id));
  if (unknown.length) throw new Error(`unknown model id(s) ${unknown.join(', ')}; known: ${all.map((b) => b.id).join(', ')}`);
  const models = all.filter((m) => !opts.only || opts.only.includes(m.id));

  mkdirSync(outDir, { recursive: true });
  const registry = readRegistry(registryPath);
  const results: BuildResult[] = [];
  const mismatches: string[] = [];
  let registryChanged = false;

  for (const model of models) {
    const started = performance.now();
    const card = registry.models.find((c) => c.id === model.id);
    const expected = card?.files;
    let files: ModelCard['files'];
    let cached = false;
    if (expected?.length && !opts.force && upToDate(outDir, expected)) {
      files = expected;
      cached = true;
    } else {
      const built = model.convert();
      files = built.map((f) => ({ name: f.name, sha256: sha256Hex(f.bytes), bytes: f.bytes.length, ...(f.kind ? { kind: f.kind } : {}) }));
      for (const f of built) writeAtomically(join(outDir, f.name), f.bytes);
      removeStaleFiles(outDir, model.id, files.map((f) => f.name));
    }
    const graph = files[0];
    const result: BuildResult = { id: model.id, path: join(outDir, graph.name), name: graph.name, sha256: graph.sha256, bytes: graph.bytes, files, seconds: (performance.now() - started) / 1000, cached };
    results.push(result);

    let status = cached ? 'up to date' : 'converted';
    const fresh = JSON.parse(JSON.stringify(model.card(files))) as ModelCard;
    const fileChanged = !expected || !isDeepStrictEqual(expected, files);
    if (fileChanged || !isDeepStrictEqual(card, fresh)) {
      if (opts.updateRegistry) {
        if (card) registry.models[registry.models.indexOf(card)] = fresh;
        else registry.models.push(fresh);
        registryChanged = true;
        status += card ? ', registry updated' : ', card added';
      } else if (!fileChanged) {
        status += ', CARD CHANGED';
        mismatches.push(`${model.id}: the converter's card differs from the registry's (same files)`);
      } else {
        status += ', REGISTRY MISMATCH';
        const list = (fs: ModelCard['files']) => fs.map((f) => `${f.name} (${f.bytes} bytes, sha256 ${f.sha256})`).join(' + ');
        mismatches.push(expected
          ? `${model.id}: built ${list(files)} but the registry lists ${list(expected)}`
          : `${model.id}: built ${list(files)} but the registry has no card for it`);
      }
    }
    const mb = files.reduce((n, f) => n + f.bytes, 0) / 1e6;
    log(`${model.id.padEnd(22)} ${mb.toFixed(2).padStart(6)} MB  ${result.seconds.toFixed(2).padStart(6)} s  ${files.map((f) => f.name).join(' + ')}  (${status})`);
  }

  if (registryChanged) {
    writeFileSync(registryPath, JSON.stringify(registry, null, 2) + '\n');
    log(`wrote ${registryPath}`);
  }
  if (mismatches.length) {
    throw new Error(
      `converted models differ from models/registry.json:\n  ${mismatches.join('\n  ')}\n` +
      'If the converter or the packages changed on purpose, rerun with --update-registry and commit registry.json.',
    );
  }
  return results;
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/** Removes earlier builds of a model (its graphs and weights files with other hashes) so the folder holds one of each. */
function removeStaleFiles(outDir: string, id: string, keep: string[]): void {
  const earlier = new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{16}\\.onnx(\\.data)?$`);
  for (const f of readdirSync(outDir)) {
    if (!keep.includes(f) && earlier.test(f)) rmSync(join(outDir, f));
  }
}

// ---- CLI -----------------------------------------------------------------------------------------

function parseArgs(argv: string[]): BuildOptions {
  const usage = 'usage: build-models.ts [--only id,...] [--update-registry] [--force]';
  let values;
  try {
    ({ values } = parseArgv({ args: argv, options: { only: { type: 'string' }, 'update-registry': { type: 'boolean' }, force: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    const arg = /'([^']+)'/.exec((err as Error).message)?.[1]?.replace(/ <value>$/, '') ?? argv.join(' ');
    throw new Error(`${(err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? `${arg} needs a value` : `unknown argument ${arg}`}; ${usage}`);
  }
  const opts: BuildOptions = {};
  if (values['update-registry']) opts.updateRegistry = true;
  if (values.force) opts.force = true;
  if (values.only !== undefined) opts.only = values.only.split(',').filter(Boolean);
  return opts;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const started = performance.now();
    const results = await buildModels(parseArgs(process.argv.slice(2)));
    console.log(`${results.length} model(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    console.error(`build-models: ${(err as Error).message}`);
    process.exit(1);
  }
}
