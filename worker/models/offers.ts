// Which model cards a task's pickers offer. Apart from the task contract (worker/tasks/task.ts) so that the UI,
// which needs only this function from it, bundles no module of worker/tasks/ (test/unit/ui-bundle.test.ts).

/** Cards of `task` in the role `role`, offered as models of another task (TaskDef.alsoOffers). */
export interface ModelOffer {
  task: string;
  role: string;
}

/** Whether a task's model pickers offer `card`: its own models (modelTask, modelRole) or those it also offers. */
export function offersModel(t: { id: string; modelTask?: string; modelRole?: string; alsoOffers?: ModelOffer[] }, card: { task: string; role?: string }): boolean {
  // A card with a role is a part (of a pipeline, or a larger-tile build): offered only where the task asks for it.
  if (card.task === (t.modelTask ?? t.id) && (t.modelRole ? card.role === t.modelRole : !card.role)) return true;
  return !!t.alsoOffers?.some((o) => card.task === o.task && card.role === o.role);
}
