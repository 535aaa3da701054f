// What the panel shows, derived from the model's state: the chosen task and its settings, the models it offers, the
// selected items it takes, what fits the host, and what keeps Run from starting. Pure functions (tested in Node), and
// one hook that memoises them on the state fields they read, so a progress report does not recompute them.
import { useMemo } from 'preact/hooks';
import { MAX_IMAGE_EDGE } from '../../plugin/messages.ts';
import type { HostInfo, SelectedItem, SelectionSummary, Settings } from '../../plugin/messages.ts';
import type { ModelStatus } from '../../worker/engine-api.ts';
import type { Params, Target } from '../../worker/job.ts';
import { offersModel } from '../../worker/models/offers.ts';
import type { ParamSpec, TaskInfo } from '../../worker/tasks/task.ts';
import { isGenerator, maskHint } from '../batch.ts';
import { clipItem } from '../clip.ts';
import type { ChosenClip } from '../clip.ts';
import { scaleFit, scaleOptions } from '../format.ts';
import { savedParamsFitting } from '../saved-params.ts';
import type { TargetStatus } from '../components/TargetPicker.tsx';
import type { PanelState } from '../model.ts';

export function defaults(task: TaskInfo): Params {
  return Object.fromEntries(task.params.map((p) => [p.name, p.default]));
}

/** The task's settings: its defaults, then those of its last run that still fit, then what was changed here. */
export function paramsFor(task: TaskInfo | undefined, changed: Record<string, Params>, saved: Settings['params']): Params {
  return task ? { ...defaults(task), ...savedParamsFitting(task, saved?.[task.id]), ...changed[task.id] } : {};
}

/** "Run on" is remembered per task: forcing one task onto this computer leaves the others where they were. */
export const targetFor = (settings: Settings, taskId: string): Target => settings.targets?.[taskId] ?? settings.target;

/** The models the task offers: a pipeline by the part its jobs name; a task with a mode (restore) those of the mode. */
export function taskModelsFor(models: ModelStatus[], task: TaskInfo | undefined, mode: string | undefined): ModelStatus[] {
  return models.filter((m) => task && offersModel(task, m.card) && (!m.card.mode || mode === undefined || m.card.mode === mode));
}

export interface TaskKind {
  videoTask: boolean;
  /** Starts from a seed or from results of its own models (their stored latent), not from pixels. */
  generator: boolean;
  latentsNeeded: number;
  maskTask: boolean;
}

export function taskKind(task: TaskInfo | undefined): TaskKind {
  return {
    videoTask: task?.inputs.includes('video') ?? false,
    generator: task ? isGenerator(task) : false,
    latentsNeeded: task?.inputs.filter((i) => i === 'latent').length ?? 0,
    maskTask: task?.inputs.includes('mask') ?? false,
  };
}

/** The items a run takes: a video task the clips the host can read (a clip chosen from a file first); generators the
 *  results of their own models (which stored a latent); a mask task images with a marked region; others every image. */
export function itemsFor(selection: SelectionSummary, kind: TaskKind, taskModels: ModelStatus[], chosenClip: ChosenClip | null): SelectedItem[] {
  return [
    ...(kind.videoTask && chosenClip ? [clipItem(chosenClip)] : []),
    ...selection.items.filter((it) =>
      kind.videoTask ? it.video === true
      : kind.generator ? !!it.meta?.latent && taskModels.some((m) => m.card.id === it.meta?.model)
      : kind.maskTask ? it.kind !== 'video' && !!it.mask
      : it.kind !== 'video',
    ),
  ];
}

/** A task that turns a selected result of its own model (rotate-view) and starts from the seed otherwise: say when
 *  what is selected is not such a result, instead of leaving it out silently. */
export function leftOutFor(task: TaskInfo | undefined, kind: TaskKind, selection: SelectionSummary, items: SelectedItem[]): string | null {
  if (!task?.optionalSource || !kind.generator || selection.items.length === 0 || items.length > 0) return null;
  const one = selection.items.length === 1;
  return `${one ? `“${selection.items[0].name}” is` : 'These are'} not ${task.optionalSource}, so ${task.label} leaves ${one ? 'it' : 'them'} out and makes a new one from the seed.`;
}

/** What a video task needs when it has no clip, in the words of the host at hand. */
export function clipHint(host: HostInfo | null): string {
  return host?.name === 'photoshop'
    ? 'Choose a clip… first: Photoshop layers cannot be read as video.'
    : 'Select a video, or an animated top-level frame (it is exported as MP4), or Choose a clip… from a file.';
}

export interface BlockerFacts {
  ready: boolean;
  task: TaskInfo | undefined;
  params: Params;
  kind: TaskKind;
  items: SelectedItem[];
  selection: SelectionSummary;
  hostInfo: HostInfo | null;
  fit: ReturnType<typeof scaleFit> | undefined;
  targetStatus: TargetStatus | null;
}

/** Why Run cannot start now, in words that say what to do; null when it can. */
export function blockerFor(f: BlockerFacts): string | null {
  const { task, kind, items, targetStatus, fit } = f;
  // A text a task needs (the prompt) left blank: Run says so instead of drawing from nothing.
  const blankText = task?.params.find((p) => p.type === 'string' && p.required && !String(f.params[p.name] ?? '').trim());
  return !f.ready ? 'The engine is not ready.'
    : !task ? 'No task available.'
    : blankText ? `Type a ${blankText.label.toLowerCase()} first: say what you want to see.`
    : kind.generator ? (items.length < kind.latentsNeeded ? `Select ${kind.latentsNeeded === 1 ? 'an image' : `${kind.latentsNeeded} images`} generated here with the same model: Frontier's results remember their latent.` : null)
    : kind.videoTask && items.length === 0 ? clipHint(f.hostInfo)
    : kind.videoTask ? (targetStatus && !targetStatus.ok ? targetStatus.text : null)
    : f.selection.items.length === 0 ? (f.selection.problem ?? 'Select an image first.')
    : items.length === 0 ? (kind.maskTask ? `Mark what to fill: ${maskHint(f.hostInfo?.name)}` : 'A video is selected: choose Upscale video or Restore video in Task, or select an image.')
    : fit && fit.largest === 0 ? (fit.note ?? 'The selection is too large for this host.')
    : targetStatus && !targetStatus.ok ? targetStatus.text
    : null;
}

/** The primary button's words: "Upscale ×4 · 2 items". */
export function runLabel(task: TaskInfo | undefined, count: number, scale: number | undefined): string {
  const base = task ? `${task.label}${scale !== undefined ? ` ×${scale}` : ''}` : 'Run';
  return count > 1 ? `${base} · ${count} items` : base;
}

export interface PanelView extends TaskKind {
  task: TaskInfo | undefined;
  params: Params;
  target: Target;
  taskModels: ModelStatus[];
  items: SelectedItem[];
  scaleSpec: ParamSpec | undefined;
  scale: number | undefined;
  fit: ReturnType<typeof scaleFit> | undefined;
  leftOut: string | null;
  blocker: string | null;
  running: boolean;
}

/** The view of `state`, each part recomputed only when what it reads changed. */
export function usePanelView(s: PanelState, chosenClip: ChosenClip | null): PanelView {
  const task = useMemo(() => s.tasks.find((t) => t.id === s.taskId), [s.tasks, s.taskId]);
  const params = useMemo(() => paramsFor(task, s.paramsByTask, s.settings.params), [task, s.paramsByTask, s.settings.params]);
  const mode = params.mode === undefined ? undefined : String(params.mode);
  const taskModels = useMemo(() => taskModelsFor(s.models, task, mode), [s.models, task, mode]);
  const kind = useMemo(() => taskKind(task), [task]);
  const items = useMemo(() => itemsFor(s.selection, kind, taskModels, chosenClip), [s.selection, kind, taskModels, chosenClip]);
  const scaleSpec = task?.params.find((p) => p.name === 'scale');
  const scale = scaleSpec && params.scale !== undefined ? Number(params.scale) : undefined;
  // The 4096 px limit is Figma's for images; video results have the server's frame limit instead.
  const { hostInfo } = s;
  const fit = useMemo(
    () => (scaleSpec && !kind.videoTask ? scaleFit(items, scaleOptions(scaleSpec), hostInfo?.maxImageEdge ?? MAX_IMAGE_EDGE, hostInfo?.name, scale) : undefined),
    [scaleSpec, kind.videoTask, items, hostInfo, scale],
  );
  const blocker = blockerFor({ ready: s.boot.phase === 'ready', task, params, kind, items, selection: s.selection, hostInfo, fit, targetStatus: s.targetStatus });
  return {
    ...kind, task, params, target: targetFor(s.settings, s.taskId), taskModels, items, scaleSpec, scale, fit,
    leftOut: leftOutFor(task, kind, s.selection, items), blocker, running: s.running !== null,
  };
}
