// `npm run export:triton -- --out <dir>`: writes a Triton model repository (<out>/<id>/config.pbtxt and
// <out>/<id>/1/model.onnx) for the registry's built models, so they can be served by Triton or KServe at scale.
// Every model file is checked against the card's sha256 and its real signature against the card before anything
// is written; the config is built from the model's real inputs and outputs. Models converted on this machine (the
// local registry: `npm run convert`, the model manager) are exported too.
//
// Multi-part models whose loop runs on the client (TTVSR: flow, features, align, refine, reconstruct) are exported
// part by part, each a model of its own under its card id (version 1), without batching: a Triton ensemble is a
// graph without loops, so it cannot hold TTVSR's recurrence over frames and keyframes. The recurrence stays where it
// is, in TypeScript (worker/video/ttvsr.ts), and each part call is one OIP /infer of that part's model: Frontier's
// server does this for video jobs with jobs.inferUrl pointing at Triton (server/jobs/runner.ts); its state (token
// buffers) travels as ordinary input tensors, so any replica serves any call. Each part's config.pbtxt says so.
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { sha256Hex } from '../../worker/models/loader.ts';
import { sha256OfFile } from '../../worker/models/file-source.ts';
import { MODEL_FILES_DIR, REGISTRY_PATH } from '../../worker/platform-node.ts';
import { LOCAL_REGISTRY, mergeRegistries, readLocalRegistry } from '../../models/local-models.ts';
import { TTVSR_PARTS, type TtvsrPart } from '../../worker/video/ttvsr-card.ts';
import { buildTritonConfig } from './config.ts';
import { checkAgainstCard, readModelIo, type ModelIo, type ModelTensor } from './model-io.ts';

export interface TritonExportOptions {
  /** The model repository folder; created if missing (its parent must exist). */
  out: string;
  registryPath?: string;
  /**
   * Models converted on this machine, merged over the registry (default: models/build/local-registry.json when the
   * registry is the default one; none otherwise). null: none.
   */
  localRegistryPath?: string | null;
  modelDir?: string;
  /** Model ids to export; default: every registry model whose file is built. */
  models?: string[];
  /** KIND_GPU instances (default) or KIND_CPU. */
  gpu?: boolean;
  /** Add onnxruntime's TensorRT accelerator (GPU only). */
  tensorrt?: boolean;
  /** For models with a dynamic batch dim (none of ours yet); default 8. */
  maxBatchSize?: number;
  /** Always copy model.onnx, never hard-link it (a hard link shares the bytes with models/build/files). */
  copy?: boolean;
  /** One line per model and the closing hint; default console.log. */
  log?: (line: string) => void;
}

export interface ExportedModel {
  id: string;
  dir: string;
  sha256: string;
  io: ModelIo;
  maxBatchSize: number;
  placed: 'hard link' | 'copy';
}

export interface TritonExportResult {
  out: string;
  exported: ExportedModel[];
  /** Registry models left out of a default (all-models) export, with why. */
  skipped: { id: string; reason: string }[];
}

export const DEFAULT_MAX_BATCH_SIZE = 8;

async function readRegistry(path: string): Promise<Registry> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`No model registry at ${path}: run this from the repository, or pass the registry's path.`);
  }
  let parsed: Partial<Registry>;
  try {
    parsed = JSON.parse(text) as Partial<Registry>;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}): restore it from git.`);
  }
  if (!Array.isArray(parsed.models)) throw new Error(`${path} has no "models" array: restore it from git.`);
  return parsed as Registry;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The cards to export, in registry order; unknown ids and unbuilt explicitly requested models are errors. */
async function selectModels(registry: Registry, modelDir: string, ids: string[] | undefined) {
  const skipped: TritonExportResult['skipped'] = [];
  const known = registry.models.map((m) => m.id);
  if (ids) {
    if (ids.length === 0) throw new Error(`No model ids given: name one or more of ${known.join(', ')}, or leave --models out to export all.`);
    const unknown = ids.filter((id) => !known.includes(id));
    if (unknown.length) {
      throw new Error(`Unknown model id${unknown.length > 1 ? 's' : ''} ${unknown.map((id) => `"${id}"`).join(', ')}. Known ids: ${known.join(', ')}.`);
    }
  }
  const chosen: ModelCard[] = [];
  for (const card of registry.models) {
    if (ids && !ids.includes(card.id)) continue;
    let reason: string | null = null;
    // The graph and its weight files go to Triton; a vocabulary or null embedding is for the client's loop, not for it.
    if (!Array.isArray(card.files) || card.files.length === 0 || (card.files[0].kind && card.files[0].kind !== 'onnx')) reason = 'its card lists no ONNX graph first';
    else if (basename(card.files[0].name) !== card.files[0].name) reason = `bad file name ${card.files[0].name} on its card`;
    else if (!(await isFile(join(modelDir, card.files[0].name)))) reason = `${card.files[0].name} is not built in ${modelDir}: run "npm run build"`;
    if (!reason) chosen.push(card);
    else if (ids) throw new Error(`Cannot export ${card.id}: ${reason}.`);
    else skipped.push({ id: card.id, reason });
  }
  if (chosen.length === 0) throw new Error(`No model files in ${modelDir} to export: run "npm run build" first.`);
  return { chosen, skipped };
}

/** Creates `out` (not its parents: a missing parent is more likely a typo than a wish). */
async function prepareOut(out: string): Promise<void> {
  const parent = dirname(out);
  const parentInfo = await stat(parent).catch(() => null);
  if (!parentInfo?.isDirectory()) throw new Error(`Cannot create ${out}: its parent folder ${parent} does not exist. Create it first, or fix --out.`);
  const info = await stat(out).catch(() => null);
  if (info && !info.isDirectory()) throw new Error(`${out} exists and is not a folder: choose another --out.`);
  try {
    await mkdir(out, { recursive: true });
    // Prove the folder is writable before the long part starts.
    const probe = join(out, `.frontier-write-test-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new Error(`Cannot write to ${out} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check its permissions or choose another --out.`);
  }
}

async function verifiedBytes(card: ModelCard, path: string): Promise<Uint8Array> {
  const file = card.files[0];
  const bytes = await readFile(path);
  const actual = await sha256Hex(bytes);
  if (bytes.length !== file.bytes || actual !== file.sha256) {
    throw new Error(
      `${path} is corrupt: ${bytes.length} bytes with sha256 ${actual.slice(0, 12)}…, its card says ${file.bytes} bytes with sha256 ${file.sha256.slice(0, 12)}…. ` +
        'Delete it and run "npm run build" to rebuild it, then export again.',
    );
  }
  return bytes;
}

/**
 * Puts the verified source at `dest`: a hard link when allowed (same filesystem, no --copy), a copy otherwise. It
 * goes through a temporary name and a rename, so a Triton polling the repository never sees a half-written file,
 * and the placed file is hashed again so what Triton loads is what was checked.
 */
async function placeModel(source: string, dest: string, sha256: string, copy: boolean): Promise<'hard link' | 'copy'> {
  const tmp = `${dest}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  let placed: 'hard link' | 'copy' = 'copy';
  if (!copy) {
    try {
      await link(source, tmp);
      placed = 'hard link';
    } catch {
      // EXDEV (another filesystem), EPERM (filesystems without hard links): copy instead.
    }
  }
  if (placed === 'copy') await copyFile(source, tmp);
  if ((await sha256OfFile(tmp)) !== sha256) {
    await rm(tmp, { force: true });
    throw new Error(`The copy of ${source} at ${dest} does not match its sha256: check the disk, then export again.`);
  }
  await rename(tmp, dest);
  // rename() does nothing when both names already link the same file (re-export of a hard link): drop the spare name.
  await rm(tmp, { force: true });
  return placed;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function describe(tensors: ModelTensor[]): string {
  return tensors.map((t) => `${t.name} ${t.dtype} [${t.dims.join(',')}]`).join(', ');
}

/**
 * For a part of a TTVSR pipeline: the lines its config.pbtxt starts with, saying which part it is, which models are
 * its siblings and that the client drives the loop (one /infer per part call). Null for a whole model.
 */
export function pipelinePart(card: ModelCard): { lines: string[] } | null {
  const { pipeline, role } = card;
  if (card.task !== 'upscale-video' || !pipeline || !role || !TTVSR_PARTS.includes(role as TtvsrPart)) return null;
  const siblings = TTVSR_PARTS.map((p) => `${p}: ${pipeline[p] ?? '?'}`).join(', ');
  return {
    lines: [
      `Part "${role}" of the TTVSR pipeline ${pipeline.id} (${siblings}; each its own model here, version 1).`,
      'No ensemble: the recurrence over frames and keyframes is a loop, which a Triton ensemble cannot express. The client',
      "drives it (Frontier's worker/video/ttvsr.ts, run by its server's video jobs with jobs.inferUrl set to this Triton) and",
      'sends each part call as one /v2/models/<part>/infer; the recurrent state travels as input tensors, so the calls are',
      'stateless and any instance serves any call. Feature maps are float32 NCHW; frames are RGB in 0..1.',
    ],
  };
}

export function tritonHint(out: string, gpu: boolean): string {
  return [
    `Serve the repository with Triton (Open Inference Protocol over HTTP on port 8000${gpu ? '; no GPU there? export with --cpu' : ''}):`,
    `  docker run --rm ${gpu ? '--gpus all ' : ''}-p 8000:8000 -v ${out}:/models nvcr.io/nvidia/tritonserver:24.12-py3 tritonserver --model-repository=/models`,
    `Triton has no CORS and no token check: put a gateway in front that admits origin "null" with the Authorization header`,
    `and checks a bearer token, then enter the gateway's URL and token in the plugin's Settings (README: "Serving on Triton").`,
  ].join('\n');
}

export async function exportTritonRepository(opts: TritonExportOptions): Promise<TritonExportResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const gpu = opts.gpu ?? true;
  const tensorrt = opts.tensorrt ?? false;
  const maxBatchSize = opts.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  if (tensorrt && !gpu) throw new Error('TensorRT runs on the GPU only: drop --cpu or --tensorrt.');
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 0) throw new Error(`--max-batch-size must be a whole number ≥ 0, got ${maxBatchSize}.`);
  if (!opts.out) throw new Error('No output folder: pass --out <dir>.');

  const out = resolve(opts.out);
  const registryPath = opts.registryPath ?? REGISTRY_PATH;
  const modelDir = opts.modelDir ?? MODEL_FILES_DIR;
  const localPath = opts.localRegistryPath === undefined ? (opts.registryPath ? null : LOCAL_REGISTRY) : opts.localRegistryPath;
  const registry = mergeRegistries(await readRegistry(registryPath), localPath ? readLocalRegistry(localPath) : null);
  const { chosen, skipped } = await selectModels(registry, modelDir, opts.models);

  // Check every model before writing anything, so a bad file never leaves a half-updated repository.
  const planned: { card: ModelCard; source: string; io: ModelIo; config: ReturnType<typeof buildTritonConfig> }[] = [];
  for (const card of chosen) {
    const source = join(modelDir, card.files[0].name);
    const bytes = await verifiedBytes(card, source);
    for (const data of card.files.filter((f) => f.kind === 'onnx-external-data')) {
      if (!(await isFile(join(modelDir, data.name)))) throw new Error(`${card.id}: its weight file ${data.name} is not in ${modelDir}: convert the model again.`);
    }
    let io: ModelIo;
    try {
      io = await readModelIo(card.files.some((f) => f.kind === 'onnx-external-data') ? source : bytes);
    } catch (err) {
      throw new Error(`${card.id}: ${(err as Error).message}`);
    }
    checkAgainstCard(card, io);
    const part = pipelinePart(card);
    const header = [
      part ? `${card.label} (${card.id}): ${card.task}, ${card.license}.` : `${card.label} (${card.id}): ${card.task}, ×${card.io.scale}, ${card.license}.`,
      `Written by "npm run export:triton" from the model registry; 1/model.onnx has sha256 ${card.files[0].sha256}.`,
      ...(part ? part.lines : [`Pixels: ${card.io.image.layout}, values ${card.io.image.range[0]}..${card.io.image.range[1]}.`]),
    ].join('\n');
    const noBatching = part ? `one step of ${card.pipeline!.id}'s recurrence, which the client drives: one clip's tensors per call` : undefined;
    planned.push({ card, source, io, config: buildTritonConfig({ name: card.id, io, gpu, tensorrt, maxBatchSize, header, noBatching }) });
  }

  await prepareOut(out);
  const exported: ExportedModel[] = [];
  for (const { card, source, io, config } of planned) {
    const dir = join(out, card.id);
    try {
      await mkdir(join(dir, '1'), { recursive: true });
      const placed = await placeModel(source, join(dir, '1', 'model.onnx'), card.files[0].sha256, opts.copy ?? false);
      // A graph over 2 GB names its weight file: it goes beside model.onnx under that name, where onnxruntime looks.
      for (const data of card.files.filter((f) => f.kind === 'onnx-external-data')) {
        await placeModel(join(modelDir, data.name), join(dir, '1', data.name), data.sha256, opts.copy ?? false);
      }
      await writeAtomically(join(dir, 'config.pbtxt'), config.text);
      exported.push({ id: card.id, dir, sha256: card.files[0].sha256, io, maxBatchSize: config.maxBatchSize, placed });
      log(
        `✓ ${card.id}: ${describe(io.inputs)} → ${describe(io.outputs)}; max_batch_size ${config.maxBatchSize} (${config.batchReason}); ` +
          `${gpu ? 'KIND_GPU' : 'KIND_CPU'}${tensorrt ? ' + TensorRT' : ''}; model.onnx ${placed === 'hard link' ? 'hard-linked' : 'copied'}`,
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code) throw new Error(`Cannot write ${dir} (${e.code}: ${e.message}): check the folder's permissions and free space.`);
      throw err;
    }
  }
  for (const s of skipped) log(`– ${s.id}: skipped, ${s.reason}`);
  log(`\nWrote ${exported.length} model${exported.length === 1 ? '' : 's'} to ${out}.`);
  log(tritonHint(out, gpu));
  if (planned.some((p) => pipelinePart(p.card))) {
    // The align calls carry the keyframe token buffers (server/jobs/runner.ts): ≈350 MB at 320×180 at full width.
    log(
      'TTVSR: point Frontier\'s server at this Triton (its jobs.inferUrl option; no command-line flag yet) to run its video jobs there, one /infer per part call;\n' +
        'its align calls carry the keyframe tokens (hundreds of MB per call at 320×180): raise Triton\'s --http-max-input-size (default 64 MB).',
    );
  }
  return { out, exported, skipped };
}

const USAGE = `Usage: npm run export:triton -- --out <dir> [--models id,…] [--cpu] [--tensorrt] [--max-batch-size N] [--copy]

Writes a Triton model repository: <dir>/<model id>/config.pbtxt and <dir>/<model id>/1/model.onnx, for the models
built in models/build/files and those converted on this machine (npm run convert). TTVSR goes as its five parts, one
model each: its recurrence runs on the client, one /infer per part call (Frontier's server with jobs.inferUrl).

  --out <dir>          the repository folder (created; its parent must exist)
  --models id,…        models to export (default: every model built in models/build/files)
  --cpu                KIND_CPU instances instead of KIND_GPU
  --tensorrt           let onnxruntime run the graph with TensorRT (GPU only)
  --max-batch-size N   for models with a dynamic batch dim (default ${DEFAULT_MAX_BATCH_SIZE}; ours have a fixed batch of 1)
  --copy               copy model.onnx even where a hard link would do
  --help               show this help`;

function parseCli(argv: string[]): TritonExportOptions | null {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      models: { type: 'string' },
      cpu: { type: 'boolean' },
      tensorrt: { type: 'boolean' },
      'max-batch-size': { type: 'string' },
      copy: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return null;
  if (positionals.length) throw new Error(`Unexpected argument "${positionals[0]}".`);
  if (!values.out) throw new Error('Missing --out <dir>: the folder to write the model repository to.');
  const mbs = values['max-batch-size'];
  if (mbs !== undefined && !/^\d+$/.test(mbs)) throw new Error(`--max-batch-size must be a whole number ≥ 0, got "${mbs}".`);
  return {
    out: values.out,
    models: values.models === undefined ? undefined : values.models.split(',').map((s) => s.trim()).filter(Boolean),
    gpu: !values.cpu,
    tensorrt: values.tensorrt ?? false,
    maxBatchSize: mbs === undefined ? undefined : Number(mbs),
    copy: values.copy ?? false,
  };
}

async function main(argv: string[]): Promise<number> {
  let opts: TritonExportOptions | null;
  try {
    opts = parseCli(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!opts) {
    console.log(USAGE);
    return 0;
  }
  try {
    await exportTritonRepository(opts);
    return 0;
  } catch (err) {
    console.error(`Triton export failed: ${(err as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
