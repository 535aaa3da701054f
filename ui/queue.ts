// The queue: jobs a designer set up while another ran. Each is captured whole when queued (task, settings, model,
// "Run on" and the selected items of that moment), so changing the panel afterwards does not change it; they run in
// order when the running one ends, whatever its outcome.
import type { SelectedItem } from '../plugin/messages.ts';
import type { Params, ResolvedTarget, Target } from '../worker/job.ts';
import type { TaskInfo } from '../worker/tasks/task.ts';
import type { ChosenClip } from './clip.ts';
import { placeName } from './format.ts';
import { resultWords } from './history.ts';
import type { PreviewRequest } from './view-preview.ts';

/** One job as it was when Run (or Add to queue) was pressed. */
export interface JobSpec {
  /** Its place in this session's jobs (1, 2, …): the key of a queued job. */
  id: number;
  task: TaskInfo;
  params: Params;
  /** The model chosen by hand ('' for Automatic). */
  modelId: string;
  target: Target;
  items: SelectedItem[];
  /** A clip chosen from a file (video tasks). */
  chosenClip: ChosenClip | null;
  /** Rotate view: the preview request of these settings, whose full-size render Run may place instead of rendering. */
  preview: PreviewRequest | null;
}

export const queued = (list: readonly JobSpec[], job: JobSpec): JobSpec[] => [...list, job];
export const withoutJob = (list: readonly JobSpec[], id: number): JobSpec[] => list.filter((j) => j.id !== id);

/** The job to run next and the queue after it (the first one: jobs run in the order they were queued). */
export function takeNext(list: readonly JobSpec[]): { next: JobSpec | undefined; rest: JobSpec[] } {
  const [next, ...rest] = list;
  return { next, rest };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** What the job works on, counted: "2 images", "1 clip"; nothing for a generator that starts from its seed. */
export function itemsWords(job: Pick<JobSpec, 'task' | 'items'>): string {
  const n = job.items.length;
  if (n === 0) return '';
  return job.task.inputs.includes('video') ? plural(n, 'clip') : plural(n, 'image');
}

/** "Upscale ×4 · Best — 2 images": the queue's line for a job, in the Results list's words. */
export function jobLine(job: Pick<JobSpec, 'task' | 'params' | 'items'>): string {
  const counted = itemsWords(job);
  return counted ? `${resultWords(job.task, job.params)} — ${counted}` : resultWords(job.task, job.params);
}

/** The details behind a queued line (its tooltip): the items by name, the model and where it runs. */
export function jobDetails(job: Pick<JobSpec, 'items' | 'modelId' | 'target'>, modelLabel: (id: string) => string): string {
  const where = job.target === 'auto' ? 'where it runs fastest' : job.target === 'server' ? 'on the Frontier server' : `on ${placeName(job.target as ResolvedTarget)}`;
  const names = job.items.map((it) => it.name).join(', ');
  return [names, job.modelId ? modelLabel(job.modelId) : 'Automatic model', where].filter(Boolean).join(' · ');
}
