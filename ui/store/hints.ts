// Time hints: for the current choices and selection, from the runs of this session (the CostBook); before a first run
// on the current place, a rough one from the benchmarks (ui/cost-prior.ts) where the model was timed. One line above
// Run, and one next to each choice that changes the work (Quality, Fix; Scale says what fits instead).
import type { SelectedItem } from '../../plugin/messages.ts';
import type { Params, ResolvedTarget } from '../../worker/job.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import type { ParamSpec, TaskInfo } from '../../worker/tasks/task.ts';
import type { ChosenClip } from '../clip.ts';
import { choiceKey } from '../cost.ts';
import type { CostBook } from '../cost.ts';
import { expectedModel, priorEstimate, ROUGH_NOTE, tileFor, timeHint } from '../cost-prior.ts';
import type { AutomaticModels } from '../cost-prior.ts';
import type { ParamHint } from '../components/ParamsForm.tsx';

export interface HintFacts {
  task: TaskInfo | undefined;
  params: Params;
  modelId: string;
  generator: boolean;
  videoTask: boolean;
  items: SelectedItem[];
  chosenClip: ChosenClip | null;
  costs: CostBook;
  /** Where the job would run now (the target line's answer). */
  currentTarget: ResolvedTarget | undefined;
  /** Every model of the task, whatever the current mode: a hint for another Fix is about that fix's model. */
  taskCards: ModelCard[];
  /** Every model known, parts included: a restore fix's larger-tile build decides its tiles in Node and on the server. */
  allCards: ModelCard[];
  automatic: AutomaticModels;
  threads: number | undefined;
  scaleSpec: ParamSpec | undefined;
}

export function timeHints(f: HintFacts): { runEstimate: string | undefined; hints: Record<string, ParamHint> } {
  const { task, params } = f;
  // A clip's work is all its frames: known (≈, at 30 fps) only for a chosen file, so only it gets an estimate.
  const workItems = !f.videoTask ? f.items : f.chosenClip && f.items.length === 1 ? [{ width: f.chosenClip.width, height: f.chosenClip.height * f.chosenClip.frames }] : [];
  const estimatesFor = (p: Params) => {
    const key = task && !f.generator ? choiceKey(task.id, f.modelId || undefined, p, task.params) : null;
    return key ? f.costs.estimates(key, workItems) : [];
  };
  const priorFor = (p: Params) => {
    if (!task || f.generator || f.videoTask || !f.currentTarget) return undefined;
    const card = expectedModel(f.modelId || undefined, f.modelId ? undefined : f.automatic.get(task.id, p, task.params), f.taskCards);
    const target = f.currentTarget;
    return card ? priorEstimate(card.id, target, workItems, { tile: (item) => tileFor(card, target, item, f.allCards, { threads: f.threads }), threads: f.threads }) : undefined;
  };
  const lineFor = (p: Params) => timeHint(estimatesFor(p), f.currentTarget, priorFor(p));
  // Next to each choice that changes the work: its time, when the choices differ. A few choices: every one, the chosen
  // first; a long list: the chosen one.
  const hints: Record<string, ParamHint> = {};
  for (const spec of task?.params ?? []) {
    if (spec.type !== 'choice' || spec === f.scaleSpec) continue;
    const byChoice = spec.choices.map((c) => ({ c, hint: lineFor({ ...params, [spec.name]: c.value }) }));
    const known = byChoice.filter((b) => b.hint);
    if (!known.length || (known.length === spec.choices.length && new Set(known.map((b) => b.hint!.line)).size < 2)) continue;
    const chosen = String(params[spec.name]);
    const shown = known.filter((b) => spec.choices.length <= 4 || String(b.c.value) === chosen)
      .sort((a, b) => Number(String(b.c.value) === chosen) - Number(String(a.c.value) === chosen));
    const choices = Object.fromEntries(known.map((b) => [String(b.c.value), `${b.c.label}: ${b.hint!.line}`]));
    const lines = shown.map((b) => choices[String(b.c.value)]);
    if (lines.length && shown.some((b) => b.hint!.rough)) lines.push(ROUGH_NOTE);
    if (lines.length) hints[spec.name] = { choices, lines };
  }
  return { runEstimate: lineFor(params)?.sentence, hints };
}
