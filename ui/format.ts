// Pure text helpers for the UI: progress lines, sizes, the "does this scale fit the host" note.
import { largestFittingScale } from '../plugin/messages.ts';
import type { HostName, SelectedItem } from '../plugin/messages.ts';
import type { TargetChoice } from '../worker/engine-api.ts';
import type { Progress, ResolvedTarget, Stage, Target } from '../worker/job.ts';
import type { ParamSpec } from '../worker/tasks/task.ts';

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

const RUN_VERBS: Record<string, string> = {
  upscale: 'Upscaling',
  'upscale-video': 'Upscaling video',
  denoise: 'Denoising',
  derain: 'Deraining',
  dehaze: 'Dehazing',
  restore: 'Restoring',
  inpaint: 'Inpainting',
  generate: 'Generating',
  'text-to-image': 'Generating',
  rotate: 'Rendering',
};
/** Tasks that run in tiles; the others run in steps. */
const TILED_TASKS = new Set(['upscale', 'denoise', 'derain', 'dehaze', 'restore', 'inpaint']);

/** Where each stage sits on one item's progress bar, so the bar only moves forward. */
const STAGE_SPAN: Record<Stage | 'place', [number, number]> = {
  download: [0, 0.25],
  upload: [0.25, 0.35],
  load: [0.35, 0.4],
  run: [0.4, 0.9],
  encode: [0.9, 0.95],
  place: [0.95, 1],
};

export function stageText(p: Pick<Progress, 'stage' | 'done' | 'total' | 'message'>, taskId: string, taskLabel = taskId): string {
  switch (p.stage) {
    case 'download':
      return p.total > 0 ? `Downloading model ${formatMB(p.done)} / ${formatMB(p.total)} MB` : `Downloading model ${formatMB(p.done)} MB`;
    case 'upload':
      return p.total > 0 ? `Sending to server ${formatMB(p.done)} / ${formatMB(p.total)} MB` : 'Sending to server';
    case 'load':
      return 'Loading model';
    case 'run': {
      const verb = RUN_VERBS[taskId] ?? `Running ${taskLabel}`;
      const unit = TILED_TASKS.has(taskId) ? 'tile' : 'step';
      return p.total > 1 ? `${verb} ${unit} ${Math.min(p.done + 1, p.total)} / ${p.total}` : verb;
    }
    case 'encode':
      return 'Encoding result';
    default:
      return p.message ?? 'Working';
  }
}

/** Fraction (0..1) of one item done, given its current stage and the units done in it. */
export function itemFraction(stage: Stage | 'place', done: number, total: number): number {
  const [from, to] = STAGE_SPAN[stage] ?? [0, 1];
  const within = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  return from + (to - from) * within;
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

const TARGET_NAMES: Record<ResolvedTarget, string> = { webgpu: 'WebGPU', wasm: 'WASM', node: 'Node', server: 'Server' };

/** The line under the target picker, e.g. "auto → WASM: no WebGPU adapter". */
export function describeTargetChoice(requested: Target, choice: TargetChoice): { text: string; ok: boolean } {
  const name = TARGET_NAMES[choice.target] ?? choice.target;
  if (requested === 'auto') return { ok: true, text: /^auto\b/i.test(choice.reason) ? choice.reason : `auto → ${name}: ${choice.reason}` };
  // A forced target the engine would not honour cannot work: say why, and block Run.
  if (choice.target !== requested) return { ok: false, text: `${TARGET_NAMES[requested] ?? requested} cannot run this: ${choice.reason}` };
  return { ok: true, text: choice.reason.startsWith(`${name}:`) ? choice.reason : `${name}: ${choice.reason}` };
}
