// `frontier` CLI: runs the same task code as the plugin, on onnxruntime-node.
//   frontier <task> <input> <output> [--param value …] [--model id] [--target auto|node|server] [--server URL] [--threads N]
//   frontier generate <output> [--seed N …]          (generators take no input image)
//   frontier inpaint <input> <output> --mask <mask.png>
//   frontier vary <made.png> <output>                (a PNG this CLI wrote remembers its latent in a tEXt chunk)
//   frontier models list|install|remove …            (official models: server/cli-models.ts)
import '../worker/runtime/no-telemetry.mjs'; // first: before anything loads onnxruntime-node
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { frontierHome, PAIRING_FILE, readTokenFile } from './pairing.ts';
import { isLoopbackHost } from './security.ts';
import { parseResultMeta, type ResultMeta } from '../worker/job.ts';
import { readPngText, withPngText } from '../worker/image/png-meta.ts';
import { Engine } from '../worker/engine.ts';
import { createNodePlatform } from '../worker/platform-node.ts';
import { FrontierError, type Params, type Target } from '../worker/job.ts';
import { TASKS, findTask } from '../worker/tasks/index.ts';
import type { ParamSpec } from '../worker/tasks/task.ts';
import { modelsCommand } from './cli-models.ts';

function describeParam(p: ParamSpec): string {
  const range =
    p.type === 'choice' ? p.choices.map((c) => c.value).join('|') : p.type === 'number' || p.type === 'integer' ? `${p.min}..${p.max}` : p.type;
  return `    --${p.name} <${range}>  ${p.label} (default ${p.default})${p.help ? `. ${p.help}` : ''}`;
}

export function usage(): string {
  const lines = [
    'Usage: frontier <task> <input> <output> [--param value …] [--model id] [--target auto|node|server] [--server URL] [--threads N]',
    '',
    'Runs a Frontier task on onnxruntime-node, or with --target server on an Open Inference Protocol server',
    '(npm start, Triton, KServe). Its token: FRONTIER_TOKEN, or FRONTIER_TOKEN_FILE, or for a server on this computer the',
    'pairing code npm start keeps in Frontier\'s folder. Input: PNG or JPEG. Output: PNG.',
    '',
    'Tasks:',
  ];
  for (const t of TASKS) {
    lines.push(`  ${t.id} — ${t.description}`);
    for (const p of t.params) lines.push(describeParam(p));
  }
  lines.push(
    '',
    'Examples:',
    '  frontier upscale photo.png big.png --scale 4',
    '  frontier generate face.png --seed 7 --count 3      (face.png, face-2.png, face-3.png)',
    '  frontier vary face.png nearby.png --strength 0.2   (face.png made by this CLI remembers its latent)',
    '  frontier interpolate a.png b.png between.png --steps 5',
    '  frontier rotate-view turned.png --seed 7 --yaw 20',
    '  frontier inpaint photo.png filled.png --mask mask.png   (mask: white = fill, the size of photo.png)',
    'Models: see models/registry.json (built by "npm run build"; tiny ones are random-weight test models).',
    'Official models (real weights from the authors\' checkpoints): frontier models list | install <id> --from FILE | remove <id>',
  );
  return lines.join('\n');
}

interface Parsed {
  task: string;
  /** Input files: an image, or for generators the PNGs of earlier results (zero or more). */
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

export function parseArgs(argv: string[]): Parsed | 'help' {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) return 'help';
  const positional: string[] = [];
  const params: Params = {};
  let model: string | undefined;
  let target: Target = 'auto';
  let threads: number | undefined;
  let server: string | undefined;
  let mask: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [key, inline] = arg.slice(2).split('=', 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new FrontierError('bad-input', `--${key} needs a value.`);
    if (key === 'model') model = value;
    else if (key === 'target') {
      if (!['auto', 'node', 'webgpu', 'wasm', 'server'].includes(value)) throw new FrontierError('bad-input', `--target must be auto, node or server (got ${value}).`);
      target = value as Target;
    } else if (key === 'threads') threads = Number(value);
    else if (key === 'server') server = value.replace(/\/+$/, '');
    else if (key === 'mask') mask = value;
    else params[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  const [task, ...files] = positional;
  const def = task ? findTask(task) : undefined;
  if (!task || !def) throw new FrontierError('bad-input', `Unknown task "${task ?? ''}". Tasks: ${TASKS.map((t) => t.id).join(', ')}. See --help.`);
  const output = files.pop();
  const generator = !def.inputs.includes('image') && !def.inputs.includes('video');
  const needed = generator ? def.inputs.filter((i) => i === 'latent').length : 1;
  if (!output || files.length < needed) {
    const shape = generator ? `${Array.from({ length: needed }, (_, i) => `<made${needed > 1 ? i + 1 : ''}.png>`).join(' ')} <output>` : '<input> <output>';
    throw new FrontierError('bad-input', `Usage: frontier ${task} ${shape.trim()} [--param value …]. See --help.`);
  }
  if (!generator && files.length > 1) throw new FrontierError('bad-input', `Unexpected argument ${files[1]}. See --help.`);
  if (def.inputs.includes('mask') && !mask) throw new FrontierError('bad-input', `${def.label} needs --mask <mask.png>: white where to fill, black (or transparent) where to keep, the size of the input.`);
  if (mask && !def.inputs.includes('mask')) throw new FrontierError('bad-input', `${def.label} takes no mask.`);
  if (server && target === 'auto') target = 'server';
  return { task, inputs: files, output, params, model, target, threads, server, ...(mask ? { mask } : {}) };
}

/**
 * The token for `server`: FRONTIER_TOKEN, FRONTIER_TOKEN_FILE, or, for a server on this computer, the pairing code
 * npm start keeps in Frontier's folder (the same user runs both, so no copying is needed).
 */
function serverToken(server: string | undefined): string | undefined {
  if (process.env.FRONTIER_TOKEN) return process.env.FRONTIER_TOKEN;
  if (process.env.FRONTIER_TOKEN_FILE) return readTokenFile(process.env.FRONTIER_TOKEN_FILE);
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

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'models') {
    return modelsCommand(argv.slice(1), { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) });
  }
  let parsed: Parsed | 'help';
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`frontier: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  let token: string | undefined;
  try {
    token = serverToken(parsed.server);
  } catch (err) {
    process.stderr.write(`frontier: ${(err as Error).message}\n`);
    return 2;
  }
  const engine = new Engine(createNodePlatform({ threads: parsed.threads, serverUrl: parsed.server, token }));
  try {
    const def = findTask(parsed.task)!;
    const generator = !def.inputs.includes('image') && !def.inputs.includes('video');
    const files = await Promise.all(parsed.inputs.map(readInput));
    const sources = generator ? files.map((bytes, i) => sourceMeta(bytes, parsed.inputs[i])) : [];
    const image = generator ? undefined : await engine.decode(files[0]);
    const mask = parsed.mask ? await engine.decode(await readInput(parsed.mask)) : undefined;
    let lastLine = '';
    const result = await engine.run(
      { id: 'cli', task: parsed.task, model: parsed.model, params: parsed.params, ...(image ? { image } : {}), ...(mask ? { mask } : {}), ...(sources.length ? { sources } : {}), target: parsed.target },
      (p) => {
        const line = `${p.message ?? p.stage} ${p.total ? Math.round((100 * p.done) / p.total) : 0}%`;
        if (process.stderr.isTTY && line !== lastLine) process.stderr.write(`\r${line.padEnd(60)}`);
        lastLine = line;
      },
    );
    if (process.stderr.isTTY) process.stderr.write('\n');
    for (const [i, out] of result.images.entries()) {
      const meta = result.imageMeta?.[i] ?? result.meta;
      // The PNG remembers how it was made (as a Figma node's pluginData does), so it can be varied or turned later.
      const png = withPngText(await engine.encodePng(out), 'frontier', asciiJson(meta));
      const path = numbered(parsed.output, i, result.images.length);
      await writeFile(path, png);
      const tiny = meta.modelVariant === 'tiny' ? ' — tiny random-weight TEST model' : '';
      process.stdout.write(`${path}: ${out.width}×${out.height} (${meta.model}${tiny} on ${meta.target}${meta.seed !== undefined ? `, seed ${meta.seed}` : ''}, ${meta.runMs} ms)\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`frontier: ${(err as Error).message}\n`);
    return 1;
  }
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new FrontierError('bad-input', `Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
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
