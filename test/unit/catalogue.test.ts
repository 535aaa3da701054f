// The catalogue of official checkpoints (models/catalogue.json): it validates, names only card ids the exporters
// make, covers every exporter id, keeps GRAM un-redistributable, keeps the big models off the browser, and the
// validator rejects broken entries with a message naming the entry and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CATALOGUE_PATH,
  CatalogueError,
  checkpointById,
  checkpointsForCard,
  isServerOnly,
  licenseOf,
  needsBrowser,
  readCatalogue,
  validateCatalogue,
  type Catalogue,
} from '../../models/catalogue.ts';

const root = join(import.meta.dirname, '..', '..');
const EXPORTERS = ['styleswin', 'gram', 'simmim', 'vqdiffusion', 'ttvsr'] as const;

/** The body of `MODELS = {…}` in an exporter module (from the line opening it to the first line that is just "}"). */
function modelsBlock(family: string): string {
  const source = readFileSync(join(root, 'models', 'export', `${family}.py`), 'utf8');
  const start = source.search(/^MODELS = \{$/m);
  assert.ok(start >= 0, `models/export/${family}.py has no "MODELS = {" block`);
  const end = source.indexOf('\n}\n', start);
  assert.ok(end > start, `models/export/${family}.py: MODELS block not closed`);
  return source.slice(start, end);
}

/** The model ids a module exports: MODELS' top-level keys (4-space indented quoted keys). */
function exporterIds(family: string): string[] {
  const ids = [...modelsBlock(family).matchAll(/^ {4}'([a-z0-9-]+)':/gm)].map((m) => m[1]);
  assert.ok(ids.length > 0, `no ids parsed from models/export/${family}.py MODELS`);
  return ids;
}

/** One MODELS entry's text (from its key to the next key). */
function exporterEntry(family: string, id: string): string {
  const block = modelsBlock(family);
  const start = block.indexOf(`    '${id}':`);
  assert.ok(start >= 0, `${id} not in ${family}.py MODELS`);
  const next = block.slice(start + 5).search(/^ {4}'[a-z0-9-]+':/m);
  return next < 0 ? block.slice(start) : block.slice(start, start + 5 + next);
}

function clone(): Catalogue {
  return JSON.parse(readFileSync(CATALOGUE_PATH, 'utf8')) as Catalogue;
}

const cat = readCatalogue();

test('the committed catalogue validates', () => {
  assert.equal(cat.version, 1);
  assert.deepEqual(Object.keys(cat.families).sort(), ['gram', 'simmim', 'styleswin', 'ttvsr', 'vqdiffusion']);
  assert.ok(cat.checkpoints.length >= 15);
  assert.equal(new Set(cat.checkpoints.map((k) => k.id)).size, cat.checkpoints.length);
});

test('every card id the catalogue names is an exporter MODELS id', () => {
  const known = new Set(EXPORTERS.flatMap((f) => exporterIds(f)));
  for (const k of cat.checkpoints) {
    for (const card of k.cards) assert.ok(known.has(card), `${k.id}: card ${card} is in no models/export/*.py MODELS`);
  }
});

test('every exporter MODELS id can be installed from an available checkpoint of its family', () => {
  for (const family of EXPORTERS) {
    for (const id of exporterIds(family)) {
      const from = checkpointsForCard(cat, id).filter((k) => k.status === 'available');
      assert.ok(from.length > 0, `${family}.py exports ${id} but no available catalogue checkpoint produces it`);
      for (const k of from) assert.equal(k.family, family, `${id} comes from ${k.id} of another family`);
    }
  }
});

test('file names and sizes agree with the exporters', () => {
  for (const id of exporterIds('styleswin')) {
    const entry = exporterEntry('styleswin', id);
    const k = checkpointById(cat, id);
    assert.ok(k, `styleswin ${id} has no catalogue entry of the same id`);
    assert.equal(k.files[0].name, entry.match(/'checkpoint': '([^']+)'/)?.[1], `${id}: file name`);
    assert.equal(k.resolution, Number(entry.match(/'size': (\d+)/)?.[1]), `${id}: resolution`);
  }
  const simmimSource = readFileSync(join(root, 'models', 'export', 'simmim.py'), 'utf8');
  const simmimFile = simmimSource.match(/^CHECKPOINT = '([^']+)'/m)?.[1];
  assert.deepEqual(checkpointsForCard(cat, 'simmim-swin-base-192').map((k) => k.files[0].name), [simmimFile]);
  assert.deepEqual(checkpointById(cat, 'vqdiffusion-ithq')?.files.map((f) => f.name), ['ithq_learnable.pth']);
  assert.deepEqual(checkpointById(cat, 'gram-ffhq-256')?.files.map((f) => f.name), ['generator.pth', 'ema.pth']);
  for (const id of exporterIds('ttvsr')) {
    const file = exporterEntry('ttvsr', id).match(/'checkpoint': (REDS_FILE|VIMEO_FILE)/)?.[1];
    const name = readFileSync(join(root, 'models', 'export', 'ttvsr.py'), 'utf8').match(new RegExp(`^REDS_FILE, VIMEO_FILE = '([^']+)', '([^']+)'`, 'm'))?.[file === 'REDS_FILE' ? 1 : 2];
    assert.deepEqual(checkpointsForCard(cat, id).map((k) => k.files.map((f) => f.name)), [[name]], `${id}: file name`);
  }
});

test('every family and checkpoint has a licence summary', () => {
  for (const [name, family] of Object.entries(cat.families)) {
    assert.ok(family.license.summary.trim().length > 20, `${name}: licence summary`);
  }
  for (const k of cat.checkpoints) {
    const license = licenseOf(cat, k);
    assert.ok(license.summary.trim().length > 20, `${k.id}: licence summary`);
    assert.ok(['yes', 'no', 'unclear'].includes(license.commercialUse), `${k.id}: commercialUse`);
  }
});

test('GRAM may not be redistributed, used commercially, or downloaded without accepting its licence', () => {
  const gram = cat.checkpoints.filter((k) => k.family === 'gram');
  assert.ok(gram.length >= 3, 'FFHQ, Cats and CARLA are released');
  for (const k of gram) {
    const license = licenseOf(cat, k);
    assert.equal(license.redistribution, false, `${k.id}: redistribution`);
    assert.equal(license.commercialUse, 'no', `${k.id}: commercialUse`);
    assert.equal(license.acceptBeforeDownload, true, `${k.id}: acceptBeforeDownload`);
    assert.match(license.summary, /never shares/);
  }
  // Only GRAM needs the click-through; everything else is MIT-style.
  const clickThrough = cat.checkpoints.filter((k) => licenseOf(cat, k).acceptBeforeDownload).map((k) => k.family);
  assert.deepEqual([...new Set(clickThrough)], ['gram']);
});

test('face models trained on FFHQ or CelebA-HQ are marked non-commercial', () => {
  for (const k of cat.checkpoints.filter((c) => /^(FFHQ|CelebA-HQ)$/.test(c.dataset))) {
    assert.equal(licenseOf(cat, k).commercialUse, 'no', k.id);
    assert.match(licenseOf(cat, k).summary, /non-commercial/i, k.id);
  }
});

test('server-only entries are the big ones, and the big ones are server-only', () => {
  const big = (k: (typeof cat.checkpoints)[number]) =>
    (k.resolution ?? 0) >= 1024 || (k.params ?? 0) >= 300e6 || k.task === 'upscale-video';
  for (const k of cat.checkpoints) {
    if (big(k)) assert.ok(isServerOnly(k), `${k.id} is big (≥1024 px, ≥300M parameters or video) but lists a browser target`);
    if (isServerOnly(k)) assert.ok(k.serverOnlyReason, `${k.id}: server-only without a reason`);
    // A model Frontier can install today stays in the browser unless it is big.
    if (k.status === 'available' && isServerOnly(k)) assert.ok(big(k), `${k.id} is server-only but not big`);
  }
  const availableServerOnly = cat.checkpoints.filter((k) => k.status === 'available' && isServerOnly(k)).map((k) => k.id);
  assert.deepEqual(availableServerOnly.sort(), ['styleswin-celebahq-1024', 'styleswin-ffhq-1024', 'ttvsr-reds', 'ttvsr-vimeo90k', 'vqdiffusion-ithq']);
  for (const id of ['ttvsr-reds', 'ttvsr-vimeo90k']) assert.ok(isServerOnly(checkpointById(cat, id)!), id);
});

test('download URLs: share pages are not direct, direct ones are on file hosts, nothing is guessed', () => {
  const directHost = (u: string) => {
    const { hostname, pathname } = new URL(u);
    return hostname.endsWith('.blob.core.windows.net') || hostname === 'raw.githubusercontent.com' ||
      (hostname === 'github.com' && pathname.includes('/releases/download/')) ||
      (hostname === 'huggingface.co' && pathname.includes('/resolve/'));
  };
  for (const k of cat.checkpoints) {
    for (const f of k.files) {
      const urls = f.parts ?? [f.url!];
      for (const u of urls) assert.equal(f.directDownload, directHost(u), `${k.id} ${f.name}: directDownload for ${u}`);
      for (const m of f.mirrors) assert.equal(m.directDownload, directHost(m.url), `${k.id} ${f.name}: mirror ${m.url}`);
      // No checksum is published by these authors: the installer records one at first download.
      if (f.sha256 === null) assert.equal(f.sha256Source, null);
    }
  }
  // StyleSwin: the README's Azure blob first (direct), its Google Drive link as the mirror.
  const ffhq = checkpointById(cat, 'styleswin-ffhq-256')!.files[0];
  assert.ok(ffhq.url!.startsWith('https://facevcstandard.blob.core.windows.net/'));
  assert.ok(needsBrowser(ffhq.mirrors[0].url));
  // VQ-Diffusion ITHQ: eleven release assets, concatenated in order.
  const ithq = checkpointById(cat, 'vqdiffusion-ithq')!.files[0];
  assert.equal(ithq.url, null);
  assert.deepEqual(ithq.parts!.map((u) => u.slice(-2)), ['aa', 'ab', 'ac', 'ad', 'ae', 'af', 'ag', 'ah', 'ai', 'aj', 'ak']);
  // GRAM: pinned to the commit the git blob ids come from.
  for (const k of cat.checkpoints.filter((c) => c.family === 'gram')) {
    for (const f of k.files) {
      assert.ok(f.url!.includes(`/microsoft/GRAM/${k.source.commit}/`), `${k.id} ${f.name}: URL pinned to source.commit`);
      assert.match(f.gitBlobSha1 ?? '', /^[0-9a-f]{40}$/);
    }
  }
});

test('lookups: by id, by card, merged licence', () => {
  assert.equal(checkpointById(cat, 'gram-ffhq-256')?.family, 'gram');
  assert.equal(checkpointById(cat, 'nope'), undefined);
  assert.deepEqual(checkpointsForCard(cat, 'vqdiffusion-ithq-decoder').map((k) => k.id), ['vqdiffusion-ithq', 'vqdiffusion-ithq-vqvae']);
  assert.deepEqual(checkpointsForCard(cat, 'styleswin-ffhq-1024').map((k) => k.id), ['styleswin-ffhq-1024']);
  const ffhq = licenseOf(cat, checkpointById(cat, 'styleswin-ffhq-256')!);
  assert.equal(ffhq.code, 'MIT'); // from the family
  assert.equal(ffhq.commercialUse, 'no'); // the checkpoint's override
});

test('the validator rejects broken entries, naming the entry and the field', () => {
  const cases: [string, (c: Catalogue) => void, RegExp][] = [
    ['http URL', (c) => { c.checkpoints[0].files[0].url = 'http://example.com/FFHQ_256.pt'; }, /checkpoint "styleswin-ffhq-256": files\[0\]\.url: must be an https URL/],
    ['not a URL', (c) => { c.checkpoints[0].files[0].mirrors[0].url = 'drive link'; }, /"styleswin-ffhq-256": files\[0\]\.mirrors\[0\]\.url: is not a URL/],
    ['unknown family', (c) => { c.checkpoints[1].family = 'stylegan'; }, /"styleswin-celebahq-256": family: unknown family "stylegan"/],
    ['short sha256', (c) => { c.checkpoints[0].files[0].sha256 = 'abc123'; }, /files\[0\]\.sha256: must be null or 64 lower-case hex/],
    ['sha256 without source', (c) => { c.checkpoints[0].files[0].sha256 = 'a'.repeat(64); }, /files\[0\]\.sha256Source: must be a non-empty string/],
    ['unknown target', (c) => { (c.checkpoints[0].targets as string[]).push('gpu'); }, /"styleswin-ffhq-256": targets\[4\]: must be one of webgpu, wasm, node, server/],
    ['duplicate id', (c) => { c.checkpoints[2].id = c.checkpoints[0].id; }, /checkpoint "styleswin-ffhq-256": id: is used by another checkpoint/],
    ['empty family summary', (c) => { c.families.gram.license.summary = ' '; }, /family "gram": license\.summary: must be a non-empty string/],
    ['empty override summary', (c) => { c.checkpoints[0].license!.summary = ''; }, /"styleswin-ffhq-256": license\.summary/],
    ['unknown licence field', (c) => { (c.checkpoints[0].license as Record<string, unknown>).commercial = true; }, /license\.commercial: is not a licence field/],
    ['Drive marked direct', (c) => { c.checkpoints[0].files[0].mirrors[0].directDownload = true; }, /mirrors\[0\]\.directDownload: must be false: drive\.google\.com/],
    ['available without cards', (c) => { c.checkpoints[0].cards = []; }, /"styleswin-ffhq-256": cards: an available checkpoint must name the cards/],
    ['planned with cards', (c) => { checkpointById(c, 'simmim-swin-base-192-800ep')!.cards = ['simmim-swin-base-192']; }, /"simmim-swin-base-192-800ep": cards: must be empty while status is "planned"/],
    ['planned without reason', (c) => { delete checkpointById(c, 'simmim-swin-base-192-800ep')!.reason; }, /"simmim-swin-base-192-800ep": reason: must be a non-empty string/],
    ['server-only without reason', (c) => { delete checkpointById(c, 'styleswin-ffhq-1024')!.serverOnlyReason; }, /"styleswin-ffhq-1024": serverOnlyReason/],
    ['bad commercialUse', (c) => { (c.checkpoints[0].license as Record<string, unknown>).commercialUse = false; }, /license\.commercialUse: must be one of yes, no, unclear/],
    ['url beside parts', (c) => { checkpointById(c, 'vqdiffusion-ithq')!.files[0].url = 'https://example.com/x'; }, /"vqdiffusion-ithq": files\[0\]\.url: must be null when the file comes in parts/],
    ['bad git blob', (c) => { checkpointById(c, 'gram-ffhq-256')!.files[0].gitBlobSha1 = 'xyz'; }, /"gram-ffhq-256": files\[0\]\.gitBlobSha1/],
    ['bad version', (c) => { (c as { version: number }).version = 2; }, /top level: version: must be 1/],
  ];
  for (const [label, breakIt, message] of cases) {
    const c = clone();
    breakIt(c);
    assert.throws(() => validateCatalogue(c), (e: unknown) => e instanceof CatalogueError && message.test(e.message), label);
  }
  // An entry written from scratch that is right passes: the checks above are not just rejecting everything.
  const c = clone();
  c.checkpoints.push({
    id: 'styleswin-test', family: 'styleswin', label: 'Test', task: 'generate', dataset: 'none', resolution: 64, params: null,
    files: [{ name: 'x.pt', url: 'https://example.blob.core.windows.net/x.pt', directDownload: true, mirrors: [], bytes: 10, sha256: 'f'.repeat(64), sha256Source: 'README' }],
    cards: [], targets: ['wasm'], quality: null, status: 'planned', reason: 'test',
    source: { repository: 'microsoft/StyleSwin', commit: '0'.repeat(40), file: 'README.md', section: 'test' },
  });
  assert.doesNotThrow(() => validateCatalogue(c));
});

test('readCatalogue reports an unreadable file as a CatalogueError', () => {
  assert.throws(() => readCatalogue(join(root, 'models', 'no-such-catalogue.json')), CatalogueError);
});
