// What a job's folder holds: its journal (job.json), a video job's uploaded clip, the result once it succeeded, and
// the result while it is being written (renamed into place on success, so a partial result never looks whole).
import { isVideoSpec, type AnyJobSpec } from './job.ts';
import { JOURNAL_FILE } from './journal.ts';

export const INPUT_FILE = 'input';

export function resultFile(spec: AnyJobSpec): string {
  return isVideoSpec(spec) ? 'result.mp4' : 'result.json';
}

export function partialResultFile(spec: AnyJobSpec): string {
  return isVideoSpec(spec) ? 'result.partial.mp4' : 'result.partial.json';
}

/** Whether `name` is a file this server writes into a job folder (anything else there is not the server's). */
export function isJobFile(name: string): boolean {
  return (
    [JOURNAL_FILE, INPUT_FILE, 'result.mp4', 'result.json', 'result.partial.mp4', 'result.partial.json'].includes(name) ||
    /^job\.json\.[\w-]+\.tmp$/.test(name)
  );
}
