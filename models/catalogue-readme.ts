// The README's table of official models, made from models/catalogue.json so the two cannot disagree:
//   npm run catalogue:readme     (rewrites the table between the markers in README.md)
// test/unit/catalogue-readme.test.ts fails when the README's table is not what the catalogue makes.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isServerOnly, licenseOf, readCatalogue, type Catalogue } from './catalogue.ts';
import { listTemplates } from './convert/templates.ts';

export const README_PATH = fileURLToPath(new URL('../README.md', import.meta.url));
export const START = '<!-- catalogue:start (made by npm run catalogue:readme from models/catalogue.json) -->';
export const END = '<!-- catalogue:end -->';

const TASK_WORDS: Record<string, string> = {
  generate: 'Generate', 'rotate-view': 'Rotate view', inpaint: 'Inpaint', 'text-to-image': 'Text to image',
  'upscale-video': 'Upscale video', component: 'part of another model',
};

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

/** How an entry installs in this version: one click, from a file only a browser can download, or not yet. */
function howToInstall(cat: Catalogue, k: Catalogue['checkpoints'][number], templates: Set<string>): string {
  if (k.status !== 'available' || !k.cards.length) return 'not yet';
  if (!k.cards.every((id) => templates.has(id))) return 'with Python (`npm run convert`)';
  const how = k.files.every((f) => f.directDownload) ? 'one click' : 'from the file (its page needs a browser)';
  return licenseOf(cat, k).acceptBeforeDownload ? `${how}, once you accept the licence` : how;
}

/** The markdown table (with its markers) for `cat`. */
export function catalogueTable(cat: Catalogue = readCatalogue(), templates = new Set(listTemplates().flatMap((t) => Object.keys(t.meta.cards)))): string {
  const rows = cat.checkpoints
    .filter((k) => k.status !== 'unused')
    .map((k) => {
      const family = cat.families[k.family]?.label ?? k.family;
      const where = isServerOnly(k) ? 'on the server' : 'in the plugin or on the server';
      const licence = licenseOf(cat, k);
      return `| \`${k.id}\` | ${cell(`${family}: ${k.label}`)} | ${TASK_WORDS[k.task] ?? k.task} | ${where} | ${cell(licence.summary)} | ${howToInstall(cat, k, templates)} |`;
    });
  return [START, '', '| Id | Model | Task | Runs | Licence | Install |', '|---|---|---|---|---|---|', ...rows, '', END].join('\n');
}

/** The README with its table replaced by `table`; throws when the markers are missing. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no catalogue table markers (${START} … ${END})`);
  return readme.slice(0, start) + table + readme.slice(end + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const readme = readFileSync(README_PATH, 'utf8');
  writeFileSync(README_PATH, withTable(readme, catalogueTable()));
  console.log(`README.md: catalogue table written (${readCatalogue().checkpoints.length} checkpoints)`);
}
