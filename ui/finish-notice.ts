// A notice in the host (Figma's toast, the playground's) when a long run ends while the designer is elsewhere: the
// panel collapsed, behind other windows, or the canvas in use. A run they are watching needs no notice, and a short
// one is over before they look away.

/** Runs shorter than this end without a notice. */
export const LONG_RUN_MS = 20_000;

/** Whether the panel is out of the designer's sight: its page hidden, not focused, or collapsed to (almost) nothing. */
export function panelOutOfSight(doc: Pick<Document, 'visibilityState' | 'hasFocus'>, innerHeight: number): boolean {
  return doc.visibilityState === 'hidden' || !doc.hasFocus() || innerHeight < 48;
}

export interface FinishedRun {
  /** "Upscale ×4 · Best": what ran, as the Results list says it. */
  words: string;
  ms: number;
  /** Results placed in the document, and results kept in the panel (a clip the host could not take). */
  placed: number;
  kept: number;
  /** The run's error, in the panel's words; absent when it succeeded. */
  error?: string;
  cancelled?: boolean;
}

/** The notice for a finished run, or null when none is due. Figma cuts notices at 100 characters: keep it short. */
export function finishNotice(run: FinishedRun, outOfSight: boolean): { message: string; error: boolean } | null {
  if (!outOfSight || run.ms < LONG_RUN_MS || run.cancelled) return null;
  const head = shorten(run.words, 40);
  if (run.error) return { message: `Frontier: ${head} failed. Open the panel to see why.`, error: true };
  if (run.placed === 0 && run.kept > 0) return { message: `Frontier: ${head} is done. Download it from the panel.`, error: false };
  const what = run.placed === 1 ? 'the result is placed' : `${run.placed} results are placed`;
  return { message: `Frontier: ${head} is done, ${what}.`, error: false };
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}
