// A task the UI has never heard of, for the tests that the UI speaks of a task in its row's words
// (test/unit/ui-task-display.test.ts, test/unit/ui-task-row.test.ts): one row with display facts and widget hints.
import type { TaskDef } from '../../worker/tasks/task.ts';

export const SKETCH: TaskDef = {
  id: 'sketch',
  label: 'Sketch',
  description: 'A made-up task: a quick sketch of an idea.',
  inputs: [],
  modelTask: 'generate',
  params: [
    { name: 'idea', label: 'Idea', type: 'string', default: 'a paper boat', maxLength: 60, widget: 'prompt' },
    { name: 'style', label: 'Style', type: 'choice', default: 'ink', choices: [{ value: 'ink', label: 'Ink' }, { value: 'charcoal', label: 'Charcoal' }] },
    { name: 'lines', label: 'Lines', type: 'integer', default: 12, min: 1, max: 40 },
    { name: 'luck', label: 'Luck', type: 'integer', default: 3, min: 0, max: 4294967295, widget: 'seed' },
  ],
  display: {
    progress: { verb: 'Sketching', unit: 'step' },
    mainParams: [{ name: 'style', place: 'title' }, 'idea', { name: 'lines', place: 'label' }],
    seedInName: false,
  },
  defaultModel: () => 'styleswin-fake',
  run: async () => ({ images: [] }),
};
