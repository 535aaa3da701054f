// `frontier` CLI: runs the same task code as the plugin, on onnxruntime-node.
//   frontier <task> <input> <output> [--param value …] [--model id] [--target auto|node|server] [--server URL] [--threads N]
import { readFile, writeFile } from 'node:fs/promises';
import { Engine } from '../worker/engine.ts';
import { createNodePlatform } from '../worker/platform-node.ts';
import { FrontierError, type Params, type Target } from '../worker/job.ts';
import { TASKS, findTask } from '../worker/tasks/index.ts';
import type { ParamSpec } from '../worker/tasks/task.ts';

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
    '(npm start, Triton, KServe; bearer token from the FRONTIER_TOKEN environment variable). Input: PNG or JPEG. Output: PNG.',
    '',
    'Tasks:',
  ];
  for (const t of TASKS) {
    lines.push(`  ${t.id} — ${t.description}`);
    for (const p of t.params) lines.push(describeParam(p));
  }
  lines.push('', 'Example: frontier upscale photo.png big.png --scale 4', 'Models: see models/registry.json (built by "npm run build").');
  return lines.join('\n');
}

interface Parsed {
  task: string;
  input: string;
  output: string;
  params: Params;
  model?: string;
  target: Target;
  threads?: number;
  server?: string;
}

export function parseArgs(argv: string[]): Parsed | 'help' {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) return 'help';
  const positional: string[] = [];
  const params: Params = {};
  let model: string | undefined;
  let target: Target = 'auto';
  let threads: number | undefined;
  let server: string | undefined;
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
    else params[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  const [task, input, output, ...extra] = positional;
  if (!task || !findTask(task)) throw new FrontierError('bad-input', `Unknown task "${task ?? ''}". Tasks: ${TASKS.map((t) => t.id).join(', ')}. See --help.`);
  if (!input || !output) throw new FrontierError('bad-input', `Usage: frontier ${task} <input> <output> [--param value …]. See --help.`);
  if (extra.length) throw new FrontierError('bad-input', `Unexpected argument ${extra[0]}. See --help.`);
  if (server && target === 'auto') target = 'server';
  return { task, input, output, params, model, target, threads, server };
}

export async function main(argv: string[]): Promise<number> {
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
  const engine = new Engine(createNodePlatform({ threads: parsed.threads, serverUrl: parsed.server, token: process.env.FRONTIER_TOKEN }));
  try {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(parsed.input));
    } catch (err) {
      throw new FrontierError('bad-input', `Cannot read ${parsed.input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
    }
    const image = await engine.decode(bytes);
    let lastLine = '';
    const result = await engine.run(
      { id: 'cli', task: parsed.task, model: parsed.model, params: parsed.params, image, target: parsed.target },
      (p) => {
        const line = `${p.message ?? p.stage} ${p.total ? Math.round((100 * p.done) / p.total) : 0}%`;
        if (process.stderr.isTTY && line !== lastLine) process.stderr.write(`\r${line.padEnd(60)}`);
        lastLine = line;
      },
    );
    if (process.stderr.isTTY) process.stderr.write('\n');
    const png = await engine.encodePng(result.images[0]);
    await writeFile(parsed.output, png);
    const out = result.images[0];
    process.stdout.write(`${parsed.output}: ${out.width}×${out.height} (${result.meta.model} on ${result.meta.target}, ${result.meta.runMs} ms)\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`frontier: ${(err as Error).message}\n`);
    return 1;
  }
}
