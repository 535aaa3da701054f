// How many workers the WASM pool (ort-web-pool.ts) runs for a model on this machine: one per core up to MAX_WORKERS,
// within a memory budget per model (each worker holds its own copy of the weights). No onnxruntime here: the UI's time
// estimate (ui/cost-prior.ts) asks the same rule how many workers share a job's tiles.
import type { ModelCard } from '../models/card.ts';
import type { MachineCaps, MachineInfo } from './registry.ts';

/** Most workers a pool starts, however many cores: beyond this, memory bandwidth rather than cores limits WASM. */
export const MAX_WORKERS = 8;

const MB = 1e6;
const GiB = 2 ** 30;
/**
 * Memory one member takes: a base (its own compiled copy of onnxruntime's 28 MB wasm, its JS) and per byte of the
 * model file (the weights in its wasm heap, pre-packed for the convolutions, and a tile's activations). Measured in
 * Chromium 156 (bench/pool.ts → bench/results/pool.md: the renderer's resident memory with 4 members loaded minus with
 * 2, halved, once V8 was quiet; and the same at the peak): ESRGAN slim ×4 (0.9 MB) ≈ 160 MiB (≈ 180 at the peak),
 * thick (29 MB) ≈ 205 MiB (≈ 230), MAXIM remove rain (60 MB) ≈ 370 MiB (≈ 325). The estimate sits above each:
 * 175, 283 and 399 MiB.
 */
export const WORKER_BASE_BYTES = 180 * MB;
export const WORKER_BYTES_PER_MODEL_BYTE = 4;
/** Share of the machine's memory (navigator.deviceMemory) the pool's copies may take; the host and the page need the rest. */
export const MEMORY_SHARE = 1 / 4;
/** The budget where the browser does not say how much memory it has (navigator.deviceMemory is Chromium-only). */
export const DEFAULT_BUDGET_BYTES = 1 * GiB;

/** The model's files, in bytes (graph and external weights). */
export const modelBytes = (card: ModelCard): number => (card.files ?? []).reduce((sum, f) => sum + (f.bytes ?? 0), 0);
/** What one member costs for `card`: its wasm instance, the weights in its heap, a tile's activations. */
export const workerBytes = (card: ModelCard): number => WORKER_BASE_BYTES + WORKER_BYTES_PER_MODEL_BYTE * modelBytes(card);
/** What the pool's workers may take together on this machine. */
export const poolBudget = (machine?: MachineInfo): number => (machine?.memoryGiB ? machine.memoryGiB * GiB * MEMORY_SHARE : DEFAULT_BUDGET_BYTES);

/** This machine as the browser describes it (undefined outside a browser). */
export function browserMachine(): MachineInfo | undefined {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number; deviceMemory?: number } }).navigator;
  if (!nav?.hardwareConcurrency) return undefined;
  return { cores: nav.hardwareConcurrency, ...(nav.deviceMemory ? { memoryGiB: nav.deviceMemory } : {}) };
}

/** How many workers for `card` here, or why the pool does not take it. */
export function planPool(card: ModelCard, caps: MachineCaps, forced?: number): { ok: true; workers: number; detail: string } | { ok: false; why: string; detail: string } {
  const threads = caps.wasm.threads;
  if (threads > 1) {
    return { ok: false, why: `it already uses ${threads} cores`, detail: `the page is cross-origin isolated: onnxruntime-web runs ${threads} WASM threads in one worker` };
  }
  if (forced !== undefined && forced <= 1) return { ok: false, why: 'one worker was asked for', detail: `the engine was configured with wasmWorkers: ${forced}` };
  const cores = caps.machine?.cores ?? 1;
  if (forced === undefined && cores < 2) return { ok: false, why: 'this computer has one core', detail: `navigator.hardwareConcurrency is ${caps.machine ? cores : 'unknown'}` };
  const budget = poolBudget(caps.machine);
  const each = workerBytes(card);
  // The pool keeps one copy of the model file itself, to start workers again after a cancel.
  const fits = Math.floor((budget - modelBytes(card)) / each);
  const budgetWords = caps.machine?.memoryGiB ? `${Math.round(budget / MB)} MB (a quarter of this computer's ${caps.machine.memoryGiB} GB)` : `${Math.round(budget / MB)} MB (the browser does not say how much memory this computer has)`;
  if (fits < 2) {
    return {
      ok: false,
      why: 'this model is too large to copy to each core',
      detail: `each worker would hold ≈${Math.round(each / MB)} MB for ${card.label}; two take more than the ${budgetWords} a pool may use`,
    };
  }
  const workers = Math.min(forced ?? cores, MAX_WORKERS, fits);
  const limit = workers === fits && fits < (forced ?? cores) ? ` (memory: ≈${Math.round(each / MB)} MB each within ${budgetWords})` : '';
  return { ok: true, workers, detail: `WASM on ${workers} workers, 1 thread each${limit}` };
}
