// `frontier` CLI: runs the same task code as the plugin, on onnxruntime-node (or on a server with --server).
//   frontier <task> [input…] <output> [--option value …]   (frontier --help; frontier <task> --help)
//   frontier models list|install|remove …                 (official models: server/cli-models.ts)
// Exit codes: 0 done, 1 the job failed, 2 what was typed cannot work (usage, options, files): said before any model
// loads. Progress goes to stderr (server/cli/progress.ts), results to stdout. server/bin/frontier.js starts it.
import '../worker/runtime/no-telemetry.mjs'; // first: before anything loads onnxruntime-node
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseArgs as parseArgv } from 'node:util';
import { frontierHome, PAIRING_FILE, readTokenFile } from './pairing.ts';
import { isLoopbackHost } from './security.ts';
import { parseResultMeta, type ResultMeta } from '../worker/job.ts';
import { readPngText, withPngText } from '../worker/image/png-meta.ts';
import { Engine } from '../worker/engine.ts';
import { createNodePlatform } from '../worker/platform-node.ts';
import { FrontierError, isTarget, type Params, type Target } from '../worker/job.ts';
import { TASKS, findTask } from '../worker/tasks/index.ts';
import { resolveParams, type TaskDef } from '../worker/tasks/task.ts';
import { modelsCommand } from './cli-models.ts';
import { checkOutput, readInput } from './cli/files.ts';
import { progressReporter } from './cli/progress.ts';
import { globalOptionLines, LOCAL_SERVER, taskExamples, taskFiles, taskHelp, usageLine } from './cli/tasks.ts';


/** The full help (frontier --help). */
export function usage(): string {
  const lines = [
    'frontier — Frontier\'s vision models from the command line: upscale and restore photos, make images.',
    '',
    'Usage: frontier <task> [input…] <output> [options]',
    '       frontier <task> --help                 one task',
    '       frontier models list|install|remove …  official models with their real weights',
    '',
    'Input images: PNG or JPEG. Results: PNG (out.png; several: out.png, out-2.png, …). A PNG that frontier wrote',
    'remembers how it was made, so vary, interpolate and rotate-view can start from it.',
    'Jobs run on this computer; with --server on a Frontier server (npm start), Triton or KServe. A server that asks',
    'for a token: set FRONTIER_TOKEN (or FRONTIER_TOKEN_FILE); npm start on this computer is found without one.',
    '',
    'Tasks:',
  ];
  for (const t of TASKS) lines.push(...taskHelp(t), '');
  lines.push('  Options of every task:', ...globalOptionLines(), '', 'Examples:');
  for (const t of TASKS) lines.push(...taskExamples(t).map((e) => `  ${e}`));
  lines.push(
    '',
    'Models: out of the box only small random-weight TEST models for generate, rotate-view, inpaint and text-to-image',
    '(they render noise). Real ones: frontier models list, then frontier models install <id>.',
  );
  return lines.join('\n');
}

/** What `frontier` alone prints (to stderr, exit 2). */
export function shortUsage(): string {
  return [
    'Usage: frontier <task> [input…] <output> [options]',
    `Tasks: ${TASKS.map((t) => t.id).join(', ')}; and frontier models list|install|remove.`,
    'Example: frontier upscale photo.png big.png --scale 4',
    'Help: frontier --help, or frontier <task> --help',
  ].join('\n');
}

/** frontier <task> --help */
export function taskUsage(def: TaskDef): string {
  return [`Usage:`, ...taskHelp(def), '', '  Options of every task:', ...globalOptionLines(), '', 'Examples:', ...taskExamples(def).map((e) => `  ${e}`)].join('\n');
}

export interface Parsed {
  task: string;
  /** Input files: an image or a clip, or for generators the PNGs of earlier results (zero or more). */
  inputs: string[];
  output: string;
  params: Params;
  model?: string;
  target: Target;
  threads?: number;
  server?: string;
  /** Inpainting: the mask image (white = fill, black or transparent = keep), the input's size. */
  mask?: string;
}

export type Command = Parsed | { help: 'all' | 'short' | TaskDef } | { version: true };

const OWN_OPTIONS = {
  model: { type: 'string' },
  target: { type: 'string' },
  server: { type: 'string' },
  threads: { type: 'string' },
  mask: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** Every task's options, so that they parse wherever they stand; each task then accepts only its own. */
function allOptions(): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { ...OWN_OPTIONS };
  for (const t of TASKS) for (const p of t.params) if (!(p.name in OWN_OPTIONS)) options[p.name] = { type: 'string' };
  return options;
}

/** "--yaw -20" is a negative value, not an option: node's parser wants "--yaw=-20". */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (/^--[^=]+$/.test(arg) && /^-\d*\.?\d/.test(argv[i + 1] ?? '')) out.push(`${arg}=${argv[++i]}`);
    else out.push(arg);
  }
  return out;
}

function usageError(message: string): FrontierError {
  return new FrontierError('bad-input', message);
}

/** node:util parseArgs' errors, in this CLI's words. */
function parseError(err: unknown): FrontierError {
  const e = err as NodeJS.ErrnoException;
  const option = /'(?:-\w, )?(--?[\w-]+)/.exec(e.message)?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return usageError(`Unknown option ${option}. See frontier --help.`);
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/argument missing/.test(e.message)) return usageError(`${option} needs a value.`);
    if (/does not take an argument/.test(e.message)) return usageError(`${option} takes no value.`);
    if (/ambiguous/.test(e.message)) return usageError(`${option} needs a value; a value that starts with "-" goes after "=": ${option}=-…`);
  }
  return usageError(`${e.message} See frontier --help.`);
}

export function parseArgs(argv: string[]): Command {
  if (argv.length === 0) return { help: 'short' };
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgv({ args: joinNegativeValues(argv), options: allOptions(), strict: true, allowPositionals: true }));
  } catch (err) {
    throw parseError(err);
  }
  if (positionals[0] === 'help') return { help: positionals[1] ? (findTask(positionals[1]) ?? 'all') : 'all' };
  const [task, ...files] = positionals;
  const def = task ? findTask(task) : undefined;
  if (values.help) return { help: def ?? 'all' };
  if (values.version) return { version: true };
  if (!task || !def) throw usageError(`Unknown task "${task ?? ''}". Tasks: ${TASKS.map((t) => t.id).join(', ')}. See --help.`);

  const shape = taskFiles(def);
  const output = files.pop();
  if (!output || files.length < shape.min || files.length > shape.max) {
    const what = output && files.length > shape.max ? `Unexpected argument ${files[shape.max]}: ${task} takes ${shape.needs}.` : `${task} needs ${shape.needs}.`;
    throw usageError(`${what}\nUsage: ${usageLine(def)}\nSee frontier ${task} --help.`);
  }
  const params: Params = {};
  for (const [key, value] of Object.entries(values)) {
    if (key in OWN_OPTIONS || value === undefined) continue;
    if (!def.params.some((p) => p.name === key)) {
      const own = def.params.map((p) => `--${p.name}`).join(', ');
      throw usageError(`${task} has no option --${key}.${own ? ` Its options: ${own}.` : ''} See frontier ${task} --help.`);
    }
    params[key] = /^-?\d+(\.\d+)?$/.test(String(value)) ? Number(value) : String(value);
  }
  const mask = values.mask as string | undefined;
  if (def.inputs.includes('mask') && !mask) throw usageError(`${def.label} needs --mask <mask.png>: white where to fill, black (or transparent) where to keep, the size of the input.`);
  if (mask && !def.inputs.includes('mask')) throw usageError(`${def.label} takes no mask.`);
  let target = (values.target as Target | undefined) ?? 'auto';
  if (!isTarget(target)) throw usageError(`--target must be auto, node or server (got ${target}).`);
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1) throw usageError(`--threads must be a whole number of at least 1 (got ${values.threads}).`);
  }
  const server = (values.server as string | undefined)?.replace(/\/+$/, '');
  if (server && target === 'auto') target = 'server';
  if (def.targets?.length === 1 && def.targets[0] === 'server' && !server) {
    throw usageError(`${task} runs on a Frontier server: run "npm start" in Frontier's folder, then add --server ${LOCAL_SERVER}.`);
  }
  return { task, inputs: files, output, params, model: values.model as string | undefined, target, threads, server, ...(mask ? { mask } : {}) };
}

/**
 * The token for `server`: FRONTIER_TOKEN, FRONTIER_TOKEN_FILE, or, for a server on this computer, the pairing code
 * npm start keeps in Frontier's folder (the same user runs both, so no copying is needed).
 */
function serverToken(server: string | undefined): string | undefined {
  if (process.env.FRONTIER_TOKEN) return process.env.FRONTIER_TOKEN;
  const file = process.env.FRONTIER_TOKEN_FILE;
  if (file) {
    try {
      return readTokenFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!code) throw e; // not a token: readTokenFile says why
      throw new Error(`Cannot read the token file FRONTIER_TOKEN_FILE names, ${file} (${code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code}).`);
    }
  }
  if (!server) return undefined;
  let host = '';
  try {
    host = new URL(server).hostname;
  } catch {
    return undefined; // the engine explains a malformed URL
  }
  const pairing = join(frontierHome(), PAIRING_FILE);
  return isLoopbackHost(host) && existsSync(pairing) ? readTokenFile(pairing) : undefined;
}

const VIDEO_TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.m4v': 'video/mp4', '.mov': 'video/quicktime', '.webm': 'video/webm', '.mkv': 'video/x-matroska' };

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  if (argv[0] === 'models') {
    return modelsCommand(argv.slice(1), { out: (l) => process.stdout.write(`${l}\n`), err });
  }
  let parsed: Command;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    err(`frontier: ${(e as Error).message}`);
    return 2;
  }
  if ('help' in parsed) {
    if (parsed.help === 'short') {
      err(shortUsage());
      return 2;
    }
    process.stdout.write(`${parsed.help === 'all' ? usage() : taskUsage(parsed.help)}\n`);
    return 0;
  }
  if ('version' in parsed) {
    process.stdout.write(`frontier ${version()}\n`);
    return 0;
  }
  const def = findTask(parsed.task)!;
  const shape = taskFiles(def);
  // Everything the user typed is checked before a model loads: options, the output, the input files.
  let files: Uint8Array[];
  let mask: Uint8Array | undefined;
  let token: string | undefined;
  try {
    resolveParams(def, parsed.params);
    await checkOutput(parsed.output, shape.kind === 'video' ? '.mp4' : '.png');
    if (shape.kind === 'video' && !VIDEO_TYPES[extname(parsed.inputs[0]).toLowerCase()]) {
      throw usageError(`${parsed.inputs[0]}: give a video clip (${Object.keys(VIDEO_TYPES).join(', ')}).`);
    }
    files = await Promise.all(parsed.inputs.map(readInput));
    mask = parsed.mask ? await readInput(parsed.mask) : undefined;
    token = serverToken(parsed.server); // a token file that cannot be read says so
  } catch (e) {
    err(`frontier: ${(e as Error).message}`);
    return 2;
  }
  const engine = new Engine(createNodePlatform({ threads: parsed.threads, serverUrl: parsed.server, token }));
  const progress = progressReporter(process.stderr, `Running ${parsed.task}`);
  try {
    const sources = shape.kind === 'made' ? files.map((bytes, i) => sourceMeta(bytes, parsed.inputs[i])) : [];
    const image = shape.kind === 'image' ? await engine.decode(files[0]) : undefined;
    const video = shape.kind === 'video' ? { bytes: files[0], mime: VIDEO_TYPES[extname(parsed.inputs[0]).toLowerCase()] } : undefined;
    const decodedMask = mask ? await engine.decode(mask) : undefined;
    const result = await engine.run(
      {
        id: `cli-${randomUUID()}`, // video jobs on a server take it as their id
        task: parsed.task,
        model: parsed.model,
        params: parsed.params,
        ...(image ? { image } : {}),
        ...(video ? { video } : {}),
        ...(decodedMask ? { mask: decodedMask } : {}),
        ...(sources.length ? { sources } : {}),
        target: parsed.target,
      },
      (p) => progress.update(p),
    );
    progress.finish();
    const tiny = (meta: ResultMeta) => (meta.modelVariant === 'tiny' ? ' — tiny random-weight TEST model' : '');
    if (result.video) {
      await writeResult(parsed.output, result.video.bytes);
      const m = result.meta;
      process.stdout.write(`${parsed.output}: ${result.video.width ?? '?'}×${result.video.height ?? '?'} video (${m.model}${tiny(m)} on ${m.target}, ${m.runMs} ms)\n`);
    }
    for (const [i, out] of result.images.entries()) {
      const meta = result.imageMeta?.[i] ?? result.meta;
      // The PNG remembers how it was made (as a Figma node's pluginData does), so it can be varied or turned later.
      const png = withPngText(await engine.encodePng(out), 'frontier', asciiJson(meta));
      const path = numbered(parsed.output, i, result.images.length);
      await writeResult(path, png);
      process.stdout.write(`${path}: ${out.width}×${out.height} (${meta.model}${tiny(meta)} on ${meta.target}${meta.seed !== undefined ? `, seed ${meta.seed}` : ''}, ${meta.runMs} ms)\n`);
    }
    return 0;
  } catch (e) {
    progress.finish();
    err(`frontier: ${(e as Error).message}`);
    return 1;
  }
}

async function writeResult(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'its folder is gone' : (e as Error).message;
    throw new Error(`Could not write ${path} (${why}).`);
  }
}

/** The ResultMeta a PNG written by this CLI carries, or a message saying where such PNGs come from. */
function sourceMeta(png: Uint8Array, path: string): ResultMeta {
  const meta = parseResultMeta(readPngText(png, 'frontier'));
  if (!meta?.latent) throw new FrontierError('bad-input', `${path} does not say how it was made: use a PNG written by "frontier generate" (or vary, interpolate, rotate-view).`);
  return meta;
}

/** JSON with non-ASCII escaped: PNG tEXt is Latin-1. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** out.png, out-2.png, out-3.png… for several images. */
function numbered(path: string, index: number, count: number): string {
  if (count === 1 || index === 0) return path;
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}-${index + 1}${ext}`;
}
