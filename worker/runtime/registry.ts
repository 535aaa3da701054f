// The runtime registry: which runtimes this engine has, in priority order, and where a model card runs. Each runtime
// registers with a priority and answers, for a card, "yes" or "no, because …" (as onnxruntime-web's
// registerBackend(name, backend, priority) and its resolve step do); `auto` asks them in priority order and takes the
// first yes. Adding a runtime is one file (its RuntimeEntry) and one `register` call in the platform.
import { FrontierError, type ResolvedTarget, type Target } from '../job.ts';
import type { Capabilities, SkippedRuntime, TargetChoice } from '../engine-api.ts';
import type { ModelCard } from '../models/card.ts';
import type { Runtime } from './runtime.ts';

/** What runtimes may ask of this machine without asking anyone else: its WebGPU adapter, its WASM threads. */
export type MachineCaps = Pick<Capabilities, 'webgpu' | 'wasm'>;

/** Why a runtime does not take a card. */
export interface Refusal {
  /** In designers' words, to follow "Not on <place>: ", e.g. "this browser can’t use the graphics card". */
  why: string;
  /** In the engine's words, for the details, e.g. "this browser exposes no WebGPU (navigator.gpu is missing)". */
  detail: string;
  /** The error when this runtime's target was chosen by hand: what happened and what to do (default: detail). */
  error?: string;
}

/**
 * A runtime's answer for a card. `lastResort`: it can run the card, but `auto` takes it only when no other runtime
 * can (a software WebGPU adapter is slower than WASM); a target chosen by hand takes it.
 */
export type Answer = { ok: true; detail: string; lastResort?: Refusal } | ({ ok: false } & Refusal);

/** The refusal's `why` when the card does not list the runtime's target: the place named before it says where. */
export const NOT_THIS_MODEL = 'this model doesn’t run there';

export const yes = (detail: string, lastResort?: Refusal): Answer => ({ ok: true, detail, ...(lastResort ? { lastResort } : {}) });
export const no = (why: string, detail: string, error?: string): Answer => ({ ok: false, why, detail, ...(error ? { error } : {}) });

export interface RuntimeEntry {
  /** The runtime's own name, e.g. 'ort-web/webgpu', 'oip' (details and tests only). */
  name: string;
  /** The place it runs, as "Run on" offers it and results record it. Several runtimes may share one. */
  target: ResolvedTarget;
  /** Whether it can run `card` here, or why not. Called for each choice: cache slow probes inside. */
  resolve(card: ModelCard, caps: MachineCaps): Answer | Promise<Answer>;
  /** The runtime itself; made once, on the first session. */
  create(): Runtime;
}

export interface RegistryOptions {
  caps(): Promise<MachineCaps>;
  /** The error for a target no runtime here serves (e.g. 'node' in the browser). */
  notHere(target: ResolvedTarget): string;
  /** The error when no runtime here can run the card under `auto` (default: the first refusal's error). */
  nowhere?(card: ModelCard, refusals: readonly RefusalOf[]): string;
}

/** A refusal with the runtime that gave it. */
export type RefusalOf = Refusal & { entry: RuntimeEntry };

interface Registered {
  entry: RuntimeEntry;
  priority: number;
  runtime?: Runtime;
}

export class RuntimeRegistry {
  private ranked: Registered[] = [];

  constructor(private readonly options: RegistryOptions) {}

  /** Adds `entry` (replacing one of the same name); a higher priority is asked first, equal ones in order of registration. */
  register(entry: RuntimeEntry, priority: number): void {
    const rest = this.ranked.filter((r) => r.entry.name !== entry.name);
    const at = rest.findIndex((r) => r.priority < priority);
    rest.splice(at < 0 ? rest.length : at, 0, { entry, priority });
    this.ranked = rest;
  }

  /** The registered runtimes, highest priority first. */
  list(): { name: string; target: ResolvedTarget; priority: number }[] {
    return this.ranked.map((r) => ({ name: r.entry.name, target: r.entry.target, priority: r.priority }));
  }

  /** Where `card` runs for `requested`, and why; throws target-unavailable saying why it cannot. */
  async choose(card: ModelCard, requested: Target): Promise<TargetChoice> {
    const auto = requested === 'auto';
    const candidates = auto ? this.ranked : this.ranked.filter((r) => r.entry.target === requested);
    if (!candidates.length) throw new FrontierError('target-unavailable', this.options.notHere(requested as ResolvedTarget));
    const caps = await this.options.caps();
    const refusals: RefusalOf[] = [];
    let fallback: { entry: RuntimeEntry; detail: string } | undefined;
    for (const { entry } of candidates) {
      const answer = await entry.resolve(card, caps);
      if (answer.ok && (!answer.lastResort || !auto)) return chosen(entry, answer.detail, auto, refusals);
      if (answer.ok) fallback ??= { entry, detail: answer.detail };
      refusals.push({ ...(answer.ok ? answer.lastResort! : answer), entry });
    }
    if (fallback) return chosen(fallback.entry, fallback.detail, auto, refusals.filter((r) => r.entry !== fallback.entry));
    const first = refusals[0];
    throw new FrontierError('target-unavailable', auto && this.options.nowhere ? this.options.nowhere(card, refusals) : (first.error ?? first.detail));
  }

  /**
   * The runtime for `target`. Where several runtimes share it, each session goes to the first that takes its card
   * (the engine keeps one session per target and card, so a card stays on the runtime it got).
   */
  runtime(target: ResolvedTarget): Runtime {
    const shared = this.ranked.filter((r) => r.entry.target === target);
    if (!shared.length) throw new FrontierError('target-unavailable', this.options.notHere(target));
    if (shared.length === 1) return this.made(shared[0]);
    return {
      name: shared.map((r) => r.entry.name).join(' | '),
      createSession: async (card, loadBytes, more) => (await this.takerOf(card, shared)).createSession(card, loadBytes, more),
    };
  }

  private made(r: Registered): Runtime {
    return (r.runtime ??= r.entry.create());
  }

  private async takerOf(card: ModelCard, shared: Registered[]): Promise<Runtime> {
    const caps = await this.options.caps();
    let fallback: Registered | undefined;
    let refusal: Refusal | undefined;
    for (const r of shared) {
      const answer = await r.entry.resolve(card, caps);
      if (answer.ok && !answer.lastResort) return this.made(r);
      if (answer.ok) fallback ??= r;
      else refusal ??= answer;
    }
    if (fallback) return this.made(fallback);
    throw new FrontierError('target-unavailable', refusal!.error ?? refusal!.detail);
  }
}

function chosen(entry: RuntimeEntry, detail: string, auto: boolean, refusals: readonly RefusalOf[]): TargetChoice {
  const choice: TargetChoice = { target: entry.target, runtime: entry.name, reason: detail };
  if (!auto) return choice;
  const passedOver = refusals.map((r) => `; not ${r.entry.name}: ${r.detail}`).join('');
  const skipped: SkippedRuntime[] = refusals.map((r) => ({ target: r.entry.target, runtime: r.entry.name, why: r.why, detail: r.detail }));
  return { ...choice, reason: `auto → ${detail}${passedOver}`, ...(skipped.length ? { skipped } : {}) };
}
