// The catalogue of official model checkpoints (models/catalogue.json): where each family's authors publish their
// trained weights, under which licence, which model cards models/export turns them into, and where those run. It is
// the data behind "Official models in one click"; this module types it, validates it and looks entries up.
//
// Words used below:
//   checkpoint  one released training result (a file, or a few files that go together), as the authors publish it;
//   card        a model card id made by an exporter (models/export/*.py MODELS, models/registry.json);
//   direct      a URL a plain HTTP GET downloads (Azure blob, GitHub raw/release, Hugging Face resolve/); share pages
//               of Google Drive, OneDrive or Baidu need a browser, so the installer offers "Install from file…".
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CATALOGUE_PATH = fileURLToPath(new URL('./catalogue.json', import.meta.url));

export const TARGETS = ['webgpu', 'wasm', 'node', 'server'] as const;
export type Target = (typeof TARGETS)[number];

/** available: an exporter converts it into `cards`; planned: wanted, no exporter/config yet; unused: released, not needed. */
export const STATUSES = ['available', 'planned', 'unused'] as const;
export type Status = (typeof STATUSES)[number];

/** Frontier task ids (worker/tasks), plus 'component' for parts that are no model on their own (codecs, encoders). */
export const TASKS = ['generate', 'rotate-view', 'inpaint', 'text-to-image', 'upscale-video', 'component'] as const;
export type Task = (typeof TASKS)[number];

/**
 * yes: the weights' licence allows commercial use and nothing the catalogue knows of says otherwise;
 * no: the licence forbids it, or the training data's terms are non-commercial and Frontier treats the model so;
 * unclear: the licence allows it, but the training data's terms are unknown or non-commercial (a grey area).
 */
export const COMMERCIAL_USE = ['yes', 'no', 'unclear'] as const;
export type CommercialUse = (typeof COMMERCIAL_USE)[number];

export interface License {
  code: string;
  weights: string;
  /** The training data's terms, where they matter; null when nothing is known or needed. */
  dataset: string | null;
  /** The licence text. */
  url: string;
  /** Plain words for a designer: what they may do with the model and its pictures. */
  summary: string;
  commercialUse: CommercialUse;
  /** Whether the file (or what Frontier converts it into) may be shared with others. */
  redistribution: boolean;
  /** The installer must show the licence and get a click before downloading. */
  acceptBeforeDownload: boolean;
}

export interface Mirror {
  url: string;
  directDownload: boolean;
  note?: string;
}

export interface CatalogueFile {
  /** The file name the exporter expects (what the authors call it). */
  name: string;
  /** The main URL; null when the file is published in `parts`. */
  url: string | null;
  /** The file is these downloads concatenated in order (GitHub release assets split under 2 GB). */
  parts?: string[];
  /** Whether a plain HTTP GET of `url` / each part returns the file. */
  directDownload: boolean;
  /** Other places the authors name for the same file. */
  mirrors: Mirror[];
  bytes: number | null;
  /** Published sha256 of the whole file; null: none published ("unverified: no published checksum"). */
  sha256: string | null;
  /** Where the sha256 was published; null iff sha256 is null. */
  sha256Source: string | null;
  /** Git blob id of the file in the authors' repository (sha1 of "blob <bytes>\0" + content): checkable on download. */
  gitBlobSha1?: string | null;
  note?: string;
}

/** A source the authors' README does not name as a mirror (other format or publisher): never used silently. */
export interface OtherSource {
  url: string;
  publisher: string;
  format: string;
  license: string;
  directDownload: boolean;
  note: string;
}

export interface SourceRef {
  /** owner/name on GitHub. */
  repository: string;
  commit: string;
  /** The file in that repository the URLs were taken from. */
  file: string;
  section: string;
  /** The link the README gives when the file URLs are derived from it (e.g. a folder page). */
  link?: string;
}

export interface Family {
  label: string;
  repository: string;
  commit: string;
  paper: { title: string; venue: string; url: string };
  license: License;
}

export interface Checkpoint {
  id: string;
  family: string;
  label: string;
  task: Task;
  dataset: string;
  /** Output size in pixels (square); null where it follows the input (video upscaling). */
  resolution: number | null;
  /** Approximate parameters of the largest network Frontier runs from it; null when unknown. */
  params: number | null;
  files: CatalogueFile[];
  /** Overrides of the family's licence fields for this checkpoint (dataset terms, summary…). */
  license?: Partial<License>;
  /** Model card ids the exporters make from it; empty unless status is 'available'. */
  cards: string[];
  targets: Target[];
  /** Required when no browser target (webgpu/wasm) is listed. */
  serverOnlyReason?: string;
  /** Quality figures with their origin, e.g. "FID 2.81 (README)". */
  quality: string | null;
  status: Status;
  /** Required unless status is 'available'. */
  reason?: string;
  notes?: string;
  otherSources?: OtherSource[];
  source: SourceRef;
}

export interface Catalogue {
  version: 1;
  families: Record<string, Family>;
  checkpoints: Checkpoint[];
}

export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

/** Hosts whose share links open a page that needs a browser (and often a click past a virus-scan notice). */
const BROWSER_ONLY_HOSTS = ['drive.google.com', 'docs.google.com', '1drv.ms', 'onedrive.live.com', 'pan.baidu.com'];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

/** True when `url`'s host serves share pages rather than files. */
export function needsBrowser(url: string): boolean {
  const host = hostOf(url);
  return host !== null && BROWSER_ONLY_HOSTS.some((h) => host === h || host.endsWith(`.${h}`));
}

/** A checkpoint that lists no browser target runs only with onnxruntime-node or on a server. */
export function isServerOnly(c: Pick<Checkpoint, 'targets'>): boolean {
  return !c.targets.includes('webgpu') && !c.targets.includes('wasm');
}

class Checker {
  constructor(private readonly where: string) {}

  fail(field: string, problem: string): never {
    throw new CatalogueError(`catalogue: ${this.where}: ${field}: ${problem}`);
  }

  text(o: Json, field: string, label = field): string {
    const v = o[field];
    if (typeof v !== 'string' || !v.trim()) this.fail(label, `must be a non-empty string (got ${JSON.stringify(v)})`);
    return v;
  }

  optText(o: Json, field: string, label = field): void {
    if (o[field] !== undefined) this.text(o, field, label);
  }

  textOrNull(o: Json, field: string, label = field): void {
    if (o[field] !== null) this.text(o, field, label);
  }

  bool(o: Json, field: string, label = field): boolean {
    if (typeof o[field] !== 'boolean') this.fail(label, `must be true or false (got ${JSON.stringify(o[field])})`);
    return o[field] as boolean;
  }

  oneOf<T extends string>(o: Json, field: string, allowed: readonly T[], label = field): T {
    const v = o[field];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(label, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
    }
    return v as T;
  }

  https(v: unknown, label: string): string {
    if (typeof v !== 'string') this.fail(label, `must be a URL string (got ${JSON.stringify(v)})`);
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      this.fail(label, `is not a URL (${v})`);
    }
    if (url.protocol !== 'https:') this.fail(label, `must be an https URL (got ${v})`);
    return v;
  }

  positiveOrNull(o: Json, field: string, integer: boolean, label = field): void {
    const v = o[field];
    if (v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
      this.fail(label, `must be null or a positive ${integer ? 'integer' : 'number'} (got ${JSON.stringify(v)})`);
    }
  }

  array(o: Json, field: string, label = field): unknown[] {
    if (!Array.isArray(o[field])) this.fail(label, `must be an array (got ${JSON.stringify(o[field])})`);
    return o[field] as unknown[];
  }
}

const LICENSE_FIELDS = ['code', 'weights', 'dataset', 'url', 'summary', 'commercialUse', 'redistribution', 'acceptBeforeDownload'] as const;

function checkLicenseFields(c: Checker, l: Json, prefix: string, complete: boolean): void {
  for (const key of Object.keys(l)) {
    if (!(LICENSE_FIELDS as readonly string[]).includes(key)) c.fail(`${prefix}.${key}`, 'is not a licence field');
  }
  const has = (k: string) => complete || l[k] !== undefined;
  if (has('code')) c.text(l, 'code', `${prefix}.code`);
  if (has('weights')) c.text(l, 'weights', `${prefix}.weights`);
  if (complete && l.dataset === undefined) c.fail(`${prefix}.dataset`, 'must be a string or null');
  if (l.dataset !== undefined) c.textOrNull(l, 'dataset', `${prefix}.dataset`);
  if (has('url')) c.https(l.url, `${prefix}.url`);
  if (has('summary')) c.text(l, 'summary', `${prefix}.summary`);
  if (has('commercialUse')) c.oneOf(l, 'commercialUse', COMMERCIAL_USE, `${prefix}.commercialUse`);
  if (has('redistribution')) c.bool(l, 'redistribution', `${prefix}.redistribution`);
  if (has('acceptBeforeDownload')) c.bool(l, 'acceptBeforeDownload', `${prefix}.acceptBeforeDownload`);
}

function checkFamily(name: string, f: unknown): void {
  const c: Checker = new Checker(`family "${name}"`);
  if (!/^[a-z0-9]+$/.test(name)) c.fail('name', 'must be lower-case letters and digits');
  if (!isObject(f)) c.fail('(entry)', 'must be an object');
  c.text(f, 'label');
  c.https(f.repository, 'repository');
  if (typeof f.commit !== 'string' || !/^[0-9a-f]{40}$/.test(f.commit)) c.fail('commit', 'must be a 40-hex git commit');
  if (!isObject(f.paper)) c.fail('paper', 'must be an object');
  c.text(f.paper, 'title', 'paper.title');
  c.text(f.paper, 'venue', 'paper.venue');
  c.https(f.paper.url, 'paper.url');
  if (!isObject(f.license)) c.fail('license', 'must be an object');
  checkLicenseFields(c, f.license, 'license', true);
}

function checkFile(c: Checker, f: unknown, at: string): void {
  if (!isObject(f)) c.fail(at, 'must be an object');
  const name = c.text(f, 'name', `${at}.name`);
  if (/[/\\]/.test(name)) c.fail(`${at}.name`, 'must be a bare file name');
  const direct = c.bool(f, 'directDownload', `${at}.directDownload`);
  const urls: string[] = [];
  if (f.parts !== undefined) {
    const parts = c.array(f, 'parts', `${at}.parts`);
    if (parts.length < 2) c.fail(`${at}.parts`, 'lists the pieces of a split file: two or more URLs');
    if (f.url !== null) c.fail(`${at}.url`, 'must be null when the file comes in parts');
    parts.forEach((p, i) => urls.push(c.https(p, `${at}.parts[${i}]`)));
  } else {
    urls.push(c.https(f.url, `${at}.url`));
  }
  for (const u of urls) {
    if (direct && needsBrowser(u)) c.fail(`${at}.directDownload`, `must be false: ${hostOf(u)} share pages need a browser`);
  }
  c.array(f, 'mirrors', `${at}.mirrors`).forEach((m, i) => {
    const mat = `${at}.mirrors[${i}]`;
    if (!isObject(m)) c.fail(mat, 'must be an object');
    const url = c.https(m.url, `${mat}.url`);
    if (c.bool(m, 'directDownload', `${mat}.directDownload`) && needsBrowser(url)) {
      c.fail(`${mat}.directDownload`, `must be false: ${hostOf(url)} share pages need a browser`);
    }
    c.optText(m, 'note', `${mat}.note`);
  });
  c.positiveOrNull(f, 'bytes', true, `${at}.bytes`);
  const sha = f.sha256;
  if (sha !== null && (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha))) {
    c.fail(`${at}.sha256`, `must be null or 64 lower-case hex digits (got ${JSON.stringify(sha)})`);
  }
  if (sha === null && f.sha256Source !== null) c.fail(`${at}.sha256Source`, 'must be null when sha256 is null');
  if (sha !== null) c.text(f, 'sha256Source', `${at}.sha256Source`);
  const blob = f.gitBlobSha1;
  if (blob !== undefined && blob !== null && (typeof blob !== 'string' || !/^[0-9a-f]{40}$/.test(blob))) {
    c.fail(`${at}.gitBlobSha1`, `must be null or 40 lower-case hex digits (got ${JSON.stringify(blob)})`);
  }
  c.optText(f, 'note', `${at}.note`);
}

function checkCheckpoint(k: unknown, index: number, families: Record<string, unknown>): void {
  const id = isObject(k) && typeof k.id === 'string' ? k.id : `#${index}`;
  const c: Checker = new Checker(`checkpoint "${id}"`);
  if (!isObject(k)) c.fail('(entry)', 'must be an object');
  if (typeof k.id !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(k.id)) c.fail('id', 'must be lower-case words joined by "-"');
  const family = c.text(k, 'family');
  if (!Object.hasOwn(families, family)) c.fail('family', `unknown family "${family}" (known: ${Object.keys(families).join(', ')})`);
  c.text(k, 'label');
  c.oneOf(k, 'task', TASKS);
  c.text(k, 'dataset');
  c.positiveOrNull(k, 'resolution', true);
  c.positiveOrNull(k, 'params', false);
  const files = c.array(k, 'files');
  if (!files.length) c.fail('files', 'must list at least one file');
  files.forEach((f, i) => checkFile(c, f, `files[${i}]`));
  const names = files.map((f) => (f as Json).name);
  if (new Set(names).size !== names.length) c.fail('files', 'file names must be unique');
  if (k.license !== undefined) {
    if (!isObject(k.license)) c.fail('license', 'must be an object of licence fields to override');
    checkLicenseFields(c, k.license, 'license', false);
  }
  const cards = c.array(k, 'cards');
  cards.forEach((card, i) => {
    if (typeof card !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(card)) c.fail(`cards[${i}]`, `is not a card id (${JSON.stringify(card)})`);
  });
  if (new Set(cards).size !== cards.length) c.fail('cards', 'card ids must be unique');
  const targets = c.array(k, 'targets');
  if (!targets.length) c.fail('targets', 'must list at least one target');
  targets.forEach((t, i) => {
    if (!(TARGETS as readonly unknown[]).includes(t)) c.fail(`targets[${i}]`, `must be one of ${TARGETS.join(', ')} (got ${JSON.stringify(t)})`);
  });
  if (new Set(targets).size !== targets.length) c.fail('targets', 'targets must be unique');
  if (isServerOnly({ targets: targets as Target[] })) c.text(k, 'serverOnlyReason');
  else if (k.serverOnlyReason !== undefined) c.fail('serverOnlyReason', 'only for checkpoints without a browser target');
  c.textOrNull(k, 'quality');
  const status = c.oneOf(k, 'status', STATUSES);
  if (status === 'available') {
    if (!cards.length) c.fail('cards', 'an available checkpoint must name the cards it produces');
    if (k.reason !== undefined) c.text(k, 'reason');
  } else {
    if (cards.length) c.fail('cards', `must be empty while status is "${status}" (no exporter makes these cards yet)`);
    c.text(k, 'reason');
  }
  c.optText(k, 'notes');
  if (k.otherSources !== undefined) {
    c.array(k, 'otherSources').forEach((o, i) => {
      const at = `otherSources[${i}]`;
      if (!isObject(o)) c.fail(at, 'must be an object');
      const url = c.https(o.url, `${at}.url`);
      for (const field of ['publisher', 'format', 'license', 'note']) c.text(o, field, `${at}.${field}`);
      if (c.bool(o, 'directDownload', `${at}.directDownload`) && needsBrowser(url)) {
        c.fail(`${at}.directDownload`, `must be false: ${hostOf(url)} share pages need a browser`);
      }
    });
  }
  if (!isObject(k.source)) c.fail('source', 'must be an object');
  const repo = c.text(k.source, 'repository', 'source.repository');
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) c.fail('source.repository', `must be owner/name (got ${repo})`);
  const commit = k.source.commit;
  if (typeof commit !== 'string' || !/^[0-9a-f]{40}$/.test(commit)) c.fail('source.commit', 'must be a 40-hex git commit');
  c.text(k.source, 'file', 'source.file');
  c.text(k.source, 'section', 'source.section');
  if (k.source.link !== undefined) c.https(k.source.link, 'source.link');
}

/** Checks a parsed catalogue; throws a CatalogueError naming the entry and field on the first problem. */
export function validateCatalogue(data: unknown): Catalogue {
  const top: Checker = new Checker('top level');
  if (!isObject(data)) top.fail('(file)', 'must be a JSON object');
  if (data.version !== 1) top.fail('version', `must be 1 (got ${JSON.stringify(data.version)})`);
  if (!isObject(data.families)) top.fail('families', 'must be an object keyed by family name');
  for (const [name, f] of Object.entries(data.families)) checkFamily(name, f);
  const checkpoints = top.array(data, 'checkpoints');
  const seen = new Set<string>();
  checkpoints.forEach((k, i) => {
    checkCheckpoint(k, i, data.families as Record<string, unknown>);
    const id = (k as Json).id as string;
    if (seen.has(id)) new Checker(`checkpoint "${id}"`).fail('id', 'is used by another checkpoint');
    seen.add(id);
  });
  return data as unknown as Catalogue;
}

/** Reads and validates models/catalogue.json (or `path`). */
export function readCatalogue(path: string = CATALOGUE_PATH): Catalogue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CatalogueError(`catalogue: cannot read ${path}: ${(e as Error).message}`);
  }
  return validateCatalogue(parsed);
}

export function checkpointById(cat: Catalogue, id: string): Checkpoint | undefined {
  return cat.checkpoints.find((k) => k.id === id);
}

/** The checkpoints a card can be converted from (several: e.g. the ITHQ decoder comes from two files). */
export function checkpointsForCard(cat: Catalogue, cardId: string): Checkpoint[] {
  return cat.checkpoints.filter((k) => k.cards.includes(cardId));
}

/** The family's licence with the checkpoint's overrides applied. */
export function licenseOf(cat: Catalogue, k: Checkpoint): License {
  const family = cat.families[k.family];
  if (!family) throw new CatalogueError(`catalogue: checkpoint "${k.id}": family: unknown family "${k.family}"`);
  return { ...family.license, ...k.license };
}
