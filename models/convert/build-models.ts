// Converts the models shipped in npm packages to ONNX — the ESRGAN upscalers (@upscalerjs/esrgan-*, layers models)
// and the MAXIM restorers (@upscalerjs/maxim-*, graph models) — and checks the results against models/registry.json.
//
//   npx tsx models/convert/build-models.ts [--only esrgan-thick-x4,maxim-denoise,...] [--update-registry] [--force]
//
// Output: models/build/files/<id>.<first 16 hex of sha256>.onnx (content-addressed, gitignored).
// A hash that differs from the registry fails the build unless --update-registry is given.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs as parseArgv } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { encodeModel } from './onnx-proto.ts';
import { convertLayersModel, readLayersModel } from './tfjs-layers.ts';
import { MAXIM_MODELS, convertMaxim, describeMaximModel, maximCard } from './maxim.ts';

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
  const files = readLayersModel(model.modelJsonPath);
  const source = `${model.packageName}@${model.packageVersion}`;
  const spec = convertLayersModel(files, {
    name: model.id,
    docString: `${model.id}: ESRGAN ${model.variant} x${model.scale} from ${source}, converted by models/convert/tfjs-layers.ts. ` +
      'Input/output NHWC float32 in [0,255] (output not clamped).',
    metadata: { source: source, converter: 'models/convert/tfjs-layers.ts', scale: String(model.scale), range: '0-255', layout: 'NHWC' },
    modelRange: model.modelRange,
    outputDimSuffix: `x${model.scale}`,
  });
  return encodeModel(spec);
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

/** A model this script builds: its id, its conversion, and its registry card for a built file. */
interface Buildable {
  id: string;
  convert(): Uint8Array;
  card(file: ModelCard['files'][number]): ModelCard;
}

export function buildables(): Buildable[] {
  const esrgan = ESRGAN_VARIANTS.flatMap((v) => ESRGAN_SCALES.map((s): Buildable => ({
    id: `esrgan-${v}-x${s}`,
    convert: () => convertEsrgan(describeEsrganModel(v, s)),
    card: (file) => cardFor(describeEsrganModel(v, s), file),
  })));
  const maxim = MAXIM_MODELS.map((m): Buildable => ({
    id: m.id,
    convert: () => convertMaxim(describeMaximModel(m.package), m.tile.size).bytes,
    card: (file) => maximCard(m, describeMaximModel(m.package), file),
  }));
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
  path: string;
  name: string;
  sha256: string;
  bytes: number;
  seconds: number;
  /** True when the existing file already had the registry's hash and nothing was converted. */
  cached: boolean;
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

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
    const expected = card?.files[0];
    let result: BuildResult | undefined;

    if (expected && !opts.force && existsSync(join(outDir, expected.name))) {
      const existing = readFileSync(join(outDir, expected.name));
      if (sha256Hex(existing) === expected.sha256 && existing.length === expected.bytes) {
        result = { id: model.id, path: join(outDir, expected.name), ...expected, seconds: (performance.now() - started) / 1000, cached: true };
      }
    }
    if (!result) {
      const bytes = model.convert();
      const sha256 = sha256Hex(bytes);
      const name = `${model.id}.${sha256.slice(0, 16)}.onnx`;
      const path = join(outDir, name);
      writeAtomically(path, bytes);
      removeStaleFiles(outDir, model.id, name);
      result = { id: model.id, path, name, sha256, bytes: bytes.length, seconds: (performance.now() - started) / 1000, cached: false };
    }
    results.push(result);
    const file = { name: result.name, sha256: result.sha256, bytes: result.bytes };

    let status = result.cached ? 'up to date' : 'converted';
    const fresh = JSON.parse(JSON.stringify(model.card(file))) as ModelCard;
    const fileChanged = !expected || expected.sha256 !== file.sha256 || expected.bytes !== file.bytes || expected.name !== file.name;
    if (fileChanged || !isDeepStrictEqual(card, fresh)) {
      if (opts.updateRegistry) {
        if (card) registry.models[registry.models.indexOf(card)] = fresh;
        else registry.models.push(fresh);
        registryChanged = true;
        status += card ? ', registry updated' : ', card added';
      } else if (!fileChanged) {
        status += ', CARD CHANGED';
        mismatches.push(`${model.id}: the converter's card differs from the registry's (same file)`);
      } else {
        status += ', REGISTRY MISMATCH';
        mismatches.push(expected
          ? `${model.id}: built ${file.name} (${file.bytes} bytes, sha256 ${file.sha256}) but the registry lists ${expected.name} (${expected.bytes} bytes, sha256 ${expected.sha256})`
          : `${model.id}: built ${file.name} but the registry has no card for it`);
      }
    }
    log(`${model.id.padEnd(22)} ${(result.bytes / 1e6).toFixed(2).padStart(6)} MB  ${result.seconds.toFixed(2).padStart(6)} s  ${result.name}  (${status})`);
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

/** Removes earlier builds of the same model (other hashes) so the folder holds one file per model. */
function removeStaleFiles(outDir: string, id: string, keep: string): void {
  for (const f of readdirSync(outDir)) {
    if (f !== keep && f.startsWith(`${id}.`) && f.endsWith('.onnx') && /^[0-9a-f]{16}$/.test(f.slice(id.length + 1, -5))) {
      rmSync(join(outDir, f));
    }
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
