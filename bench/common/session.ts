// What every speed bench's main does around its measurements: the models and scratch folders, the bench page with
// the Chromium version and the memory floors.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { launchBenchBrowser } from './chromium.ts';
import { log } from './log.ts';
import { browserBaselineBytes, nodeBaselineBytes, type TargetId } from './targets.ts';

export interface BenchFolders {
  /** Where the models are exported (kept when the bench's env var named it). */
  models: string;
  /** Scratch for specs, feeds and outputs. */
  work: string;
  loadStart: number[];
  /** Runs `body`, then removes the scratch folder (and the models folder unless kept). */
  use<T>(body: () => Promise<T>): Promise<T>;
}

/** The models folder (`keep`, or a temp one) and a scratch folder; logs where the models are and the load. */
export function benchFolders(keep: string | undefined, prefix: string, extra = ''): BenchFolders {
  const models = keep ?? mkdtempSync(join(tmpdir(), `${prefix}-`));
  mkdirSync(models, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), `${prefix}-work-`));
  const loadStart = loadavg();
  log(`models in ${models}${keep ? ' (kept)' : ' (temporary)'}; ${extra}load average ${loadStart.map((l) => l.toFixed(1)).join(' ')}`);
  return {
    models,
    work,
    loadStart,
    async use(body) {
      try {
        return await body();
      } finally {
        rmSync(work, { recursive: true, force: true });
        if (!keep) rmSync(models, { recursive: true, force: true });
      }
    },
  };
}

export interface BenchPage {
  url: string;
  chromium: string;
  /** Peak RSS floors: an idle Node child, the bench page before a model loads (for the targets that run). */
  baselines: { nodeBytes?: number; rendererBytes?: number };
}

/**
 * Serves the bench page, reads Chromium's version and the memory floors of the targets that run, runs `body`, and
 * closes the server.
 */
export async function withBenchPage<T>(serve: () => Promise<{ url: string; server: Server }>, targets: TargetId[], readyGlobal: string, body: (page: BenchPage) => Promise<T>): Promise<T> {
  const { url, server } = await serve();
  try {
    const probe = await launchBenchBrowser();
    const chromium = probe.version();
    await probe.close();
    const baselines = {
      nodeBytes: targets.some((t) => t.startsWith('node')) ? await nodeBaselineBytes() : undefined,
      rendererBytes: targets.some((t) => !t.startsWith('node')) ? await browserBaselineBytes(url, readyGlobal) : undefined,
    };
    return await body({ url, chromium, baselines });
  } finally {
    server.close();
  }
}
