// What a job's folder holds: its journal (job.json), a video job's uploaded clip (or an install job's uploaded
// checkpoint), the result once it succeeded, and the result while it is being written (renamed into place on success,
// so a partial result never looks whole). An install job also has its download (kept across a restart, so the
// download resumes) and the converted model before it moves into the models folder.
import { isVideoSpec, type AnyJobSpec } from './job.ts';
import { JOURNAL_FILE } from './journal.ts';

export const INPUT_FILE = 'input';
/** An install job's downloaded checkpoint files and their download state (server/install/download.ts). */
export const DOWNLOAD_DIR = 'download';
/** An install job's converted model files, until they move into the models folder. */
export const CONVERTED_DIR = 'converted';

export function resultFile(spec: AnyJobSpec): string {
  return isVideoSpec(spec) ? 'result.mp4' : 'result.json';
}

export function partialResultFile(spec: AnyJobSpec): string {
  return isVideoSpec(spec) ? 'result.partial.mp4' : 'result.partial.json';
}

/** Whether `name` is a file this server writes into a job folder (anything else there is not the server's). */
export function isJobFile(name: string): boolean {
  return (
    [JOURNAL_FILE, INPUT_FILE, DOWNLOAD_DIR, CONVERTED_DIR, 'result.mp4', 'result.json', 'result.partial.mp4', 'result.partial.json'].includes(name) ||
    /^job\.json\.[\w-]+\.tmp$/.test(name)
  );
}
