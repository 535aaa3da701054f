// Command-line options of the Node scripts beside the server (the benches, the builds), read with node:util's
// parseArgs in strict mode as `frontier` reads its own (server/cli.ts): an unknown option, a missing or surplus value
// or a stray argument stops the script before it does anything, saying what was wrong and its usage line, with exit
// code 2 (a usage error); --help (-h) prints the usage line and exits 0.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Stops the script: `message`, then the usage line, on stderr; exit code 2. */
export function usageError(usage: string, message: string): never {
  process.stderr.write(`${message}\nUsage: ${usage}\n`);
  process.exit(2);
}

/** The options in `argv` (default: this process's arguments), as declared in `options`; see above for errors. */
export function parseCli<const O extends Options>(usage: string, options: O, argv: string[] = process.argv.slice(2)) {
  const config = { args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } }, strict: true, allowPositionals: false } as const;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    usageError(usage, (err as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`Usage: ${usage}\n`);
    process.exit(0);
  }
  return parsed.values;
}
