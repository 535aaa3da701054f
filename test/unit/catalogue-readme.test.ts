// The README's table of official models is what models/catalogue.json makes (npm run catalogue:readme), so the README
// lists every checkpoint with its licence and how it installs in this version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { END, README_PATH, START, catalogueTable, withTable } from '../../models/catalogue-readme.ts';
import { readCatalogue } from '../../models/catalogue.ts';

test('the README lists the catalogue as it is: every checkpoint, its licence in plain words and how it installs', () => {
  const readme = readFileSync(README_PATH, 'utf8');
  const table = catalogueTable();
  assert.ok(readme.includes(table), 'README.md\'s catalogue table is out of date: run npm run catalogue:readme');
  const cat = readCatalogue();
  for (const k of cat.checkpoints.filter((c) => c.status !== 'unused')) assert.match(table, new RegExp(`^\\| \`${k.id}\` \\|`, 'm'), k.id);
  assert.match(table, /^\| `gram-ffhq-256` \|.*Non-commercial research use only.*\| one click, once you accept the licence \|$/m);
  assert.match(table, /^\| `simmim-swin-base-192` \|.*\| from the file \(its page needs a browser\) \|$/m);
  assert.match(table, /^\| `vqdiffusion-ithq` \|.*\| on the server \|.*\| one click \|$/m);
  assert.match(table, /^\| `ttvsr-reds` \|.*\| on the server \|.*\| from the file \(its page needs a browser\) \|$/m);
});

test('the table is replaced between its markers, and a README without them is an error', () => {
  const table = catalogueTable();
  assert.equal(withTable(`a\n${START}\nold\n${END}\nb`, table), `a\n${table}\nb`);
  assert.throws(() => withTable('no markers here', table), /no catalogue table markers/);
});
