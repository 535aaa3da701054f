// The Figma bridge's modules import each other without a cycle (issue 14: place ↔ read ↔ selection once did): each
// module's imports are read from its source, and a depth-first walk fails with the cycle it finds.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), '../../plugin/figma');

/** Relative module specifiers of `source`: static imports and re-exports (types included), and import(). */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = [
    ...code.matchAll(/\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.'));
}

/** The import graph of the .ts files in `folder`, edges only to files in that folder (by file name). */
export function importGraph(folder: string): Map<string, string[]> {
  const files = readdirSync(folder).filter((f) => f.endsWith('.ts'));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = importsOf(readFileSync(join(folder, file), 'utf8'))
      .map((spec) => resolve(folder, spec))
      .filter((path) => dirname(path) === folder && files.includes(basename(path)))
      .map((path) => basename(path));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** One cycle of `graph` as the path that closes it (a.ts → b.ts → a.ts), or null when there is none. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

test('the import reader sees imports, type imports, re-exports and import(), and no commented-out ones', () => {
  const source = [
    "import { a } from './a.ts';",
    "import type { B } from './b.ts';",
    "import {\n  c,\n  type C,\n} from './c.ts';",
    "export { d } from './d.ts';",
    "export * from './e.ts';",
    "import './f.ts';",
    "const g = await import('./g.ts');",
    "// import { h } from './h.ts';",
    "/* import { i } from './i.ts'; */",
    "import { j } from '../j.ts';",
    "import { k } from 'node:k';",
  ].join('\n');
  assert.deepEqual(importsOf(source).sort(), ['../j.ts', './a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts']);
});

test('the cycle finder finds a cycle and only a cycle', () => {
  assert.equal(findCycle(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', []]])), null);
  assert.equal(findCycle(new Map([['a.ts', ['b.ts', 'c.ts']], ['b.ts', ['c.ts']], ['c.ts', []]])), null, 'a diamond is no cycle');
  assert.deepEqual(findCycle(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['b.ts']]])), ['b.ts', 'c.ts', 'b.ts']);
});

test('plugin/figma has no import cycle', () => {
  const graph = importGraph(FOLDER);
  assert.ok(graph.has('place.ts') && graph.has('read.ts') && graph.has('selection.ts'), 'the bridge modules were read');
  assert.ok((graph.get('bridge.ts') ?? []).includes('place.ts'), 'edges were found');
  const cycle = findCycle(graph);
  assert.equal(cycle, null, `import cycle in plugin/figma: ${cycle?.join(' → ')}`);
});
