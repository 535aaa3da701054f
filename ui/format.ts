// Pure text helpers for the UI: progress lines, sizes, the "does this scale fit the host" note.
import { largestFittingScale } from '../plugin/messages.ts';
import type { HostName, SelectedItem } from '../plugin/messages.ts';
import type { TargetChoice } from '../worker/engine-api.ts';
import type { Progress, ResolvedTarget, Target } from '../worker/job.ts';
import type { ModelCard } from '../worker/models/card.ts';
import type { ParamSpec, TaskDisplay } from '../worker/tasks/task.ts';
import { isTtvsrEntry, ttvsrName } from '../worker/video/ttvsr-card.ts';

export function formatMB(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}

export function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export function hostLabel(name: HostName | undefined): string {
  if (name === 'figma') return 'Figma';
  if (name === 'photoshop') return 'Photoshop';
  return 'The host';
}

/** The display facts of a task (TaskDef.display), as its row from the engine carries them (TaskInfo.display); a row
 *  without them (a task that says nothing special) has none, and is said in plain words. The UI never looks a task up
 *  in the engine's task table: that would bundle every task's code into the UI (test/unit/ui-bundle.test.ts). */
export function taskDisplay(task: { display?: TaskDisplay }): TaskDisplay {
  return task.display ?? {};
}

/** The progress line of a stage; the run stage in the task's words ("Upscaling tile 3 / 49", TaskDisplay.progress).
 *  `task`: the task's row, as the engine lists it; `taskLabel` names a task without progress words ("Running Novel task"). */
export function stageText(p: Pick<Progress, 'stage' | 'done' | 'total' | 'message'>, task: { id: string; label?: string; display?: TaskDisplay }, taskLabel?: string): string {
  switch (p.stage) {
    case 'download':
      return p.total > 0 ? `Downloading model ${formatMB(p.done)} / ${formatMB(p.total)} MB` : `Downloading model ${formatMB(p.done)} MB`;
    case 'upload':
      return p.total > 0 ? `Sending to server ${formatMB(p.done)} / ${formatMB(p.total)} MB` : 'Sending to server';
    case 'load':
      return 'Loading model';
    case 'run': {
      const words = taskDisplay(task).progress;
      const verb = words?.verb ?? `Running ${taskLabel ?? task.label ?? task.id}`;
      const unit = words?.unit ?? 'step';
      return p.total > 1 ? `${verb} ${unit} ${Math.min(p.done + 1, p.total)} / ${p.total}` : verb;
    }
    case 'encode':
      return 'Encoding result';
    default:
      return p.message ?? 'Working';
  }
}

/** Fraction of a batch done: item `index` (0-based) of `count`, `fraction` of the way through. */
export function batchFraction(index: number, count: number, fraction: number): number {
  return count > 0 ? Math.min(1, (index + fraction) / count) : 0;
}

/** The integer scales a `scale` param offers (choice values or the integer range). */
export function scaleOptions(spec: ParamSpec): number[] {
  if (spec.type === 'choice') return spec.choices.map((c) => Number(c.value)).filter((n) => Number.isFinite(n));
  if (spec.type === 'number' || spec.type === 'integer') {
    const out: number[] = [];
    for (let s = Math.ceil(spec.min); s <= spec.max; s++) out.push(s);
    return out;
  }
  return [];
}

export interface ScaleFit {
  /** Largest scale every selected item can use (0 when none fits). */
  largest: number;
  fits(scale: number): boolean;
  /** Why a scale is unavailable, e.g. "×4 would be 5120 px wide; Figma places at most 4096 px. Largest that fits: ×3". */
  note?: string;
}

/** Which scales fit the host's image limit for every selected item; `chosen` is explained first when it does not fit. */
export function scaleFit(items: SelectedItem[], scales: number[], maxEdge: number, host: HostName | undefined, chosen?: number): ScaleFit {
  if (!items.length || !scales.length) return { largest: Math.max(0, ...scales), fits: () => true };
  const largest = Math.min(...items.map((it) => largestFittingScale(it.width, it.height, scales, maxEdge)));
  const fits = (s: number) => s <= largest;
  const tooBig = scales.filter((s) => !fits(s)).sort((a, b) => a - b);
  if (!tooBig.length) return { largest, fits };
  const explain = chosen !== undefined && !fits(chosen) ? chosen : tooBig[0];
  const widest = items.reduce((a, b) => (Math.max(b.width, b.height) > Math.max(a.width, a.height) ? b : a));
  const wide = widest.width >= widest.height;
  const px = Math.max(widest.width, widest.height) * explain;
  const who = items.length > 1 ? `“${widest.name}” at ` : '';
  const rest = largest > 0 ? `Largest that fits: ×${largest}` : 'Select a smaller item';
  return {
    largest,
    fits,
    note: `${who}×${explain} would be ${px} px ${wide ? 'wide' : 'tall'}; ${hostLabel(host)} places at most ${maxEdge} px. ${rest}.`,
  };
}

/** Where a job runs, in the words of the people who use the plugin. */
export function placeName(target: ResolvedTarget, reason = ''): string {
  switch (target) {
    case 'webgpu':
      return 'this computer’s graphics card';
    case 'wasm':
    case 'node':
      return 'this computer';
    case 'server':
      // Our companion server names itself "frontier"; Triton, KServe or a gateway is "the server".
      return /\bfrontier\b/i.test(reason) ? 'the Frontier server' : 'the server';
  }
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export interface TargetLine {
  /** One short line in plain words: "On this computer", "On the Frontier server: faster than this computer". */
  text: string;
  ok: boolean;
  /** The engine's own explanation (runtimes, threads, addresses), for those who open the details. */
  detail?: string;
  /** Where the job would run (absent when it cannot). */
  target?: ResolvedTarget;
  /** Under Automatic: the better places it passed over, and why ("Not on the server: it isn’t answering."). */
  skipped?: string[];
}

/** The line under "Run on": where the job will run in plain words; the engine's reason goes in the details. */
export function describeTargetChoice(requested: Target, choice: TargetChoice): TargetLine {
  const where = placeName(choice.target, choice.reason);
  // A forced target the engine would not honour cannot work: say so, and block Run.
  if (requested !== 'auto' && choice.target !== requested) {
    return { ok: false, text: `${capital(requestedName(requested))} can’t run this here. Choose Automatic.`, detail: choice.reason };
  }
  const faster = requested === 'auto' && choice.target === 'server' && /faster/i.test(choice.reason) ? ': faster than this computer' : '';
  const skipped = requested === 'auto' ? skippedLines(choice) : [];
  return { ok: true, text: `On ${where}${faster}`, detail: choice.reason, target: choice.target, ...(skipped.length ? { skipped } : {}) };
}

/** One line per place Automatic passed over, in plain words; none for the place it runs (another way there). */
function skippedLines(choice: TargetChoice): string[] {
  const placeOf = (target: ResolvedTarget) => (target === 'wasm' ? 'this computer’s processor' : placeName(target));
  const here = placeOf(choice.target);
  const lines = new Map<string, string>();
  for (const s of choice.skipped ?? []) {
    const place = placeOf(s.target);
    if (place !== here && !lines.has(place)) lines.set(place, `Not on ${place}: ${s.why}.`);
  }
  return [...lines.values()];
}

/** The line when the engine says a forced target cannot work (its message says why and stays in the details). */
/** Said wherever a video task finds no server: video never runs in the plugin. */
export const VIDEO_NEEDS_SERVER = 'Video runs on the Frontier server: start it with npm start, or set a server in Settings.';

/** `serverOnly`: the task runs only on a server (video), so "choose Automatic" would not help: say how to get one. */
export function describeTargetProblem(requested: Target, message: string, serverOnly = false): TargetLine {
  if (serverOnly && (requested === 'auto' || requested === 'server')) return { ok: false, text: VIDEO_NEEDS_SERVER, detail: message };
  if (requested === 'server') return { ok: false, text: `The server can’t run this now: ${message}`, detail: message };
  return { ok: false, text: `${capital(requestedName(requested))} can’t run this here. Choose Automatic.`, detail: message };
}

function requestedName(requested: Target): string {
  return requested === 'auto' ? 'Automatic' : requested === 'server' ? 'the server' : placeName(requested);
}

/** "≈ 3 min", "≈ 20 s": a duration estimate, rounded as far as an estimate deserves. */
export function formatEstimate(ms: number): string {
  if (ms < 1_500) return '≈ 1 s';
  if (ms < 10_000) return `≈ ${Math.round(ms / 1000)} s`;
  if (ms < 55_000) return `≈ ${Math.round(ms / 5_000) * 5} s`;
  if (ms < 90_000) return '≈ 1 min';
  if (ms < 60 * 60_000) return `≈ ${Math.round(ms / 60_000)} min`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.round((ms - hours * 3_600_000) / 60_000);
  return minutes ? `≈ ${hours} h ${minutes} min` : `≈ ${hours} h`;
}

/** The short name of a model: a test model's label without the registry's own "(random weights, test model)", which
 *  is said once, the same way everywhere, by its badge ("Test model"). */
export function modelName(card: { label: string; variant?: string; role?: string; task?: string; pipeline?: ModelCard['pipeline'] }): string {
  // TTVSR is offered by its reconstruct part ("TTVSR REDS reconstruct"): "TTVSR (REDS)", "TTVSR (tiny)".
  if (isTtvsrEntry(card)) return ttvsrName(card);
  if (card.variant !== 'tiny') return card.label;
  let name = card.label.replace(/\s*\([^)]*(?:test model|random[- ]weight)[^)]*\)\s*/i, ' ').trim();
  // A pipeline is offered by one of its parts ("VQ-Diffusion tiny transformer"): name the pipeline.
  if (card.role) name = name.replace(new RegExp(`\\s+${card.role.replace(/-/g, '[- ]')}$`, 'i'), '');
  return name || card.label;
}

/** The single name for a random-weight model, wherever one shows. */
export const TEST_MODEL = 'Test model';
