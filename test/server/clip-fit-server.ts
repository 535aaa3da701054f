// A real server whose registry holds the five TTVSR REDS part cards (from the committed templates: full width, 64
// channels) and ESRGAN slim ×2, all with stand-in files: GET /jobs/fit and a refused TTVSR job compute from the cards
// and the memory budget and never load a model (as in jobs-ttvsr-memory.test.ts). Shared by the server test of
// GET /jobs/fit and the chooser's Chromium test.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../server/paths.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { ModelCard, Registry } from '../../worker/models/card.ts';
import { TTVSR_PARTS } from '../../worker/video/ttvsr.ts';
import { tempRoot, type TempRoot } from './helpers.ts';

async function partCards(): Promise<ModelCard[]> {
  return Promise.all(
    TTVSR_PARTS.map(async (part) => {
      const id = `ttvsr-reds-${part}`;
      const template = JSON.parse(await readFile(join(REPO_ROOT, 'models', 'templates', `${id}.template.json`), 'utf8')) as { cards: Record<string, Omit<ModelCard, 'files'>> };
      return { ...template.cards[id], files: [{ name: `${id}.stand-in.onnx`, sha256: '0'.repeat(64), bytes: 4 }] } as ModelCard;
    }),
  );
}

/** ESRGAN slim ×2 from the shipped registry, with a stand-in file. */
async function esrganCard(): Promise<ModelCard> {
  const shipped = JSON.parse(await readFile(join(REPO_ROOT, 'models', 'registry.json'), 'utf8')) as Registry;
  const card = shipped.models.find((m) => m.id === 'esrgan-slim-x2')!;
  return { ...card, files: [{ ...card.files[0], name: 'esrgan-slim-x2.stand-in.onnx', sha256: '0'.repeat(64), bytes: 4 }] };
}

/** The registry and stand-in files of such a server's root (for tempRoot, or the playground's tempPlaygroundRoot). */
export async function clipFitRootFiles(): Promise<Record<string, string | Uint8Array>> {
  const cards = [...(await partCards()), await esrganCard()];
  return {
    'models/registry.json': JSON.stringify({ version: 1, models: cards }),
    ...Object.fromEntries(cards.map((c) => [`models/build/files/${c.files[0].name}`, new Uint8Array(4)])),
  };
}

export async function startClipFitServer(jobs: { dir: string; ttvsrMemoryBytes: number; maxFramePixels?: number }): Promise<{ server: RunningServer; root: TempRoot }> {
  const root = await tempRoot(await clipFitRootFiles());
  const server = await startServer({ port: 0, root: root.root, jobs: { ...jobs, heartbeatMs: 100 } });
  return { server, root };
}
