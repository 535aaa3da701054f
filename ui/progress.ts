// Progress of one item, weighted by the work it really is: reading the selection and loading a model are short, a
// download takes what it takes, and the model's tiles or steps are the bulk. Also the time left, estimated from the
// rate at which tiles/steps complete (never before some have). Pure code: no DOM, no clock of its own.
import type { Stage } from '../worker/job.ts';

/** What an item goes through: the engine's stages, plus reading the selection before and placing the result after. */
export type Phase = Stage | 'read' | 'place';

/** The bar at which the task's own work (tiles, steps) ends; encoding and placing share the rest. */
export const RUN_END = 0.96;
const READ_END = 0.02;
const ENCODE_END = 0.98;
/** Share of the bar still ahead of the run that a stage before it takes when it starts. */
const SHARE_BEFORE_RUN: Partial<Record<Phase, number>> = { download: 0.3, upload: 0.15, load: 0.06 };

export interface ProgressPoint {
  /** 0..1 for this item, never lower than an earlier point. */
  fraction: number;
  /** When this point was reported (ms, the tracker's clock). */
  at: number;
  /** Bar fraction gained per ms while the run goes on at its measured rate (0 when unknown). */
  speed: number;
  /** The bar may glide up to here before the next report (the end of the unit in progress). */
  cap: number;
  /** When the item should be done at the measured rate (absent until tiles/steps have completed). */
  finishAt?: number;
}

interface Span {
  phase: Phase;
  from: number;
  to: number;
  /** Units done when the phase started (a run resumed after a late model load maps what is left). */
  done0: number;
}

/** Tracks one item. `update` for each progress report; the returned point says where the bar is and when it ends. */
export class ItemProgress {
  private span: Span | null = null;
  private furthest = 0;
  // The run's clock: when it started, and the first completed unit (rates are taken after it: the first tile or step
  // also pays for warming the model up).
  private runTotal = 0;
  private runStart: { at: number; done: number } | null = null;
  private firstDone: { at: number; done: number } | null = null;
  private last: { at: number; done: number } | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  update(phase: Phase, done: number, total: number): ProgressPoint {
    const at = this.now();
    if (!this.span || this.span.phase !== phase) this.span = this.start(phase, done);
    const { from, to, done0 } = this.span;
    const within = total > done0 ? Math.min(1, Math.max(0, (done - done0) / (total - done0))) : 0;
    const fraction = Math.max(this.furthest, from + (to - from) * within);
    this.furthest = fraction;
    if (phase !== 'run') return { fraction, at, speed: 0, cap: fraction };
    return this.runPoint(fraction, at, done, total, from, to, done0);
  }

  /** The item is done (placed, or kept to download). */
  finish(): ProgressPoint {
    this.furthest = 1;
    return { fraction: 1, at: this.now(), speed: 0, cap: 1 };
  }

  private start(phase: Phase, done: number): Span {
    const pos = this.furthest;
    if (phase === 'read') return { phase, from: pos, to: Math.max(pos, READ_END), done0: 0 };
    if (phase === 'run') return { phase, from: pos, to: Math.max(pos, RUN_END), done0: Math.max(0, done) };
    if (phase === 'encode') return { phase, from: Math.max(pos, RUN_END), to: Math.max(pos, ENCODE_END), done0: 0 };
    if (phase === 'place') return { phase, from: Math.max(pos, ENCODE_END), to: 1, done0: 0 };
    const share = SHARE_BEFORE_RUN[phase] ?? 0.05;
    return { phase, from: pos, to: pos + Math.max(0, RUN_END - pos) * share, done0: 0 };
  }

  private runPoint(fraction: number, at: number, done: number, total: number, from: number, to: number, done0: number): ProgressPoint {
    // A different total is a different count (a note with total 1, a second pass): measure afresh.
    if (total !== this.runTotal) {
      this.runTotal = total;
      this.runStart = { at, done };
      this.firstDone = null;
      this.last = null;
    }
    if (this.runStart && done > this.runStart.done && !this.firstDone) this.firstDone = { at, done };
    if (!this.last || done > this.last.done) this.last = { at, done };
    const perUnit = total > done0 ? (to - from) / (total - done0) : 0;
    const rate = this.rate(total); // units per ms
    const cap = Math.min(to, Math.max(fraction, from + perUnit * (Math.min(total, done + 1) - done0) - perUnit * 0.05));
    if (rate === undefined || !this.last || done >= total) return { fraction, at, speed: 0, cap: fraction };
    return { fraction, at, speed: rate * perUnit, cap, finishAt: this.last.at + (total - this.last.done) / rate };
  }

  /** Units per ms, once enough units completed to say: two after the first (one when there are only a few). */
  private rate(total: number): number | undefined {
    const start = this.runStart;
    const last = this.last;
    if (!start || !last || !this.firstDone) return undefined;
    const units = total - start.done;
    if (last.done - this.firstDone.done >= 2 && last.at > this.firstDone.at) {
      return (last.done - this.firstDone.done) / (last.at - this.firstDone.at);
    }
    if (units <= 4 && last.done > start.done && last.at > start.at) return (last.done - start.done) / (last.at - start.at);
    return undefined;
  }
}

/** Where the bar is at `now`: the last point, gliding on at the measured rate but never past the unit in progress. */
export function fractionAt(p: Pick<ProgressPoint, 'fraction' | 'at' | 'speed' | 'cap'>, now: number): number {
  if (!(p.speed > 0)) return p.fraction;
  return Math.min(p.cap, p.fraction + Math.max(0, now - p.at) * p.speed);
}

/** "about 2 min left", from the estimated finish time; undefined when there is no estimate. */
export function remainingText(finishAt: number | undefined, now: number): string | undefined {
  if (finishAt === undefined) return undefined;
  const ms = finishAt - now;
  if (ms <= 0) return 'almost done';
  if (ms < 8_000) return 'a few seconds left';
  if (ms < 55_000) return `about ${Math.max(10, Math.round(ms / 10_000) * 10)} s left`;
  if (ms < 90_000) return 'about 1 min left';
  if (ms < 60 * 60_000) return `about ${Math.round(ms / 60_000)} min left`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.round((ms - hours * 3_600_000) / 60_000);
  return minutes ? `about ${hours} h ${minutes} min left` : `about ${hours} h left`;
}
