// A task's settings as of its last run (Settings.params), kept only where they still fit its params: a newer version of
// Frontier may have renamed a param, narrowed its range or dropped a choice.
import type { Params } from '../worker/job.ts';
import type { TaskInfo } from '../worker/tasks/task.ts';

/** The saved settings of a task's last run that still fit its params (a newer version may have changed them). */
export function savedParamsFitting(task: TaskInfo, saved: Record<string, string | number | boolean> | undefined): Params {
  if (!saved) return {};
  const out: Params = {};
  for (const spec of task.params) {
    const v = saved[spec.name];
    if (v === undefined) continue;
    let fits: boolean;
    switch (spec.type) {
      case 'choice': fits = spec.choices.some((c) => c.value === v); break;
      case 'number': case 'integer': fits = typeof v === 'number' && v >= spec.min && v <= spec.max && (spec.type === 'number' || Number.isInteger(v)); break;
      case 'boolean': fits = typeof v === 'boolean'; break;
      default: fits = typeof v === 'string' && v.length <= spec.maxLength;
    }
    if (fits) out[spec.name] = v;
  }
  return out;
}
