// Progress of a CLI job on stderr. On a terminal: one line that updates in place. Anywhere else (a log file, a pipe,
// CI): plain lines, one when the job comes to a new stage or kind of step ("Loading …", "Upscaling tile 1 / 49",
// "Upscaled 49 tiles") and one per further 10% of a step, so a long job shows it is alive without flooding the log.
import type { Progress } from '../../worker/job.ts';

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressReporter {
  update(p: Omit<Progress, 'jobId' | 'preview'>): void;
  /** Ends the updating line on a terminal (before a result or an error is printed). */
  finish(): void;
}

/** What a stage is called when the task gave no message. */
const STAGE_WORDS: Record<Progress['stage'], string> = {
  download: 'Downloading the model',
  load: 'Loading the model',
  run: 'Working',
  upload: 'Uploading',
  encode: 'Encoding',
};

export function progressLine(p: Omit<Progress, 'jobId' | 'preview'>, running = STAGE_WORDS.run): string {
  const text = p.message ?? (p.stage === 'run' ? running : STAGE_WORDS[p.stage] ?? p.stage);
  return p.total > 1 ? `${text} (${percent(p)}%)` : text;
}

function percent(p: { done: number; total: number }): number {
  return p.total > 0 ? Math.max(0, Math.min(100, Math.floor((100 * p.done) / p.total))) : 0;
}

/** `running`: what the run stage is called when the task says nothing (e.g. "Running rotate-view"). */
export function progressReporter(stream: ProgressStream, running?: string): ProgressReporter {
  return stream.isTTY ? terminalReporter(stream, running) : logReporter(stream, running);
}

function terminalReporter(stream: ProgressStream, running?: string): ProgressReporter {
  let shown = '';
  return {
    update(p) {
      const width = Math.max(20, (stream.columns || 80) - 1); // 0 where the terminal does not say
      const line = progressLine(p, running).slice(0, width);
      if (line === shown) return;
      stream.write(`\r${line}\x1b[K`);
      shown = line;
    },
    finish() {
      if (shown) stream.write('\r\x1b[K');
      shown = '';
    },
  };
}

function logReporter(stream: ProgressStream, running?: string): ProgressReporter {
  // The tenth of each kind of step last printed: a kind that comes back (a model "ready" again between diffusion
  // steps) prints nothing new until it moves on by another tenth.
  const printed = new Map<string, number>();
  return {
    update(p) {
      // Steps of one kind share their wording but for the numbers: "Upscaling tile 3 / 49" is "Upscaling tile # / #".
      const kind = `${p.stage}|${(p.message ?? '').replace(/\d+/g, '#')}`;
      const tenth = p.total > 1 ? Math.floor(percent(p) / 10) : 0;
      if (tenth <= (printed.get(kind) ?? -1)) return;
      printed.set(kind, tenth);
      stream.write(`${progressLine(p, running)}\n`);
    },
    finish() {},
  };
}
