// Words for "Official models": what an entry makes, where it runs, its size, its licence, its state and an install's
// progress, in a designer's words (model file, not checkpoint; no runtime names). Pure, so unit-tested in Node.
import type { ModelStatus } from '../worker/engine-api.ts';
import type { TaskInfo } from '../worker/tasks/task.ts';
import type { CatalogueEntryView, InstallProgress, InstallRun } from './official-models.ts';

/** 1.2 GB / 312 MB / 48 KB. */
export function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} KB`;
}

/** "Generate · Variations · In-betweens": the tasks the entry's model serves, by their labels in this plugin. */
export function whatItMakes(entry: Pick<CatalogueEntryView, 'task'>, tasks: Pick<TaskInfo, 'label' | 'modelTask'>[]): string {
  const labels = tasks.filter((t) => t.modelTask === entry.task).map((t) => t.label);
  if (labels.length) return labels.join(' · ');
  if (entry.task === 'component') return 'A part other models use';
  return entry.task.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** Whether the plugin itself can run it, or only Frontier's server. */
export function whereItRuns(entry: Pick<CatalogueEntryView, 'targets'>): 'on this computer' | 'on the server only' {
  return entry.targets.some((t) => t === 'webgpu' || t === 'wasm') ? 'on this computer' : 'on the server only';
}

export interface LicenceBadgeText {
  text: string;
  tone: 'warn' | 'ok';
  title: string;
}

export function licenceBadge(license: CatalogueEntryView['license']): LicenceBadgeText {
  if (license.commercialUse === 'no') return { text: 'NON-COMMERCIAL', tone: 'warn', title: 'Not for commercial work: personal and research use only.' };
  if (license.commercialUse === 'unclear') return { text: 'COMMERCIAL USE UNCLEAR', tone: 'warn', title: 'Ask before using its pictures in commercial work.' };
  return { text: 'COMMERCIAL USE OK', tone: 'ok', title: 'Its licence allows commercial work.' };
}

/** The entry's state line: "Installed · 312 MB", "Not installed", "Installing…". */
export function stateText(entry: CatalogueEntryView, run: InstallRun | undefined): string {
  if (run || entry.state === 'installing') return 'Installing…';
  if (entry.state === 'installed') return entry.installed ? `Installed · ${formatSize(entry.installed.bytes)}` : 'Installed';
  return 'Not installed';
}

/** What stands in the way of installing from here, or null when Install works. */
export function whyNotInstallable(entry: Pick<CatalogueEntryView, 'install' | 'status' | 'reason'>): string | null {
  if (entry.install === 'python') return 'Needs the developer tools: npm run convert';
  if (entry.install === 'no' || entry.status === 'planned') return 'Coming later';
  return null;
}

/** Progress as a line and a fraction of the current step (the bar restarts at each step; the text says which). */
export function progressText(run: Pick<InstallRun, 'progress' | 'source' | 'cancelling'>): { text: string; fraction: number } {
  const p: InstallProgress = run.progress;
  const fraction = p.total > 0 ? p.done / p.total : 0;
  if (run.cancelling) return { text: 'Cancelling…', fraction };
  const bytes = (verb: string) => ({ text: p.total > 0 ? `${verb} ${inUnitOf(p.done, p.total)} / ${formatSize(p.total)}` : `${verb} ${formatSize(p.done)}`, fraction });
  switch (p.stage) {
    case 'upload':
      return bytes('Sending the model file');
    case 'download':
      return bytes('Downloading');
    case 'convert':
      return { text: p.message ? `Preparing: ${p.message}` : 'Preparing the model', fraction };
    case 'done':
      return { text: 'Installed', fraction: 1 };
    default:
      return { text: run.source === 'file' ? 'Waiting for the server…' : 'Starting…', fraction: 0 };
  }
}

/** `bytes` in the unit formatSize gives `total`, without the unit ("45" of "200 MB", "0.3" of "1.5 GB"). */
function inUnitOf(bytes: number, total: number): string {
  if (total >= 1e9) return (bytes / 1e9).toFixed(1);
  if (total >= 1e6) return String(Math.round(bytes / 1e6));
  return String(Math.round(bytes / 1e3));
}

/** The catalogue entry that installs the real model behind a tiny test model (its card id without "-tiny"). */
export function entryForTestModel(tinyId: string, entries: CatalogueEntryView[]): CatalogueEntryView | undefined {
  const real = tinyId.replace(/-tiny$/, '');
  const candidates = entries.filter((e) => e.cards.includes(real));
  // Prefer what can be installed from here, then the entry that brings the whole pipeline (most cards).
  const rank = (e: CatalogueEntryView) => (e.install === 'download' ? 0 : e.install === 'file' ? 1 : e.install === 'python' ? 2 : 3);
  return candidates.sort((a, b) => rank(a) - rank(b) || b.cards.length - a.cards.length)[0];
}

/**
 * The test model a task would use now: the chosen one when it is a test model, or (Automatic) the first test model
 * when the task has no real model. Null when the task uses a real model.
 */
export function testModelInUse(taskModels: ModelStatus[], chosenId: string): ModelStatus | null {
  if (chosenId) {
    const chosen = taskModels.find((m) => m.card.id === chosenId);
    return chosen?.card.variant === 'tiny' ? chosen : null;
  }
  if (taskModels.length === 0 || taskModels.some((m) => m.card.variant !== 'tiny')) return null;
  return taskModels[0];
}

/** The command that converts a test model's official file on the machine running the server (for developers). */
export function convertCommand(tiny: ModelStatus): string {
  const id = (tiny.card.pipeline?.id ?? tiny.card.id).replace(/-tiny$/, '');
  return `npm run convert -- ${id} --checkpoint <file>`;
}
