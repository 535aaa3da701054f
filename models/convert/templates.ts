// The committed graph templates (models/templates/, written by models/export/template.py; `npm run templates`):
// which template makes a card, its graphs (gzipped), and whether it is still what its exporter sources would make.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { ModelCard, ModelFileKind } from '../../worker/models/card.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TEMPLATES_DIR = join(REPO_ROOT, 'models', 'templates');

export interface TemplateSlotMeta {
  name: string;
  kind: 'checkpoint' | 'computed';
  dtype: string;
  dims: number[];
}

/** How one computed buffer is made after conversion (template.py's compute_graphs). */
export interface ComputedMeta {
  graph: string;
  how: string;
  samples: number;
  inputs: string[];
  outputs: string[];
  slots: TemplateSlotMeta[];
  file: string;
  sha256: string;
}

/** A file a card ships besides its graph (template.py records the family's template_files): a copy of a committed
 *  file (`copy`, a repository path, with its sha256), or a checkpoint tensor the graph does not use, written raw
 *  (little-endian `dtype`) as <card id><suffix>.<sha16><ext>. */
export type TemplateFileMeta =
  | { kind: ModelFileKind; copy: string; sha256: string }
  | { kind: ModelFileKind; tensor: string; dtype: 'float32'; dims: number[]; suffix: string; ext: string };

export interface TemplateMeta {
  /** Cards (without files) of every model id this graph serves, by id. */
  cards: Record<string, Omit<ModelCard, 'files'>>;
  slots: TemplateSlotMeta[];
  computed: Record<string, ComputedMeta>;
  /** Files besides the graph, in the card's order after it (absent in templates made before there were any). */
  files?: TemplateFileMeta[];
  opset: number;
  torch: string;
  onnx: string;
  /** The graph's file (beside the JSON) and the sha256 of its (uncompressed) bytes. */
  file: string;
  sha256: string;
  /** sha256 of the exporter sources it was made from, by repository path. */
  sources: Record<string, string>;
}

export interface Template {
  dir: string;
  /** The JSON's file name. */
  name: string;
  meta: TemplateMeta;
}

/** Every template in `dir`. */
export function listTemplates(dir = TEMPLATES_DIR): Template[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.template.json'))
    .sort()
    .map((name) => ({ dir, name, meta: JSON.parse(readFileSync(join(dir, name), 'utf8')) as TemplateMeta }));
}

/** The template that makes `cardId`, if any. */
export function findTemplate(cardId: string, dir = TEMPLATES_DIR): Template | undefined {
  return listTemplates(dir).find((t) => Object.hasOwn(t.meta.cards, cardId));
}

/** A graph file of a template (gunzipped when it ends in .gz), checked against the sha256 the JSON records. */
export function readTemplateGraph(template: Template, file: string, sha256: string): Uint8Array {
  const path = join(template.dir, file);
  if (!existsSync(path)) throw new Error(`${path} is missing: reinstall Frontier (or run npm run templates)`);
  const raw = readFileSync(path);
  const bytes = file.endsWith('.gz') ? gunzipSync(raw) : raw;
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) throw new Error(`${path} is damaged (sha256 ${actual.slice(0, 16)}…, expected ${sha256.slice(0, 16)}…): reinstall Frontier`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The exporter sources that changed since the template was made (repository paths); empty when it is current. */
export function staleSources(template: Template, root = REPO_ROOT): string[] {
  return Object.entries(template.meta.sources)
    .filter(([path, sha]) => !existsSync(join(root, path)) || createHash('sha256').update(readFileSync(join(root, path))).digest('hex') !== sha)
    .map(([path]) => path);
}
