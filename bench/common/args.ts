// Command-line options for the benches: `--key value` or `--key=value`, and comma lists checked against what is known.

/**
 * Calls `on(key, value)` for every option; `value()` takes the option's value (inline or the next argument).
 * `on` returns false for a key it does not know, which fails with the usage line.
 */
export function parseOptions(argv: string[], usage: string, on: (key: string, value: () => string) => boolean): void {
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split('=', 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value`);
      return v;
    };
    if (!on(key, value)) throw new Error(`unknown option ${argv[i]}; usage: ${usage}`);
  }
}

/** "a,b" → ['a', 'b'], each one of `known`. */
export function listOption<T extends string>(value: string, known: readonly T[], what: string): T[] {
  const list = value.split(',') as T[];
  const bad = list.filter((m) => !known.includes(m));
  if (bad.length) throw new Error(`unknown ${what}(s) ${bad.join(', ')}; known: ${known.join(', ')}`);
  return list;
}
