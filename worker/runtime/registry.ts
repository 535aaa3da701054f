// The runtime registry: which runtimes this engine has, in priority order, and where a model card runs. Each runtime
// registers with a priority and answers, for a card, "yes" or "no, because …" (as onnxruntime-web's
// registerBackend(name, backend, priority) and its resolve step do); `auto` asks them in priority order and takes the
// first yes. Adding a runtime is one file (its RuntimeEntry) and one `register` call in the platform.
import { FrontierError, type ResolvedTarget, type Target } from '../job.ts';
import type { Capabilities, SkippedRuntime, TargetChoice } from '../engine-api.ts';
import type { ModelCard } from '../models/card.ts';
import type { Runtime } from './runtime.ts';

/** What runtimes may ask of this machine without asking anyone else: its WebGPU adapter, its WASM threads, and (in
 *  the browser) its cores and memory. */
export type MachineCaps = Pick<Capabilities, 'webgpu' | 'wasm'> & { machine?: MachineInfo };

/** The machine as the browser describes it. */
export interface MachineInfo {
  /** Logical cores (navigator.hardwareConcurrency). */
  cores: number;
  /** Memory in GiB where the browser says (navigator.deviceMemory: Chromium only, rounded down, at most 8). */
  memoryGiB?: number;
}

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
    const { taker, refusals } = await this.ask(card, candidates, !auto);
    if (taker) return chosen(taker.registered.entry, taker.detail, auto, refusals);
    throw new FrontierError('target-unavailable', auto && this.options.nowhere ? this.options.nowhere(card, refusals) : errorOf(refusals[0]));
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
      createSession: async (card, loadBytes, more) => {
        const { taker, refusals } = await this.ask(card, shared, false);
        if (!taker) throw new FrontierError('target-unavailable', errorOf(refusals[0]));
        return this.made(taker.registered).createSession(card, loadBytes, more);
      },
    };
  }

  private made(r: Registered): Runtime {
    return (r.runtime ??= r.entry.create());
  }

  /**
   * Asks `candidates` in order for `card`: the first yes wins; a last-resort yes wins at once when `takeLastResort`,
   * else only when no one else says yes. Returns it with the refusals of the others asked.
   */
  private async ask(card: ModelCard, candidates: Registered[], takeLastResort: boolean): Promise<{ taker?: { registered: Registered; detail: string }; refusals: RefusalOf[] }> {
    const caps = await this.options.caps();
    const refusals: RefusalOf[] = [];
    let fallback: { registered: Registered; detail: string } | undefined;
    for (const registered of candidates) {
      const answer = await registered.entry.resolve(card, caps);
      if (answer.ok && (takeLastResort || !answer.lastResort)) return { taker: { registered, detail: answer.detail }, refusals };
      if (answer.ok) fallback ??= { registered, detail: answer.detail };
      refusals.push({ ...(answer.ok ? answer.lastResort! : answer), entry: registered.entry });
    }
    if (!fallback) return { refusals };
    return { taker: fallback, refusals: refusals.filter((r) => r.entry !== fallback.registered.entry) };
  }
}

const errorOf = (refusal: Refusal) => refusal.error ?? refusal.detail;

function chosen(entry: RuntimeEntry, detail: string, auto: boolean, refusals: readonly RefusalOf[]): TargetChoice {
  const choice: TargetChoice = { target: entry.target, runtime: entry.name, reason: detail };
  if (!auto) return choice;
  const passedOver = refusals.map((r) => `; not ${r.entry.name}: ${r.detail}`).join('');
  const skipped: SkippedRuntime[] = refusals.map((r) => ({ target: r.entry.target, runtime: r.entry.name, why: r.why, detail: r.detail }));
  return { ...choice, reason: `auto → ${detail}${passedOver}`, ...(skipped.length ? { skipped } : {}) };
}
